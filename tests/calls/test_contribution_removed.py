"""A contribution recorded by mistake (twice, from the back button) is taken back, with a reason the
audit log keeps, while no call's envelope has used it and no closed days count it."""

from datetime import date

import pytest
import sqlalchemy as sa

from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.funding import operations as funding
from fundapp.funding.models import Contribution, Donor

from .. import factories as f
from ..helpers import count, text

REASON = "Enregistrée deux fois (retour arrière du navigateur)."


@pytest.fixture
def afd(app):
    """A new donor, the Agence française de développement, with one contribution recorded twice."""
    with app.app_context():
        f.staff()
        donor = funding.create_donor(actor=None, name="Agence française de développement", short_name="AFD")
        first = funding.add_contribution(
            donor, actor=None, amount_original_cents=1_000_00, pledged_on=date(2026, 12, 5)
        )
        twice = funding.add_contribution(
            donor, actor=None, amount_original_cents=1_000_00, pledged_on=date(2026, 12, 5)
        )
        return {"donor": donor.id, "first": first.id, "twice": twice.id}


@pytest.fixture
def staff(app, afd, make_client):
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    return client


def test_staff_remove_a_contribution_recorded_twice(app, afd, staff):
    url = f"/staff/donors/contributions/{afd['twice']}/edit"
    assert "Remove this contribution" in text(staff.get(url))
    remove = f"/staff/donors/contributions/{afd['twice']}/remove"

    # Without a reason: said beside it, nothing removed.
    refused = staff.post(remove, {"reason": " "}, token_from=url)
    assert refused.status_code == 400 and "Say why: the audit log keeps it." in text(refused)
    with app.app_context():
        assert count(Contribution) == 2

    done = staff.post(remove, {"reason": REASON}, token_from=url, follow_redirects=True)
    assert "Contribution removed" in text(done)
    with app.app_context():
        donor = db.session.get(Donor, afd["donor"])
        assert [c.id for c in donor.contributions] == [afd["first"]] and donor.total_eur_cents == 1_000_00
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "contribution.remove"))
        assert entry.after == {"reason": REASON} and entry.before["eur_cents"] == 1_000_00


def test_a_contribution_a_call_has_used_or_closed_days_count_stays(app, make_client):
    with app.app_context():
        staff = f.staff()
        contributions = f.fund()
        f.call()  # its envelope takes from both donors' contributions
        sdc = contributions["SDC"]
        sdc_id, donor_id, before, audits = sdc.id, sdc.donor_id, count(Contribution), count(AuditEntry)
        with pytest.raises(funding.Refused, match="A call's envelope has used this contribution"):
            funding.remove_contribution(sdc, actor=staff, reason=REASON)
        db.session.rollback()
        assert count(Contribution) == before and count(AuditEntry) == audits
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    page = text(client.get(f"/staff/donors/contributions/{sdc_id}/edit"))
    assert "Remove this contribution" not in page  # not offered where it cannot be done
    refused = client.post(
        f"/staff/donors/contributions/{sdc_id}/remove", {"reason": REASON}, token_from=f"/staff/donors/{donor_id}"
    )
    assert refused.status_code == 400
    with app.app_context():
        assert db.session.get(Contribution, sdc_id) is not None


def test_a_contribution_counted_by_closed_books_stays(app, afd):
    with app.app_context():
        staff = f.staff()
        funding.close_ledger(date(2026, 12, 5), actor=staff, reason="Rapport aux bailleurs de fonds")
        db.session.commit()
        with pytest.raises(funding.Refused, match="Donor reports cover the days up to"):
            funding.remove_contribution(db.session.get(Contribution, afd["twice"]), actor=staff, reason=REASON)
        db.session.rollback()
        assert count(Contribution) == 2


def test_a_restricted_contribution_names_its_region_in_the_readers_language(app, afd, make_client):
    with app.app_context():
        donor = db.session.get(Donor, afd["donor"])
        funding.add_contribution(
            donor,
            actor=None,
            amount_original_cents=50_000_00,
            restriction_theme="mobilité",
            restriction_region="latin_america_caribbean",
        )
        f.user("elodie.martin@fund.example", "staff", name="Élodie Martin", language="fr")
    client = make_client()
    client.login("elodie.martin@fund.example", f.PASSWORD)
    page = text(client.get(f"/staff/donors/{afd['donor']}"))
    assert "mobilité · Amérique latine et Caraïbes" in page and "latin_america_caribbean" not in page
