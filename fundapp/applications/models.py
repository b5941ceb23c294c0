"""Applications: what a lead city proposes, its budget, partners and documents, and each submission."""

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from ..accounts.models import GENDERS
from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.documents import renamed, slug
from ..core.inputs import folded
from ..core.states import RETURN, State, Transition, Workflow
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db

APPLICANT = frozenset({"applicant"})
STAFF = frozenset({"staff"})
STAFF_OR_SYSTEM = frozenset({"staff", "system"})

APPLICATION_WORKFLOW = Workflow(
    "application",
    states=[
        State("draft", _l("Draft"), _l("Draft"), flags=frozenset({"editable"})),
        State("submitted", _l("Submitted: to screen"), _l("Received"), flags=frozenset({"sent"})),
        State(
            "more_info",
            _l("More information requested"),
            _l("More information requested"),
            flags=frozenset({"partly_editable", "sent"}),
        ),
        State(
            "eligible",
            _l("Eligible"),
            _l("Eligible: awaiting review"),
            flags=frozenset({"sent", "reviewable"}),
        ),
        State("ineligible", _l("Ineligible"), _l("Not eligible"), final=True, flags=frozenset({"sent"})),
        State(
            "in_review",
            _l("In review"),
            _l("Under review"),
            flags=frozenset({"sent", "reviewable"}),
        ),
        State(
            "reviewed",
            _l("Reviewed"),
            _l("Under review"),
            flags=frozenset({"sent", "reviewable", "ranked"}),
        ),
        # After staff's decision (awards.decide). "ranked": still in the ranking and on the decision
        # board; no longer "reviewable" (no new reviewer), and not withdrawn (the city declines a grant
        # instead). The city reads these labels only once the letter is sent (Application.city_state).
        State("awarded", _l("Awarded"), _l("Awarded"), flags=frozenset({"sent", "ranked", "decided"})),
        State(
            "reserved",
            _l("Reserve list"),
            _l("Reserve list"),
            flags=frozenset({"sent", "ranked", "decided"}),
        ),
        State("not_funded", _l("Not funded"), _l("Not funded"), flags=frozenset({"sent", "ranked", "decided"})),
        State("withdrawn", _l("Withdrawn"), _l("Withdrawn"), final=True, flags=frozenset({"withdrawn"})),
    ],
    transitions=[
        Transition("draft", "submit", "submitted", APPLICANT, _l("Submit")),
        Transition("submitted", "mark_eligible", "eligible", STAFF, _l("Eligible")),
        Transition("submitted", "mark_ineligible", "ineligible", STAFF, _l("Ineligible"), needs_reason=True),
        Transition(
            "submitted",
            "request_info",
            "more_info",
            STAFF,
            _l("Ask for more information"),
            needs_reason=True,
            remember_source=True,
        ),
        Transition(
            "eligible",
            "request_info",
            "more_info",
            STAFF,
            _l("Ask for more information"),
            needs_reason=True,
            remember_source=True,
        ),
        Transition("more_info", "resubmit", RETURN, APPLICANT, _l("Send the changes")),
        # The city did not send what was asked (or staff close it early): ineligible, with a reason.
        Transition("more_info", "close_unanswered", "ineligible", STAFF, _l("Close as ineligible"), needs_reason=True),
        Transition("eligible", "start_review", "in_review", STAFF_OR_SYSTEM, _l("Start the review")),
        Transition("in_review", "complete_review", "reviewed", STAFF_OR_SYSTEM, _l("All reviews are in")),
        Transition("reviewed", "reopen_review", "in_review", STAFF_OR_SYSTEM, _l("Reopen the review")),
        # The decision (action names are the decision kinds of awards.models.DECISION_KINDS).
        Transition("reviewed", "award", "awarded", STAFF, _l("Award")),
        Transition("reviewed", "reserve", "reserved", STAFF, _l("Reserve list")),
        Transition("reviewed", "reject", "not_funded", STAFF, _l("Not funded"), needs_reason=True),
        # Revising a decision whose letter has not gone out.
        Transition("awarded", "revise_decision", "reviewed", STAFF, _l("Revise the decision"), needs_reason=True),
        # Money came back: staff award an application of the reserve list (a new decision supersedes
        # the reserve one, whose letter may have gone out). Revising that award before its letter
        # puts the application back on the reserve list it came from.
        Transition("reserved", "award", "awarded", STAFF, _l("Award from the reserve list"), remember_source=True),
        Transition("awarded", "return_to_reserve", RETURN, STAFF, _l("Back to the reserve list"), needs_reason=True),
        Transition("reserved", "revise_decision", "reviewed", STAFF, _l("Revise the decision"), needs_reason=True),
        Transition("not_funded", "revise_decision", "reviewed", STAFF, _l("Revise the decision"), needs_reason=True),
        Transition("reviewed", "withdraw", "withdrawn", APPLICANT, _l("Withdraw"), needs_reason=True),
        Transition("draft", "withdraw", "withdrawn", APPLICANT, _l("Withdraw"), needs_reason=True),
        Transition("submitted", "withdraw", "withdrawn", APPLICANT, _l("Withdraw"), needs_reason=True),
        Transition("more_info", "withdraw", "withdrawn", APPLICANT, _l("Withdraw"), needs_reason=True),
        Transition("eligible", "withdraw", "withdrawn", APPLICANT, _l("Withdraw"), needs_reason=True),
        Transition("in_review", "withdraw", "withdrawn", APPLICANT, _l("Withdraw"), needs_reason=True),
    ],
)

# A partner city's answer to the lead's request: asked when the lead saves it among the partners,
# then confirmed (with a letter of commitment, if it attaches one) or declined (with a reason).
PARTNER_WORKFLOW = Workflow(
    "partner",
    states=[
        State("asked", _l("Asked to confirm"), _l("Asked to confirm"), flags=frozenset({"waiting"})),
        State("confirmed", _l("Confirmed"), _l("Confirmed"), final=True, flags=frozenset({"takes_part"})),
        State("declined", _l("Declined"), _l("Declined"), final=True, flags=frozenset({"declined"})),
    ],
    transitions=[
        Transition("asked", "confirm", "confirmed", APPLICANT, _l("Confirm our part")),
        Transition("asked", "decline", "declined", APPLICANT, _l("Decline"), needs_reason=True),
    ],
)

# What the application's history calls each audit action (the workflow's own are its buttons).
audit.name_actions(
    {
        "application.start": _l("Application started"),
        "partner.confirm": _l("Partnership confirmed"),
        "partner.decline": _l("Partnership declined"),
        "application.save": _l("Draft saved"),
        "application.document": _l("Document added"),
        "application.document_removed": _l("Document removed"),
        "application.message": _l("Message sent"),
        "application.more_info_reply_by": _l("Reply date set"),
        "application.consensus": _l("Panel consensus recorded"),
        "application.submit": _l("Application submitted"),
        "application.resubmit": _l("Changes sent"),
        "application.withdraw": _l("Application withdrawn"),
        "application.mark_eligible": _l("Marked eligible"),
        "application.mark_ineligible": _l("Marked ineligible"),
        "application.request_info": _l("More information requested"),
        "application.close_unanswered": _l("Closed as ineligible: no reply"),
        "application.start_review": _l("Review started"),
        "application.complete_review": _l("All reviews are in"),
        "application.reopen_review": _l("Review reopened"),
        "application.award": _l("Awarded"),
        "application.reserve": _l("Put on the reserve list"),
        "application.reject": _l("Not funded"),
        "application.revise_decision": _l("Decision reopened for revision"),
        "application.return_to_reserve": _l("Back on the reserve list"),
        "partner.ask": _l("Partner asked to confirm"),
    }
)

DIMENSIONS = {
    "recognise": _l("Recognise care work"),
    "reduce": _l("Reduce care work"),
    "redistribute": _l("Redistribute care work"),
    "reward": _l("Reward care workers"),
    "represent": _l("Represent carers and care workers"),
}

BUDGET_CATEGORIES = {
    "personnel": _l("Personnel"),
    "services": _l("Services"),
    "equipment": _l("Equipment"),
    "travel": _l("Travel"),
    "communication": _l("Communication"),
    "other": _l("Other"),
}

# The parts of an application staff can reopen when they ask for more information.
SECTIONS = {
    "project": _l("The project (title, summary, problem, objectives, activities, dimensions, groups)"),
    "plan": _l("Plan (start, duration, milestones, risks)"),
    "partners": _l("Partner cities"),
    "budget": _l("Budget"),
    "documents": _l("Documents"),
    "indicators": _l("Indicators and targets"),
}
SECTION_FIELDS = {
    "project": [
        "language",
        "title",
        "summary",
        "problem",
        "objectives",
        "activities",
        "dimensions",
        "target_groups",
        "beneficiaries_women",
        "beneficiaries_men",
        "beneficiaries_other",
        "lead_name",
        "lead_gender",
    ],
    "plan": ["start_date", "duration_months", "milestones", "risks"],
    "partners": ["partners"],
    "budget": ["budget"],
    "documents": ["documents"],
    "indicators": ["indicator_targets"],
}


def is_reply_overdue(state, reply_by, call_today):
    """The one rule of an overdue reply: the application still waits for the city (partly
    editable) and the day it was given to reply is over on the call's clock (`call_today`)."""
    return reply_by is not None and APPLICATION_WORKFLOW.has(state, "partly_editable") and call_today > reply_by


class Application(db.Model):
    __tablename__ = "application"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id"), nullable=False)
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), nullable=False, index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft")
    return_state: Mapped[str | None] = mapped_column(sa.String(20))
    # Every save bumps the version; a save made on an older version is refused (optimistic lock).
    version: Mapped[int] = mapped_column(nullable=False, default=1)
    number: Mapped[int | None] = mapped_column()
    reference: Mapped[str | None] = mapped_column(sa.String(40), unique=True)

    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    title: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    # The title without accents or case (core.inputs.folded), for the staff list's search.
    title_folded: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="", server_default="")
    summary: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    problem: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    objectives: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    activities: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    dimensions: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    target_groups: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    beneficiaries_women: Mapped[int | None] = mapped_column()
    beneficiaries_men: Mapped[int | None] = mapped_column()
    beneficiaries_other: Mapped[int | None] = mapped_column()
    # The person who leads the project in the city, and their gender (optional; counted by gender).
    lead_name: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    lead_gender: Mapped[str | None] = mapped_column(sa.String(20))
    # The target the city sets for each indicator of the call: {indicator id: {part: number}}, the
    # parts being "total", or "women", "men" and "other" for an indicator counted by gender.
    indicator_targets: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    start_date: Mapped[object | None] = mapped_column(sa.Date)
    duration_months: Mapped[int | None] = mapped_column()
    milestones: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    risks: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")

    # Kept equal to the budget lines' sums by the operations, for list filters and sorting.
    requested_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    cofunding_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    # The call's cap, kept in step while staff may still change it (until the call's first
    # submission locks it); a sent application's request is within it (CHECK requested_within_cap).
    # A draft may stand above a cap lowered after it was written: it cannot be submitted so.
    cap_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)

    more_info_message: Mapped[str | None] = mapped_column(sa.Text)
    more_info_sections: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # The day (in the call's timezone) by which the city should send what was asked.
    more_info_reply_by: Mapped[object | None] = mapped_column(sa.Date)
    ineligible_reason: Mapped[str | None] = mapped_column(sa.Text)
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.Text)
    # When the decision letter went out (set by awards.send_letter): from then on the city sees the decision.
    decision_sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    first_submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    call = relationship("Call", lazy="joined")
    member = relationship("Member", lazy="joined")
    updated_by = relationship("User", foreign_keys=[updated_by_id])
    budget_lines = relationship(
        "BudgetLine",
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="BudgetLine.position, BudgetLine.id",
    )
    partners = relationship(
        "Partner", back_populates="application", cascade="all, delete-orphan", order_by="Partner.id"
    )
    documents = relationship(
        "ApplicationDocument",
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="ApplicationDocument.id",
    )
    submissions = relationship("Submission", back_populates="application", order_by="Submission.version_no")
    messages = relationship(
        "ApplicationMessage",
        back_populates="application",
        cascade="all, delete-orphan",
        order_by="ApplicationMessage.created_at, ApplicationMessage.id",
    )

    __table_args__ = (
        sa.UniqueConstraint("call_id", "number", name="uq_application_call_number"),
        # The staff list's counts (a call's sent applications, its drafts) are read from the index alone.
        sa.Index("ix_application_call_state_sent", "call_id", "state", "first_submitted_at"),
        sa.CheckConstraint("requested_cents >= 0 AND cofunding_cents >= 0", name="amounts_not_negative"),
        sa.CheckConstraint("requested_cents <= cap_cents OR first_submitted_at IS NULL", name="requested_within_cap"),
        sa.CheckConstraint("beneficiaries_women IS NULL OR beneficiaries_women >= 0", name="women_not_negative"),
        sa.CheckConstraint("beneficiaries_men IS NULL OR beneficiaries_men >= 0", name="men_not_negative"),
        sa.CheckConstraint("beneficiaries_other IS NULL OR beneficiaries_other >= 0", name="other_not_negative"),
        sa.CheckConstraint("duration_months IS NULL OR duration_months > 0", name="duration_positive"),
        sa.CheckConstraint(f"lead_gender IS NULL OR lead_gender IN {tuple(GENDERS)!r}", name="lead_gender_known"),
        sa.CheckConstraint("(reference IS NULL) = (first_submitted_at IS NULL)", name="reference_on_submission"),
        sa.CheckConstraint("language IN ('en', 'fr', 'es')", name="language_known"),
        sa.CheckConstraint(f"state IN {tuple(APPLICATION_WORKFLOW.state_names())!r}", name="state_known"),
    )

    __mapper_args__ = {"version_id_col": version}

    def __str__(self):
        return self.reference or f"draft #{self.id}"

    @property
    def staff_label(self):
        return APPLICATION_WORKFLOW.staff_label(self.state)

    @property
    def applicant_label(self):
        return APPLICATION_WORKFLOW.applicant_label(self.city_state)

    # -- what the city may see of a decision: the one rule, used by every page and query ------------
    @property
    def is_decided(self):
        return APPLICATION_WORKFLOW.has(self.state, "decided")

    @property
    def decision_is_public(self):
        """The city may see the decision: it is made and its letter has been sent."""
        return self.is_decided and self.decision_sent_at is not None

    @hybrid_property
    def city_state(self):
        """The state the lead city sees. Until the letter is sent, a decision (which staff may still
        revise) stays hidden: the city reads the state a revision would return to."""
        if self.is_decided and self.decision_sent_at is None:
            # A reserve the city was told of, now being awarded: it stays "reserve list" until the
            # award letter goes out.
            if self.return_state and APPLICATION_WORKFLOW.has(self.return_state, "decided"):
                return self.return_state
            return APPLICATION_WORKFLOW.transition(self.state, "revise_decision").target
        return self.state

    @city_state.inplace.expression
    @classmethod
    def _city_state_expression(cls):
        """The same rule in SQL, so a list filtered by the state the city is told is one query."""
        decided = APPLICATION_WORKFLOW.states_with("decided")
        unsent = sa.and_(cls.state.in_(decided), cls.decision_sent_at.is_(None))
        return sa.case(
            (sa.and_(unsent, cls.return_state.in_(decided)), cls.return_state),
            *(
                (sa.and_(unsent, cls.state == name), APPLICATION_WORKFLOW.transition(name, "revise_decision").target)
                for name in decided
            ),
            else_=cls.state,
        )

    @validates("title")
    def _fold_title(self, _key, title):
        self.title_folded = folded(title)
        return title

    @property
    def display_title(self):
        return self.title or _l("Untitled draft")

    def editable_sections(self):
        """The parts the lead city may change now: all of a draft, the named ones when asked."""
        if APPLICATION_WORKFLOW.has(self.state, "editable"):
            return list(SECTIONS)
        if APPLICATION_WORKFLOW.has(self.state, "partly_editable"):
            return [s for s in self.more_info_sections if s in SECTIONS]
        return []

    @property
    def awaiting_more_info(self):
        return APPLICATION_WORKFLOW.has(self.state, "partly_editable")

    def call_today(self, now=None):
        """Today's date in the call's timezone (the server's clock decides)."""
        return self.call.local(now or utcnow()).date()

    def reply_date_passed(self, now=None):
        """Whether the day given to the city to reply is over (in the call's timezone)."""
        return self.more_info_reply_by is not None and self.call_today(now) > self.more_info_reply_by

    @property
    def reply_overdue(self):
        """Still waiting for the city, and the reply date is over: staff may close it."""
        return is_reply_overdue(self.state, self.more_info_reply_by, self.call_today())

    @property
    def more_info_request_no(self):
        """Which request for information this is: the version it was asked about (one per version)."""
        return self.submissions[-1].version_no if self.submissions else 0

    @property
    def is_sent(self):
        return APPLICATION_WORKFLOW.has(self.state, "sent")

    @property
    def is_editable(self):
        return bool(self.editable_sections())

    @property
    def cofunding_share(self):
        """Co-funding as a percentage of the whole project cost (None with no budget)."""
        total = self.requested_cents + self.cofunding_cents
        return None if not total else self.cofunding_cents * 100 / total

    # -- access ------------------------------------------------------------------------------
    def is_lead_user(self, user):
        return bool(user and user.is_authenticated and self.member_id in user.member_ids())

    def asked_partners_of(self, user):
        """The partner rows of this application `user` speaks for, once they have been asked."""
        if not user or not user.is_authenticated:
            return []
        mine = set(user.member_ids())
        return [p for p in self.partners if p.is_asked and p.member_id in mine]

    def is_partner_user(self, user):
        """A focal point of a partner city that has been asked to take part and has not declined
        (a city that declined is no longer shown the application: declined_by)."""
        return any(not p.is_declined for p in self.asked_partners_of(user))

    def declined_by(self, user):
        """`user` speaks only for partner cities that declined to take part: they see their answer
        and nothing more of the application (not its contents, documents, decision or grant)."""
        asked = self.asked_partners_of(user)
        return bool(asked) and all(p.is_declined for p in asked) and not self.is_lead_user(user)

    def sees_as_partner(self, user):
        """`user` sees this application only as a partner: read-only, nothing meant for the lead
        city or staff alone (messages, edits, reports, grant actions)."""
        return self.is_partner_user(user) and not self.is_lead_user(user) and not user.has_role("staff")

    def can_view(self, user):
        """The lead city always; a partner city once asked (read-only); staff once it has been sent
        (a draft is the city's own work)."""
        if not user or not user.is_authenticated:
            return False
        if self.is_lead_user(user) or self.is_partner_user(user):
            return True
        return user.has_role("staff") and self.first_submitted_at is not None

    def can_edit(self, user):
        return self.is_lead_user(user) and self.is_editable

    def can_discuss(self, user):
        """Who reads and writes the messages on the application: the lead city's focal points and
        staff, once it has been sent. Never a reviewer, a donor or another city (not even a partner)."""
        if not user or not user.is_authenticated or self.first_submitted_at is None:
            return False
        return self.is_lead_user(user) or user.has_role("staff")

    @classmethod
    def visible_to(cls, user):
        own = cls.member_id.in_(user.member_ids() or [-1])
        if user.has_role("staff"):
            return sa.or_(own, cls.first_submitted_at.is_not(None))
        return own


class BudgetLine(db.Model):
    __tablename__ = "budget_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True
    )
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    category: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    description: Mapped[str] = mapped_column(sa.String(500), nullable=False, default="")
    requested_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    cofunding_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)

    application = relationship("Application", back_populates="budget_lines")

    __table_args__ = (
        sa.CheckConstraint("requested_cents >= 0", name="requested_not_negative"),
        sa.CheckConstraint("cofunding_cents >= 0", name="cofunding_not_negative"),
        sa.CheckConstraint(f"category IN {tuple(BUDGET_CATEGORIES)!r}", name="category_known"),
    )

    @property
    def category_label(self):
        return BUDGET_CATEGORIES.get(self.category, self.category)


class Partner(db.Model):
    __tablename__ = "application_partner"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True
    )
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("member.id"), nullable=False, index=True)
    role: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    # Its part in the project, as its own focal points answer it (PARTNER_WORKFLOW). NULL: named
    # before partners were asked, and not asked yet (the draft's next save asks it).
    state: Mapped[str | None] = mapped_column(sa.String(20))
    asked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[object | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)
    # The letter of commitment the partner may attach when it confirms.
    letter_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))

    application = relationship("Application", back_populates="partners")
    member = relationship("Member", lazy="joined")
    answered_by = relationship("User")
    letter = relationship("Document")

    def letter_download_name(self, language=None):
        """The letter's name as the application is now called, in the reader's language (see
        ApplicationDocument.download_name)."""
        return renamed(self.letter, letter_stem(self.application, self, language))

    __table_args__ = (
        sa.UniqueConstraint("application_id", "member_id", name="uq_application_partner_member"),
        sa.CheckConstraint(
            f"state IS NULL OR state IN {tuple(PARTNER_WORKFLOW.state_names())!r}", name="partner_state_known"
        ),
        sa.CheckConstraint("(state IS NULL) = (asked_at IS NULL)", name="asked_has_time"),
        sa.CheckConstraint(
            "(state IN ('confirmed', 'declined')) = (answered_at IS NOT NULL)", name="answered_has_time"
        ),
    )

    @property
    def is_asked(self):
        return self.state is not None

    @property
    def is_waiting(self):
        """Asked, and its focal points have not answered yet."""
        return self.is_asked and PARTNER_WORKFLOW.has(self.state, "waiting")

    @property
    def is_confirmed(self):
        return self.is_asked and PARTNER_WORKFLOW.has(self.state, "takes_part")

    @property
    def is_declined(self):
        return self.is_asked and PARTNER_WORKFLOW.has(self.state, "declined")

    @property
    def state_label(self):
        return PARTNER_WORKFLOW.applicant_label(self.state) if self.is_asked else _l("Not asked yet")

    def is_partner_user(self, user):
        """`user` speaks for this partner city (one of its focal points)."""
        return bool(user and user.is_authenticated and self.member_id in user.member_ids())


# Words of file names, in the reader's language when a file is downloaded (stored names are English).
_NAME_WORDS = {
    "draft": {"en": "draft", "fr": "brouillon", "es": "borrador"},
    "document": {"en": "document", "fr": "document", "es": "documento"},
    "commitment": {"en": "commitment", "fr": "engagement", "es": "compromiso"},
}


def name_word(key, language=None):
    """A word of a file's name in `language` (English when none is given or known)."""
    words = _NAME_WORDS[key]
    return words.get(language or "en", words["en"])


def _named(application, language):
    return application.reference or f"{name_word('draft', language)}-{application.id}"


def attachment_stem(application, requirement, language=None):
    """The name (without extension) a document of `application` goes by: its reference (or
    "draft-<id>", "borrador-<id>"… before it has one) and which document it is, named as the call
    names it in `language` when given ("IFM-2026-0042-presupuesto-detallado"), else by its key."""
    if requirement == "other":
        label = name_word("document", language)
    else:
        label = application.call.document_name(requirement, language) if language else requirement
    return f"{_named(application, language)}-{slug(label)}"


def letter_stem(application, partner, language=None):
    """The name (without extension) of a partner's letter of commitment ("IFM-2026-0042-commitment-quito",
    "IFM-2026-0042-compromiso-quito" for a Spanish reader)."""
    return f"{_named(application, language)}-{name_word('commitment', language)}-{slug(partner.member.name)}"


class ApplicationDocument(db.Model):
    """An uploaded file of an application, for one of the call's required documents or extra."""

    __tablename__ = "application_document"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True
    )
    requirement: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    original_filename: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    document_id: Mapped[int] = mapped_column(sa.ForeignKey("document.id"), nullable=False)
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    uploaded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    application = relationship("Application", back_populates="documents")
    document = relationship("Document", lazy="joined")

    def download_name(self, language):
        """The file's name as the application is now called, in the reader's language: one uploaded
        to a draft was stored as "draft-9-detailed-budget.pdf" and is downloaded, once sent, as
        "IFM-2026-0042-budget-detaille.pdf" by a French reader."""
        return renamed(self.document, attachment_stem(self.application, self.requirement, language))


class Submission(db.Model):
    """What was sent, frozen: a snapshot per submission (the first, and each after more information)."""

    __tablename__ = "submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(sa.ForeignKey("application.id"), nullable=False, index=True)
    version_no: Mapped[int] = mapped_column(nullable=False)
    submitted_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    submitted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    data: Mapped[dict] = mapped_column(sa.JSON, nullable=False)
    receipt_document_id: Mapped[int | None] = mapped_column(sa.ForeignKey("document.id"))

    application = relationship("Application", back_populates="submissions")
    submitted_by = relationship("User")
    receipt_document = relationship("Document")

    __table_args__ = (sa.UniqueConstraint("application_id", "version_no", name="uq_submission_version"),)


class SubmissionIsImmutable(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_snapshot_changes(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, Submission):
            if obj in session.deleted:
                raise SubmissionIsImmutable("a submitted snapshot is never deleted")
            changed = {attr.key for attr in sa.inspect(obj).attrs if attr.history.has_changes()}
            if changed - {"receipt_document_id", "receipt_document"}:
                raise SubmissionIsImmutable("a submitted snapshot is never changed")


# A message is a note between people, not a document: longer texts go in the application itself.
MESSAGE_MAX_LENGTH = 4000


class ApplicationMessage(db.Model):
    """One message of the thread between the lead city's focal points and the programme team on an
    application (the grant's page shows the same thread). Reviewers, donors and other cities never
    see it: Application.can_discuss."""

    __tablename__ = "application_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(
        sa.ForeignKey("application.id", ondelete="CASCADE"), nullable=False, index=True
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id"), nullable=False)
    # Written for the programme team (True) or for the city (False): who is told, and how it is shown.
    from_staff: Mapped[bool] = mapped_column(nullable=False)
    # Kept as typed (line breaks normalised to "\n"); shown escaped, its line breaks kept by CSS.
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    application = relationship("Application", back_populates="messages")
    author = relationship("User", lazy="joined")

    __table_args__ = (
        sa.CheckConstraint(f"length(body) >= 1 AND length(body) <= {MESSAGE_MAX_LENGTH}", name="body_length"),
    )


# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        # A draft is the city's alone: staff have no page of it to link.
        "Application": (
            _l("Application"),
            "applications.staff_detail",
            "application_id",
            lambda ids: set(
                db.session.scalars(
                    sa.select(Application.id).where(
                        Application.id.in_(ids), Application.first_submitted_at.is_not(None)
                    )
                )
            ),
        ),
        "Partner": _l("Partner city"),
        "ApplicationDocument": _l("Application document"),
        "Submission": _l("Submission"),
        "ApplicationMessage": _l("Message"),
        "BudgetLine": _l("Budget line"),
    }
)
