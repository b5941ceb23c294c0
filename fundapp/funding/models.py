"""Donors and what they give, and the fund's ledger: every move of their money, dated, for good.

Amounts are integer cents; foreign currency keeps its rate.
"""

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db


class Donor(db.Model):
    __tablename__ = "donor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, unique=True)
    short_name: Mapped[str] = mapped_column(sa.String(20), nullable=False, unique=True)
    # The name in French and Spanish ({"fr": ..., "es": ...}); `name` is the English one.
    name_translations: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    reporting_language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    reporting_notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    contributions = relationship("Contribution", back_populates="donor", order_by="Contribution.id")

    def __str__(self):
        return self.short_name

    def name_in(self, language):
        return ((self.name_translations or {}).get(language) or "").strip() or self.name

    @property
    def total_eur_cents(self):
        return sum(c.eur_cents for c in self.contributions)

    def can_view(self, user):
        if not user or not user.is_authenticated:
            return False
        return user.has_role("staff") or self.id in user.donor_ids()

    @classmethod
    def visible_to(cls, user):
        if user.has_role("staff"):
            return sa.true()
        return cls.id.in_(user.donor_ids() or [-1])


class Contribution(db.Model):
    """Money a donor gives the fund: as pledged (amount and currency) and in EUR cents."""

    __tablename__ = "contribution"

    id: Mapped[int] = mapped_column(primary_key=True)
    donor_id: Mapped[int] = mapped_column(sa.ForeignKey("donor.id"), nullable=False, index=True)
    amount_original_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    currency: Mapped[str] = mapped_column(sa.String(3), nullable=False, default="EUR")
    # EUR per unit of `currency`, as used to compute eur_cents (1 for EUR).
    # EUR for one unit of the currency, to ten decimals (a dong is about EUR 0.0000354).
    rate_to_eur: Mapped[object] = mapped_column(sa.Numeric(18, 10), nullable=False, default=1)
    eur_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    pledged_on: Mapped[object | None] = mapped_column(sa.Date)
    received_on: Mapped[object | None] = mapped_column(sa.Date)
    restriction_theme: Mapped[str | None] = mapped_column(sa.String(100))
    restriction_region: Mapped[str | None] = mapped_column(sa.String(40))
    note: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    donor = relationship("Donor", back_populates="contributions")

    __table_args__ = (
        sa.CheckConstraint("eur_cents > 0", name="eur_positive"),
        sa.CheckConstraint("amount_original_cents > 0", name="original_positive"),
        sa.CheckConstraint("rate_to_eur > 0", name="rate_positive"),
    )


# commit: an award takes money from a line; release: a revised award gives it all back (the award
# is undone); return: a grant gives back what it will not pay (declined, cancelled, closed);
# payment: money paid out of what is committed.
LEDGER_KINDS = ("commit", "release", "return", "payment")


class LedgerIsAppendOnly(RuntimeError):
    pass


class LedgerEntry(db.Model):
    """One move of money on one line of a call's envelope, on the day it happened. Never changed
    or deleted (the ORM refuses, and on PostgreSQL a trigger refuses too): a donor report of a
    past period is rebuilt from the entries dated up to its end, so later moves never change it.

    The line's `committed_cents` = commits - releases - returns and `paid_cents` = payments
    (funding.ledger.mismatches checks it).
    """

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_funding_id: Mapped[int] = mapped_column(sa.ForeignKey("call_funding.id"), nullable=False, index=True)
    contribution_id: Mapped[int] = mapped_column(sa.ForeignKey("contribution.id"), nullable=False, index=True)
    application_id: Mapped[int | None] = mapped_column(sa.ForeignKey("application.id"), index=True)
    # No foreign key: a revised award's grant row is deleted, and its entries keep the id as history.
    grant_id: Mapped[int | None] = mapped_column(sa.Integer, index=True)
    kind: Mapped[str] = mapped_column(sa.String(10), nullable=False)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    # The day of the money event in the fund's timezone: a payment's paid_on, else the day it was made.
    on: Mapped[object] = mapped_column(sa.Date, nullable=False, index=True)
    recorded_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    contribution = relationship("Contribution")

    __table_args__ = (
        sa.CheckConstraint(f"kind IN {LEDGER_KINDS!r}", name="kind_known"),
        sa.CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    @property
    def committed_delta(self):
        """What the entry adds to (or takes from) the line's committed money."""
        return {"commit": self.amount_cents, "release": -self.amount_cents, "return": -self.amount_cents}.get(
            self.kind, 0
        )

    @property
    def paid_delta(self):
        return self.amount_cents if self.kind == "payment" else 0


class LedgerClosing(db.Model):
    """The ledger is closed through a day once a donor report covers it: no entry may be dated on
    or before that day any more, so a report of a closed period is the same whenever it is rebuilt."""

    __tablename__ = "ledger_closing"

    id: Mapped[int] = mapped_column(primary_key=True)
    through: Mapped[object] = mapped_column(sa.Date, nullable=False, index=True)
    reason: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    closed_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))


@event.listens_for(Session, "before_flush")
def _refuse_ledger_changes(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, LedgerEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise LedgerIsAppendOnly("ledger entries are never changed or deleted")


class CallFunding(db.Model):
    """Money from one contribution set aside for one call's envelope."""

    __tablename__ = "call_funding"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(sa.ForeignKey("call.id", ondelete="CASCADE"), nullable=False, index=True)
    contribution_id: Mapped[int] = mapped_column(sa.ForeignKey("contribution.id"), nullable=False, index=True)
    amount_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False)
    # The ledger of this line: committed to grants (moved only by one conditional UPDATE, so two
    # awards at the same moment cannot both take the last euros) and paid out of what is committed.
    committed_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)
    paid_cents: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0)

    call = relationship("Call", back_populates="funding")
    contribution = relationship("Contribution", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("call_id", "contribution_id", name="uq_call_funding_call_contribution"),
        # 0 once a settled call gave back a line no grant holds any of (calls.operations.give_back_envelope).
        sa.CheckConstraint("amount_cents >= 0", name="amount_not_negative"),
        sa.CheckConstraint("committed_cents >= 0 AND committed_cents <= amount_cents", name="committed_within_amount"),
        sa.CheckConstraint("paid_cents >= 0 AND paid_cents <= committed_cents", name="paid_within_committed"),
    )

    @property
    def remaining_cents(self):
        return self.amount_cents - self.committed_cents


# What the audit log calls this feature's actions, in the reader's language.
audit.name_actions(
    {
        "donor.create": _l("Donor added"),
        "donor.update": _l("Donor updated"),
        "contribution.create": _l("Contribution recorded"),
        "contribution.update": _l("Contribution updated"),
        "contribution.remove": _l("Contribution removed"),
        "ledger.close": _l("Books closed"),
    }
)

# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        "Donor": (_l("Donor"), "funding.detail", "donor_id"),
        "Contribution": _l("Contribution"),
        "CallFunding": _l("Envelope line"),
        "LedgerEntry": _l("Ledger entry"),
        "LedgerClosing": _l("Ledger closing"),
        "Ledger": _l("Ledger"),
    }
)
