"""Donors and what they give. Amounts are integer cents; foreign currency keeps its rate."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db


class Donor(db.Model):
    __tablename__ = "donor"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False, unique=True)
    short_name: Mapped[str] = mapped_column(sa.String(20), nullable=False, unique=True)
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    reporting_language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    reporting_notes: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    contributions = relationship("Contribution", back_populates="donor", order_by="Contribution.id")

    def __str__(self):
        return self.short_name

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
    rate_to_eur: Mapped[object] = mapped_column(sa.Numeric(14, 6), nullable=False, default=1)
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
