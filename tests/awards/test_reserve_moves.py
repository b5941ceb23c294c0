"""The reserve list moves: when money comes back (a grant declined, cancelled or closed) the decision
board offers the next reserve; staff award it (a new decision supersedes the reserve one, which stays
as history, and a new letter follows); the scenario follows rank order, and an application that fits
only because a higher-ranked one does not needs an explicit choice."""

import threading

import pytest
import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Decision, Grant
from fundapp.core.errors import Refused
from fundapp.extensions import db

from .. import factories as f
from .grant_life import envelope, page, state

DECLINED = "A Câmara Municipal não aprovou a contrapartida da prefeitura."


def _told_in_sql(application):
    """Application.city_state read by SQL (the lists' filter), which must agree with Python."""
    return db.session.scalar(sa.select(Application.city_state).where(Application.id == application.id))


def _call(app, envelope_cents, applications):
    """A call with `envelope_cents` {donor: cents} and, in rank order, reviewed applications
    [(city, mark, requested cents)]: (call id, {city: application id})."""
    with app.app_context():
        f.staff()
        the_call = f.call(envelope=envelope_cents)
        ids = {
            city: f.reviewed(city, [mark] * 5, the_call=the_call, requested=requested).id
            for city, mark, requested in applications
        }
        return the_call.id, ids


@pytest.fixture
def reserve_list(app):
    """EUR 200,000: Bogotá and São Paulo awarded EUR 100,000 each; Lisbon (EUR 100,000) and then Accra
    (EUR 50,000) on the reserve list, both told by letter."""
    call_id, ids = _call(
        app,
        {"SDC": 175_000_00, "OSF": 25_000_00},
        [
            ("Bogotá", 5, 100_000_00),
            ("São Paulo", 4.5, 100_000_00),
            ("Lisbon", 4, 100_000_00),
            ("Accra", 3.5, 50_000_00),
        ],
    )
    with app.app_context():
        staff = f.staff()
        for city in ("Bogotá", "São Paulo"):
            f.s.award(db.session.get(Application, ids[city]), staff)
        for city in ("Lisbon", "Accra"):
            f.s.reserve(db.session.get(Application, ids[city]), staff)
    return call_id, ids


@pytest.fixture
def staff(app, make_client):
    with app.app_context():
        f.staff()
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    return client


def _login(make_client, email):
    client = make_client()
    client.login(email, f.PASSWORD)
    return client


def _decline(city, application_id):
    grant = db.session.scalar(sa.select(Grant).where(Grant.application_id == application_id))
    operations.decline_grant(grant, actor=f.focal_point(city), reason=DECLINED)


def _decisions(application_id):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(Decision).where(Decision.application_id == application_id).order_by(Decision.id)
    ).all()


def _award_from_reserve(client, call_id, application_id, **fields):
    return client.post(
        f"/staff/applications/{application_id}/award-from-reserve",
        fields,
        token_from=f"/staff/calls/{call_id}/decisions",
    )


def test_a_declined_grant_moves_the_reserve_list_and_the_reserve_decision_stays_as_history(
    app, reserve_list, staff, make_client
):
    call_id, ids = reserve_list
    board_url = f"/staff/calls/{call_id}/decisions"
    with app.app_context():
        lisbon_ref = db.session.get(Application, ids["Lisbon"]).reference
        accra_ref = db.session.get(Application, ids["Accra"]).reference
    html = page(staff.get(board_url))
    assert 'id="reserve-offer"' not in html  # nothing has come back yet
    assert 'data-figure="remaining">€0.00' in html

    with app.app_context():
        _decline("São Paulo", ids["São Paulo"])
    html = page(staff.get(board_url))
    offer = html[html.index('id="reserve-offer"') :]
    assert 'data-state="declined"' in offer and "€100,000.00 returned" in offer and DECLINED in offer
    assert f'id="next-reserve" data-reference="{lisbon_ref}"' in offer
    assert f"Next on the reserve list: {lisbon_ref} · Lisbon, requesting €100,000.00." in offer
    assert "It fits the €100,000.00 left: award it, then send its award letter." in offer
    assert f"/staff/applications/{ids['Lisbon']}/award-from-reserve" in offer

    # Accra first: it comes after Lisbon, so it needs the explicit "out of rank order".
    with app.app_context():
        before = state()
    response = _award_from_reserve(staff, call_id, ids["Accra"], amount="50000")
    assert response.status_code == 400
    assert (
        f"{accra_ref} comes after {lisbon_ref} on the reserve list: tick “out of rank order” to award it first."
        in page(response)
    )
    with app.app_context():
        assert state() == before

    response = _award_from_reserve(staff, call_id, ids["Lisbon"], amount="100000", conditions="Gender data in reports")
    assert response.status_code == 302
    with app.app_context():
        reserve, award = _decisions(ids["Lisbon"])
        assert (reserve.kind, reserve.superseded_by_id, reserve.revised_at) == ("reserve", award.id, None)
        assert reserve.superseded_at is not None and reserve.letter_sent_at is not None  # history, as sent
        assert (award.kind, award.amount_cents, award.is_current, award.letter_sent_at) == (
            "award",
            100_000_00,
            True,
            None,
        )
        assert award.grant.state == "offered" and award.conditions == "Gender data in reports"
        application = db.session.get(Application, ids["Lisbon"])
        assert (application.state, application.decision_sent_at, application.city_state) == (
            "awarded",
            None,
            "reserved",
        )
        assert _told_in_sql(application) == "reserved"
        assert envelope(call_id) == {"SDC": (175_000_00, 175_000_00, 0), "OSF": (25_000_00, 25_000_00, 0)}
        grant_id = award.grant.id
    html = page(staff.get(board_url))
    assert "Awarded from the reserve list; the reserve decision of" in html
    assert 'id="next-reserve"' not in html  # nothing left to award
    assert "Nothing is left to award from the reserve list." in html

    # Until the award letter, the city reads what it was told: the reserve list, and no grant.
    city = _login(make_client, "focal@lisbon.example")
    html = page(city.get(f"/applications/{ids['Lisbon']}"))
    assert 'data-decision="reserved"' in html and "Reserve list" in html and 'data-link="grant"' not in html
    assert city.get(f"/grants/{grant_id}").status_code == 404

    with app.app_context():
        f.s.send_letter(db.session.get(Decision, award.id), f.staff())
    html = page(city.get(f"/applications/{ids['Lisbon']}"))
    assert 'data-decision="awarded"' in html and 'data-link="grant"' in html
    assert "The fund awards your city a grant of €100,000.00." in html
    html = page(city.get(f"/grants/{grant_id}"))
    assert f"/grants/{grant_id}/accept" in html


def test_revising_an_award_from_the_reserve_list_puts_it_back_on_the_list(app, reserve_list, staff):
    call_id, ids = reserve_list
    with app.app_context():
        _decline("São Paulo", ids["São Paulo"])
        sent_at = db.session.get(Application, ids["Lisbon"]).decision_sent_at
        award = operations.award_from_reserve(
            db.session.get(Application, ids["Lisbon"]), actor=f.staff(), amount_cents=90_000_00
        )
        assert sum(v[1] for v in envelope(call_id).values()) == 190_000_00
        award_id = award.id
    response = staff.post(
        f"/staff/decisions/{award_id}/revise",
        {"reason": "Wrong amount: Lisbon asked for EUR 100,000."},
        token_from=f"/staff/calls/{call_id}/decisions",
        follow_redirects=True,
    )
    assert "Decision revised" in page(response)
    with app.app_context():
        reserve, award = _decisions(ids["Lisbon"])
        assert (reserve.is_current, reserve.superseded_at, reserve.superseded_by_id) == (True, None, None)
        assert award.revised_at is not None and award.grant is None
        application = db.session.get(Application, ids["Lisbon"])
        assert (application.state, application.decision_sent_at, application.city_state) == (
            "reserved",
            sent_at,
            "reserved",
        )
        assert _told_in_sql(application) == "reserved"
        assert sum(v[1] for v in envelope(call_id).values()) == 100_000_00
        # And it can be awarded again, at the right amount.
        operations.award_from_reserve(application, actor=f.staff(), amount_cents=100_000_00)
        assert [d.kind for d in _decisions(ids["Lisbon"]) if d.is_current] == ["award"]


def test_a_reserve_the_city_was_never_told_of_is_revised_then_awarded(app):
    call_id, ids = _call(app, {"SDC": 100_000_00}, [("Bogotá", 5, 100_000_00), ("Lisbon", 4, 60_000_00)])
    with app.app_context():
        staff = f.staff()
        grant = f.s.award(db.session.get(Application, ids["Bogotá"]), staff).grant
        f.s.reserve(db.session.get(Application, ids["Lisbon"]), staff, letter=False)
        f.s.accept(grant.decision, f.focal_point("Bogotá"))
        operations.cancel_grant(
            db.session.get(Grant, grant.id), actor=staff, reason="La alcaldía suspendió el programa."
        )
        award = operations.award_from_reserve(
            db.session.get(Application, ids["Lisbon"]), actor=staff, amount_cents=60_000_00
        )
        reserve, award = _decisions(ids["Lisbon"])
        assert (reserve.revised_at is not None, reserve.revision_reason, reserve.superseded_at) == (
            True,
            "Awarded from the reserve list.",
            None,
        )
        application = db.session.get(Application, ids["Lisbon"])
        assert (application.state, application.city_state, application.return_state) == (
            "awarded",
            "reviewed",
            None,
        )
        assert _told_in_sql(application) == "reviewed"
        assert envelope(call_id) == {"SDC": (100_000_00, 60_000_00, 0)}


def test_refusals_of_an_award_from_the_reserve_list_change_nothing(app, reserve_list, staff):
    call_id, ids = reserve_list
    board_url = f"/staff/calls/{call_id}/decisions"
    with app.app_context():
        _decline("São Paulo", ids["São Paulo"])
        before = state()
        with pytest.raises(Refused, match="is not on the reserve list"):
            operations.award_from_reserve(
                db.session.get(Application, ids["Bogotá"]), actor=f.staff(), amount_cents=10_000_00
            )
        db.session.rollback()
        assert state() == before
    for fields, message in (
        ({"amount": ""}, "Give the amount to award, in euros."),
        ({"amount": "100000.01", "out_of_rank": "1"}, "is above the call’s cap of €100,000.00"),
        ({"amount": "60000", "out_of_rank": "1"}, "is more than the €50,000.00 requested"),
    ):
        response = _award_from_reserve(staff, call_id, ids["Accra"], **fields)
        assert response.status_code == 400 and message in page(response), fields
        with app.app_context():
            assert state() == before
    # Only EUR 100,000 came back: an award from the list beyond it is refused by the ledger.
    with app.app_context():
        operations.award_from_reserve(
            db.session.get(Application, ids["Lisbon"]), actor=f.staff(), amount_cents=70_000_00
        )
        before = state()
    response = _award_from_reserve(staff, call_id, ids["Accra"], amount="40000", out_of_rank="")
    assert response.status_code == 400 and "Only €30,000.00 is left in the envelope" in page(response)
    with app.app_context():
        assert state() == before
    html = page(staff.get(board_url))
    assert 'id="next-reserve" data-reference="' in html  # Accra is now next, and EUR 30,000 is left
    assert "Only €30,000.00 is left: award it that much, or the next that fits, out of rank order." in html


def test_two_clicks_on_award_from_the_reserve_list_make_one_award(app, reserve_list):
    call_id, ids = reserve_list
    with app.app_context():
        _decline("São Paulo", ids["São Paulo"])
    barrier, outcomes = threading.Barrier(2), []

    def click():
        with app.app_context():
            barrier.wait()
            try:
                operations.award_from_reserve(
                    db.session.get(Application, ids["Lisbon"]), actor=f.staff(), amount_cents=100_000_00
                )
                outcomes.append("done")
            except Refused:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=click) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["done", "refused"]
    with app.app_context():
        assert [d.kind for d in _decisions(ids["Lisbon"])] == ["reserve", "award"]
        assert sum(v[1] for v in envelope(call_id).values()) == 200_000_00


# -- the scenario follows rank order ------------------------------------------------------------


def test_an_application_that_fits_only_because_a_higher_one_does_not_needs_an_explicit_choice(app, staff):
    """EUR 150,000: Bogotá (EUR 100,000) fits; São Paulo (EUR 100,000) does not; Lisbon (EUR 50,000)
    would fit only because São Paulo does not: out of rank order, awarded only when ticked."""
    call_id, ids = _call(
        app,
        {"SDC": 130_000_00, "OSF": 20_000_00},
        [("Bogotá", 5, 100_000_00), ("São Paulo", 4.5, 100_000_00), ("Lisbon", 4, 50_000_00)],
    )
    board_url = f"/staff/calls/{call_id}/decisions"
    with app.app_context():
        refs = {city: db.session.get(Application, i).reference for city, i in ids.items()}
    html = page(staff.get(board_url))
    assert f'<tr data-reference="{refs["Bogotá"]}" class="fits">' in html
    assert f'<tr data-reference="{refs["São Paulo"]}" class="reserve">' in html
    assert f'<tr data-reference="{refs["Lisbon"]}" class="fits out-of-rank">' in html
    assert "fits out of rank order (total €150,000.00): only because a higher-ranked application does not" in html
    assert "Award the 1 application above the cut line" in html
    batch = html[html.index('id="out-of-rank"') :]
    assert f'name="out_of_rank" value="{ids["Lisbon"]}:5000000"' in batch
    assert f'name="award" value="{ids["Lisbon"]}' not in html

    # A form that awards it without the tick (an old page, a hand-made request): nothing is recorded.
    with app.app_context():
        before = state()
    response = staff.post(
        f"/staff/calls/{call_id}/decide-batch",
        {"award": [f"{ids['Bogotá']}:10000000", f"{ids['Lisbon']}:5000000"]},
        token_from=board_url,
        follow_redirects=True,
    )
    assert f"{refs['Lisbon']} fits only because a higher-ranked application does not" in page(response)
    with app.app_context():
        assert state() == before

    # The page's form as it is, nothing ticked: only Bogotá.
    amounts = {f"amount_{i}": "100000.0" if city != "Lisbon" else "50000.0" for city, i in ids.items()}
    response = staff.post(
        f"/staff/calls/{call_id}/decide-batch",
        {"award": [f"{ids['Bogotá']}:10000000"], **amounts},
        token_from=board_url,
        follow_redirects=True,
    )
    assert "1 awards recorded." in page(response)
    with app.app_context():
        assert db.session.get(Application, ids["Lisbon"]).state == "reviewed"
    # Ticked: Lisbon is awarded, out of rank order, by staff's choice.
    html = page(staff.get(board_url))
    assert f'<tr data-reference="{refs["Lisbon"]}" class="fits out-of-rank">' in html
    response = staff.post(
        f"/staff/calls/{call_id}/decide-batch",
        {"out_of_rank": [f"{ids['Lisbon']}:5000000"], f"amount_{ids['São Paulo']}": "100000.0"},
        token_from=board_url,
        follow_redirects=True,
    )
    assert "1 awards recorded." in page(response)
    with app.app_context():
        states = {city: db.session.get(Application, i).state for city, i in ids.items()}
        assert states == {"Bogotá": "awarded", "São Paulo": "reviewed", "Lisbon": "awarded"}
        assert envelope(call_id) == {"SDC": (130_000_00, 130_000_00, 0), "OSF": (20_000_00, 20_000_00, 0)}


def test_a_waiting_reserve_puts_a_later_application_out_of_rank_order(app, staff):
    """Bogotá on the reserve list, ranked above Lisbon whose reviews came in later: awarding Lisbon
    first is out of rank order, though there is money for it."""
    call_id, ids = _call(app, {"SDC": 300_000_00}, [("Bogotá", 5, 100_000_00), ("Lisbon", 4, 100_000_00)])
    with app.app_context():
        f.s.reserve(db.session.get(Application, ids["Bogotá"]), f.staff())
        lisbon = db.session.get(Application, ids["Lisbon"]).reference
    html = page(staff.get(f"/staff/calls/{call_id}/decisions"))
    assert f'<tr data-reference="{lisbon}" class="fits out-of-rank">' in html
    assert "Award the applications ticked" in html
