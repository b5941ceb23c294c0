"""Every change to donors and contributions."""

from decimal import Decimal

import sqlalchemy as sa
from babel.numbers import list_currencies

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.errors import Refused
from ..core.i18n import lazy_day
from ..core.money import cents_to_decimal, format_eur
from ..core.transactions import done
from ..extensions import db
from .ledger import fund_today
from .models import Contribution, Donor, LedgerClosing
from .queries import contribution_allocated_cents, contribution_in_use, ledger_closed_through

DONOR_FIELDS = [
    "name",
    "name_translations",
    "short_name",
    "contact_name",
    "contact_email",
    "reporting_language",
    "reporting_notes",
]


def _clean_translations(names):
    """{"fr": ..., "es": ...}, without the empty ones; each at most 200 characters."""
    names = {code: (text or "").strip() for code, text in (names or {}).items() if code in ("fr", "es")}
    for code, text in names.items():
        if len(text) > 200:
            raise Refused(_l("The name is longer than 200 characters."), field=f"name_{code}")
    return {code: text for code, text in names.items() if text}


def _clean_names(name, short_name, except_id=None):
    """The donor's names, stripped, required, and used by no other donor."""
    name, short_name = (name or "").strip(), (short_name or "").strip()
    if not name:
        raise Refused(_l("The name is required."), field="name")
    if not short_name:
        raise Refused(_l("The short name is required."), field="short_name")
    clash = sa.select(Donor.id).where(sa.or_(Donor.name == name, Donor.short_name == short_name))
    if except_id is not None:
        clash = clash.where(Donor.id != except_id)
    if db.session.scalar(clash):
        raise Refused(_l("A donor with this name or short name already exists."), field="short_name")
    return name, short_name


def create_donor(
    *,
    actor,
    name,
    short_name,
    name_translations=None,
    contact_name=None,
    contact_email=None,
    reporting_language="en",
    reporting_notes="",
):
    name, short_name = _clean_names(name, short_name)
    donor = Donor(
        name=name,
        name_translations=_clean_translations(name_translations),
        short_name=short_name,
        contact_name=contact_name,
        contact_email=contact_email,
        reporting_language=reporting_language,
        reporting_notes=reporting_notes or "",
    )
    db.session.add(donor)
    db.session.flush()
    audit.record(
        "donor.create",
        donor,
        after=audit.snapshot(donor, DONOR_FIELDS),
        actor=actor,
        summary=f"donor {short_name} created",
    )
    done()
    return donor


# The largest contribution the fund can mean: above it, an amount or a rate was mistyped.
MAX_CONTRIBUTION_EUR_CENTS = 1_000_000_000_00


def _eur_value(amount_original_cents, currency, rate_to_eur):
    """(currency, rate, EUR cents) of an amount as pledged; EUR cents are computed once, here."""
    currency = (currency or "").strip().upper()
    if amount_original_cents is None or amount_original_cents <= 0:
        raise Refused(_l("The amount must be more than zero."), field="amount")
    if len(currency) != 3 or not currency.isalpha() or currency not in list_currencies():
        raise Refused(_l("Use a three-letter currency code, such as EUR or CHF."), field="currency")
    if currency == "EUR" and rate_to_eur not in (None, "") and Decimal(rate_to_eur) != 1:
        # Said, not silently set to 1: the rate typed may have been meant for another currency.
        raise Refused(_l("An amount in EUR has no exchange rate: leave the rate empty or at 1."), field="rate_to_eur")
    if currency != "EUR" and rate_to_eur in (None, ""):
        raise Refused(
            _l("Give the exchange rate used (EUR for one %(currency)s).", currency=currency), field="rate_to_eur"
        )
    rate = Decimal(1) if currency == "EUR" else Decimal(rate_to_eur)
    if rate <= 0:
        raise Refused(_l("The exchange rate must be more than zero."), field="rate_to_eur")
    eur_cents = int((Decimal(amount_original_cents) * rate).to_integral_value())
    if eur_cents > MAX_CONTRIBUTION_EUR_CENTS:
        # A slip of the amount or the rate (or both): no contribution to the fund is that large.
        raise Refused(
            _l(
                "That is %(eur)s: a contribution cannot be above %(max)s. Check the amount and the rate.",
                eur=format_eur(eur_cents),
                max=format_eur(MAX_CONTRIBUTION_EUR_CENTS),
            ),
            field="amount",
        )
    if eur_cents < 1:
        raise Refused(
            _l("At this rate the amount is less than one euro cent: check the amount and the rate."),
            field="rate_to_eur",
        )
    return currency, rate, eur_cents


def _check_dates(pledged_on, received_on):
    """A receipt is not dated before its pledge, nor after today (in the fund's timezone)."""
    if received_on is not None and pledged_on is not None and received_on < pledged_on:
        raise Refused(_l("The money cannot be received before it was pledged."), field="received_on")
    if received_on is not None and received_on > fund_today():
        raise Refused(
            _l("A receipt is recorded once the money is in: it cannot be dated after today."), field="received_on"
        )


def _refuse_changing_closed_books(pledged_on, received_on, eur_cents, before=None):
    """A donor report counts the contributions pledged by its last day (or with no pledge date) and
    those received by then: once the books are closed through a day, no contribution may enter,
    leave or change in the days they cover, so the reports on them hold. `before`: (pledged_on,
    received_on, eur_cents) of a contribution being corrected."""
    closed = ledger_closed_through()
    if closed is None:
        return

    def counted(pledged):
        return pledged is None or pledged <= closed

    if before is None:
        if counted(pledged_on):
            raise Refused(
                _l(
                    "Donor reports cover the days up to %(date)s: a contribution pledged by then (or without "
                    "a pledge date) would change them. Give its pledge date, after %(date)s.",
                    date=lazy_day(closed),
                ),
                field="pledged_on",
            )
    else:
        old_pledged, old_received, old_eur = before
        if (counted(old_pledged) or counted(pledged_on)) and (old_pledged, old_eur) != (pledged_on, eur_cents):
            raise Refused(
                _l(
                    "Donor reports cover the days up to %(date)s and count this contribution: its amount and "
                    "pledge date can no longer change. Record the difference as a new contribution.",
                    date=lazy_day(closed),
                ),
                field="amount" if old_eur != eur_cents else "pledged_on",
            )
        if received_on == old_received:
            return
        if old_received is not None and old_received <= closed:
            received_on = old_received  # moving a receipt out of the closed days changes them too
    if received_on is not None and received_on <= closed:
        raise Refused(
            _l(
                "Donor reports cover the days up to %(date)s: a receipt dated by then would change them. "
                "Date it after %(date)s.",
                date=lazy_day(closed),
            ),
            field="received_on",
        )


def add_contribution(
    donor,
    *,
    actor,
    amount_original_cents,
    currency="EUR",
    rate_to_eur=Decimal(1),
    pledged_on=None,
    received_on=None,
    restriction_theme=None,
    restriction_region=None,
    note="",
):
    """A contribution as pledged; its EUR value is computed here, once, from the rate given."""
    currency, rate, eur_cents = _eur_value(amount_original_cents, currency, rate_to_eur)
    _check_dates(pledged_on, received_on)
    _refuse_changing_closed_books(pledged_on, received_on, eur_cents)
    contribution = Contribution(
        donor=donor,
        amount_original_cents=amount_original_cents,
        currency=currency,
        rate_to_eur=rate,
        eur_cents=eur_cents,
        pledged_on=pledged_on,
        received_on=received_on,
        restriction_theme=restriction_theme,
        restriction_region=restriction_region,
        note=note or "",
    )
    db.session.add(contribution)
    db.session.flush()
    audit.record(
        "contribution.create",
        contribution,
        after=audit.snapshot(contribution),
        actor=actor,
        summary=f"{donor.short_name}: contribution of EUR {cents_to_decimal(eur_cents)}",
    )
    done()
    return contribution


def update_donor(
    donor,
    *,
    actor,
    name,
    short_name,
    name_translations=None,
    contact_name=None,
    contact_email=None,
    reporting_language="en",
    reporting_notes="",
):
    name, short_name = _clean_names(name, short_name, except_id=donor.id)
    translations = _clean_translations(name_translations)
    before = audit.snapshot(donor, DONOR_FIELDS)
    donor.name, donor.short_name = name, short_name
    donor.name_translations = translations
    donor.contact_name, donor.contact_email = contact_name, contact_email
    donor.reporting_language, donor.reporting_notes = reporting_language, reporting_notes or ""
    audit.record("donor.update", donor, before=before, after=audit.snapshot(donor, DONOR_FIELDS), actor=actor)
    done()
    return donor


def update_contribution(
    contribution,
    *,
    actor,
    amount_original_cents,
    currency="EUR",
    rate_to_eur=Decimal(1),
    pledged_on=None,
    received_on=None,
    restriction_theme=None,
    restriction_region=None,
    note="",
):
    """Correct a contribution; its EUR value can never drop below what calls already hold of it."""
    currency, rate, eur_cents = _eur_value(amount_original_cents, currency, rate_to_eur)
    _check_dates(pledged_on, received_on)
    _refuse_changing_closed_books(
        pledged_on,
        received_on,
        eur_cents,
        before=(contribution.pledged_on, contribution.received_on, contribution.eur_cents),
    )
    allocated = contribution_allocated_cents([contribution.id], lock=True).get(contribution.id, 0)
    if eur_cents < allocated:
        raise Refused(
            _l(
                "Calls already hold %(allocated)s of this contribution; it cannot be less.",
                allocated=format_eur(allocated),
            ),
            field="amount",
        )
    before = audit.snapshot(contribution)
    contribution.amount_original_cents, contribution.currency = amount_original_cents, currency
    contribution.rate_to_eur, contribution.eur_cents = rate, eur_cents
    contribution.pledged_on, contribution.received_on = pledged_on, received_on
    contribution.restriction_theme = restriction_theme or None
    contribution.restriction_region = restriction_region or None
    contribution.note = note or ""
    audit.record("contribution.update", contribution, before=before, after=audit.snapshot(contribution), actor=actor)
    done()
    return contribution


def remove_contribution(contribution, *, actor, reason):
    """Take back a contribution recorded by mistake (twice, or for the wrong donor): only while no
    call's envelope has used it and no donor report's closed days count it. The audit log keeps
    what it was and why it went."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Say why: the audit log keeps it."), field="reason")
    if contribution_in_use(contribution.id):
        raise Refused(
            _l(
                "A call's envelope has used this contribution: it stays on the books. Correct its amount instead, "
                "down to what calls hold of it."
            )
        )
    closed = ledger_closed_through()
    if closed is not None and (contribution.pledged_on is None or contribution.pledged_on <= closed):
        raise Refused(
            _l(
                "Donor reports cover the days up to %(date)s and count this contribution: it stays, so they hold.",
                date=lazy_day(closed),
            )
        )
    donor = contribution.donor
    audit.record(
        "contribution.remove",
        contribution,
        before=audit.snapshot(contribution),
        after={"reason": reason},
        actor=actor,
        summary=f"{donor.short_name}: contribution of EUR {cents_to_decimal(contribution.eur_cents)} removed",
    )
    db.session.delete(contribution)
    done()
    return donor


def close_ledger(through, *, actor, reason):
    """Close the ledger through `through` (a day that has ended): later entries cannot be dated in it.
    Flushes with the caller's change (a donor report request), which commits."""
    db.session.add(LedgerClosing(through=through, reason=reason[:200], actor_id=actor.id if actor else None))
    audit.record("ledger.close", object_type="Ledger", after={"through": through}, summary=reason[:300], actor=actor)
