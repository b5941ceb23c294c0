"""Hostile input is refused with a message (or stripped where harmless), never a server error, and
nothing is half-written: ids beyond the database's range, huge page numbers, NUL bytes, absurd
budgets, amounts with three decimals, dates in year 1 or 9999, a CSV with NUL bytes, an office
document that unpacks to hundreds of megabytes."""

import io
import zipfile
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.applications import operations as applications
from fundapp.applications.models import Application, BudgetLine
from fundapp.core.documents import make_document
from fundapp.core.errors import Refused
from fundapp.core.money import MoneyError, parse_eur
from fundapp.extensions import db
from fundapp.funding.models import Contribution
from fundapp.members.models import Member

from .. import factories as f
from ..helpers import text

pytestmark = pytest.mark.sqlite


@pytest.fixture
def staff_client(app, make_client):
    with app.app_context():
        f.staff()
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    return client


@pytest.mark.parametrize("number", ["2147483648", "9223372036854775808", "99999999999999999999"])
def test_an_id_beyond_the_database_s_range_is_not_found(app, staff_client, number):
    for url in (f"/members/{number}", f"/grants/{number}", f"/staff/calls/{number}/decisions", f"/reports/{number}"):
        assert staff_client.get(url).status_code == 404, url


def test_a_huge_or_odd_page_number_is_a_page_not_an_error(app, staff_client):
    app.config["PAGE_SIZE"] = 2
    with app.app_context():
        for city in ("Bogotá", "Dakar", "Montréal", "São Paulo", "Ciudad de México"):
            f.member(city)

    def rows(page):
        html = text(staff_client.get(f"/members/?page={page}"))
        return html[html.index("<tbody") : html.index("</tbody>")]

    last = rows(3)
    assert last.count("<tr") == 1
    for page in ("99999999999999999999", "2147483647", "4"):
        assert rows(page) == last, page  # beyond the end: the last page
    for page in ("-3", "%00", "deux"):
        assert staff_client.get(f"/members/?page={page}").status_code == 200, page


def test_nul_and_control_characters_are_stripped_from_what_is_stored(app, staff_client):
    assert staff_client.get("/members/?q=Bogot%00%C3%A1").status_code == 200
    response = staff_client.post(
        "/members/new",
        {"name": "Bogot\x00á\x1b", "country": "CO", "region": "latin_america_caribbean", "membership": "full"},
        token_from="/members/new",
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(Member.name)).all() == ["Bogotá"]


def test_a_textarea_s_line_breaks_are_stored_as_typed_paragraphs(app, make_client):
    """Browsers send a textarea's line breaks as CRLF: stored as "\n", a call's text keeps its
    paragraphs on the public page (a body saved with CRLF read as one block); text stored with
    CRLF before reads as paragraphs too."""
    from fundapp.calls.models import Call
    from fundapp.core.inputs import paragraphs

    with app.app_context():
        f.fund()
        staff = f.staff()
        call = f.call(actor=staff)
        code, call_id = call.code, call.id
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    body = "Primer párrafo: el cuidado.\r\n\r\nSegundo párrafo: las manzanas.\r\n\r\nTercero."
    # What the browser sends for a message typed over three paragraphs, cleaned on the way in.
    with app.test_request_context(method="POST", data={"body": body}):
        from flask import request

        assert request.form["body"] == body.replace("\r\n", "\n")
    with app.app_context():  # a body stored with CRLF, as before line breaks were cleaned
        call = db.session.get(Call, call_id)
        f.edit_call(call, body={**call.body, "en": body})
    page = text(client.get(f"/calls/{code}"))
    for paragraph in ("Primer párrafo: el cuidado.", "Segundo párrafo: las manzanas.", "Tercero."):
        assert f'<p class="typed">{paragraph}</p>' in page
    assert paragraphs("Uno.\r\n \r\nDos.\n\nTres.") == ["Uno.", "Dos.", "Tres."]


def test_a_path_with_a_nul_names_nothing(app, staff_client):
    assert staff_client.get("/calls/LCS%00-2026").status_code == 404


def test_a_budget_of_thousands_of_absurd_lines_is_refused_and_nothing_is_saved(app):
    with app.test_request_context():
        application = f.draft("Bogotá")
        focal = f.focal_point("Bogotá")
        before = sorted((b.description, b.requested_cents) for b in application.budget_lines)
        lines = [
            {"category": "personnel", "description": f"Línea {n}", "requested_cents": 10**15, "cofunding_cents": 10**15}
            for n in range(3000)
        ]
        problems = applications.save_draft(
            application, actor=focal, values={"budget": lines}, expected_version=application.version
        )
        assert problems["budget"] == "A budget has at most 100 lines."
        db.session.expire_all()
        again = db.session.get(Application, application.id)
        assert sorted((b.description, b.requested_cents) for b in again.budget_lines) == before
        one_absurd = [{"category": "personnel", "description": "Coordinadoras", "requested_cents": 10**15}]
        problems = applications.save_draft(
            again, actor=focal, values={"budget": one_absurd}, expected_version=again.version
        )
        assert problems["budget"].startswith("Budget not saved, because of line 1: A budget line cannot be above")
        assert db.session.scalar(sa.select(sa.func.count(BudgetLine.id))) == len(before)


@pytest.mark.parametrize("typed", ["0.001", "0,001", "1.000,001", "12.3456"])
def test_an_amount_with_more_than_two_decimals_is_refused_never_read_as_thousands(typed):
    with pytest.raises(MoneyError):
        parse_eur(typed)


@pytest.mark.parametrize("typed, cents", [("1.000", 100000), ("100.000,00", 10000000), ("0.5", 50), ("0,05", 5)])
def test_amounts_people_type_still_read_as_meant(typed, cents):
    assert parse_eur(typed) == cents


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_a_contribution_dated_in_year_1_or_9999_is_refused_next_to_the_date(app, staff_client, day):
    with app.app_context():
        donor = f.fund()["SDC"].donor
        donor_id, before = donor.id, db.session.scalar(sa.select(sa.func.count(Contribution.id)))
    url = f"/staff/donors/{donor_id}/contributions/new"
    assert "pledged_on" in text(staff_client.get(url))
    response = staff_client.post(
        url,
        {"amount": "1000", "currency": "EUR", "rate_to_eur": "1", "pledged_on": day, "received_on": ""},
        token_from=url,
    )
    assert response.status_code in (200, 400)
    assert "Give a date between 2000 and 2100." in text(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Contribution.id))) == before


@pytest.mark.parametrize(
    "typed, field, message",
    [
        ({"currency": "XYZ", "rate_to_eur": "1.1"}, "currency", "Use a three-letter currency code"),
        ({"currency": "EUR", "rate_to_eur": "0.5"}, "rate_to_eur", "An amount in EUR has no exchange rate"),
        (
            {"pledged_on": "2026-03-01", "received_on": "2026-02-01"},
            "received_on",
            "The money cannot be received before it was pledged.",
        ),
        ({"received_on": "2099-01-01"}, "received_on", "it cannot be dated after today"),
        # An amount or a rate mistyped: a billion euros is no contribution (and no overflow, no 500).
        (
            {"amount": "9999999999999", "currency": "USD", "rate_to_eur": "999"},
            "amount",
            "a contribution cannot be above €1,000,000,000.00. Check the amount and the rate.",
        ),
        ({"amount": "9999999999999", "currency": "USD", "rate_to_eur": "99999999"}, "amount", "cannot be above"),
        ({"currency": "USD", "rate_to_eur": "123456789"}, "rate_to_eur", "This number is too large."),
        ({"currency": "USD", "rate_to_eur": "-0.92"}, "rate_to_eur", "The exchange rate must be more than zero."),
        ({"currency": "USD", "rate_to_eur": "0.123456789012"}, "rate_to_eur", "Use at most 10 decimals."),
        ({"amount": "mil dólares", "currency": "USD", "rate_to_eur": "0.92"}, "amount", "Enter an amount, such as"),
        ({"amount": "1", "currency": "VND", "rate_to_eur": "0.0000354"}, "rate_to_eur", "less than one euro cent"),
    ],
)
def test_a_contribution_that_cannot_be_is_refused_beside_its_field(app, staff_client, typed, field, message):
    """An unknown currency, a rate for euros, a receipt before its pledge or in the future: each is
    refused by name (never silently changed), and nothing is recorded."""
    with app.app_context():
        donor = f.fund()["SDC"].donor
        donor_id, before = donor.id, db.session.scalar(sa.select(sa.func.count(Contribution.id)))
    url = f"/staff/donors/{donor_id}/contributions/new"
    data = {
        "amount": "25000",
        "currency": "EUR",
        "rate_to_eur": "",
        "pledged_on": "",
        "received_on": "",
        "restriction_region": "",
    }
    response = staff_client.post(url, {**data, **typed}, token_from=url)
    assert response.status_code == 400 and message in text(response)
    assert "Enter an amount in euros" not in text(response)  # an amount in dollars is not asked in euros
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Contribution.id))) == before


def test_a_contribution_in_dong_keeps_its_rate_to_ten_decimals(app, staff_client):
    with app.app_context():
        donor_id = f.fund()["SDC"].donor.id
    url = f"/staff/donors/{donor_id}/contributions/new"
    data = {"amount": "50.000.000.000", "currency": "VND", "rate_to_eur": "0,0000354", "restriction_region": ""}
    assert staff_client.post(url, data, token_from=url).status_code == 302
    with app.app_context():
        c = db.session.scalar(sa.select(Contribution).where(Contribution.currency == "VND"))
        assert (c.amount_original_cents, c.rate_to_eur, c.eur_cents) == (
            50_000_000_000_00,
            Decimal("0.0000354"),
            1_770_000_00,
        )
    assert "0.0000354" in text(staff_client.get(f"/staff/donors/{donor_id}"))
    # Its edit form shows the rate whole, so a save that changes only the note keeps the euros.
    with app.app_context():
        contribution_id = db.session.scalar(sa.select(Contribution.id).where(Contribution.currency == "VND"))
    edit = f"/staff/donors/contributions/{contribution_id}/edit"
    assert 'value="0.0000354"' in text(staff_client.get(edit))
    resaved = {**data, "rate_to_eur": "0.0000354", "amount": "50,000,000,000", "note": "Convenio 2027"}
    assert staff_client.post(edit, resaved, token_from=edit).status_code == 302
    with app.app_context():
        c = db.session.get(Contribution, contribution_id)
        assert (c.rate_to_eur, c.eur_cents, c.note) == (Decimal("0.0000354"), 1_770_000_00, "Convenio 2027")


def test_a_call_closing_in_year_9999_is_refused_not_an_error(app, staff_client):
    with app.app_context():
        f.fund()
    page = text(staff_client.get("/staff/calls/new"))
    assert 'name="closes_at"' in page
    response = staff_client.post(
        "/staff/calls/new",
        {
            "code": "LCS-2027",
            "title_en": "Local care systems",
            "opens_at": "2027-01-01T09:00",
            "closes_at": "9999-12-31T23:59",
        },
        token_from="/staff/calls/new",
    )
    assert response.status_code in (200, 400) and "Give a date between 2000 and 2100." in text(response)


def test_a_member_csv_with_nul_bytes_is_refused_with_the_line(app, staff_client):
    data = "name,country,region,membership\nBarcelona,ES,europe,full\nBogot\x00á,CO,latin_america_caribbean,full\n"
    response = staff_client.post(
        "/members/import",
        {"file": (io.BytesIO(data.encode()), "members.csv")},
        token_from="/members/import",
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 400)
    page = text(response)
    assert "control characters" in page and "<td>3</td>" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Member.id))) == 0


def _bomb(ext):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", b"\x00" * (250 * 1024 * 1024))  # 250 MB of zeros, ~250 KB packed
        archive.writestr("word/document.xml", b"<w:document/>")
    return buffer.getvalue()


@pytest.mark.parametrize("ext", ["docx", "odt"])
def test_an_office_document_that_unpacks_to_hundreds_of_megabytes_is_refused(app, ext):
    data = _bomb(ext)
    assert len(data) < 1024 * 1024
    with app.test_request_context(), pytest.raises(Refused) as refused:
        make_document(filename=f"plan.{ext}", data=data, stored_name="plan")
    assert "unpacks to far more" in str(refused.value.message)


def test_a_damaged_office_document_is_refused_as_not_what_it_claims(app):
    data = b"PK\x03\x04" + b"\x00" * 200 + b"PK\x05\x06" + b"\x00" * 18
    with app.test_request_context(), pytest.raises(Refused) as refused:
        make_document(filename="plan.docx", data=data, stored_name="plan")
    assert "does not match" in str(refused.value.message)
