"""Donor reports and grantee reports show people labels in their language, never a state code or a
raw float; the codes stay in data attributes for scripts."""

import io
import re
from html import unescape

import pytest
from flask_babel import force_locale, gettext
from openpyxl import load_workbook

from fundapp.accounts.models import User
from fundapp.awards.models import GRANT_WORKFLOW
from fundapp.core.money import parse_eur
from fundapp.extensions import db
from fundapp.reporting.models import DONOR_REPORT_STATES, DonorReport

from ..factories import PASSWORD
from ..helpers import text
from .test_reports import _built, _donor, _interim

CODED = re.compile(r'<td data-(state|status)="([a-z_]+)">(.*?)</td>', re.S)


def _label(app, language, label):
    with app.test_request_context(), force_locale(language):
        return str(label)


def _cells(page):
    """(code, what the cell says) for every table cell that carries a state or status code."""
    return [(code, unescape(re.sub(r"<[^>]+>", "", shown)).strip()) for _kind, code, shown in CODED.findall(page)]


# Not on SQLite: _built sees the report being built, and the embedded default builds it at once.
@pytest.mark.parametrize("language", ["fr", "es"])
def test_donor_report_pages_and_files_name_states_in_the_readers_language(app, funded, make_client, language):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        sdc_id = _donor("SDC").id
        db.session.scalar(db.select(User).filter_by(email="officer@sdc.example")).language = language
        db.session.commit()
    report_id = _built(app, staff, sdc_id, language=language)
    with app.app_context():
        assert db.session.get(DonorReport, report_id).status == "done"
    donor = make_client()
    donor.login("officer@sdc.example", PASSWORD)  # reads the pages in `language`

    listing = text(donor.get("/donor-reports"))
    cells = _cells(listing)
    assert ("done", _label(app, language, DONOR_REPORT_STATES["done"])) in cells, cells
    for code, shown in cells:
        assert shown and shown != code and code not in shown.split(), (code, shown)

    detail = text(donor.get(f"/donor-reports/{report_id}"))
    grant_cells = [(code, shown) for code, shown in _cells(detail) if code in GRANT_WORKFLOW.state_names()]
    assert len(grant_cells) == 2, grant_cells  # Bogotá's and Montréal's grants, first tranches paid
    for code, shown in grant_cells:
        assert shown == _label(app, language, GRANT_WORKFLOW.staff_label(code)) and shown != code
    # The report's own files, built in its language, name the states the same way.
    book = load_workbook(io.BytesIO(donor.get(f"/donor-reports/{report_id}/xlsx").data))
    with app.test_request_context(), force_locale(language):
        sheet = book[gettext("Grants")]
    states = {row[6] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert states == {shown for _code, shown in grant_cells}, states
    # ...and the donor by its name in that language, as the report's page does.
    with app.app_context():
        name, english = _donor("SDC").name_in(language), _donor("SDC").name
    written = {str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v}
    assert name != english and name in written and english not in written
    # The CSV is for machines: it keeps the codes.
    csv_text = donor.get(f"/donor-reports/{report_id}/csv").get_data(as_text=True)
    assert all(f",{code}," in csv_text for code, _shown in grant_cells)


@pytest.mark.sqlite
def test_a_report_being_built_says_so_in_words(app, funded, make_client):
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    with app.app_context():
        sdc_id = _donor("SDC").id
    staff.post(
        "/donor-reports",
        {"donor": str(sdc_id), "period_start": "2026-01-01", "period_end": "2026-06-30", "language": "en"},
        token_from="/donor-reports",
    )
    with app.app_context():
        report = db.session.scalar(db.select(DonorReport))
        if report.status == "done":  # the embedded default ran the job already: show it as queued
            report.status, report.progress = "queued", 0
            db.session.commit()
    page = text(staff.get("/donor-reports"))
    assert '<td data-status="queued">Waiting to be built (0% done)</td>' in page


@pytest.mark.sqlite
@pytest.mark.parametrize("email,shown", [("staff@fund.example", "€30,000.00"), ("focal@bogota.example", "30.000,00 €")])
def test_spent_amounts_are_shown_as_money_and_read_back_the_same(app, funded, make_client, email, shown):
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)  # writes in Spanish
    with app.app_context():
        report = _interim(funded[0])
        report_id = report.id
        lines = [line.id for line in report.grant.application.budget_lines]
    data = {
        "progress": "Two care blocks open.",
        "results": "600 carers use them.",
        "difficulties": "",
        "reached_women": "540",
        "reached_men": "60",
        "reached_other": "5",
        "activities_held": "12",
        f"spent_{lines[0]}": "30.000,00",
        f"spent_{lines[1]}": "12000",
        "save_report": "1",
    }
    assert city.post(f"/reports/{report_id}", data, token_from=f"/reports/{report_id}").status_code == 302
    reader = city if email == "focal@bogota.example" else make_client()
    if reader is not city:
        reader.login(email, PASSWORD)
    page = text(reader.get(f"/reports/{report_id}"))
    value = re.search(rf'name="spent_{lines[0]}"[^>]*value="([^"]*)"', page).group(1)
    assert unescape(value).replace("\xa0", " ") == shown
    assert "30000.0" not in page and "12000.0" not in page
    assert parse_eur(unescape(value)) == 30_000_00  # saving the page as shown keeps the amount
