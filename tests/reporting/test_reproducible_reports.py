"""A donor report of a period gives the same figures whenever it is built, and a stored report's page
shows the figures it was built with."""

import io
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from pypdf import PdfReader

from fundapp.awards import operations
from fundapp.awards.models import Grant
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db
from fundapp.funding.models import Donor
from fundapp.reporting.exports import to_csv
from fundapp.reporting.models import DonorReport
from fundapp.reporting.queries import Figures, figures

from .. import factories as f
from ..factories import PASSWORD
from ..helpers import run_jobs, text
from .conftest import on

AUTUMN = (date(2026, 1, 1), date(2026, 11, 30))  # before the movements these tests make today
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
MADRID = ZoneInfo("Europe/Madrid")


def _donor(short):
    return db.session.scalar(sa.select(Donor).where(Donor.short_name == short))


def _all(period):
    """The snapshots of the SDC, OSF and whole-fund figures of `period`."""
    return {who: figures(_donor(who) if who else None, *period).snapshot() for who in ("SDC", "OSF", None)}


def _line(snapshot, city):
    return next(g for g in snapshot["grants"] if g["city"] == city)


@pytest.mark.sqlite
def test_a_past_period_gives_the_same_figures_after_a_cancellation_a_payment_and_a_revision(app, funded):
    bogota_id, montreal_id = funded
    with app.test_request_context():
        # Dakar is awarded EUR 50,000 on 10 November; its letter has not gone out.
        with clock_at(on(date(2026, 10, 5))):
            dakar = f.reviewed("Dakar", f.STRONG, dimensions=("reduce", "reward"))
        with clock_at(on(date(2026, 11, 10))):
            decision = f.s.award(dakar, f.staff(), 50_000_00, letter=False)
        before = _all(AUTUMN)
        assert _line(before[None], "Montréal")["state"] == "active"  # paid on 20 November
        assert _line(before[None], "Montréal")["amount_cents"] == 100_000_00
        assert _line(before[None], "Dakar")["state"] == "offered"
        assert before[None]["allocated_cents"] == 250_000_00

        # Today: Montréal's grant is cancelled, Bogotá's interim report is approved and its second
        # tranche paid, and Dakar's award is revised.
        staff = f.staff()
        operations.cancel_grant(db.session.get(Grant, montreal_id), actor=staff, reason="The project was abandoned.")
        bogota = db.session.get(Grant, bogota_id)
        report = f.s.report(
            bogota,
            f.focal_point("Bogotá"),
            "interim",
            progress="Dos manzanas del cuidado abiertas.",
            reached=(900, 300, 10),
        )
        f.s.approve(report, staff)
        f.s.pay_due(db.session.get(Grant, bogota_id), staff)
        operations.revise(decision, actor=staff, reason="The panel's scores were entered twice.")

        after = _all(AUTUMN)
        assert after == before
        for name in ("allocated_cents", "paid_to_date_cents", "paid_in_period_cents"):
            assert after["SDC"][name] + after["OSF"][name] == after[None][name]

        # The year, which holds today, does show what happened.
        year = _all(YEAR)[None]
        assert _line(year, "Montréal")["state"] == "cancelled"
        assert _line(year, "Montréal")["amount_cents"] == 40_000_00
        assert _line(year, "Bogotá")["paid_cents"] == 80_000_00
        assert "Dakar" not in {g["city"] for g in year["grants"]}
        assert year["allocated_cents"] == 140_000_00 and year["paid_to_date_cents"] == 120_000_00
        assert year["reached"] == {"women": 900, "men": 300, "other": 10}
        assert before[None]["reached"] == {"women": 0, "men": 0, "other": 0}


def _build(app, client, donor_id, period):
    response = client.post(
        "/donor-reports",
        {"donor": str(donor_id), "period_start": period[0].isoformat(), "period_end": period[1].isoformat()},
        token_from="/donor-reports",
    )
    assert response.status_code == 302, text(response)
    run_jobs(app)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_a_stored_report_shows_the_figures_it_was_built_with_the_same_as_its_files(app, funded, make_client):
    bogota_id, montreal_id = funded
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        sdc_id = _donor("SDC").id
    # On 26 November, staff build SDC's report of the year so far (a report covers days that have ended).
    with clock_at(on(date(2026, 11, 26))):
        report_id = _build(app, staff, sdc_id, (date(2026, 1, 1), date(2026, 11, 25)))
    page = text(staff.get(f"/donor-reports/{report_id}"))
    assert 'data-figure="allocated">€175,000.00' in page and 'data-figure="paid">€70,000.00' in page
    assert 'id="figures-built"' in page

    # The next day, Montréal's grant is cancelled: EUR 52,500 of SDC's money goes back.
    with app.app_context(), clock_at(on(date(2026, 11, 27))):
        operations.cancel_grant(
            db.session.get(Grant, montreal_id), actor=f.staff(), reason="The project was abandoned."
        )

    # The stored report still shows, and its files still hold, what it was built with.
    page = text(staff.get(f"/donor-reports/{report_id}"))
    assert 'data-figure="allocated">€175,000.00' in page and 'data-figure="committed">€105,000.00' in page
    pdf = staff.get(f"/donor-reports/{report_id}/pdf")
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "€175,000.00" in pdf_text and "€122,500.00" not in pdf_text
    with app.test_request_context(), force_locale("en"):
        stored = db.session.get(DonorReport, report_id)
        kept = Figures.from_snapshot(stored.figures, donor=stored.donor)
        assert kept.snapshot() == stored.figures
        assert to_csv(kept) == stored.csv.data  # the page's figures are the files' figures

    # A report built now, of the year up to yesterday, shows the cancellation.
    again = _build(app, staff, sdc_id, (date(2026, 1, 1), utcnow().astimezone(MADRID).date() - timedelta(days=1)))
    page = text(staff.get(f"/donor-reports/{again}"))
    assert 'data-figure="allocated">€122,500.00' in page and 'data-figure="committed">€52,500.00' in page


def test_a_report_of_a_period_before_a_cancellation_built_after_it_is_the_one_built_before(app, funded, make_client):
    bogota_id, montreal_id = funded
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        sdc_id = _donor("SDC").id
    first = _build(app, staff, sdc_id, AUTUMN)
    with app.app_context():
        operations.cancel_grant(
            db.session.get(Grant, montreal_id), actor=f.staff(), reason="The project was abandoned."
        )
    second = _build(app, staff, sdc_id, AUTUMN)
    with app.app_context():
        reports = [db.session.get(DonorReport, i) for i in (first, second)]
        assert reports[0].figures == reports[1].figures
        assert reports[0].csv.data == reports[1].csv.data
    pages = [text(staff.get(f"/donor-reports/{i}")) for i in (first, second)]
    figures_of = [p[p.index('id="figures"') : p.index("By region")] for p in pages]
    assert figures_of[0] == figures_of[1]
    # The state as of the period (its code kept in data-state), named in words.
    assert '<td data-state="active">Active</td>' in figures_of[1] and "cancelled" not in figures_of[1].lower()
