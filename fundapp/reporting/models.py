"""What grantees report, and the reports the fund gives its donors."""

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.catalogue import lazy_pgettext
from ..core.states import State, Transition, Workflow
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db
from ..funding.ledger import fund_today

APPLICANT = frozenset({"applicant"})
STAFF = frozenset({"staff"})
SYSTEM = frozenset({"system"})

REPORT_WORKFLOW = Workflow(
    "grant_report",
    states=[
        State("due", _l("Awaiting the report"), _l("To write"), flags=frozenset({"editable"})),
        State("submitted", _l("Submitted: to approve"), _l("Sent")),
        State("changes_requested", _l("Changes requested"), _l("Changes requested"), flags=frozenset({"editable"})),
        State("approved", _l("Approved"), _l("Approved"), final=True, flags=frozenset({"counted"})),
        # The grant was cancelled or closed before this report was approved: it is no longer due.
        State("cancelled", _l("No longer due: the grant has ended"), _l("No longer due"), final=True),
    ],
    transitions=[
        Transition("due", "submit", "submitted", APPLICANT, _l("Submit the report")),
        Transition("changes_requested", "submit", "submitted", APPLICANT, _l("Submit the report")),
        Transition("submitted", "approve", "approved", STAFF, _l("Approve")),
        Transition(
            "submitted", "request_changes", "changes_requested", STAFF, _l("Ask for changes"), needs_reason=True
        ),
        # Only as the grant ends (reporting.operations.end_duties), never on its own.
        Transition("due", "cancel", "cancelled", SYSTEM, _l("No longer due")),
        Transition("submitted", "cancel", "cancelled", SYSTEM, _l("No longer due")),
        Transition("changes_requested", "cancel", "cancelled", SYSTEM, _l("No longer due")),
    ],
)

REPORT_KINDS = {"interim": _l("Interim report"), "final": _l("Final report")}

# What staff and donors read for a donor report's status (the code stays in the database).
DONOR_REPORT_STATES = {
    "queued": lazy_pgettext("donor report status", "Waiting to be built"),
    "running": lazy_pgettext("donor report status", "Being built"),
    "done": lazy_pgettext("donor report status", "Ready"),
    "failed": lazy_pgettext("donor report status", "Could not be built"),
}


class GrantReport(db.Model):
    __tablename__ = "grant_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_award.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    # The report's place in the grant's schedule (1, 2, ...: by due date, the final report last), and
    # the interim report's number when the grant owes several (None: the only one, or the final).
    position: Mapped[int] = mapped_column(nullable=False, default=1)
    number: Mapped[int | None] = mapped_column()
    due_on: Mapped[object] = mapped_column(sa.Date, nullable=False, index=True)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="due")
    progress: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    results: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    difficulties: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    reached_women: Mapped[int] = mapped_column(nullable=False, default=0)
    reached_men: Mapped[int] = mapped_column(nullable=False, default=0)
    reached_other: Mapped[int] = mapped_column(nullable=False, default=0)
    activities_held: Mapped[int] = mapped_column(nullable=False, default=0)
    dimensions: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # The value reached for each indicator of the call: {indicator id: {part: number}}, as the targets.
    indicator_values: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    staff_message: Mapped[str | None] = mapped_column(sa.Text)
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    approved_at: Mapped[object | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    grant = relationship("Grant", lazy="joined")
    expenditures = relationship(
        "Expenditure", back_populates="report", cascade="all, delete-orphan", order_by="Expenditure.id"
    )
    documents = relationship(
        "ReportDocument", back_populates="report", cascade="all, delete-orphan", order_by="ReportDocument.id"
    )

    __table_args__ = (
        sa.UniqueConstraint("grant_id", "position", name="uq_grant_report_grant_position"),
        sa.CheckConstraint(f"kind IN {tuple(REPORT_KINDS)!r}", name="kind_known"),
        sa.CheckConstraint(f"state IN {tuple(REPORT_WORKFLOW.state_names())!r}", name="state_known"),
        sa.CheckConstraint(
            "reached_women >= 0 AND reached_men >= 0 AND reached_other >= 0 AND activities_held >= 0",
            name="figures_not_negative",
        ),
    )

    @property
    def kind_label(self):
        if self.kind == "interim" and self.number:
            return _l("Interim report %(n)d", n=self.number)
        return REPORT_KINDS.get(self.kind, self.kind)

    @property
    def is_overdue(self):
        """Past its due date and never sent: the city is late."""
        return self.state == REPORT_WORKFLOW.initial and self.due_on < fund_today()

    def indicator_rows(self):
        """One row per indicator of the call: the indicator, the application's target and the value
        reached in this report, each {part: number}."""
        application = self.grant.application
        targets = application.indicator_targets or {}
        reached = self.indicator_values or {}
        return [
            IndicatorRow(indicator, targets.get(str(indicator.id)) or {}, reached.get(str(indicator.id)) or {})
            for indicator in application.call.indicators
        ]

    @property
    def staff_label(self):
        return REPORT_WORKFLOW.staff_label(self.state)

    @property
    def applicant_label(self):
        return REPORT_WORKFLOW.applicant_label(self.state)

    @property
    def is_editable(self):
        return REPORT_WORKFLOW.has(self.state, "editable")

    @property
    def awaiting_approval(self):
        return REPORT_WORKFLOW.can(self.state, "approve", {"staff"})

    @property
    def spent_cents(self):
        return sum(e.spent_cents for e in self.expenditures)

    @property
    def approved_cents(self):
        """The grant's approved budget in total (the amount awarded)."""
        return sum(self.grant.approved_budget.values())

    def budget_rows(self):
        """One row per line of the budget: what the award approved for it, and what was spent."""
        spent = {e.budget_line_id: e for e in self.expenditures}
        approved = self.grant.approved_budget
        return [
            BudgetRow(line=line, approved_cents=approved.get(line.id, 0), expenditure=spent.get(line.id))
            for line in self.grant.application.budget_lines
        ]

    def can_view(self, user):
        # Reports are the lead city's duty: a partner city sees the grant, never its reports.
        if not self.grant.can_view(user) or self.grant.application.sees_as_partner(user):
            return False
        if user.has_role("staff") or self.grant.application.is_lead_user(user):
            return True
        # A donor's officer reads what the programme team approved: not a report the city is still
        # writing, nor one the team has not accepted yet.
        return REPORT_WORKFLOW.has(self.state, "counted")


class Expenditure(db.Model):
    """Money spent on one line of the grant's approved budget."""

    __tablename__ = "expenditure"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    budget_line_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_line.id"), nullable=False)
    spent_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)

    report = relationship("GrantReport", back_populates="expenditures")
    budget_line = relationship("BudgetLine", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("report_id", "budget_line_id", name="uq_expenditure_report_line"),
        sa.CheckConstraint("spent_cents >= 0", name="spent_not_negative"),
    )

    @property
    def approved_cents(self):
        """What the award approved for this line (not what the city requested)."""
        return self.report.grant.approved_budget.get(self.budget_line_id, 0)

    @property
    def variance_cents(self):
        return self.spent_cents - self.approved_cents


@dataclass
class IndicatorRow:
    indicator: object
    target: dict
    reached: dict


@dataclass
class BudgetRow:
    line: object
    approved_cents: int
    expenditure: object = None

    @property
    def spent_cents(self):
        return self.expenditure.spent_cents if self.expenditure is not None else None

    @property
    def variance_cents(self):
        """Spent minus approved (None while nothing is reported on the line)."""
        return None if self.expenditure is None else self.expenditure.spent_cents - self.approved_cents


class ReportDocument(db.Model):
    __tablename__ = "report_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_report.id", ondelete="CASCADE"), nullable=False, index=True
    )
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), nullable=False)
    original_filename: Mapped[str] = mapped_column(sa.String(300), nullable=False)

    report = relationship("GrantReport", back_populates="documents")
    document = relationship("Document", lazy="joined")


class DonorReport(db.Model):
    """A report for one donor (or the whole fund) over a period, built by a job, kept for download."""

    __tablename__ = "donor_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donor.id"), index=True)
    period_start: Mapped[object] = mapped_column(sa.Date, nullable=False)
    period_end: Mapped[object] = mapped_column(sa.Date, nullable=False)
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    status: Mapped[str] = mapped_column(sa.String(10), nullable=False, default="queued")
    progress: Mapped[int] = mapped_column(nullable=False, default=0)
    error: Mapped[str | None] = mapped_column(sa.Text)
    pdf_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))
    xlsx_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))
    csv_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))
    # The figures the files were built with (queries.Figures.snapshot): the page shows these, so it
    # always matches the stored PDF.
    figures: Mapped[dict | None] = mapped_column(sa.JSON)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)

    donor = relationship("Donor")
    pdf = relationship("Document", foreign_keys=[pdf_id])
    xlsx = relationship("Document", foreign_keys=[xlsx_id])
    csv = relationship("Document", foreign_keys=[csv_id])

    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period_in_order"),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
        sa.CheckConstraint("progress BETWEEN 0 AND 100", name="progress_percent"),
    )

    @property
    def status_label(self):
        return DONOR_REPORT_STATES.get(self.status, self.status)

    def can_view(self, user):
        if not user or not user.is_authenticated:
            return False
        if user.has_role("staff"):
            return True
        return self.donor_id is not None and self.donor_id in user.donor_ids()


# What the audit log calls this feature's actions, in the reader's language.
audit.name_actions(
    {
        "donor_report.request": _l("Donor report asked for"),
        "grant_report.submit": _l("Report sent"),
        "grant_report.approve": _l("Report approved"),
        "grant_report.request_changes": _l("Changes asked for"),
        "grant_report.cancel": _l("Report no longer due"),
        "grant_report.save": _l("Report saved"),
    }
)

# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        "GrantReport": (_l("Grantee report"), "reporting.city_report", "report_id"),
        "Expenditure": _l("Expenditure"),
        "ReportDocument": _l("Report document"),
        "DonorReport": (_l("Donor report"), "reporting.donor_report", "report_id"),
    }
)
