"""The staff fund dashboard: the pipeline from calls to payments, in a handful of grouped queries."""

from datetime import timedelta

import sqlalchemy as sa

from ..applications.models import APPLICATION_WORKFLOW, Application
from ..awards.models import GRANT_WORKFLOW, Grant, Tranche
from ..calls.models import CALL_WORKFLOW, Call
from ..extensions import db
from ..funding.ledger import fund_today
from ..funding.models import CallFunding
from ..members.models import Member
from ..reviews.models import ASSIGNMENT_WORKFLOW, Assignment
from .models import REPORT_WORKFLOW, GrantReport


def _counts(workflow, column):
    """[(state's label, how many)] of the states held, in the workflow's order (a draft before
    its submission, an award before its grant's end), not the codes' alphabetical order."""
    held = dict(db.session.execute(sa.select(column, sa.func.count()).group_by(column)).all())
    return [(workflow.staff_label(name), held[name]) for name in workflow.state_names() if held.get(name)]


def _reports_listed(where, order_by, limit=50):
    """[DueReport] of the grant reports `where` holds, each with its city and its application's
    reference, in one query."""
    return [
        DueReport(report, city, reference)
        for report, city, reference in db.session.execute(
            sa.select(GrantReport, Member.name, Application.reference)
            .join(Grant, Grant.id == GrantReport.grant_id)
            .join(Application, Application.id == Grant.application_id)
            .join(Member, Member.id == Application.member_id)
            .where(*where)
            .order_by(*order_by)
            .limit(limit)
        ).all()
    ]


def fund_dashboard():
    envelope, committed, paid = db.session.execute(
        sa.select(
            sa.func.coalesce(sa.func.sum(CallFunding.amount_cents), 0),
            sa.func.coalesce(sa.func.sum(CallFunding.committed_cents), 0),
            sa.func.coalesce(sa.func.sum(CallFunding.paid_cents), 0),
        )
    ).one()
    today = fund_today()
    # Due from today to 60 days on, on grants that report: one already past its date is overdue
    # (listed below), and a declined, cancelled or closed grant owes none.
    reports_due = _reports_listed(
        (
            GrantReport.state.in_(REPORT_WORKFLOW.states_with("editable")),
            GrantReport.due_on >= today,
            GrantReport.due_on <= today + timedelta(days=60),
            Grant.state.in_(GRANT_WORKFLOW.states_with("reportable")),
        ),
        (GrantReport.due_on, GrantReport.id),
    )
    overdue_where = (
        GrantReport.state == REPORT_WORKFLOW.initial,
        GrantReport.due_on < today,
        Grant.state.in_(GRANT_WORKFLOW.states_with("reportable")),
    )
    # One query for the rows (city, report, due date), one for their number.
    overdue = [
        OverdueReport(d.report, d.city, d.reference, today)
        for d in _reports_listed(overdue_where, (GrantReport.due_on, GrantReport.id), limit=OVERDUE_SHOWN)
    ]
    overdue_count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(GrantReport)
        .join(Grant, Grant.id == GrantReport.grant_id)
        .where(*overdue_where)
    )
    # Sent by the cities and waiting for staff, the longest waiting first.
    approvable = REPORT_WORKFLOW.states_allowing("approve", {"staff"})
    to_approve = _reports_listed((GrantReport.state.in_(approvable),), (GrantReport.submitted_at, GrantReport.id))
    tranches_due = db.session.scalars(
        sa.select(Tranche)
        .join(Grant)
        .where(
            Tranche.due_since.is_not(None),
            Tranche.paid_cents < Tranche.amount_cents,
            # A declined, cancelled or closed grant has nothing due.
            Grant.state.in_(GRANT_WORKFLOW.states_with("payable")),
        )
        .order_by(Tranche.due_since)
        .limit(50)
    ).all()
    return {
        "calls": _counts(CALL_WORKFLOW, Call.state),
        "applications": _counts(APPLICATION_WORKFLOW, Application.state),
        # An awarded application stays "Awarded"; what became of its grant (declined by the city,
        # cancelled, closed) is counted here.
        "grants": _counts(GRANT_WORKFLOW, Grant.state),
        "reviews": _counts(ASSIGNMENT_WORKFLOW, Assignment.state),
        "envelope": int(envelope),
        "committed": int(committed),
        "paid": int(paid),
        "remaining": int(envelope) - int(committed),
        "reports_due": reports_due,
        "to_approve": to_approve,
        "tranches_due": tranches_due,
        "overdue": overdue,
        "overdue_count": overdue_count,
    }


OVERDUE_SHOWN = 100


class DueReport:
    """A report due in the coming weeks or waiting for approval, with its city and its application's
    reference, for the dashboard."""

    def __init__(self, report, city, reference):
        self.report = report
        self.city = city
        self.reference = reference


class OverdueReport(DueReport):
    """A report past its due date and never sent, with its city and how many days late."""

    def __init__(self, report, city, reference, today):
        super().__init__(report, city, reference)
        self.days = (today - report.due_on).days
