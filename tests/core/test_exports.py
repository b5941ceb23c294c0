"""Exports are data, never formulas: what a person typed is text in every CSV and XLSX file."""

import csv
import io
import zipfile
from datetime import date, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from fundapp.applications.models import Application
from fundapp.calls.models import Call
from fundapp.core.exports import csv_cell, csv_text, xlsx_append
from fundapp.extensions import db
from fundapp.funding.models import Donor

from .. import factories as f
from ..helpers import text

EVIL = '=HYPERLINK("http://evil.example","x")'


@pytest.mark.parametrize(
    "typed",
    [EVIL, "+34 600 000 000", "-2+3", "@SUM(A1:A9)", "\t=1+1", "\r=1+1", "=1+1"],
)
def test_text_that_starts_like_a_formula_gets_a_quote_in_csv(typed):
    assert csv_cell(typed) == "'" + typed
    (row,) = csv.reader(io.StringIO(csv_text([[typed]]).lstrip("\ufeff")))
    assert row == ["'" + typed]


def test_other_text_and_numbers_are_written_as_they_are():
    assert csv_cell("Bogotá") == "Bogotá" and csv_cell("Yaoundé – soins") == "Yaoundé – soins"
    assert csv_cell("1 200 aidantes") == "1 200 aidantes"
    # Numbers stay numbers, negative ones too: only text is neutralised.
    assert csv_cell(Decimal("-6666.67")) == Decimal("-6666.67") and csv_cell(-3) == -3
    assert csv_cell(None) == "" and csv_cell(date(2026, 11, 20)) == "2026-11-20"
    assert csv_text([["Montréal", Decimal("-12.50"), 7, "-12.50"]]) == "\ufeffMontréal,-12.50,7,'-12.50\r\n"


def test_in_xlsx_typed_text_is_a_string_cell_and_numbers_are_numbers():
    book = Workbook()
    xlsx_append(book.active, [EVIL, Decimal("-12.50"), -3, "#N/A", None, "São Paulo", date(2026, 11, 20)])
    out = io.BytesIO()
    book.save(out)
    cells = load_workbook(io.BytesIO(out.getvalue())).active[1]
    assert [c.value for c in cells[:4]] == [EVIL, Decimal("-12.5"), -3, "#N/A"]
    assert [c.data_type for c in cells[:4]] == ["s", "n", "n", "s"]
    assert cells[0].quotePrefix and not cells[5].quotePrefix
    assert cells[6].value.date() == date(2026, 11, 20)
    assert _formulas(out.getvalue()) == 0


def _formulas(xlsx_bytes):
    """How many formula elements the workbook's sheets hold."""
    with zipfile.ZipFile(io.BytesIO(xlsx_bytes)) as archive:
        return sum(
            archive.read(n).count(b"<f>") + archive.read(n).count(b"<f ")
            for n in archive.namelist()
            if n.startswith("xl/worksheets/")
        )


def _csv_rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


@pytest.fixture
def typed_formula(app, make_client):
    """Bogotá's focal point types EVIL as the project's title on the application page and sends it;
    the panel scores it (a reviewer's comment starting with "-"), staff award EUR 88,000, the city
    accepts, the first tranche is paid. Montréal's application is reviewed beside it.
    Returns (call id, Bogotá's application id)."""
    with app.app_context():
        the_call = f.call()
        f.staff()
        application = f.draft("Bogotá", the_call=the_call)
        call_id, application_id, version = the_call.id, application.id, application.version
    city = make_client()
    city.login("focal@bogota.example", f.PASSWORD)
    edit = f"/applications/{application_id}/edit"
    response = city.post(edit, {"title": EVIL, "version": str(version)}, token_from=edit)
    assert response.status_code == 302, text(response)
    response = city.post(
        f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check"
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.title == EVIL and application.reference == "IFM-LCS-2025-001"
        staff = f.staff()
        f.s.screen(application, staff)
        for person in f.panel(application.call.reviewers_per_application):
            f.s.assign(application, person, staff)
        f.s.review_all(application, f.STRONG, comment="-10% on furniture would still work.", recommendation="fund")
        grant = f.s.accept(f.s.award(application, staff, 88_000_00), f.focal_point("Bogotá"))
        f.s.pay_due(grant, staff)
        f.reviewed("Montréal", the_call=db.session.get(Call, call_id))
    return call_id, application_id


def _staff(make_client):
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    return client


def test_the_applications_csv_holds_the_title_as_text(app, typed_formula, make_client):
    call_id, _application_id = typed_formula
    rows = _csv_rows(_staff(make_client).get(f"/staff/calls/{call_id}/applications?format=csv"))
    bogota = next(r for r in rows if r["city"] == "Bogotá")
    assert bogota["title"] == "'" + EVIL
    assert bogota["requested_eur"] == "100000.00" and bogota["reference"] == "IFM-LCS-2025-001"
    montreal = next(r for r in rows if r["city"] == "Montréal")
    assert montreal["title"] == "Maisons du soin de quartier à Montréal"


def test_the_ranking_and_review_csvs_hold_typed_text_as_text(app, typed_formula, make_client):
    call_id, application_id = typed_formula
    staff = _staff(make_client)
    rows = _csv_rows(staff.get(f"/staff/calls/{call_id}/ranking?format=csv"))
    bogota = next(r for r in rows if r["city"] == "Bogotá")
    assert bogota["title"] == "'" + EVIL and bogota["rank"] == "1"
    assert bogota["requested_eur"] == "100000.00" and Decimal(bogota["ranking_score"]) > 0
    reviews = _csv_rows(staff.get(f"/staff/applications/{application_id}/reviews?format=csv"))
    assert {r["comment_for_applicant"] for r in reviews} == {"'-10% on furniture would still work."}


def test_the_donor_report_xlsx_and_csv_hold_the_title_as_text(app, typed_formula):
    # The grant was awarded today, and a stored report covers days that have ended (it closes the
    # ledger), so the files are those of today's figures, made by the report's own writers.
    from fundapp.reporting.exports import to_csv, to_xlsx
    from fundapp.reporting.queries import figures

    with app.test_request_context():
        from sqlalchemy import select

        sdc = db.session.scalar(select(Donor).where(Donor.short_name == "SDC"))
        through = date.today() + timedelta(days=1)  # today wherever the fund is
        report = figures(sdc, through - timedelta(days=60), through)
        xlsx, csv_text = to_xlsx(report), to_csv(report)
        if isinstance(csv_text, bytes):
            csv_text = csv_text.decode("utf-8-sig")

    assert _formulas(xlsx) == 0
    sheet = load_workbook(io.BytesIO(xlsx))["Grants"]
    header = [c.value for c in sheet[1]]
    (row,) = [r for r in sheet.iter_rows(min_row=2) if r[0].value == "IFM-LCS-2025-001"]
    title = row[header.index("Project")]
    assert title.value == EVIL and title.data_type == "s" and title.quotePrefix
    amount = row[header.index("Amount")]
    assert amount.data_type == "n" and 0 < amount.value <= 88000  # SDC's part of the grant, a number

    rows = list(csv.reader(io.StringIO(csv_text.lstrip("\ufeff"))))
    header = rows[0]
    (grant,) = [r for r in rows if r[:2] == ["grant", "IFM-LCS-2025-001"]]
    assert grant[header.index("project")] == "'" + EVIL and grant[header.index("city")] == "Bogotá"
    assert Decimal(grant[header.index("amount_eur")]) > 0
