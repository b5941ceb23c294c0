"""The panel: assignments of reviewers to applications, their declarations, and their scores."""

from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.states import State, Transition, Workflow
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db

REVIEWER = frozenset({"reviewer"})
STAFF = frozenset({"staff"})

ASSIGNMENT_WORKFLOW = Workflow(
    "assignment",
    states=[
        State("assigned", _l("Assigned: declaration due"), _l("Assigned"), flags=frozenset({"open", "counts"})),
        State(
            "accepted",
            _l("Accepted: scoring"),
            _l("Accepted"),
            flags=frozenset({"open", "counts", "sees_content", "scoring"}),
        ),
        State("declined", _l("Declined"), _l("Declined"), final=True),
        # Staff took the reviewer off the panel before they declared (`removed_reason` says why).
        State("removed", _l("Taken off the panel"), _l("Withdrawn by the programme team"), final=True),
        State("conflict", _l("Conflict declared"), _l("Conflict declared"), final=True),
        State(
            "submitted", _l("Review submitted"), _l("Submitted"), flags=frozenset({"counts", "sees_content", "done"})
        ),
        State(
            "reopened",
            _l("Reopened by staff"),
            _l("Reopened"),
            flags=frozenset({"open", "counts", "sees_content", "scoring"}),
        ),
    ],
    transitions=[
        Transition("assigned", "accept", "accepted", REVIEWER, _l("I have no conflict of interest")),
        Transition(
            "assigned", "declare_conflict", "conflict", REVIEWER, _l("I have a conflict of interest"), needs_reason=True
        ),
        Transition("assigned", "decline", "declined", REVIEWER, _l("Decline"), needs_reason=True),
        Transition("accepted", "submit", "submitted", REVIEWER, _l("Submit the review")),
        Transition("reopened", "submit", "submitted", REVIEWER, _l("Submit the review")),
        Transition("submitted", "reopen", "reopened", STAFF, _l("Reopen"), needs_reason=True),
        Transition("assigned", "unassign", "removed", STAFF, _l("Remove"), needs_reason=True),
    ],
)

RECOMMENDATIONS = {
    "fund": _l("Fund"),
    "fund_with_changes": _l("Fund with changes"),
    "do_not_fund": _l("Do not fund"),
}


class Assignment(db.Model):
    """One reviewer on one application's panel."""

    __tablename__ = "assignment"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), nullable=False, index=True)
    # The application's call, kept on the assignment (set when the reviewer is assigned; an
    # application never changes call): review progress counts and pages a call's thousands of
    # assignments by call and due date from one index, without joining their applications.
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id"), nullable=False)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="assigned")
    due_at: Mapped[object | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    assigned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    declared_at: Mapped[object | None] = mapped_column(UTCDateTime)
    declaration_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Why staff took the reviewer off this panel (read by staff only).
    removed_reason: Mapped[str | None] = mapped_column(sa.Text)

    application = relationship("Application", lazy="joined")
    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    review = relationship("Review", back_populates="assignment", uselist=False, cascade="all, delete-orphan")

    __table_args__ = (
        # One reviewer reviews an application once.
        sa.UniqueConstraint("application_id", "reviewer_id", name="uq_assignment_application_reviewer"),
        sa.CheckConstraint(f"state IN {tuple(ASSIGNMENT_WORKFLOW.state_names())!r}", name="state_known"),
        # Review progress: a call's assignments by due date (the latest undated), a page at a time.
        sa.Index("ix_assignment_call_due", "call_id", "due_at", "id"),
    )

    @property
    def staff_label(self):
        return ASSIGNMENT_WORKFLOW.staff_label(self.state)

    @property
    def is_open(self):
        """Still theirs to declare or score (not declined, removed, in conflict or submitted)."""
        return ASSIGNMENT_WORKFLOW.has(self.state, "open")

    @property
    def was_removed(self):
        """Staff took the reviewer off this panel (before they declared)."""
        return self.removed_reason is not None

    @property
    def reviewer_label(self):
        return ASSIGNMENT_WORKFLOW.applicant_label(self.state)

    @property
    def awaiting_declaration(self):
        return ASSIGNMENT_WORKFLOW.can(self.state, "accept", {"reviewer"})

    @property
    def sees_content(self):
        return ASSIGNMENT_WORKFLOW.has(self.state, "sees_content")

    @property
    def is_scoring(self):
        return ASSIGNMENT_WORKFLOW.has(self.state, "scoring")

    @property
    def is_done(self):
        return ASSIGNMENT_WORKFLOW.has(self.state, "done")

    @property
    def can_be_removed(self):
        """Staff may take the reviewer off the panel (before they have declared on it)."""
        return ASSIGNMENT_WORKFLOW.can(self.state, "unassign", {"staff"})

    def is_overdue(self, now=None):
        return bool(self.due_at and ASSIGNMENT_WORKFLOW.has(self.state, "open") and (now or utcnow()) > self.due_at)

    def can_view(self, user):
        if not user or not user.is_authenticated:
            return False
        return user.id == self.reviewer_id or user.has_role("staff")


class Review(db.Model):
    """A reviewer's scores and comments on one application."""

    __tablename__ = "review"

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("assignment.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    comment_applicant: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    comment_staff: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    recommendation: Mapped[str | None] = mapped_column(sa.String(30))
    # The weighted mean of the judged criteria on 0-100, fixed at submission.
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # How many times it was submitted (a reopened review is submitted again): part of the
    # fingerprint by which a call's kept criterion means are checked (reviews.queries).
    submissions: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    assignment = relationship("Assignment", back_populates="review")
    scores = relationship(
        "CriterionScore", back_populates="review", cascade="all, delete-orphan", order_by="CriterionScore.id"
    )

    __table_args__ = (
        sa.CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score_on_0_100"),
        sa.CheckConstraint("(submitted_at IS NULL) = (score IS NULL)", name="submitted_has_score"),
        sa.CheckConstraint(
            f"recommendation IS NULL OR recommendation IN {tuple(RECOMMENDATIONS)!r}", name="recommendation_known"
        ),
    )

    @property
    def recommendation_label(self):
        return RECOMMENDATIONS.get(self.recommendation, "—")


class CriterionScore(db.Model):
    __tablename__ = "criterion_score"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(sa.ForeignKey("review.id", ondelete="CASCADE"), nullable=False, index=True)
    criterion_id: Mapped[int] = mapped_column(sa.ForeignKey("criterion.id"), nullable=False)
    score: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))
    cannot_judge: Mapped[bool] = mapped_column(nullable=False, default=False)
    comment: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    review = relationship("Review", back_populates="scores")
    criterion = relationship("Criterion", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("review_id", "criterion_id", name="uq_criterion_score_review_criterion"),
        sa.CheckConstraint("NOT (cannot_judge AND score IS NOT NULL)", name="judged_or_not"),
    )


class PanelConsensus(db.Model):
    """The panel's final word on an application, kept beside the mean of the reviews."""

    __tablename__ = "panel_consensus"

    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), primary_key=True)
    score: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), nullable=False)
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    recorded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    __table_args__ = (sa.CheckConstraint("score >= 0 AND score <= 100", name="score_on_0_100"),)


# -- experts' offers to review ------------------------------------------------------------------

OFFER_STATES = {
    "new": _l("New"),
    "accepted": _l("Accepted: invited"),
    "declined": _l("Declined"),
}


class ExpertOffer(db.Model):
    """An expert's offer to review, sent from the public page; one per e-mail address."""

    __tablename__ = "expert_offer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, unique=True)
    # The language the expert wrote in: the one their e-mails are in.
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    gender: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    country: Mapped[str] = mapped_column(sa.String(2), nullable=False)
    region: Mapped[str] = mapped_column(sa.String(40), nullable=False)
    languages: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    expertise: Mapped[str] = mapped_column(sa.Text, nullable=False)
    affiliation: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    cv_document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), nullable=False)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="new")
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    decided_at: Mapped[object | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # The reviewer's account, once the expert accepted the invitation.
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    cv = relationship("Document")
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    user = relationship("User", foreign_keys=[user_id])

    __table_args__ = (
        sa.CheckConstraint(f"state IN {tuple(OFFER_STATES)!r}", name="state_known"),
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("state != 'declined' OR decline_reason IS NOT NULL", name="declined_has_reason"),
    )

    @property
    def state_label(self):
        return OFFER_STATES.get(self.state, self.state)

    @property
    def is_new(self):
        return self.state == "new"

    @property
    def language_list(self):
        return [x for x in self.languages.split(",") if x]

    def can_view(self, user):
        return bool(user and user.is_authenticated and user.has_role("staff"))


# -- a jury per call --------------------------------------------------------------------------


class Jury(db.Model):
    """A call's jury: its balance rule, and when staff confirmed its composition."""

    __tablename__ = "jury"

    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id", ondelete="CASCADE"), primary_key=True)
    min_women_percent: Mapped[int] = mapped_column(nullable=False, default=40)
    min_men_percent: Mapped[int] = mapped_column(nullable=False, default=40)
    min_regions: Mapped[int] = mapped_column(nullable=False, default=3)
    confirmed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    # Why staff confirmed a jury that does not meet its rule (kept in the audit log as well).
    confirm_reason: Mapped[str | None] = mapped_column(sa.Text)

    confirmed_by = relationship("User")

    __table_args__ = (
        sa.CheckConstraint("min_women_percent BETWEEN 0 AND 100", name="women_percent_range"),
        sa.CheckConstraint("min_men_percent BETWEEN 0 AND 100", name="men_percent_range"),
        sa.CheckConstraint("min_regions BETWEEN 0 AND 6", name="regions_range"),
    )


class Juror(db.Model):
    """A reviewer of the pool on one call's jury, with their load limit and unavailability."""

    __tablename__ = "juror"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    reviewer_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False, index=True)
    # The most applications of this call the juror reviews.
    max_load: Mapped[int] = mapped_column(nullable=False, default=10)
    unavailable_from: Mapped[object | None] = mapped_column(sa.Date)
    unavailable_until: Mapped[object | None] = mapped_column(sa.Date)
    added_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    added_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    reviewer = relationship("User", foreign_keys=[reviewer_id], lazy="joined")
    call = relationship("Call")

    __table_args__ = (
        sa.UniqueConstraint("call_id", "reviewer_id", name="uq_juror_call_reviewer"),
        sa.CheckConstraint("max_load >= 1", name="max_load_positive"),
        sa.CheckConstraint(
            "unavailable_from IS NULL OR unavailable_until IS NULL OR unavailable_from <= unavailable_until",
            name="unavailable_in_order",
        ),
        sa.CheckConstraint("(unavailable_from IS NULL) = (unavailable_until IS NULL)", name="unavailable_both_ends"),
    )

    def can_view(self, user):
        return bool(user and user.is_authenticated and user.has_role("staff"))

    def unavailable_on(self, day):
        return bool(self.unavailable_from and self.unavailable_from <= day <= self.unavailable_until)


# What the audit log calls this feature's actions, in the reader's language.
audit.name_actions(
    {
        "assignment.create": _l("Reviewer assigned"),
        "assignment.accept": _l("No conflict of interest declared"),
        "assignment.declare_conflict": _l("Conflict of interest declared"),
        "assignment.decline": _l("Assignment declined"),
        "assignment.submit": _l("Review sent"),
        "assignment.reopen": _l("Review reopened"),
        "assignment.unassign": _l("Reviewer removed"),
        "call.assign_reviewers": _l("Reviewers assigned automatically"),
        "review.save": _l("Review draft saved"),
        "review.submit": _l("Review submitted"),
        "expert_offer.create": _l("Offer to review received"),
        "expert_offer.accept": _l("Offer to review accepted"),
        "expert_offer.decline": _l("Offer to review declined"),
        "jury.add": _l("Added to the jury"),
        "jury.remove": _l("Removed from the jury"),
        "jury.update": _l("Juror's load or availability changed"),
        "jury.rule": _l("Jury balance rule changed"),
        "jury.confirm": _l("Jury confirmed"),
    }
)

# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        "Assignment": _l("Review assignment"),
        "Review": _l("Review"),
        "CriterionScore": _l("Criterion score"),
        "PanelConsensus": _l("Panel consensus"),
        "ExpertOffer": (_l("Offer to review"), "reviews.offer_detail", "offer_id"),
        "Jury": _l("Jury"),
        "Juror": _l("Juror"),
        "juror": _l("Juror"),
    }
)
