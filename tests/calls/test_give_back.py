"""A decided call gives back to the donors' contributions what no grant holds of its envelope, so the
next call can be funded from it; the grants, the ledger and past donor reports stay as they were."""

from datetime import date

import pytest
import sqlalchemy as sa

from fundapp.awards.models import Decision
from fundapp.calls import operations as calls
from fundapp.calls.models import Call
from fundapp.core.errors import Refused
from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.funding import ledger
from fundapp.funding.models import CallFunding
from fundapp.funding.queries import contributions_with_allocation
from fundapp.reporting.queries import figures

from .. import factories as f
from ..helpers import text

REASON = "Todas las decisiones están tomadas; el saldo financiará la convocatoria de 2027."


def _decide(call, staff, until="decide"):
    for action, reason in (("close", "Fecha límite alcanzada"), ("start_review", None), ("decide", None)):
        calls.change_state(call, action, actor=staff, reason=reason)
        if action == until:
            return


def _lines(call_id):
    db.session.expire_all()
    return {
        line.contribution.donor.short_name: (line.amount_cents, line.committed_cents, line.paid_cents)
        for line in db.session.scalars(sa.select(CallFunding).where(CallFunding.call_id == call_id))
    }


def _allocated():
    return {c.donor.short_name: allocated for c, allocated in contributions_with_allocation()}


def _entries():
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "call.give_back")
    )


@pytest.fixture
def decided(app):
    """The Local Care Systems call (SDC EUR 700,000, OSF EUR 100,000): Bogotá and Dakar awarded
    EUR 100,000 each (their letters sent), the call then closed, reviewed and decided. The ids of
    the call and of the two decisions."""
    with app.app_context():
        staff = f.staff()
        call = f.call()
        bogota = f.awarded("Bogotá", the_call=call)
        dakar = f.awarded("Dakar", the_call=call, language="fr")
        _decide(call, staff)
        return {"call": call.id, "bogota": bogota.id, "dakar": dakar.id}


def test_the_unheld_money_goes_back_to_the_contributions_and_nothing_else_moves(app, decided):
    with app.app_context():
        call, staff = db.session.get(Call, decided["call"]), f.staff()
        assert _lines(call.id) == {"SDC": (700_000_00, 175_000_00, 0), "OSF": (100_000_00, 25_000_00, 0)}
        before_allocated = _allocated()
        # Before: the contributions are all set aside for this call; no new call can be funded.
        with pytest.raises(Refused):
            f.call("LCS-2027", envelope={"SDC": 1_00, "OSF": 0})
        db.session.rollback()
        report = figures(None, date(2000, 1, 1), date(2100, 1, 1)).snapshot()

        given = calls.give_back_envelope(call, actor=staff, reason=REASON)

        donors = {c.id: c.donor.short_name for c, _a in contributions_with_allocation()}
        assert {donors[cid]: cents for cid, cents in given.items()} == {"SDC": 525_000_00, "OSF": 75_000_00}
        # Each line keeps exactly what its grants hold; the contributions have the rest to give again.
        assert _lines(call.id) == {"SDC": (175_000_00, 175_000_00, 0), "OSF": (25_000_00, 25_000_00, 0)}
        assert _allocated() == {"SDC": before_allocated["SDC"] - 525_000_00, "OSF": before_allocated["OSF"] - 75_000_00}
        assert db.session.get(Call, call.id).remaining_cents == 0
        # No grant's money moved: the ledger still adds up, and the donor report is the same.
        assert ledger.mismatches() == []
        assert figures(None, date(2000, 1, 1), date(2100, 1, 1)).snapshot() == report
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "call.give_back"))
        assert entry.after["reason"] == REASON and entry.actor_id == staff.id

        # A new call can now be funded from what came back.
        new = f.call("LCS-2027", envelope={"SDC": 525_000_00, "OSF": 75_000_00})
        assert new.envelope_cents == 600_000_00


def test_money_a_grant_returns_later_comes_back_to_the_line_and_can_be_given_back_in_turn(app, decided):
    with app.app_context():
        call, staff = db.session.get(Call, decided["call"]), f.staff()
        calls.give_back_envelope(call, actor=staff, reason=REASON)
        dakar = db.session.get(Decision, decided["dakar"])
        f.s.decline(dakar, f.focal_point("Dakar"), "Le conseil municipal n’a pas voté la contrepartie.")
        assert _lines(call.id) == {"SDC": (175_000_00, 87_500_00, 0), "OSF": (25_000_00, 12_500_00, 0)}
        # The reserve list could use it; staff give it back instead.
        given = calls.give_back_envelope(db.session.get(Call, call.id), actor=staff, reason="Sin lista de reserva.")
        assert sum(given.values()) == 100_000_00
        assert _lines(call.id) == {"SDC": (87_500_00, 87_500_00, 0), "OSF": (12_500_00, 12_500_00, 0)}
        assert ledger.mismatches() == []


@pytest.mark.parametrize(
    "until, reason, message",
    [
        ("start_review", REASON, "Only a decided call gives back its envelope"),
        ("decide", "   ", "Say why: the audit log keeps it."),
    ],
)
def test_refusals_say_why_and_change_nothing(app, until, reason, message):
    with app.app_context():
        staff, call = f.staff(), f.call()
        f.awarded("Bogotá", the_call=call)
        _decide(call, staff, until=until)
        lines, allocated = _lines(call.id), _allocated()
        with pytest.raises(Refused) as refused:
            calls.give_back_envelope(call, actor=staff, reason=reason)
        assert message in str(refused.value.message)
        db.session.rollback()
        assert _lines(call.id) == lines and _allocated() == allocated and _entries() == 0


def test_nothing_left_is_refused(app, decided):
    with app.app_context():
        call, staff = db.session.get(Call, decided["call"]), f.staff()
        calls.give_back_envelope(call, actor=staff, reason=REASON)
        lines = _lines(call.id)
        with pytest.raises(Refused) as refused:
            calls.give_back_envelope(db.session.get(Call, call.id), actor=staff, reason=REASON)
        assert "grants hold the whole envelope" in str(refused.value.message)
        db.session.rollback()
        assert _lines(call.id) == lines and _entries() == 1


def test_staff_give_it_back_from_the_call_page(app, decided, make_client):
    with app.app_context():
        f.user("elodie.martin@fund.example", "staff", name="Élodie Martin", language="fr")
        f.focal_point("Bogotá", "alcaldia@bogota.example", language="es")
    staff = make_client()
    staff.login("elodie.martin@fund.example", f.PASSWORD)
    url = f"/staff/calls/{decided['call']}"
    page = text(staff.get(url))
    assert "Rendre 600 000,00 €" in page.replace("\u202f", " ").replace("\xa0", " ")

    # Without a reason: the page again, why beside the field, nothing given back.
    refused = staff.post(f"{url}/give-back", {"reason": ""}, token_from=url)
    assert refused.status_code == 400
    assert "Dites pourquoi" in text(refused)
    with app.app_context():
        assert db.session.get(Call, decided["call"]).remaining_cents == 600_000_00

    # Another role cannot.
    city = make_client()
    city.login("alcaldia@bogota.example", f.PASSWORD)
    assert city.post(f"{url}/give-back", {"reason": REASON}, token_from="/").status_code in (403, 404)
    with app.app_context():
        assert db.session.get(Call, decided["call"]).remaining_cents == 600_000_00

    done = staff.post(f"{url}/give-back", {"reason": REASON}, token_from=url, follow_redirects=True)
    page = text(done).replace("\u202f", " ").replace("\xa0", " ")
    assert "600 000,00 €" in page and "Rendre" not in page.split("Critères")[0]
    with app.app_context():
        assert db.session.get(Call, decided["call"]).remaining_cents == 0
