"""Closing the fund's books is the programme team's act: a staff report closes the ledger through
its last day; a donor reports on days the team has closed and closes nothing."""

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from fundapp.extensions import db
from fundapp.funding.ledger import fund_today
from fundapp.funding.models import LedgerClosing
from fundapp.reporting.models import DonorReport

from ..factories import PASSWORD
from ..helpers import text
from .test_reports import _donor

pytestmark = pytest.mark.sqlite

CLOSED = date(2026, 11, 30)


def _state(app):
    """(how many donor reports there are, the days the ledger was closed through, in order)."""
    with app.app_context():
        reports = db.session.scalar(sa.select(sa.func.count(DonorReport.id)))
        return reports, list(db.session.scalars(sa.select(LedgerClosing.through).order_by(LedgerClosing.id)))


def _ask(client, sdc_id, end, language="fr"):
    return client.post(
        "/donor-reports",
        {"donor": str(sdc_id), "period_start": "2026-01-01", "period_end": end.isoformat(), "language": language},
        token_from="/donor-reports",
    )


def test_a_donor_reports_on_days_the_team_closed_and_closes_none(app, funded, make_client):
    with app.app_context():
        sdc_id = _donor("SDC").id
        yesterday = fund_today() - timedelta(days=1)
    assert yesterday > CLOSED
    donor = make_client()
    donor.login("officer@sdc.example", PASSWORD)  # reads French

    # Nothing closed yet: the page says so, and a request is refused with why; nothing is written.
    assert "L’équipe du programme n’a pas encore clôturé les comptes du fonds" in text(donor.get("/donor-reports"))
    refused = _ask(donor, sdc_id, yesterday)
    assert refused.status_code == 400
    assert "n’a pas encore clôturé les comptes du fonds" in text(refused)
    assert _state(app) == (0, [])

    # Staff report through 30 November: that closes the books through it.
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    assert _ask(staff, sdc_id, CLOSED).status_code == 302
    assert _state(app) == (1, [CLOSED])

    # The donor may end a report then at the latest: a later end is refused, saying through when.
    page = text(donor.get("/donor-reports"))
    assert "jusqu’au 30 nov. 2026" in page and 'max="2026-11-30"' in page
    refused = _ask(donor, sdc_id, yesterday)
    assert refused.status_code == 400
    assert "Les comptes du fonds sont clôturés jusqu’au 30 nov. 2026" in text(refused)
    assert f'value="{yesterday.isoformat()}"' in text(refused)  # what was typed comes back
    assert _state(app) == (1, [CLOSED])

    # Up to the closed day, the donor's report is built and the books stay closed where they were.
    assert _ask(donor, sdc_id, CLOSED, language="en").status_code == 302
    assert _state(app) == (2, [CLOSED])
    # The same report as the team's (donor, period, language) is the team's, not a copy.
    same = _ask(donor, sdc_id, CLOSED)
    assert same.status_code == 302 and _state(app) == (2, [CLOSED])
    assert "La même demande de rapport" in text(donor.get(same.headers["Location"]))


def test_closed_books_keep_their_contributions_so_the_reports_on_them_hold(app, funded, make_client):
    """Once a staff report closed the books through 30 November, no contribution may be pledged or
    received in those days, nor one they count be changed: refused by name, in the reader's
    language, nothing written, and the report's figures the same when built again. A contribution
    pledged after those days, and a note on an old one, are fine."""
    from fundapp.core.models import AuditEntry
    from fundapp.funding.models import Contribution
    from fundapp.reporting.queries import figures

    from ..helpers import count

    with app.app_context():
        sdc = _donor("SDC")
        sdc_id, (contribution_id,) = sdc.id, [c.id for c in sdc.contributions]
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    assert _ask(staff, sdc_id, CLOSED).status_code == 302
    with app.app_context():
        before = figures(_donor("SDC"), date(2026, 1, 1), CLOSED).snapshot()
        audits, contributions = count(AuditEntry), count(Contribution)
    new = f"/staff/donors/{sdc_id}/contributions/new"
    refused = staff.post(
        new,
        {"amount": "46000", "currency": "EUR", "pledged_on": "2026-11-01", "received_on": "", "restriction_region": ""},
        token_from=new,
    )
    assert refused.status_code == 400
    assert "Donor reports cover the days up to Nov 30, 2026: a contribution pledged by then" in text(refused)
    edit = f"/staff/donors/contributions/{contribution_id}/edit"
    with app.app_context():
        c = db.session.get(Contribution, contribution_id)
        kept = {
            "amount": str(c.amount_original_cents // 100),
            "currency": c.currency,
            "rate_to_eur": str(c.rate_to_eur),
            "pledged_on": c.pledged_on.isoformat() if c.pledged_on else "",
            "received_on": c.received_on.isoformat() if c.received_on else "",
            "restriction_region": "",
        }
    refused = staff.post(edit, {**kept, "amount": str(int(kept["amount"]) + 50_000)}, token_from=edit)
    assert refused.status_code == 400 and "its amount and pledge date can no longer change" in text(refused)
    # Its receipt dated (or moved) into those days would change what they received.
    received = "2026-11-15" if kept["received_on"] != "2026-11-15" else "2026-11-16"
    refused = staff.post(edit, {**kept, "received_on": received}, token_from=edit)
    assert refused.status_code == 400 and "a receipt dated by then would change them" in text(refused)
    with app.app_context():
        assert (count(AuditEntry), count(Contribution)) == (audits, contributions)
        assert figures(_donor("SDC"), date(2026, 1, 1), CLOSED).snapshot() == before
    assert staff.post(edit, {**kept, "note": "Convenio 81057 firmado en Berna."}, token_from=edit).status_code == 302
    later = {
        "amount": "46000",
        "currency": "EUR",
        "pledged_on": "2026-12-01",
        "received_on": "",
        "restriction_region": "",
    }
    assert staff.post(new, later, token_from=new).status_code == 302
    with app.app_context():
        assert figures(_donor("SDC"), date(2026, 1, 1), CLOSED).snapshot() == before
