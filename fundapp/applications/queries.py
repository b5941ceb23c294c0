from typing import NamedTuple

import sqlalchemy as sa
from blinker import Namespace
from flask import url_for
from sqlalchemy.orm import contains_eager, lazyload, load_only, selectinload

from ..calls.queries import CityApplication, city_application_wanted, submitted_counts
from ..core.inputs import LIKE_ESCAPE, contains_pattern
from ..core.pagination import page_within
from ..core.rows import plain_rows
from ..core.timeutil import utcnow
from ..extensions import db
from ..members.models import Member
from .models import APPLICATION_WORKFLOW, PARTNER_WORKFLOW, Application, Partner, is_reply_overdue

SORTS = {
    "reference": (Application.number.asc(), Application.id.asc()),
    "city": (Member.name.asc(), Application.id.asc()),
    "requested": (Application.requested_cents.desc(), Application.id.asc()),
    "requested_asc": (Application.requested_cents.asc(), Application.id.asc()),
    "submitted": (Application.first_submitted_at.asc(), Application.id.asc()),
    # The workflow's order (submitted, more information asked, eligible... awarded), not the codes'.
    "state": (
        sa.case(
            {name: i for i, name in enumerate(APPLICATION_WORKFLOW.state_names())},
            value=Application.state,
            else_=len(APPLICATION_WORKFLOW.state_names()),
        ).asc(),
        Application.number.asc(),
    ),
}


def _partner_count():
    """The number of an application's partners, as a column of a select of applications."""
    return (
        sa.select(sa.func.count(Partner.id))
        .where(Partner.application_id == Application.id)
        .correlate(Application)
        .scalar_subquery()
    )


def _staff_filters(call, *, state="", region="", country="", min_cents=None, max_cents=None, q=""):
    """(conditions, whether they read the member) of the staff list's filters."""
    conditions = [Application.call_id == call.id, Application.first_submitted_at.is_not(None)]
    if state:
        conditions.append(Application.state == state)
    if min_cents is not None:
        conditions.append(Application.requested_cents >= min_cents)
    if max_cents is not None:
        conditions.append(Application.requested_cents <= max_cents)
    by_member = []
    if region:
        by_member.append(Member.region == region)
    if country:
        by_member.append(Member.country == country.upper())
    if q:
        # Without accents or case ("sao paulo" finds São Paulo, "creches" Crèches), and a % or _
        # typed is itself, not a wildcard.
        like = contains_pattern(q)
        by_member.append(
            sa.or_(
                Application.title_folded.like(like, escape=LIKE_ESCAPE),
                sa.func.lower(Application.reference).like(like, escape=LIKE_ESCAPE),
                Member.sort_name.like(like, escape=LIKE_ESCAPE),
            )
        )
    return conditions + by_member, bool(by_member)


def staff_applications(call, *, sort="", **filters):
    """The select() of a call's sent applications (drafts stay the city's own) with the list's filters."""
    conditions, _by_member = _staff_filters(call, **filters)
    return (
        sa.select(Application, _partner_count().label("partner_count"))
        .join(Member, Member.id == Application.member_id)
        .options(
            contains_eager(Application.member),
            # Every row is of the call the page already holds: taken from the session, not joined in.
            lazyload(Application.call),
            # Only what the list and its CSV show: no proposal texts, no JSON columns.
            load_only(
                Application.call_id,
                Application.member_id,
                Application.state,
                Application.number,
                Application.reference,
                Application.title,
                Application.requested_cents,
                Application.cofunding_cents,
                Application.first_submitted_at,
                Application.more_info_reply_by,
                Application.lead_name,
                Application.lead_gender,
            ),
        )
        .where(*conditions)
        .order_by(*SORTS.get(sort, SORTS["reference"]))
    )


class ListedApplication:
    """One row of the staff list: the columns it shows, read as plain values (no ORM object, no
    proposal texts or JSON columns), with the state's label and whether a reply is overdue."""

    __slots__ = (
        "id",
        "reference",
        "title",
        "state",
        "requested_cents",
        "first_submitted_at",
        "more_info_reply_by",
        "city",
        "country",
        "partner_count",
        "reply_overdue",
    )

    def __init__(self, row, today):
        (
            self.id,
            self.reference,
            self.title,
            self.state,
            self.requested_cents,
            self.first_submitted_at,
            self.more_info_reply_by,
            self.city,
            self.country,
            self.partner_count,
        ) = row
        self.reply_overdue = is_reply_overdue(self.state, self.more_info_reply_by, today)

    @property
    def staff_label(self):
        return APPLICATION_WORKFLOW.staff_label(self.state)


class StaffListPage(NamedTuple):
    """One page of the staff list: its rows, how many applications the filters match, how many
    drafts the cities are writing, and the page (within 1..pages)."""

    rows: list
    total: int
    drafts: int
    page: int
    pages: int


def staff_list(call, page, per_page, *, sort="", **filters):
    """One page of staff_applications(call, ...) as ListedApplication rows, in two statements:
    the counts (the filtered total and the drafts in progress), then the page's rows."""
    conditions, _by_member = _staff_filters(call, **filters)
    total, drafts = db.session.execute(
        sa.select(staff_applications_count(call, **filters).scalar_subquery(), _drafts_count(call).scalar_subquery())
    ).one()
    page, pages = page_within(page, total, per_page)
    stmt = (
        sa.select(
            Application.id,
            Application.reference,
            Application.title,
            Application.state,
            Application.requested_cents,
            Application.first_submitted_at,
            Application.more_info_reply_by,
            Member.name,
            Member.country,
            _partner_count(),
        )
        .join(Member, Member.id == Application.member_id)
        .where(*conditions)
        .order_by(*SORTS.get(sort, SORTS["reference"]))
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    today = call.local(utcnow()).date()  # the call's day, as Application.reply_date_passed reads it
    return StaffListPage([ListedApplication(row, today) for row in plain_rows(stmt)], total, drafts, page, pages)


def staff_applications_count(call, *, sort="", **filters):
    """How many applications staff_applications(call, **filters) lists, joining the member only
    when a filter reads it."""
    conditions, by_member = _staff_filters(call, **filters)
    # count(*): read from the index (call, state, first submission) without the table's rows.
    stmt = sa.select(sa.func.count()).select_from(Application)
    if by_member:
        stmt = stmt.join(Member, Member.id == Application.member_id)
    return stmt.where(*conditions)


def _drafts_count(call):
    """The select() of how many drafts the cities are writing for `call` (never sent)."""
    return (
        sa.select(sa.func.count())
        .select_from(Application)
        .where(
            Application.call_id == call.id,
            Application.first_submitted_at.is_(None),
            Application.state == APPLICATION_WORKFLOW.initial,
        )
    )


def city_applications(user):
    """The applications of the user's city, newest first, with their calls."""
    return db.session.scalars(
        sa.select(Application)
        .where(Application.visible_to(user))
        .options(selectinload(Application.submissions))
        .order_by(Application.updated_at.desc())
    ).all()


# The decision itself (amount, reason, grant, letters) belongs to the awards feature, which this one
# may not import: awards subscribes to this signal. Receivers get `application_ids` and answer
# {application id: decision}.
signals = Namespace()
decisions_wanted = signals.signal("applications.decisions-wanted")


def told_decisions(applications):
    """{application id: decision} of those whose decision the city has been told (its letter is
    sent: Application.decision_is_public, or a reserve the city was told of is being awarded:
    Application.city_state), in one query whatever the number of applications."""
    ids = [a.id for a in applications if APPLICATION_WORKFLOW.has(a.city_state, "decided")]
    found = {}
    if ids:
        for _receiver, answer in decisions_wanted.send(None, application_ids=ids):
            found.update(answer or {})
    return found


@submitted_counts.connect
def submitted_per_call(call_ids, **_kwargs):
    """{call_id: applications submitted at least once}, for the staff list of calls."""
    return dict(
        db.session.execute(
            sa.select(Application.call_id, sa.func.count(Application.id))
            .where(Application.call_id.in_(list(call_ids) or [-1]), Application.first_submitted_at.is_not(None))
            .group_by(Application.call_id)
        ).all()
    )


def existing_application(call, member):
    """The member's application to the call that is not withdrawn, if there is one."""
    return db.session.scalar(
        sa.select(Application).where(
            Application.call_id == call.id,
            Application.member_id == member.id,
            Application.state.not_in(APPLICATION_WORKFLOW.states_with("withdrawn")),
        )
    )


@city_application_wanted.connect
def city_application_of(call, member, **_kwargs):
    """The call's page asks what it should offer `member`: its application to the call, if any."""
    application = existing_application(call, member)
    if application is None:
        return None
    return CityApplication(
        url=url_for("applications.view", application_id=application.id),
        title=application.display_title,
        label=application.applicant_label,
        is_draft=application.first_submitted_at is None and application.state == APPLICATION_WORKFLOW.initial,
    )


def partner_requests(user):
    """The requests to take part that the user's city has received (a partner named and asked),
    newest first: (waiting for an answer, the others). A request of an application withdrawn,
    decided or closed waits for nothing any more: it is among the others."""
    rows = db.session.scalars(
        sa.select(Partner)
        .join(Partner.application)
        .where(Partner.member_id.in_(user.member_ids() or [-1]), Partner.state.is_not(None))
        .options(contains_eager(Partner.application))
        .order_by(Partner.asked_at.desc(), Partner.id.desc())
    ).all()
    waiting = [
        p
        for p in rows
        if p.is_waiting
        and not APPLICATION_WORKFLOW.has(p.application.state, "withdrawn")
        and not APPLICATION_WORKFLOW.has(p.application.state, "decided")
        and not APPLICATION_WORKFLOW.is_final(p.application.state)
    ]
    return waiting, [p for p in rows if p not in waiting]


def viewable_applications(user):
    """The condition on Application of what `user` may open (Application.can_view as SQL): the lead
    city's own (drafts included), those its city has been asked to take part in as a partner (and
    has not declined), and
    for staff every application once sent. The JSON API lists through it."""
    if not user or not user.is_authenticated:
        return sa.false()
    asked = sa.select(Partner.application_id).where(
        Partner.member_id.in_(user.member_ids() or [-1]),
        Partner.state.is_not(None),
        Partner.state.not_in(PARTNER_WORKFLOW.states_with("declined")),  # a city that declined sees no more
    )
    return sa.or_(Application.visible_to(user), Application.id.in_(asked))
