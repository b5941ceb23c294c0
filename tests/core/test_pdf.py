"""The shared PDF base: deterministic bytes, and every member's name as written."""

import io

import pytest
from pypdf import PdfReader

from fundapp.members.operations import import_bundled_members
from fundapp.members.pdf import directory_pdf
from fundapp.members.queries import all_members

pytestmark = pytest.mark.sqlite

NAMES = ["Chișinău", "Muğla", "São Paulo", "Xi’an", "Yaoundé", "Malé"]


def _text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_the_member_directory_is_byte_identical_twice_and_prints_every_name(app):
    with app.test_request_context():
        import_bundled_members()
        members = all_members()
        first = directory_pdf(members)
        second = directory_pdf(members)
    assert first == second
    assert first.startswith(b"%PDF")
    text = _text(first)
    for name in NAMES:
        assert name in text
    assert "Page 1 of" in text
    assert len(PdfReader(io.BytesIO(first)).pages) >= 2


def test_the_pdf_embeds_its_unicode_font(app):
    from fundapp.core import pdf

    with app.test_request_context():
        data = pdf.render([pdf.para("Chișinău")], title="t")
    fonts = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts.add(font["/BaseFont"])
            descendant = font.get("/DescendantFonts")
            if descendant:
                assert "/FontFile2" in descendant[0].get_object()["/FontDescriptor"]
    assert any("DejaVuSans" in f for f in fonts)


def test_staff_download_the_directory_as_an_attachment(app, client):
    from ..helpers import make_user

    with app.app_context():
        import_bundled_members()
        make_user("staff@fund.example", "staff")
    client.login("staff@fund.example")
    response = client.get("/members/directory.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "Muğla" in _text(response.data)
