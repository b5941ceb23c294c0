"""The figures of the home page: the fund for everyone, and each role's own."""

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager

from ..accounts.models import Invitation, User
from ..applications.models import APPLICATION_WORKFLOW, Application
from ..applications.queries import city_applications, partner_requests, told_decisions
from ..awards.models import Grant
from ..calls.models import Call
from ..calls.queries import public_calls
from ..core.models import JobRecord
from ..core.notices import open_notices
from ..extensions import db
from ..funding.queries import fund_totals
from ..members.models import Member
from ..reporting.models import REPORT_WORKFLOW, DonorReport, GrantReport
from ..reviews.queries import my_assignments


def home_figures(user):
    """What the home page shows: the fund for everyone, and each role's own figures."""
    donors, contributed = fund_totals()
    figures = {
        "donors": donors,
        "contributed_cents": contributed,
        "cap_cents": current_app.config["DEFAULT_GRANT_CAP_CENTS"],
    }
    calls = public_calls()
    figures["open_calls"] = [c for c in calls if c.accepts_submissions()]
    if not user.is_authenticated:
        return figures
    figures["notices"] = open_notices(user)
    member = user.member if user.has_role("applicant") else None
    if member is not None:
        figures["calls_for_city"] = [(c, c.ineligibility_reasons(member)) for c in calls]
        figures["applications"] = city_applications(user)
        figures["decisions"] = told_decisions(figures["applications"])
        figures["partner_waiting"], figures["partner_answered"] = partner_requests(user)
        figures["reports_to_write"] = reports_to_write(member)
    if user.has_role("reviewer"):
        figures["assignments"] = [a for a in my_assignments(user) if not a.is_done][:10]
    if user.has_role("donor") and user.donor is not None:
        figures["donor_reports"] = db.session.scalars(
            sa.select(DonorReport)
            .where(DonorReport.donor_id == user.donor.id)
            .order_by(DonorReport.created_at.desc(), DonorReport.id.desc())
            .limit(3)
        ).all()
    if user.has_role("staff"):
        figures["members"] = db.session.scalar(sa.select(sa.func.count(Member.id)))
        figures["users"] = db.session.scalar(sa.select(sa.func.count(User.id)))
        figures["pending_invitations"] = db.session.scalar(
            sa.select(sa.func.count(Invitation.id)).where(
                Invitation.accepted_at.is_(None), Invitation.revoked_at.is_(None)
            )
        )
        # What waits for the team: applications sent and not yet screened, reports sent to approve.
        screenable = APPLICATION_WORKFLOW.states_allowing("mark_eligible", {"staff"})
        approvable = REPORT_WORKFLOW.states_allowing("approve", {"staff"})
        # Per call, so the link leads to the applications waiting (one query; a handful of calls).
        figures["to_screen_by_call"] = db.session.execute(
            sa.select(Call.id, Call.code, sa.func.count(Application.id))
            .join(Call, Call.id == Application.call_id)
            .where(Application.state.in_(screenable))
            .group_by(Call.id, Call.code)
            .order_by(Call.code)
        ).all()
        figures["to_screen"] = sum(n for _id, _code, n in figures["to_screen_by_call"])
        figures["screen_state"] = screenable[0] if len(screenable) == 1 else ""
        figures["to_approve"] = db.session.scalar(
            sa.select(sa.func.count(GrantReport.id)).where(GrantReport.state.in_(approvable))
        )
        figures["failed_jobs"] = db.session.scalar(
            sa.select(sa.func.count(JobRecord.id)).where(JobRecord.status == "failed")
        )
    return figures


def reports_to_write(member, limit=5):
    """The member's grant reports it still has to write or change, the soonest due first."""
    return db.session.scalars(
        sa.select(GrantReport)
        .join(Grant, Grant.id == GrantReport.grant_id)
        .join(Application, Application.id == Grant.application_id)
        .where(Application.member_id == member.id, GrantReport.state.in_(REPORT_WORKFLOW.states_with("editable")))
        .options(contains_eager(GrantReport.grant).contains_eager(Grant.application))
        .order_by(GrantReport.due_on, GrantReport.id)
        .limit(limit)
    ).all()
