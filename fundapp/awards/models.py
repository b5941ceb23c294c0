"""Decisions on applications, the grants they make, their allocation to donors, tranches, letters."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..calls.models import TRANCHE_CONDITIONS
from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.catalogue import lazy_pgettext as _pg
from ..core.states import State, Transition, Workflow
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db

STAFF = frozenset({"staff"})
APPLICANT = frozenset({"applicant"})
STAFF_OR_SYSTEM = frozenset({"staff", "system"})

DECISION_KINDS = {"award": _l("Award"), "reserve": _l("Reserve list"), "reject": _l("Not funded")}

GRANT_WORKFLOW = Workflow(
    "grant",
    # A grant's state with the "grant state" context: "Active" or "Accepted" of a grant (una
    # subvención activa, aceptada) are not those of an account or a review assignment.
    # "public": a grant the city took (accepted, under way, or run its course) may be shown on the
    # fund's public page and in its open data, with the city's consent; never one offered, declined
    # or cancelled.
    states=[
        State(
            "offered",
            _pg("grant state", "Offered: awaiting the city"),
            _pg("grant state", "Offered: accept or decline it"),
        ),
        State(
            "accepted",
            _pg("grant state", "Accepted"),
            _pg("grant state", "Accepted"),
            flags=frozenset({"payable", "reportable", "public"}),
        ),
        State(
            "active",
            _pg("grant state", "Active"),
            _pg("grant state", "Active"),
            flags=frozenset({"payable", "reportable", "public"}),
        ),
        # Final states: nothing is due any more; what was not paid is back in the donors' lines.
        State(
            "closed",
            _pg("grant state", "Closed"),
            _pg("grant state", "Closed"),
            final=True,
            flags=frozenset({"ended", "public"}),
        ),
        State(
            "cancelled",
            _pg("grant state", "Cancelled"),
            _pg("grant state", "Cancelled"),
            final=True,
            flags=frozenset({"ended"}),
        ),
        State(
            "declined",
            _pg("grant state", "Declined by the city"),
            _pg("grant state", "Declined"),
            final=True,
            flags=frozenset({"ended"}),
        ),
    ],
    transitions=[
        Transition("offered", "accept", "accepted", APPLICANT, _l("Accept the grant")),
        # The city may say no to an award it has not accepted; after acceptance only staff cancel.
        Transition("offered", "decline", "declined", APPLICANT, _l("Decline the grant"), needs_reason=True),
        Transition("accepted", "activate", "active", STAFF_OR_SYSTEM, _l("Activate")),
        # Without a reason only once the final report is approved and the last payment made
        # (awards.operations.close_grant); staff may close earlier with a reason.
        Transition("accepted", "close", "closed", STAFF, _l("Close the grant")),
        Transition("active", "close", "closed", STAFF, _l("Close the grant")),
        Transition("offered", "cancel", "cancelled", STAFF, _l("Cancel the grant"), needs_reason=True),
        Transition("accepted", "cancel", "cancelled", STAFF, _l("Cancel the grant"), needs_reason=True),
        Transition("active", "cancel", "cancelled", STAFF, _l("Cancel the grant"), needs_reason=True),
    ],
)

# What a grant's history calls each audit action (the workflow's own are its buttons).
audit.name_actions(
    {
        "decision.award": _l("Decision: award"),
        "decision.reserve": _l("Decision: reserve list"),
        "decision.reject": _l("Decision: not funded"),
        "decision.revise": _l("Decision revised"),
        "letter.send": _l("Decision letter queued"),
        "letter.sent": _l("Decision letter sent"),
        "letter.failed": _l("Decision letter not sent"),
        "grant.accept": _l("Grant accepted"),
        "grant.decline": _l("Grant declined"),
        "grant.activate": _l("Grant active: first payment made"),
        "grant.cancel": _l("Grant cancelled"),
        "grant.close": _l("Grant closed"),
        "grant.publication": _l("Publication choices changed"),
        "tranche.due": _l("Tranche due"),
        "payment.record": _l("Payment recorded"),
    }
)

ENDED_STATES = tuple(GRANT_WORKFLOW.states_with("ended"))

# When each tranche is paid: a call's schedule names these (calls/models.py, upstream).
DEFAULT_SCHEDULE = [("acceptance", 40), ("interim_report", 40), ("final_report", 20)]


class Decision(db.Model):
    """Staff's decision on one application. A revised decision stays, marked, beside the new one."""

    __tablename__ = "decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    amount_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    conditions: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    reason: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    decided_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    revised_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revision_reason: Mapped[str | None] = mapped_column(sa.Text)
    # When the letter left: its job put it in the outbox for every focal point (never when queued).
    letter_sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # A reserve decision whose letter went out stays as history when staff later award the
    # application from the reserve list: the award is a new decision that supersedes it.
    superseded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("decision.id"))
    superseded_at: Mapped[object | None] = mapped_column(UTCDateTime)

    application = relationship("Application", lazy="joined")
    grant = relationship("Grant", back_populates="decision", uselist=False)
    superseded_by = relationship("Decision", remote_side="Decision.id", foreign_keys=[superseded_by_id])
    # The reserve decision this award replaced (None for most decisions).
    supersedes = relationship("Decision", foreign_keys=[superseded_by_id], uselist=False, viewonly=True)
    letters = relationship("Letter", back_populates="decision", order_by="Letter.id")

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {tuple(DECISION_KINDS)!r}", name="kind_known"),
        sa.CheckConstraint("(kind = 'award') = (amount_cents IS NOT NULL)", name="award_has_amount"),
        sa.CheckConstraint("amount_cents IS NULL OR amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint("NOT (revised_at IS NOT NULL AND letter_sent_at IS NOT NULL)", name="sent_is_final"),
        sa.CheckConstraint("(revised_at IS NULL) = (revision_reason IS NULL)", name="revision_has_reason"),
        # The award that supersedes a reserve is written just after the reserve stops being current.
        sa.CheckConstraint("superseded_by_id IS NULL OR superseded_at IS NOT NULL", name="superseded_has_date"),
        sa.CheckConstraint("superseded_at IS NULL OR kind = 'reserve'", name="only_reserve_superseded"),
        # One current decision per application.
        sa.Index(
            "uq_decision_current",
            "application_id",
            unique=True,
            postgresql_where=sa.text("revised_at IS NULL AND superseded_at IS NULL"),
            sqlite_where=sa.text("revised_at IS NULL AND superseded_at IS NULL"),
        ),
    )

    @classmethod
    def current(cls):
        """The SQL condition of a current decision: neither revised nor superseded."""
        return sa.and_(cls.revised_at.is_(None), cls.superseded_at.is_(None))

    @property
    def kind_label(self):
        return DECISION_KINDS.get(self.kind, self.kind)

    @property
    def is_current(self):
        return self.revised_at is None and self.superseded_at is None

    @property
    def letter(self):
        """The decision's letter (one at most), or None before staff send it."""
        return self.letters[0] if self.letters else None


class Grant(db.Model):
    __tablename__ = "grant_award"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), nullable=False, index=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decision.id"), nullable=False, unique=True)
    state: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="offered")
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    cap_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    paid_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    returned_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    bank_details: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    accepted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    accepted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    cancelled_reason: Mapped[str | None] = mapped_column(sa.Text)
    declined_reason: Mapped[str | None] = mapped_column(sa.Text)
    closed_reason: Mapped[str | None] = mapped_column(sa.Text)
    # When the grant reached a final state (declined, cancelled, closed): from then nothing is due.
    ended_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    # The lead city's consent, given when it accepts the grant and changed later on its page: the
    # project (city, partners, title, summary, amount, dates, status) on the fund's public page and
    # in its open data; and, with it, the reports staff approved. Nobody consented: nothing shown.
    publish_project: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())
    publish_reports: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())
    publication_changed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    application = relationship("Application", lazy="joined")
    decision = relationship("Decision", back_populates="grant")
    allocations = relationship(
        "Allocation", back_populates="grant", cascade="all, delete-orphan", order_by="Allocation.id"
    )
    tranches = relationship(
        "Tranche", back_populates="grant", cascade="all, delete-orphan", order_by="Tranche.position"
    )
    payments = relationship("Payment", back_populates="grant", order_by="Payment.id")
    approved_lines = relationship(
        "ApprovedBudgetLine",
        back_populates="grant",
        cascade="all, delete-orphan",
        order_by="ApprovedBudgetLine.position",
    )
    reports = relationship("GrantReport", order_by="GrantReport.due_on", viewonly=True)

    __table_args__ = (
        sa.CheckConstraint("amount_cents > 0 AND amount_cents <= cap_cents", name="amount_within_cap"),
        sa.CheckConstraint("paid_cents >= 0 AND paid_cents <= amount_cents", name="paid_within_amount"),
        sa.CheckConstraint(
            "returned_cents >= 0 AND returned_cents + paid_cents <= amount_cents", name="returned_within_unpaid"
        ),
        sa.CheckConstraint(f"state IN {tuple(GRANT_WORKFLOW.state_names())!r}", name="state_known"),
        sa.CheckConstraint("(accepted_at IS NULL) = (accepted_by_id IS NULL)", name="accepted_has_user"),
        sa.CheckConstraint(f"(state IN {ENDED_STATES!r}) = (ended_at IS NOT NULL)", name="ended_when_final"),
        # An ended grant holds nothing it has not paid: the rest is back in the donors' lines.
        sa.CheckConstraint(
            f"state NOT IN {ENDED_STATES!r} OR paid_cents + returned_cents = amount_cents", name="ended_returns_unpaid"
        ),
        sa.CheckConstraint("state <> 'declined' OR declined_reason IS NOT NULL", name="declined_has_reason"),
        # The reports are published only beside their project.
        sa.CheckConstraint("publish_project OR NOT publish_reports", name="reports_need_project"),
    )

    @property
    def staff_label(self):
        return GRANT_WORKFLOW.staff_label(self.state)

    @property
    def applicant_label(self):
        return GRANT_WORKFLOW.applicant_label(self.state)

    @property
    def committed_cents(self):
        """What the grant still holds of the donors' money (paid or to be paid)."""
        return self.amount_cents - self.returned_cents

    @property
    def unpaid_cents(self):
        """What has not been paid of the grant (returned to the envelope when it is closed)."""
        return self.amount_cents - self.paid_cents

    @property
    def is_payable(self):
        return GRANT_WORKFLOW.has(self.state, "payable")

    @property
    def has_ended(self):
        """Declined, cancelled or closed: nothing is due on it any more."""
        return GRANT_WORKFLOW.has(self.state, "ended")

    @property
    def end_reason(self):
        return self.declined_reason or self.cancelled_reason or self.closed_reason

    @property
    def final_report_approved(self):
        # Report duties belong to the reporting feature; an approval is what sets approved_at.
        return any(r.kind == "final" and r.approved_at is not None for r in self.reports)

    @property
    def last_payment_made(self):
        """The last tranche of the schedule (due on the final report) has been paid."""
        return bool(self.tranches) and self.tranches[-1].paid_cents > 0

    @property
    def complete(self):
        """The grant has run its course: staff may close it without giving a reason."""
        return self.final_report_approved and self.last_payment_made

    @property
    def approved_budget(self):
        """{budget line id: approved cents}: what the award approved for each line of the request."""
        return {line.budget_line_id: line.amount_cents for line in self.approved_lines}

    def can_view(self, user):
        if not user or not user.is_authenticated:
            return False
        if user.has_role("staff"):
            return True
        if (
            self.application.is_lead_user(user) or self.application.is_partner_user(user)
        ) and self.application.decision_is_public:
            # The city (and a partner city asked to take part, read-only) learns of the grant with
            # the award letter, not before; a person who is also a donor's officer still sees, as
            # the officer, the grants the donor pays (awards.queries.viewable_grants, the same rule).
            return True
        donors = set(user.donor_ids())
        return bool(donors) and any(a.call_funding.contribution.donor_id in donors for a in self.allocations)

    def allocations_seen_by(self, user):
        """The allocation lines `user` reads: all for staff; a donor's officer, its own donor's
        (another donor's money is not theirs)."""
        if user.has_role("staff"):
            return list(self.allocations)
        donors = set(user.donor_ids())
        return [a for a in self.allocations if a.call_funding.contribution.donor_id in donors]


class Allocation(db.Model):
    """The part of a grant paid from one contribution's line in the call's envelope."""

    __tablename__ = "allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_award.id", ondelete="CASCADE"), nullable=False, index=True
    )
    call_funding_id: Mapped[int] = mapped_column(sa.ForeignKey("call_funding.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    paid_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    returned_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)

    grant = relationship("Grant", back_populates="allocations")
    call_funding = relationship("CallFunding", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("grant_id", "call_funding_id", name="uq_allocation_grant_line"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
        sa.CheckConstraint(
            "paid_cents >= 0 AND returned_cents >= 0 AND paid_cents + returned_cents <= amount_cents",
            name="paid_and_returned_within_amount",
        ),
    )


class ApprovedBudgetLine(db.Model):
    """The amount of the grant approved for one line of the requested budget, fixed by the award
    (the request scaled to the award unless staff set it): grantees report spending against it."""

    __tablename__ = "approved_budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_award.id", ondelete="CASCADE"), nullable=False, index=True
    )
    budget_line_id: Mapped[int] = mapped_column(sa.ForeignKey("budget_line.id"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)

    grant = relationship("Grant", back_populates="approved_lines")
    budget_line = relationship("BudgetLine", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("grant_id", "budget_line_id", name="uq_approved_budget_line_grant_line"),
        sa.CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
    )


class Tranche(db.Model):
    __tablename__ = "tranche"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("grant_award.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(nullable=False)
    condition: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    percent: Mapped[int] = mapped_column(nullable=False)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    due_since: Mapped[object | None] = mapped_column(UTCDateTime)
    paid_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)

    grant = relationship("Grant", back_populates="tranches")

    __table_args__ = (
        sa.CheckConstraint(f"condition IN {tuple(TRANCHE_CONDITIONS)!r}", name="condition_known"),
        sa.CheckConstraint(
            "amount_cents >= 0 AND paid_cents >= 0 AND paid_cents <= amount_cents", name="paid_within_amount"
        ),
        sa.CheckConstraint("percent > 0 AND percent <= 100", name="percent_plausible"),
    )

    @property
    def condition_label(self):
        return TRANCHE_CONDITIONS.get(self.condition, self.condition)

    @property
    def is_due(self):
        # A declined, cancelled or closed grant has nothing due: only a payable grant's tranches are.
        return self.due_since is not None and self.paid_cents < self.amount_cents and self.grant.is_payable

    @property
    def unpaid_cents(self):
        return self.amount_cents - self.paid_cents

    @property
    def outstanding_cents(self):
        return self.unpaid_cents if self.is_due else 0

    @property
    def is_paid(self):
        return self.paid_cents >= self.amount_cents


class Payment(db.Model):
    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(sa.ForeignKey("grant_award.id"), nullable=False, index=True)
    tranche_id: Mapped[int] = mapped_column(sa.ForeignKey("tranche.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    paid_on: Mapped[object] = mapped_column(sa.Date, nullable=False)
    reference: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    grant = relationship("Grant", back_populates="payments")
    tranche = relationship("Tranche")
    shares = relationship("PaymentShare", back_populates="payment", cascade="all, delete-orphan")

    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)


LETTER_STATES = {
    "queued": _l("being sent"),
    "sent": _l("sent"),
    "failed": _l("not sent"),
}


class Letter(db.Model):
    """An award or decision letter: rendered and e-mailed by a job, once.

    queued: staff asked for it, the job has not handed it over yet; sent: the job rendered it and
    put a message to every focal point of the city in the outbox (the outbox and its sweep deliver
    them), and from that instant the city sees the decision; failed: the job could not (the reason
    in `error`), or the decision was revised first. A failed letter may be sent again, or its
    decision revised.
    """

    __tablename__ = "letter"

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(sa.ForeignKey("decision.id"), nullable=False, index=True)
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False, default="queued")
    document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))
    job_id: Mapped[int | None] = mapped_column(sa.ForeignKey("job_record.id"))
    requested_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Why the letter was not sent (the job's failure, or the decision revised before it left).
    error: Mapped[str | None] = mapped_column(sa.Text)

    decision = relationship("Decision", back_populates="letters")
    document = relationship("Document")
    job = relationship("JobRecord")

    __table_args__ = (
        sa.CheckConstraint("status IN ('queued', 'sent', 'failed')", name="status_known"),
        sa.UniqueConstraint("decision_id", name="uq_letter_decision"),
    )

    @property
    def status_label(self):
        return LETTER_STATES.get(self.status, self.status)

    @property
    def is_queued(self):
        return self.status == "queued"

    @property
    def has_failed(self):
        return self.status == "failed"


class PaymentShare(db.Model):
    """The part of one payment that came from one donor's allocation: the dated donor ledger."""

    __tablename__ = "payment_share"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(sa.ForeignKey("payment.id"), nullable=False, index=True)
    allocation_id: Mapped[int] = mapped_column(sa.ForeignKey("allocation.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)

    payment = relationship("Payment", back_populates="shares")
    allocation = relationship("Allocation")

    __table_args__ = (sa.CheckConstraint("amount_cents > 0", name="amount_positive"),)


# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        "Decision": _l("Decision"),
        "Grant": (_l("Grant"), "awards.grant", "grant_id"),
        "Allocation": _l("Allocation"),
        "ApprovedBudgetLine": _l("Approved budget line"),
        "Tranche": _l("Tranche"),
        "Payment": _l("Payment"),
        "PaymentShare": _l("Payment share"),
        "Letter": _l("Letter"),
    }
)
