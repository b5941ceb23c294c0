"""A payment is dated between the day the grant was accepted and today, both in the call's timezone
(Europe/Madrid): any other date is refused next to the "paid on" field, and nothing is recorded."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from fundapp.awards import operations
from fundapp.awards.models import Grant, Payment
from fundapp.core.errors import Refused
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db
from fundapp.funding.models import Donor

from .. import factories as f
from .grant_life import MADRID, envelope, field_error, on, page, state

ACCEPTED_ON = date(2026, 10, 1)


def _accepted(app, *, at):
    """São Paulo's grant of EUR 100,000 accepted at the instant `at`; the call and the award a month
    before. Returns (grant id, id of the tranche due on acceptance, call id)."""
    with app.app_context():
        with clock_at(on(ACCEPTED_ON - timedelta(days=30))):
            f.fund()
            f.staff()
            call_id = f.call().id
        with clock_at(at):
            grant = f.accepted("São Paulo", partners=["Bogotá"])
            return grant.id, grant.tranches[0].id, call_id


@pytest.fixture
def staff(app, make_client):
    def login():
        client = make_client()
        client.login("staff@fund.example", f.PASSWORD)
        return client

    return login


def _pay(client, grant_id, tranche_id, paid_on, amount="40000", reference="TR-1 São Paulo"):
    url = f"/grants/{grant_id}"
    return client.post(
        f"/staff{url}/payments",
        {"tranche": tranche_id, "amount": amount, "paid_on": paid_on, "reference": reference},
        token_from=url,
    )


def _today_in_madrid():
    return utcnow().astimezone(MADRID).date()


def test_the_page_says_which_dates_a_payment_may_carry(app, staff):
    grant_id, _tranche, _call = _accepted(app, at=on(ACCEPTED_ON, 11))
    html = page(staff().get(f"/grants/{grant_id}"))
    today = _today_in_madrid().isoformat()
    assert f'min="2026-10-01" max="{today}"' in html  # the date input's bounds stay ISO
    shown = format_date(_today_in_madrid(), "medium", locale="en")  # the hint is in the reader's language
    assert f"Between Oct 1, 2026 (the grant's acceptance) and today, {shown} (Europe/Madrid)." in html


@pytest.mark.parametrize(
    "paid_on, message",
    [
        ("2026-09-30", "A payment cannot be dated before the grant was accepted, on Oct 1, 2026 (Europe/Madrid)."),
        ("2019-03-12", "A payment cannot be dated before the grant was accepted, on Oct 1, 2026 (Europe/Madrid)."),
        ("tomorrow", "A payment cannot be dated after today, {today} (Europe/Madrid)."),
        ("", "Give the date of the payment."),
        ("31/12/2026", "Give the date of the payment."),
    ],
)
def test_a_payment_dated_outside_the_grant_is_refused_next_to_the_date_and_nothing_moves(app, staff, paid_on, message):
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    today = _today_in_madrid()
    if paid_on == "tomorrow":
        paid_on = (today + timedelta(days=1)).isoformat()
    client = staff()
    with app.app_context():
        before = state()
    response = _pay(client, grant_id, tranche_id, paid_on)
    assert response.status_code == 400
    html = page(response)
    # Dates in the reader's language (English here), not ISO.
    assert field_error(html, "pay", "paid_on") == message.format(today=format_date(today, "medium", locale="en"))
    # What staff typed is kept.
    assert f'value="{paid_on}"' in html and 'value="TR-1 São Paulo"' in html and 'value="40000"' in html
    with app.app_context():
        assert state() == before
        assert envelope(call_id) == {"SDC": (700_000_00, 87_500_00, 0), "OSF": (100_000_00, 12_500_00, 0)}


def test_a_payment_on_the_day_of_acceptance_or_today_is_recorded(app, staff):
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    html = page(client.get(f"/grants/{grant_id}"))
    assert field_error(html, "pay", "paid_on") is None
    response = _pay(client, grant_id, tranche_id, "2026-10-01", amount="15000", reference="TR-1a")
    assert response.status_code == 302
    today = _today_in_madrid().isoformat()
    assert _pay(client, grant_id, tranche_id, today, amount="25000", reference="TR-1b").status_code == 302
    with app.app_context():
        payments = db.session.scalars(sa.select(Payment).where(Payment.grant_id == grant_id).order_by(Payment.id))
        assert [(p.paid_on.isoformat(), p.amount_cents) for p in payments] == [
            ("2026-10-01", 15_000_00),
            (today, 25_000_00),
        ]
        assert envelope(call_id) == {
            "SDC": (700_000_00, 87_500_00, 35_000_00),
            "OSF": (100_000_00, 12_500_00, 5_000_00),
        }


@pytest.mark.parametrize(
    "amount, message",
    [
        ("15000,005", "Use at most two decimals (cents)."),
        ("quince mil", "Enter an amount in euros, such as 100000 or 100,000.00."),
        ("-500", "The amount cannot be negative."),
    ],
)
def test_an_amount_that_cannot_be_read_is_refused_next_to_it_and_nothing_moves(app, staff, amount, message):
    """The payment form reads amounts through the shared money field (awards/forms.py)."""
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    with app.app_context():
        before = envelope(call_id)
    response = _pay(client, grant_id, tranche_id, "2026-10-01", amount=amount)
    assert response.status_code == 400
    assert field_error(page(response), "pay", "amount") == message
    with app.app_context():
        assert envelope(call_id) == before
        assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.grant_id == grant_id)) == 0


def test_the_acceptance_day_is_the_call_s_day_not_utc(app, staff):
    """Accepted at 23:30 UTC on 1 October: it is already 2 October in Barcelona, so a payment dated
    1 October would precede the acceptance."""
    late = on(ACCEPTED_ON + timedelta(days=1), 1, 30)  # 01:30 in Madrid on 2 October = 23:30 UTC on 1 October
    assert late.astimezone(MADRID).date() == date(2026, 10, 2)
    grant_id, tranche_id, _call = _accepted(app, at=late)
    client = staff()
    with app.app_context():
        assert db.session.get(Grant, grant_id).accepted_at.date() == ACCEPTED_ON  # in UTC
        before = state()
    response = _pay(client, grant_id, tranche_id, "2026-10-01")
    assert field_error(page(response), "pay", "paid_on") == (
        "A payment cannot be dated before the grant was accepted, on Oct 2, 2026 (Europe/Madrid)."
    )
    with app.app_context():
        assert state() == before
    assert _pay(client, grant_id, tranche_id, "2026-10-02").status_code == 302


def test_the_operation_refuses_the_same_dates_without_the_page(app):
    grant_id, tranche_id, _call = _accepted(app, at=on(ACCEPTED_ON, 11))
    with app.app_context():
        grant = db.session.get(Grant, grant_id)
        tranche = grant.tranches[0]
        before = state()
        for paid_on, field in (
            (None, "paid_on"),
            (date(2026, 9, 30), "paid_on"),
            (_today_in_madrid() + timedelta(days=3), "paid_on"),
        ):
            with pytest.raises(Refused) as refused:
                operations.record_payment(
                    grant, tranche, actor=f.staff(), amount_cents=40_000_00, paid_on=paid_on, reference="TR-1"
                )
            assert refused.value.field == field
            db.session.rollback()
            assert state() == before
        assert tranche_id == tranche.id


def test_a_donor_report_closes_its_period_so_no_payment_can_be_dated_into_it(app, staff):
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    with app.app_context():
        sdc_id = db.session.scalar(sa.select(Donor.id).where(Donor.short_name == "SDC"))
    response = client.post(
        "/donor-reports",
        {"donor": str(sdc_id), "period_start": "2026-10-01", "period_end": "2026-11-15", "language": "fr"},
        token_from="/donor-reports",
    )
    assert response.status_code == 302
    with app.app_context():
        before = state()
    response = _pay(client, grant_id, tranche_id, "2026-11-15")
    assert response.status_code == 400
    assert field_error(page(response), "pay", "paid_on") == (
        "Donor reports cover the days up to Nov 15, 2026, so their payments are fixed: date this payment after Nov 15, 2026."
    )
    with app.app_context():
        assert state() == before
    html = page(client.get(f"/grants/{grant_id}"))
    assert 'min="2026-11-16"' in html and "Nov 16, 2026 (the day after the last donor report's period)" in html
    assert _pay(client, grant_id, tranche_id, "2026-11-16").status_code == 302


def test_a_tranche_paid_in_full_says_so_when_paid_again(app, staff):
    grant_id, tranche_id, _call = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    assert _pay(client, grant_id, tranche_id, "2026-10-02").status_code == 302
    with app.app_context():
        before = state()
    response = _pay(client, grant_id, tranche_id, "2026-10-03", amount="1", reference="TR-1 again")
    assert field_error(page(response), "pay", "tranche") == "This tranche is already paid in full (€40,000.00)."
    with app.app_context():
        assert state() == before


def test_the_donors_shares_of_odd_payments_never_drift_from_their_split(app, staff):
    """Bogotá's grant is 87.5 % SDC and 12.5 % OSF: each payment's cents go where the grant's
    running total puts them, so after EUR 10,000.50 + 10,000.50 + 19,999.00 the donors have been
    paid EUR 35,000.00 and 5,000.00 exactly, not a cent moved from one to the other."""
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    today = _today_in_madrid().isoformat()
    paid = 0
    for amount, reference in (("10000.50", "BOG-T1-a"), ("10.000,50", "BOG-T1-b"), ("19999", "BOG-T1-c")):
        assert _pay(client, grant_id, tranche_id, today, amount=amount, reference=reference).status_code == 302
        paid += {"10000.50": 10_000_50, "10.000,50": 10_000_50, "19999": 19_999_00}[amount]
        with app.app_context():
            grant = db.session.get(Grant, grant_id)
            shares = {a.call_funding.contribution.donor.short_name: a.paid_cents for a in grant.allocations}
            # Each donor's part of what was paid in all, within the one cent a split must round.
            assert sum(shares.values()) == paid
            assert abs(shares["SDC"] - paid * 7 / 8) < 1 and abs(shares["OSF"] - paid / 8) < 1, shares
    with app.app_context():
        assert envelope(call_id) == {
            "SDC": (700_000_00, 87_500_00, 35_000_00),
            "OSF": (100_000_00, 12_500_00, 5_000_00),
        }


def test_a_payment_reference_already_used_on_the_grant_is_refused_and_nothing_moves(app, staff):
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    today = _today_in_madrid().isoformat()
    assert _pay(client, grant_id, tranche_id, today, amount="10000.50", reference="SP-T1-2026").status_code == 302
    with app.app_context():
        before = envelope(call_id)
    again = _pay(client, grant_id, tranche_id, today, amount="10000.50", reference=" sp-t1-2026 ")
    assert again.status_code == 400
    message = field_error(page(again), "pay", "reference")
    assert message.startswith("A payment with the reference SP-T1-2026 is already recorded on this grant (€10,000.50")
    with app.app_context():
        assert envelope(call_id) == before
        assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.grant_id == grant_id)) == 1


def test_every_problem_of_a_payment_is_named_beside_its_field_in_one_save_and_nothing_moves(app, staff):
    """A payment with a used reference, an amount above what is due and a date after today: the three
    problems at once, each beside its field, what was typed kept, nothing paid."""
    grant_id, tranche_id, call_id = _accepted(app, at=on(ACCEPTED_ON, 11))
    client = staff()
    today = _today_in_madrid()
    assert (
        _pay(client, grant_id, tranche_id, today.isoformat(), amount="10000.50", reference="SP-T1").status_code == 302
    )
    with app.app_context():
        before = state()
    tomorrow = (today + timedelta(days=1)).isoformat()
    response = _pay(client, grant_id, tranche_id, tomorrow, amount="35000", reference="sp-t1")
    assert response.status_code == 400
    html = page(response)
    assert field_error(html, "pay", "reference").startswith("A payment with the reference SP-T1 is already recorded")
    assert field_error(html, "pay", "amount") == "Only €29,999.50 is due on this tranche."
    shown = format_date(today, "medium", locale="en")
    assert field_error(html, "pay", "paid_on") == f"A payment cannot be dated after today, {shown} (Europe/Madrid)."
    assert f'value="{tomorrow}"' in html and 'value="sp-t1"' in html and 'value="35000"' in html
    # An amount the form cannot read is said once, beside it, with the rules the other fields break.
    unread = _pay(client, grant_id, tranche_id, tomorrow, amount="35 000,005", reference="")
    html = page(unread)
    assert field_error(html, "pay", "amount") == "Use at most two decimals (cents)."
    assert field_error(html, "pay", "reference") == "Give the payment reference."
    assert field_error(html, "pay", "paid_on") == f"A payment cannot be dated after today, {shown} (Europe/Madrid)."
    with app.app_context():
        assert state() == before
        assert db.session.scalar(sa.select(sa.func.count(Payment.id)).where(Payment.grant_id == grant_id)) == 1
