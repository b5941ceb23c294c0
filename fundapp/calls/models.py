"""Calls for proposals, the criteria they are scored on, and the money that funds them."""

from decimal import Decimal

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.states import State, Transition, Workflow
from ..core.timeutil import UTCDateTime, in_zone, utcnow
from ..extensions import db

LANGUAGES = ("en", "fr", "es")

# The fund's largest grant, EUR 100,000, as the database CHECK on call.cap_cents holds it (the
# setting FUND_MAX_GRANT_CENTS is checked by the form and the operation; raising it needs a migration).
FUND_MAX_GRANT_CENTS = 100_000_00

STAFF = frozenset({"staff"})
STAFF_OR_SYSTEM = frozenset({"staff", "system"})

CALL_WORKFLOW = Workflow(
    "call",
    states=[
        State("draft", _l("Draft"), _l("In preparation"), flags=frozenset({"editable"})),
        State("published", _l("Published"), _l("Open"), flags=frozenset({"editable", "public", "accepting"})),
        State("closed", _l("Closed"), _l("Closed"), flags=frozenset({"public"})),
        State("in_review", _l("In review"), _l("Applications under review"), flags=frozenset({"public"})),
        # "settled": every decision is made, so what no grant holds may go back to the donors.
        State("decided", _l("Decided"), _l("Decided"), flags=frozenset({"public", "settled"})),
        State("archived", _l("Archived"), _l("Archived"), flags=frozenset({"settled"}), final=True),
    ],
    transitions=[
        Transition("draft", "publish", "published", STAFF, _l("Publish")),
        Transition("published", "unpublish", "draft", STAFF, _l("Back to draft"), needs_reason=True),
        Transition("published", "close", "closed", STAFF_OR_SYSTEM, _l("Close now"), needs_reason=True),
        Transition("closed", "start_review", "in_review", STAFF, _l("Start the review")),
        Transition("in_review", "decide", "decided", STAFF, _l("Mark as decided")),
        Transition("decided", "archive", "archived", STAFF, _l("Archive")),
    ],
)


# The conditions on which a grant's tranches are paid, which a call's tranche schedule names.
TRANCHE_CONDITIONS = {
    "acceptance": _l("on acceptance of the grant"),
    "interim_report": _l("on approval of the interim report"),
    "final_report": _l("on approval of the final report"),
}


def localized(texts, language):
    """(text, language used): the requested language, else English, else any language filled in."""
    texts = texts or {}
    for code in (language, "en", *LANGUAGES):
        value = (texts.get(code) or "").strip()
        if value:
            return value, code
    return "", None


class Call(db.Model):
    __tablename__ = "call"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), nullable=False, unique=True)
    theme: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    title: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    summary: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    body: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    contact_email: Mapped[str] = mapped_column(sa.String(254), nullable=False)
    state: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="draft", index=True)

    opens_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    closes_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False, index=True)
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="Europe/Madrid")

    cap_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=100_000_00)
    min_grant_cents: Mapped[int | None] = mapped_column(sa.BigInteger)
    duration_min_months: Mapped[int] = mapped_column(nullable=False, default=6)
    duration_max_months: Mapped[int] = mapped_column(nullable=False, default=24)
    min_cofunding_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    # Projects start within this window (default: from the closing day to a year after it).
    project_start_earliest: Mapped[object | None] = mapped_column(sa.Date)
    project_start_latest: Mapped[object | None] = mapped_column(sa.Date)

    eligible_memberships: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=lambda: ["full"])
    eligible_regions: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)  # empty: every region
    dues_required: Mapped[bool] = mapped_column(nullable=False, default=True)
    one_application_per_lead: Mapped[bool] = mapped_column(nullable=False, default=True)
    partners_allowed: Mapped[bool] = mapped_column(nullable=False, default=True)
    # Whether every partner city must confirm its part before the lead may submit, and whether
    # partner cities must have paid their dues as the lead must (both off unless staff set them).
    partners_must_confirm: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())
    partners_dues_required: Mapped[bool] = mapped_column(nullable=False, default=False, server_default=sa.false())
    required_documents: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)
    # The theme and the required documents in French and Spanish ({"fr": ..., "es": ...}); the
    # English theme and document names above are the keys (documents are filed under them).
    theme_translations: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    document_translations: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)

    overall_threshold: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    reviewers_per_application: Mapped[int] = mapped_column(nullable=False, default=3)
    # Review settings: a reviewer from the lead's or a partner's country is conflicted (when set);
    # reviewers see the others' scores once theirs is in (when set); review scores further apart
    # than the threshold (0-100 points) flag a disagreement.
    conflict_same_country: Mapped[bool] = mapped_column(nullable=False, default=False)
    reviewers_see_others: Mapped[bool] = mapped_column(nullable=False, default=True)
    disagreement_threshold: Mapped[Decimal] = mapped_column(sa.Numeric(5, 2), nullable=False, default=Decimal(20))
    review_due_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # How grants of this call are paid: [[condition, percent], ...]; empty means the fund's default.
    tranche_schedule: Mapped[list] = mapped_column(sa.JSON, nullable=False, default=list)

    # Set when the first application is submitted: from then on criteria and cap are fixed.
    locked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    published_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    criteria = relationship(
        "Criterion", back_populates="call", order_by="Criterion.position, Criterion.id", cascade="all, delete-orphan"
    )
    funding = relationship(
        "CallFunding", back_populates="call", cascade="all, delete-orphan", order_by="CallFunding.id"
    )
    report_steps = relationship(
        "ReportStep", back_populates="call", order_by="ReportStep.id", cascade="all, delete-orphan"
    )
    indicators = relationship(
        "CallIndicator",
        back_populates="call",
        order_by="CallIndicator.position, CallIndicator.id",
        cascade="all, delete-orphan",
    )

    __table_args__ = (
        sa.CheckConstraint("closes_at > opens_at", name="closes_after_opening"),
        sa.CheckConstraint("cap_cents > 0", name="cap_positive"),
        sa.CheckConstraint(f"cap_cents <= {FUND_MAX_GRANT_CENTS}", name="cap_within_fund_maximum"),
        sa.CheckConstraint(
            "min_grant_cents IS NULL OR (min_grant_cents > 0 AND min_grant_cents <= cap_cents)",
            name="minimum_within_cap",
        ),
        sa.CheckConstraint(
            "duration_min_months > 0 AND duration_max_months >= duration_min_months", name="durations_in_order"
        ),
        sa.CheckConstraint(
            "min_cofunding_pct IS NULL OR (min_cofunding_pct >= 0 AND min_cofunding_pct < 100)",
            name="cofunding_share_is_a_percentage",
        ),
        sa.CheckConstraint("reviewers_per_application BETWEEN 1 AND 20", name="reviewers_plausible"),
        sa.CheckConstraint(
            "project_start_latest IS NULL OR project_start_earliest IS NULL OR "
            "project_start_latest >= project_start_earliest",
            name="start_window_in_order",
        ),
        sa.CheckConstraint(f"state IN {tuple(CALL_WORKFLOW.state_names())!r}", name="state_known"),
        sa.CheckConstraint("(state = 'draft') OR published_at IS NOT NULL", name="published_has_time"),
    )

    def __str__(self):
        return self.code

    # -- texts -------------------------------------------------------------------------------
    def text(self, field, language):
        return localized(getattr(self, field), language)

    def title_in(self, language):
        return self.text("title", language)[0]

    def theme_in(self, language):
        return ((self.theme_translations or {}).get(language) or "").strip() or self.theme

    def documents_in(self, language):
        """[(key, name)]: each required document under its English key, named in `language`."""
        names = (self.document_translations or {}).get(language) or []
        return [
            (key, (names[i].strip() if i < len(names) and names[i] else "") or key)
            for i, key in enumerate(self.required_documents or [])
        ]

    def document_name(self, key, language):
        return dict(self.documents_in(language)).get(key, key)

    @property
    def languages(self):
        return [code for code in LANGUAGES if (self.title or {}).get(code)]

    # -- money -------------------------------------------------------------------------------
    @property
    def envelope_cents(self):
        return sum(f.amount_cents for f in self.funding)

    @property
    def committed_cents(self):
        return sum(f.committed_cents for f in self.funding)

    @property
    def remaining_cents(self):
        return self.envelope_cents - self.committed_cents

    def exceeds_cap(self, cents):
        """The cap rule, in one place: no city may ask, and no award may give, more than the cap."""
        return cents > self.cap_cents

    # -- time --------------------------------------------------------------------------------
    def local(self, instant):
        return in_zone(instant, self.timezone)

    def accepts_submissions(self, at=None):
        """Whether an application may be submitted at `at` (default: now), decided by the server."""
        at = at or utcnow()
        return CALL_WORKFLOW.has(self.state, "accepting") and self.opens_at <= at < self.closes_at

    def is_upcoming(self, at=None):
        at = at or utcnow()
        return CALL_WORKFLOW.has(self.state, "accepting") and at < self.opens_at

    @property
    def is_public(self):
        return CALL_WORKFLOW.has(self.state, "public")

    @property
    def is_editable(self):
        return CALL_WORKFLOW.has(self.state, "editable")

    @property
    def is_settled(self):
        """Decided (or archived): what no grant holds of its envelope may go back to the donors."""
        return CALL_WORKFLOW.has(self.state, "settled")

    @property
    def is_locked(self):
        return self.locked_at is not None

    @property
    def staff_label(self):
        return CALL_WORKFLOW.staff_label(self.state)

    @property
    def public_label(self):
        return CALL_WORKFLOW.applicant_label(self.state)

    def start_window(self):
        """(earliest, latest) start date of a project, as dates in the call's timezone."""
        from datetime import timedelta

        closing_day = self.local(self.closes_at).date()
        earliest = self.project_start_earliest or closing_day
        latest = self.project_start_latest or closing_day + timedelta(days=365)
        return earliest, latest

    @property
    def dues_year(self):
        """Members must have paid their dues through the year the call opens (in its timezone)."""
        return self.local(self.opens_at).year

    # -- eligibility ---------------------------------------------------------------------------
    def ineligibility_reasons(self, member):
        """Why `member` may not lead an application to this call (empty list: eligible)."""
        reasons = []
        if member.membership not in (self.eligible_memberships or []):
            reasons.append(_l("This call is not open to %(kind)s.", kind=member.membership_label))
        if self.eligible_regions and member.region not in self.eligible_regions:
            reasons.append(_l("This call is not open to members in %(region)s.", region=member.region_label))
        if self.dues_required and not member.in_good_standing(self.dues_year):
            reasons.append(_l("Membership dues must be paid through %(year)d.", year=self.dues_year))
        return reasons

    def partner_ineligibility_reasons(self, member):
        """Why `member` may not take part as a partner city (empty list: it may): the partners' rule,
        beside the lead's, on the same dues year."""
        reasons = []
        if self.partners_dues_required and not member.in_good_standing(self.dues_year):
            reasons.append(
                _l(
                    "%(city)s, a partner city, must have paid its membership dues through %(year)d.",
                    city=member.name,
                    year=self.dues_year,
                )
            )
        return reasons

    def member_is_eligible(self, member):
        return not self.ineligibility_reasons(member)

    def eligible_member_filter(self, member_model):
        """The same rule as ineligibility_reasons(), as a SQL condition on members."""
        conditions = [member_model.membership.in_(self.eligible_memberships or ["-"])]
        if self.eligible_regions:
            conditions.append(member_model.region.in_(self.eligible_regions))
        if self.dues_required:
            conditions.append(member_model.dues_paid_through >= self.dues_year)
        return sa.and_(*conditions)

    # -- access ------------------------------------------------------------------------------
    def can_view(self, user):
        """Staff see every call; everyone else sees a call once it is public."""
        if user is not None and user.is_authenticated and user.has_role("staff"):
            return True
        return self.is_public

    @classmethod
    def visible_to(cls, user):
        if user is not None and user.is_authenticated and user.has_role("staff"):
            return sa.true()
        return cls.state.in_(CALL_WORKFLOW.states_with("public"))


class Criterion(db.Model):
    """What reviewers score: a weighted criterion on a scale, with an optional pass mark."""

    __tablename__ = "criterion"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    name: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    guidance: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    weight: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), nullable=False)
    scale_min: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), nullable=False, default=Decimal(0))
    scale_max: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), nullable=False, default=Decimal(5))
    scale_step: Mapped[Decimal] = mapped_column(sa.Numeric(6, 2), nullable=False, default=Decimal("0.5"))
    threshold: Mapped[Decimal | None] = mapped_column(sa.Numeric(6, 2))

    call = relationship("Call", back_populates="criteria")

    __table_args__ = (
        sa.CheckConstraint("weight > 0", name="weight_positive"),
        sa.CheckConstraint("scale_max > scale_min", name="scale_in_order"),
        sa.CheckConstraint("scale_step > 0", name="step_positive"),
        sa.CheckConstraint(
            "threshold IS NULL OR (threshold >= scale_min AND threshold <= scale_max)", name="threshold_on_scale"
        ),
    )

    def name_in(self, language):
        return localized(self.name, language)[0]

    def unit_in(self, language):
        return localized(self.unit, language)[0]

    def guidance_in(self, language):
        return localized(self.guidance, language)[0]

    def weight_share(self):
        """This criterion's share of the call's total weight, in percent."""
        total = sum(c.weight for c in self.call.criteria)
        return (self.weight * 100 / total).quantize(Decimal("0.1")) if total else Decimal(0)


# -- what grantees report: the schedule and the indicators ----------------------------------------

REPORT_STEP_KINDS = {"interim": _l("Interim report"), "final": _l("Final report")}
# How an interim report's due date is set: on a fixed date, at a month of the project, or halfway
# through it (the fund's default, and what every call had before schedules were set per call).
DUE_MODES = {
    "half": _l("Halfway through the project"),
    "month": _l("At a month of the project"),
    "date": _l("On a date"),
}
DEFAULT_FINAL_MONTHS = 2
MAX_FINAL_MONTHS = 24


class ReportStep(db.Model):
    """One report a grant of this call owes: an interim report (on a date, at a month of the project
    or halfway through it) or the final report (some months after the project's end)."""

    __tablename__ = "report_step"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    due_on: Mapped[object | None] = mapped_column(sa.Date)
    due_month: Mapped[int | None] = mapped_column()
    months_after_end: Mapped[int | None] = mapped_column()

    call = relationship("Call", back_populates="report_steps")

    __table_args__ = (
        sa.CheckConstraint("kind IN ('interim', 'final')", name="kind_known"),
        sa.CheckConstraint(
            "(kind = 'interim' AND months_after_end IS NULL AND (due_on IS NULL OR due_month IS NULL)) OR "
            f"(kind = 'final' AND due_on IS NULL AND due_month IS NULL AND months_after_end BETWEEN 0 AND {MAX_FINAL_MONTHS})",
            name="due_fits_kind",
        ),
        sa.CheckConstraint("due_month IS NULL OR due_month > 0", name="month_positive"),
    )

    @property
    def kind_label(self):
        return REPORT_STEP_KINDS[self.kind]

    @property
    def due_mode(self):
        if self.kind == "final":
            return "final"
        return "date" if self.due_on is not None else "month" if self.due_month is not None else "half"

    def due_date(self, start, duration_months):
        """The day this report is due for a project starting on `start` and lasting `duration_months`."""
        if self.kind == "final":
            return start + relativedelta(months=duration_months + self.months_after_end)
        if self.due_on is not None:
            return self.due_on
        if self.due_month is not None:
            return start + relativedelta(months=self.due_month)
        return start + relativedelta(months=max(1, duration_months // 2))


def default_report_steps():
    """The fund's schedule: one interim report halfway through the project, the final one two months
    after its end."""
    return [ReportStep(kind="interim"), ReportStep(kind="final", months_after_end=DEFAULT_FINAL_MONTHS)]


def ordered_steps(steps):
    """The interim steps in the order staff added them, then the final one."""
    return sorted(steps, key=lambda step: (step.kind == "final", step.id or 0))


# The figures of an indicator: its total, or the number of women, men and others when counted by gender.
INDICATOR_PARTS = {
    "total": _l("Total"),
    "women": _l("Women"),
    "men": _l("Men"),
    "other": _l("Other or undisclosed"),
}
GENDER_PARTS = ("women", "men", "other")
UNIT_MAX = 40


class CallIndicator(db.Model):
    """What a call's grantees measure: a target in the application, the value reached in each report."""

    __tablename__ = "call_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    position: Mapped[int] = mapped_column(nullable=False, default=0)
    name: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    # The unit in each language ({"en": "people", "fr": "personnes"}): English required.
    unit: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    by_gender: Mapped[bool] = mapped_column(nullable=False, default=False)

    call = relationship("Call", back_populates="indicators")

    def name_in(self, language):
        return localized(self.name, language)[0]

    def unit_in(self, language):
        return localized(self.unit, language)[0]

    @property
    def parts(self):
        return list(GENDER_PARTS) if self.by_gender else ["total"]

    def total(self, figures):
        """The sum of this indicator's figures in {part: value} (None when none is given)."""
        values = [v for v in (figures or {}).values() if v is not None]
        return sum(values) if values else None


# What the audit log calls this feature's actions, in the reader's language.
audit.name_actions(
    {
        "call.create": _l("Call created"),
        "call.publish": _l("Call published"),
        "call.unpublish": _l("Call taken back to draft"),
        "call.close": _l("Call closed"),
        "call.start_review": _l("Review phase started"),
        "call.decide": _l("Call marked as decided"),
        "call.archive": _l("Call archived"),
        "call.give_back": _l("Unused envelope given back to the donors"),
        "call.update": _l("Call updated"),
        "criterion.create": _l("Criterion added"),
        "indicator.create": _l("Indicator added"),
        "report_step.create": _l("Report step added"),
        "call.duplicate": _l("Call duplicated"),
        "call.lock": _l("Criteria and cap fixed by the first submission"),
        "criterion.update": _l("Criterion saved"),
        "criterion.delete": _l("Criterion removed"),
        "indicator.update": _l("Indicator saved"),
        "indicator.delete": _l("Indicator removed"),
        "report_step.update": _l("Report step saved"),
        "report_step.delete": _l("Report step removed"),
    }
)

# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        "Call": (_l("Call"), "calls.staff_detail", "call_id"),
        "Criterion": _l("Criterion"),
        "ReportStep": _l("Reporting step"),
        "CallIndicator": _l("Indicator"),
    }
)
