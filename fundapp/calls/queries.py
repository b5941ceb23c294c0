from dataclasses import dataclass

import sqlalchemy as sa
from blinker import Namespace
from sqlalchemy.orm import selectinload

from ..core.pagination import paginate
from ..core.timeutil import utcnow
from ..extensions import db
from ..funding.models import CallFunding
from .models import CALL_WORKFLOW, Call


def public_calls(now=None):
    """Open and upcoming calls, soonest deadline first, with the few rows the list shows."""
    now = now or utcnow()
    return db.session.scalars(
        sa.select(Call)
        .options(selectinload(Call.criteria), selectinload(Call.funding))
        .where(Call.state.in_(CALL_WORKFLOW.states_with("accepting")), Call.closes_at > now)
        .order_by(Call.closes_at, Call.id)
    ).all()


def published_calls(limit=50):
    """Calls that have been made public, newest first (the feed)."""
    return db.session.scalars(
        sa.select(Call)
        .where(Call.state.in_(CALL_WORKFLOW.states_with("public")))
        .order_by(Call.published_at.desc(), Call.id.desc())
        .limit(limit)
    ).all()


# Asked with the call ids of a page; a receiver returns {call_id: applications submitted}.
submitted_counts = Namespace().signal("calls.submitted-counts")
# Asked with a call and a member city; a receiver returns the city's application to the call (not
# withdrawn) as CityApplication, or None. Applications are downstream of calls: they answer.
city_application_wanted = Namespace().signal("calls.city-application")


@dataclass(frozen=True)
class CityApplication:
    """What a call's page says of the city's own application to it: where it is, its title, its
    state in the city's words, and whether it is a draft still being written."""

    url: str
    title: str
    label: str
    is_draft: bool


def city_application(call, member):
    """The CityApplication of `member`'s application to `call`, or None."""
    if member is None:
        return None
    for _receiver, answer in city_application_wanted.send(call, member=member):
        if answer is not None:
            return answer
    return None


def staff_calls_page(*, state="", page=1, per_page=50):
    """A page of calls, and their envelopes {call_id: cents} in one more query."""
    stmt = sa.select(Call).order_by(Call.opens_at.desc(), Call.id.desc())
    if state:
        stmt = stmt.where(Call.state == state)
    result = paginate(stmt, page=page, per_page=per_page)
    ids = [c.id for c in result.items]
    envelopes = dict(
        db.session.execute(
            sa.select(CallFunding.call_id, sa.func.sum(CallFunding.amount_cents))
            .where(CallFunding.call_id.in_(ids or [-1]))
            .group_by(CallFunding.call_id)
        ).all()
    )
    # Applications are downstream of calls: the applications feature answers with its counts.
    sent = {}
    for _receiver, counts in submitted_counts.send(ids):
        sent.update(counts or {})
    return result, {k: int(v) for k, v in envelopes.items()}, sent
