"""Every change to donors and contributions."""
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..core import audit
from ..core.errors import Refused
from ..core.money import cents_to_decimal
from ..extensions import db
from .models import Contribution, Donor

DONOR_FIELDS = ["name", "short_name", "contact_name", "contact_email", "reporting_language", "reporting_notes"]


def create_donor(*, actor, name, short_name, contact_name=None, contact_email=None, reporting_language="en",
                 reporting_notes=""):
    name, short_name = (name or "").strip(), (short_name or "").strip()
    if not name:
        raise Refused(_l("The name is required."), field="name")
    if not short_name:
        raise Refused(_l("The short name is required."), field="short_name")
    if db.session.scalar(sa.select(Donor.id).where(sa.or_(Donor.name == name, Donor.short_name == short_name))):
        raise Refused(_l("A donor with this name or short name already exists."), field="short_name")
    donor = Donor(name=name, short_name=short_name, contact_name=contact_name, contact_email=contact_email,
                  reporting_language=reporting_language, reporting_notes=reporting_notes or "")
    db.session.add(donor)
    db.session.flush()
    audit.record("donor.create", donor, after=audit.snapshot(donor, DONOR_FIELDS), actor=actor,
                 summary=f"donor {short_name} created")
    db.session.commit()
    return donor


def add_contribution(donor, *, actor, amount_original_cents, currency="EUR", rate_to_eur=Decimal(1),
                     pledged_on=None, received_on=None, restriction_theme=None, restriction_region=None, note=""):
    """A contribution as pledged; its EUR value is computed here, once, from the rate given."""
    currency = (currency or "").upper()
    if amount_original_cents is None or amount_original_cents <= 0:
        raise Refused(_l("The amount must be more than zero."), field="amount")
    rate = Decimal(1) if currency == "EUR" else Decimal(rate_to_eur)
    if rate <= 0:
        raise Refused(_l("The exchange rate must be more than zero."), field="rate_to_eur")
    eur_cents = int((Decimal(amount_original_cents) * rate).to_integral_value())
    contribution = Contribution(donor=donor, amount_original_cents=amount_original_cents, currency=currency,
                                rate_to_eur=rate, eur_cents=eur_cents, pledged_on=pledged_on,
                                received_on=received_on, restriction_theme=restriction_theme,
                                restriction_region=restriction_region, note=note or "")
    db.session.add(contribution)
    db.session.flush()
    audit.record("contribution.create", contribution, after=audit.snapshot(contribution), actor=actor,
                 summary=f"{donor.short_name}: contribution of EUR {cents_to_decimal(eur_cents)}")
    db.session.commit()
    return contribution
