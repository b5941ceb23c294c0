"""Grantee reports, and donor reports that reconcile with the fund to the cent."""

import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date
from openpyxl import load_workbook
from pypdf import PdfReader

from fundapp.awards.models import Grant
from fundapp.core.errors import Refused
from fundapp.extensions import db
from fundapp.funding.models import Donor
from fundapp.reporting import operations
from fundapp.reporting.models import DonorReport, GrantReport
from fundapp.reporting.queries import figures

from ..factories import PASSWORD
from ..helpers import commits, run_jobs, text
from ..reviews.conftest import user_by_email

MONEY = [
    "contributed_cents",
    "received_cents",
    "allocated_cents",
    "paid_in_period_cents",
    "paid_to_date_cents",
    "committed_cents",
    "unallocated_cents",
]
YEAR = (date(2026, 1, 1), date(2026, 12, 31))
# A donor report covers days that have ended (it closes the ledger through its last day).
YESTERDAY = (datetime.now(ZoneInfo("Europe/Madrid")).date() - timedelta(days=1)).isoformat()


def _donor(short):
    return db.session.scalar(sa.select(Donor).where(Donor.short_name == short))


@pytest.mark.sqlite
def test_the_sdc_and_osf_reports_reconcile_with_the_fund_to_the_cent(app, funded):
    with app.test_request_context():
        sdc, osf, fund = figures(_donor("SDC"), *YEAR), figures(_donor("OSF"), *YEAR), figures(None, *YEAR)
        for name in MONEY:
            assert getattr(sdc, name) + getattr(osf, name) == getattr(fund, name), name
        assert fund.contributed_cents == 800_000_00 and fund.allocated_cents == 200_000_00
        assert fund.paid_to_date_cents == 80_000_00 and fund.committed_cents == 120_000_00
        assert (sdc.allocated_cents, osf.allocated_cents) == (175_000_00, 25_000_00)
        assert (sdc.paid_to_date_cents, osf.paid_to_date_cents) == (70_000_00, 10_000_00)
        assert {g.city for g in sdc.grants} == {"Bogotá", "Montréal"}
        for region in fund.by_region:
            assert sdc.by_region.get(region, 0) + osf.by_region.get(region, 0) == fund.by_region[region]
        # A period before the payments (20 November) shows the money allocated (1 October) but nothing paid
        # in it; a period before the awards shows nothing allocated.
        early = figures(_donor("SDC"), date(2026, 1, 1), date(2026, 11, 19))
        assert early.allocated_cents == 175_000_00 and early.paid_in_period_cents == 0
        assert figures(_donor("SDC"), date(2026, 1, 1), date(2026, 9, 30)).allocated_cents == 0


def _built(app, staff_client, donor_id, language="en"):
    response = staff_client.post(
        "/donor-reports",
        {"donor": str(donor_id), "period_start": "2026-01-01", "period_end": YESTERDAY, "language": language},
        token_from="/donor-reports",
    )
    assert response.status_code == 302, text(response)
    report_id = int(response.headers["Location"].rsplit("/", 1)[1])
    page = text(staff_client.get(f"/donor-reports/{report_id}"))
    assert "Being built" in page  # the job has not run yet: the page says how far it is
    # The page follows the build by itself through its status (app.js), then shows the report.
    assert staff_client.get(f"/donor-reports/{report_id}/status").get_json() == {"status": "queued", "progress": 0}
    run_jobs(app)
    assert staff_client.get(f"/donor-reports/{report_id}/status").get_json()["status"] == "done"
    return report_id


def test_the_pdf_and_xlsx_hold_the_donor_the_totals_and_each_city(app, funded, make_client):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        sdc_id = _donor("SDC").id
    report_id = _built(app, staff, sdc_id)
    page = text(staff.get(f"/donor-reports/{report_id}"))
    assert 'data-figure="allocated">€175,000.00' in page and 'data-figure="paid">€70,000.00' in page
    assert "Paid out from Jan 1, 2026 to " in page  # the period the figure covers is named
    assert "Paid out by " in page and "Paid out to date" not in page
    # The live dashboard covers everything to date: no separate "in the period" figure.
    officer = make_client()
    officer.login("officer@sdc.example", PASSWORD)
    live = text(officer.get("/donor"))
    assert 'data-figure="paid">' in live and 'data-figure="paid_in_period"' not in live
    pdf = staff.get(f"/donor-reports/{report_id}/pdf")
    assert pdf.headers["Content-Disposition"].startswith("attachment")
    pdf_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    for expected in ["Swiss Agency for Development and Cooperation", "€175,000.00", "€70,000.00", "Bogotá", "Montréal"]:
        assert expected in pdf_text, expected
    book = load_workbook(io.BytesIO(staff.get(f"/donor-reports/{report_id}/xlsx").data))
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(min_row=4, values_only=True)}
    # The report's figures stand as of its last day, and say so (not "to date").
    paid_by = next(label for label in summary if label and label.startswith("Paid out by "))
    assert summary["Allocated to grants"] == 175000 and summary[paid_by] == 70000 and "Paid out to date" not in summary
    assert isinstance(summary["Allocated to grants"], (int, float))
    # The contributions' dates are headed as dates, not as amounts.
    header, *contributions = book["Contributions"].iter_rows(values_only=True)
    assert header[-2:] == ("Pledged on", "Received on") and all(
        row[-1] is None or row[-1].year for row in contributions
    )
    grants = list(book["Grants"].iter_rows(min_row=2, values_only=True))
    assert sum(row[4] for row in grants) == 175000 and {row[1] for row in grants} == {"Bogotá", "Montréal"}
    csv_text = staff.get(f"/donor-reports/{report_id}/csv").get_data(as_text=True)
    assert "grant,IFM-LCS-2025-001,Bogotá" in csv_text
    with app.app_context():
        assert db.session.get(DonorReport, report_id).status == "done"


def test_a_donor_user_cannot_reach_the_other_donors_report(app, funded, make_client):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        osf_id, sdc_id = _donor("OSF").id, _donor("SDC").id
    osf_report = _built(app, staff, osf_id)
    donor = make_client()
    donor.login("officer@sdc.example", PASSWORD)  # the SDC officer
    assert donor.get(f"/donor-reports/{osf_report}").status_code == 404
    assert donor.get(f"/donor-reports/{osf_report}/pdf").status_code == 404
    assert donor.get(f"/donor-reports/{osf_report}/status").status_code == 404
    assert f"/donor-reports/{osf_report}" not in text(donor.get("/donor-reports"))
    response = donor.post(
        "/donor-reports",
        {"donor": str(osf_id), "period_start": "2026-01-01", "period_end": YESTERDAY},
        token_from="/donor-reports",
    )
    assert response.status_code == 404
    response = donor.post(
        "/donor-reports",
        {"donor": "fund", "period_start": "2026-01-01", "period_end": YESTERDAY},
        token_from="/donor-reports",
    )
    assert response.status_code == 404
    own = donor.post(
        "/donor-reports",
        {"donor": str(sdc_id), "period_start": "2026-01-01", "period_end": YESTERDAY},
        token_from="/donor-reports",
    )
    assert own.status_code == 302
    assert donor.get("/donor").status_code == 200 and "Bogotá" in text(donor.get("/donor"))
    assert donor.get("/dashboard").status_code == 403


def test_a_period_that_ends_before_it_starts_is_refused(app, funded, make_client):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    response = staff.post(
        "/donor-reports",
        {"donor": "fund", "period_start": "2026-12-31", "period_end": "2026-01-01", "language": "es"},
        token_from="/donor-reports",
    )
    assert response.status_code == 400 and "The period ends before it starts." in text(response)
    assert '<option value="es" selected>Español</option>' in text(response)  # the language chosen is kept
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DonorReport.id))) == 0


def test_the_same_period_asked_in_two_languages_reads_apart_in_the_list_and_the_files(app, funded, make_client):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        sdc_id = _donor("SDC").id
    french, spanish = _built(app, staff, sdc_id, "fr"), _built(app, staff, sdc_id, "es")
    listing = text(staff.get("/donor-reports"))
    assert '<td data-language="fr">Français</td>' in listing and '<td data-language="es">Español</td>' in listing
    names = {
        staff.get(f"/donor-reports/{report_id}/pdf").headers["Content-Disposition"] for report_id in (french, spanish)
    }
    assert names == {
        f"attachment; filename=sdc-2026-01-01-{YESTERDAY}-fr.pdf",
        f"attachment; filename=sdc-2026-01-01-{YESTERDAY}-es.pdf",
    }


def _interim(grant_id):
    return db.session.scalar(
        sa.select(GrantReport).where(GrantReport.grant_id == grant_id, GrantReport.kind == "interim")
    )


@pytest.mark.sqlite
def test_approval_of_the_interim_report_makes_the_second_tranche_due(app, funded, make_client):
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)  # writes in Spanish
    with app.app_context():
        report = _interim(funded[0])
        report_id = report.id
        lines = [line.id for line in report.grant.application.budget_lines]
        assert not report.grant.tranches[1].is_due
    data = {
        "progress": "Two care blocks open.",
        "results": "600 carers use them.",
        "difficulties": "",
        "reached_women": "540",
        "reached_men": "60",
        "reached_other": "5",
        "activities_held": "12",
        "dimensions": ["recognise"],
        f"spent_{lines[0]}": "30.000,00",
        f"spent_{lines[1]}": "12000",
        "submit_report": "1",
    }
    response = city.post(f"/reports/{report_id}", data, token_from=f"/reports/{report_id}")
    assert response.status_code == 302
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    # Sent: the dashboard lists it for staff to approve, until they have.
    waiting = text(staff.get("/dashboard")).split('id="reports-to-approve"')[1].split("</section>")[0]
    assert f'data-report="{report_id}"' in waiting
    assert re.search(rf'data-report="{report_id}">Bogotá · <a [^>]*>IFM-', waiting)  # the city, then the grant
    assert "1 report to approve" in text(staff.get("/"))  # and their home page counts it
    staff.post(f"/staff/reports/{report_id}/review", {"action": "approve"}, token_from=f"/reports/{report_id}")
    waiting = text(staff.get("/dashboard")).split('id="reports-to-approve"')[1].split("</section>")[0]
    assert f'data-report="{report_id}"' not in waiting
    with app.app_context():
        grant = db.session.get(Grant, funded[0])
        assert _interim(grant.id).state == "approved"
        assert grant.tranches[1].is_due and not grant.tranches[2].is_due
        fund = figures(None, *YEAR)
        assert fund.reached == {"women": 540, "men": 60, "other": 5}


def test_a_final_report_without_its_results_is_kept_but_not_sent(app, funded, make_client):
    """The final report is what the donors read of the results: sent without them, it is saved as
    typed and refused by name, in the city's language, and nothing else changes."""
    with app.app_context():
        report = db.session.scalar(
            sa.select(GrantReport).where(GrantReport.grant_id == funded[0], GrantReport.kind == "final")
        )
        report_id, state = report.id, report.state
        lines = [line.id for line in report.grant.application.budget_lines]
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)  # writes in Spanish
    url = f"/reports/{report_id}"
    data = {
        "progress": "Las tres manzanas del cuidado funcionan en Bosa, Kennedy y Ciudad Bolívar.",
        "results": "  ",
        "difficulties": "",
        "reached_women": "1450",
        "reached_men": "410",
        "reached_other": "25",
        "activities_held": "48",
        f"spent_{lines[0]}": "60.000,00",
        f"spent_{lines[1]}": "40.000,00",
        "submit_report": "1",
    }
    refused = city.post(url, data, token_from=url)
    page = text(refused)
    assert refused.status_code == 400
    assert "Describa los resultados que alcanzó el proyecto" in page
    assert 'class="field has-error"><label for="results">' in page
    with app.app_context():
        report = db.session.get(GrantReport, report_id)
        assert report.state == state and report.submitted_at is None
        assert report.progress.startswith("Las tres manzanas")  # kept, as a draft
    sent = city.post(url, {**data, "results": "1.020 cuidadoras formadas; 40 relevos pagados."}, token_from=url)
    assert sent.status_code == 302
    with app.app_context():
        assert db.session.get(GrantReport, report_id).state == "submitted"


def test_changes_asked_go_back_to_the_city_with_the_message(app, funded, make_client):
    with app.app_context():
        report = _interim(funded[0])
        city_user = user_by_email("focal@bogota.example")
        lines = [line.id for line in report.grant.application.budget_lines]
        operations.save_report(
            report, actor=city_user, values={"progress": "Started."}, spent={lines[0]: 100, lines[1]: None}
        )
        # A line left empty is not reported (no 0 nobody typed): the report is not sent without it.
        with pytest.raises(Refused, match="Give the expenditure of every budget line"):
            operations.submit_report(report, actor=city_user)
        assert {e.budget_line_id: e.spent_cents for e in report.expenditures} == {lines[0]: 100}
        operations.save_report(report, actor=city_user, values={}, spent={lines[1]: 0})
        operations.submit_report(report, actor=city_user)
        operations.request_changes(report, actor=user_by_email("staff@fund.example"), message="Add the receipts.")
        assert report.state == "changes_requested" and report.is_editable


@pytest.mark.parametrize(
    "change, message",
    [
        ({"spent": {999999: 100}}, "not on a line of the grant's budget"),
        ({"values": {"reached_women": -1}}, "Figures cannot be negative."),
        ({"spent": "negative"}, "Expenditure cannot be negative."),
    ],
)
def test_bad_report_input_is_refused(app, funded, change, message):
    with app.app_context():
        report = _interim(funded[0])
        city_user = user_by_email("focal@bogota.example")
        line = report.grant.application.budget_lines[0].id
        spent = {line: -5} if change.get("spent") == "negative" else change.get("spent", {})
        with pytest.raises(Refused, match=message):
            operations.save_report(report, actor=city_user, values=change.get("values", {}), spent=spent)


def test_no_report_on_a_cancelled_grant(app, funded):
    from fundapp.awards import operations as awards

    with app.app_context():
        grant = db.session.get(Grant, funded[1])
        awards.cancel_grant(grant, actor=user_by_email("staff@fund.example"), reason="Stopped.")
        report = _interim(grant.id)
        with pytest.raises(Refused, match="No report is written on a grant that is “Cancelled”"):
            operations.save_report(report, actor=user_by_email("focal@montreal.example"), values={}, spent={})


def test_the_staff_dashboard_shows_the_pipeline_and_money(app, funded, make_client):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    page = text(staff.get("/dashboard"))
    assert 'data-figure="committed">€200,000.00' in page and 'data-figure="paid">€80,000.00' in page
    assert 'data-figure="remaining">€600,000.00' in page and "Reports due in the next 60 days" in page


def test_the_dashboard_counts_what_became_of_each_awarded_grant(app, funded, make_client):
    """An awarded application stays "Awarded"; the dashboard says what became of the grants: here
    Montréal's cancelled after its first tranche, Bogotá's under way. States in workflow order."""
    import re

    from fundapp.awards import operations as awards
    from fundapp.core.timeutil import clock_at

    from .. import factories as f
    from .conftest import on

    with app.app_context():
        with clock_at(on(date(2026, 10, 2))):  # awarded beside the others; its grant not yet answered
            f.awarded("Lima", focal=f.focal_point("Lima", language="es"))
        awards.cancel_grant(
            db.session.get(Grant, funded[1]),
            actor=user_by_email("staff@fund.example"),
            reason="La ville a mis fin au projet.",
        )
        states = dict(db.session.execute(sa.select(Grant.id, Grant.state)).all())
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    page = text(staff.get("/dashboard"))

    def section(section_id):
        return re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.S).group(1)

    grants = re.findall(r"<li>([^<]*)</li>", section("grants"))
    assert states[funded[1]] == "cancelled" and states[funded[0]] in ("accepted", "active")
    # The workflow's order: offered, accepted or active, then the ends (not "Cancelled" first).
    assert grants == ["Offered: awaiting the city: 1", f"{states[funded[0]].title()}: 1", "Cancelled: 1"]
    assert "Awarded: 3" in page


def test_a_period_that_has_not_ended_is_refused_and_closes_nothing(app, funded, make_client):
    from fundapp.funding.models import LedgerClosing

    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    for end in (today, today + timedelta(days=30)):
        response = staff.post(
            "/donor-reports",
            {"donor": "fund", "period_start": "2026-01-01", "period_end": end.isoformat()},
            token_from="/donor-reports",
        )
        assert response.status_code == 400
        # The day as the reader (English here) writes it, not ISO.
        yesterday = format_date(today - timedelta(days=1), "medium", locale="en")
        assert f"A donor report covers days that have ended: end the period on {yesterday} at the latest." in text(
            response
        )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DonorReport.id))) == 0
        assert db.session.scalar(sa.select(sa.func.count(LedgerClosing.id))) == 0


def test_a_grant_declined_before_any_payment_funds_no_care_dimension(app):
    from .. import factories as f

    with app.test_request_context():
        f.fund()
        f.staff()
        f.call()
        live = f.accepted("Bogotá").application
        declined = f.declined("Montréal", focal=None).application
        through = datetime.now(ZoneInfo("Europe/Madrid")).date()
        fund = figures(None, date(2020, 1, 1), through)
        assert {g.city for g in fund.grants} == {"Bogotá", "Montréal"}  # listed, with what each kept
        assert [g.amount_cents for g in fund.grants if g.city == "Montréal"] == [0]
        assert {d: n for d, (n, _c) in fund.by_dimension.items()} == {d: 1 for d in live.dimensions}
        assert declined.dimensions  # it had dimensions: they are not counted


def _report_form(lines, **changes):
    data = {
        "progress": "Dos manzanas del cuidado abiertas en Ciudad Bolívar y Kennedy.",
        "results": "600 cuidadoras usan los servicios.",
        "difficulties": "",
        "reached_women": "540",
        "reached_men": "60",
        "reached_other": "5",
        "activities_held": "12",
        "dimensions": ["recognise", "redistribute"],
        f"spent_{lines[0]}": "30.000,00",
        f"spent_{lines[1]}": "12000",
        "submit_report": "1",
    }
    data.update(changes)
    return data


def _bogota_interim(app, funded, make_client):
    """Bogotá's focal point signed in, the id of its interim report and of its budget lines."""
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)
    with app.app_context():
        report = _interim(funded[0])
        return city, report.id, [line.id for line in report.grant.application.budget_lines]


def test_saving_and_sending_a_report_is_one_commit(app, funded, make_client):
    city, report_id, lines = _bogota_interim(app, funded, make_client)
    url = f"/reports/{report_id}"
    data = _report_form(lines, csrf_token=city.csrf_token(url))
    with commits(app) as made:
        response = city.http.post(url, data=data)
    assert response.status_code == 302
    assert len(made) == 1  # the save, the sending, the audit entries and the mail to staff, together
    with app.app_context():
        assert _interim(funded[0]).state == "submitted"


def test_a_refused_sending_keeps_the_report_saved(app, funded, make_client):
    city, report_id, lines = _bogota_interim(app, funded, make_client)
    response = city.post(f"/reports/{report_id}", _report_form(lines, progress=""), token_from=f"/reports/{report_id}")
    assert response.status_code == 400 and "Describa el avance." in text(response), text(response)[-3000:]
    with app.app_context():
        report = _interim(funded[0])
        assert report.state == "due" and report.submitted_at is None  # not sent...
        assert report.results == "600 cuidadoras usan los servicios."  # ...but what was typed is saved
        assert {e.budget_line_id: e.spent_cents for e in report.expenditures} == {
            lines[0]: 3_000_000,
            lines[1]: 1_200_000,
        }


def test_every_problem_of_a_report_is_marked_in_one_save_and_nothing_is_saved(app, funded, make_client):
    """A negative count, a decimal count, an expenditure that is negative or not a number and a
    narrative too long: all marked beside their fields at the first save, not one per save."""
    city, report_id, lines = _bogota_interim(app, funded, make_client)
    url = f"/reports/{report_id}"
    typed = _report_form(
        lines,
        progress="Manzanas del cuidado. " * 500,  # 11,000 characters
        reached_women="-5",
        reached_men="3,5",
        **{f"spent_{lines[0]}": "-100", f"spent_{lines[1]}": "abc"},
    )
    typed.pop("submit_report")
    response = city.post(url, typed, token_from=url)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    marked = dict(re.findall(r'<textarea id="(\w+)".*?</textarea>\s*<p class="error"[^>]*>([^<]+)</p>', html, re.S))
    assert "progress" in marked  # too long: in the reader's language, by WTForms
    for field in ("reached_women", "reached_men", f"spent_{lines[0]}", f"spent_{lines[1]}"):
        assert re.search(rf'name="{field}"[^>]*>\s*<p class="error" id="{field}-error">', html), field
    with app.app_context():
        report = _interim(funded[0])
        assert report.progress == "" and report.reached_women == 0 and report.expenditures == []


def test_counts_read_in_the_readers_language_while_editable_and_once_sent(app, funded, make_client):
    """Bogotá types 1.450 women reached the Spanish way: its form shows it back so, saving it again
    keeps 1450, and once sent the staff's read-only copy shows 1,450 (not "1450")."""
    city, report_id, lines = _bogota_interim(app, funded, make_client)
    url = f"/reports/{report_id}"
    draft = _report_form(lines, reached_women="1.450", reached_men="1200", activities_held="12")
    del draft["submit_report"]
    assert city.post(url, draft, token_from=url).status_code == 302
    page = text(city.get(url))
    assert re.search(r'id="reached_women" name="reached_women" inputmode="numeric" value="1\.450"', page)
    assert re.search(r'id="reached_men" name="reached_men" inputmode="numeric" value="1\.200"', page)
    assert re.search(r'id="activities_held" name="activities_held" inputmode="numeric" value="12"', page)
    # Sent as the form shows it: the figures are the same.
    sent = dict(draft, reached_women="1.450", reached_men="1.200", submit_report="1")
    assert city.post(url, sent, token_from=url).status_code == 302
    with app.app_context():
        report = _interim(funded[0])
        assert (report.state, report.reached_women, report.reached_men) == ("submitted", 1450, 1200)
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    page = text(staff.get(url))
    assert re.search(r'id="reached_women" name="reached_women" inputmode="numeric" value="1,450" readonly', page)


def test_asking_again_for_the_same_report_opens_the_one_asked_for_before(app, funded, make_client):
    """ "Generate" clicked three times: one report, not three identical ones shown to the donor. The
    same donor and period in another language is another report."""
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        osf_id = _donor("OSF").id
    first = _built(app, staff, osf_id, "en")
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count(DonorReport.id)))
    again = staff.post(
        "/donor-reports",
        {"donor": str(osf_id), "period_start": "2026-01-01", "period_end": YESTERDAY, "language": "en"},
        token_from="/donor-reports",
    )
    assert again.status_code == 302 and again.headers["Location"].endswith(f"/donor-reports/{first}")
    assert "The same report (donor, period and language) was asked for on" in text(staff.get(again.headers["Location"]))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(DonorReport.id))) == before
    assert _built(app, staff, osf_id, "fr") != first


def test_a_refused_sending_lists_every_problem_each_linked_to_its_marked_field(app, funded, make_client):
    """Bogotá sends its final report empty: the banner lists the three problems (not the first one
    alone), each linking to its field, and each refused input says it is invalid and which message
    describes it."""
    with app.app_context():
        report = db.session.scalar(
            sa.select(GrantReport).where(GrantReport.grant_id == funded[0], GrantReport.kind == "final")
        )
        report_id = report.id
        lines = [line.id for line in report.grant.application.budget_lines]
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)
    url = f"/reports/{report_id}"
    empty = _report_form(lines, progress="", results=" ", **{f"spent_{lines[0]}": "", f"spent_{lines[1]}": "2.500,00"})
    response = city.post(url, empty, token_from=url)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    summary = page.split('id="report-problems"', 1)[1].split("</div>", 1)[0]
    links = re.findall(r'<a href="#([^"]+)">([^<]+)</a>', summary)
    assert [anchor for anchor, _message in links] == ["progress", "results", "expenditure"]
    assert links[0][1] == "Describa el avance."
    assert 'class="flash flash-error"' not in page  # not the first problem alone, above the list
    for anchor, _message in links:
        assert re.search(rf'id="{anchor}"', page), anchor
    # Each refused field: aria-invalid and its message, by id.
    for name in ("progress", "results"):
        assert re.search(rf'<textarea id="{name}"[^>]*aria-invalid="true" aria-describedby="{name}-error"', page), name
        assert f'<p class="error" id="{name}-error">' in page
    assert '<p class="error" id="expenditure-error">' in page
    assert re.search(rf'name="spent_{lines[0]}"[^>]*aria-invalid="true" aria-describedby="expenditure-error"', page)
    assert not re.search(rf'name="spent_{lines[1]}"[^>]*aria-invalid', page)  # given: not refused
    assert "difficulties-error" not in page


def test_a_sent_report_says_when_it_was_sent_and_that_it_can_no_longer_be_changed(app, funded, make_client):
    city, report_id, lines = _bogota_interim(app, funded, make_client)
    url = f"/reports/{report_id}"
    assert 'id="read-only-note"' not in text(city.get(url))  # still to write: no note
    assert city.post(url, _report_form(lines), token_from=url).status_code == 302
    with app.app_context():
        sent_at = _interim(funded[0]).submitted_at
        assert sent_at is not None
    page = text(city.get(url))
    note = page.split('id="read-only-note">', 1)[1].split("</p>", 1)[0]
    # In Bogotá's focal point's language, on their clock; the form is read-only.
    assert note.startswith("Presentado el ")
    # Changed only when the programme team asks (English until the catalogue has the sentence).
    assert "programme team asks for changes" in note or "equipo del programa" in note
    assert "This report cannot be changed now." not in note
    assert "readonly" in page.split('id="progress"', 1)[1].split(">", 1)[0]
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    staff_note = text(staff.get(url)).split('id="read-only-note">', 1)[1].split("</p>", 1)[0]
    assert "Submitted on " in staff_note and "This report cannot be changed now." in staff_note
