"""Member cities and organisations of Metropolis."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, validates

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.inputs import folded
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db

REGIONS = {
    "africa": _l("Africa"),
    "asia_pacific": _l("Asia-Pacific"),
    "eurasia_middle_east": _l("Eurasia and Middle East"),
    "europe": _l("Europe"),
    "latin_america_caribbean": _l("Latin America and the Caribbean"),
    "north_america": _l("North America"),
}

MEMBERSHIPS = {
    "full": _l("Full member"),
    "associate": _l("Associate member"),
}


class Member(db.Model):
    __tablename__ = "member"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(160), nullable=False, unique=True)
    # The name without accents or case (core.inputs.folded), set with the name: lists sort by it,
    # so "Área Metropolitana" comes with the A's on every database, not after "Zhengzhou".
    sort_name: Mapped[str] = mapped_column(sa.String(160), nullable=False, index=True)
    country: Mapped[str] = mapped_column(sa.String(2), nullable=False, index=True)
    region: Mapped[str] = mapped_column(sa.String(40), nullable=False, index=True)
    membership: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="full")
    dues_paid_through: Mapped[int | None] = mapped_column()
    # Where its focal points read their deadlines unless they choose another zone (members/timezones.py).
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="UTC", server_default="UTC")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        sa.CheckConstraint(f"region IN {tuple(REGIONS)!r}", name="region_known"),
        sa.CheckConstraint(f"membership IN {tuple(MEMBERSHIPS)!r}", name="membership_known"),
        sa.CheckConstraint(
            "dues_paid_through IS NULL OR dues_paid_through BETWEEN 1900 AND 2200", name="dues_year_plausible"
        ),
        sa.CheckConstraint("length(country) = 2", name="country_is_iso_code"),
    )

    def __str__(self):
        return self.name

    @validates("name")
    def _set_sort_name(self, _key, name):
        self.sort_name = folded(name)
        return name

    @property
    def region_label(self):
        return REGIONS.get(self.region, self.region)

    @property
    def membership_label(self):
        return MEMBERSHIPS.get(self.membership, self.membership)

    def in_good_standing(self, year):
        """Dues paid through `year` (or later)."""
        return self.dues_paid_through is not None and self.dues_paid_through >= year

    # -- access ------------------------------------------------------------------------------
    def can_view(self, user):
        if not user or not user.is_authenticated:
            return False
        return user.has_role("staff") or self.id in user.member_ids()

    def can_edit(self, user):
        return bool(user and user.is_authenticated and user.has_role("staff"))

    @classmethod
    def visible_to(cls, user):
        if user.has_role("staff"):
            return sa.true()
        return cls.id.in_(user.member_ids() or [-1])


# What the audit log calls this feature's actions, in the reader's language.
audit.name_actions(
    {
        "member.create": _l("Member added"),
        "member.update": _l("Member updated"),
        "member.import": _l("Members imported"),
        "member.dues_bulk": _l("Dues recorded"),
    }
)

# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects({"Member": (_l("Member city"), "members.detail", "member_id")})
