"""Participation by gender, per call: who leads the applications, who sits on the jury, and the
people the funded projects reached. Counted in a few grouped queries, kept as plain data (a donor
report stores it with its figures), and shown with shares.

A person's gender is optional: "prefers not to say" is a choice, "not given" is the absence of one;
both are counted, so the shares always add up to the whole.
"""

from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from ..accounts.models import GENDERS, ReviewerProfile
from ..applications.models import Application
from ..awards.models import Grant
from ..calls.models import Call
from ..core.catalogue import lazy_gettext as _l
from ..extensions import db
from ..reviews.models import Juror
from .models import REPORT_WORKFLOW, GrantReport

NOT_GIVEN = "not_given"
PERSON_GROUPS = {**GENDERS, NOT_GIVEN: _l("Not given")}
REACHED_GROUPS = {"women": _l("Women"), "men": _l("Men"), "other": _l("Other or undisclosed")}


def shares(counts):
    """[(group, count, share out of 100 to one decimal)] in the order of the groups given."""
    total = sum(counts.values())
    return [
        (
            group,
            n,
            (Decimal(n * 100) / total).quantize(Decimal("0.1"), ROUND_HALF_UP) if total else Decimal(0),
        )
        for group, n in counts.items()
    ]


def _empty(groups):
    return {group: 0 for group in groups}


def by_call(call_ids=None, *, grant_ids=None, before=None):
    """[{call, titles, leads, jury, reached}] for the calls given (None: every call that received an
    application), oldest first.

    - leads: the applications sent to the call, by their project lead's gender;
    - jury: the call's jurors, by the gender of their reviewer profile;
    - reached: the people reached according to each grant's latest approved report (before the
      instant `before`, when given), of the grants `grant_ids` (None: all the call's grants).
    """
    calls = sa.select(Call.id, Call.code, Call.title).order_by(Call.opens_at, Call.id)
    if call_ids is not None:
        calls = calls.where(Call.id.in_(list(call_ids) or [-1]))
    else:
        calls = calls.where(
            Call.id.in_(sa.select(Application.call_id).where(Application.first_submitted_at.is_not(None)))
        )
    rows = {
        call_id: {
            "call": code,
            "titles": dict(title or {}),
            "leads": _empty(PERSON_GROUPS),
            "jury": _empty(PERSON_GROUPS),
            "reached": _empty(REACHED_GROUPS),
        }
        for call_id, code, title in db.session.execute(calls)
    }
    if not rows:
        return []
    ids = list(rows)
    leads = db.session.execute(
        sa.select(Application.call_id, Application.lead_gender, sa.func.count())
        .where(Application.call_id.in_(ids), Application.first_submitted_at.is_not(None))
        .group_by(Application.call_id, Application.lead_gender)
    )
    for call_id, gender, n in leads:
        rows[call_id]["leads"][gender or NOT_GIVEN] += n
    jury = db.session.execute(
        sa.select(Juror.call_id, ReviewerProfile.gender, sa.func.count())
        .outerjoin(ReviewerProfile, ReviewerProfile.user_id == Juror.reviewer_id)
        .where(Juror.call_id.in_(ids))
        .group_by(Juror.call_id, ReviewerProfile.gender)
    )
    for call_id, gender, n in jury:
        rows[call_id]["jury"][gender or NOT_GIVEN] += n
    reports = (
        sa.select(
            Application.call_id,
            GrantReport.grant_id,
            GrantReport.kind,
            GrantReport.approved_at,
            GrantReport.reached_women,
            GrantReport.reached_men,
            GrantReport.reached_other,
        )
        .join(Grant, Grant.id == GrantReport.grant_id)
        .join(Application, Application.id == Grant.application_id)
        .where(
            Application.call_id.in_(ids),
            GrantReport.state.in_(REPORT_WORKFLOW.states_with("counted")),
            GrantReport.approved_at.is_not(None),
        )
    )
    if grant_ids is not None:
        reports = reports.where(GrantReport.grant_id.in_(list(grant_ids) or [-1]))
    if before is not None:
        reports = reports.where(GrantReport.approved_at < before)
    latest = {}
    for report in db.session.execute(reports):
        # The final report when there is one, else the latest approved: the same rule as the figures.
        key = (report.kind == "final", report.approved_at)
        if report.grant_id not in latest or key > latest[report.grant_id][0]:
            latest[report.grant_id] = (key, report)
    for _key, report in latest.values():
        reached = rows[report.call_id]["reached"]
        reached["women"] += report.reached_women
        reached["men"] += report.reached_men
        reached["other"] += report.reached_other
    return [rows[call_id] for call_id in ids]


def template_helpers():
    """What templates/reporting/_gender.html reads besides its rows (`gender_rows`)."""
    return {"gender_shares": shares, "person_groups": PERSON_GROUPS, "reached_groups": REACHED_GROUPS}
