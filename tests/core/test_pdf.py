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


def test_a_table_widens_a_narrow_column_rather_than_cut_a_word_and_keeps_its_width(app):
    """A grant's state in Spanish ("Rechazada", "Cancelada") in the narrow last column of a donor
    report's table: reportlab cut such words in two ("Rechaza/da"); the column now takes the
    room from the wide ones, and the table stays as wide as asked."""
    from reportlab.platypus import Paragraph

    from fundapp.core import pdf

    rows = [
        ["Subvención", "Ciudad", "Estado"],
        ["IFM-2026-0042", "Bogotá", "Rechazada"],
        ["IFM-2026-0043", "Ciudad de México", "Cancelada"],
        ["IFM-2026-0044", "São Paulo", "Activa"],
    ]
    widths = [100, 330, 40]
    with app.test_request_context():
        table = pdf.table(rows, col_widths=widths)
        table.wrap(sum(widths), 800)
        assert abs(sum(table._colWidths) - sum(widths)) < 0.01
        assert (
            table._colWidths[2] > 40 and 330 - table._colWidths[1] > 100 - table._colWidths[0]
        )  # mostly from the city column
        for row in table._cellvalues:
            for cell in row:
                (cell,) = cell if isinstance(cell, (list, tuple)) else (cell,)  # reportlab wraps flowables
                assert isinstance(cell, Paragraph)
                if len(cell.text.split()) == 1:
                    assert len(cell.blPara.lines) == 1, cell.text
        # Columns wide enough already are left as they are.
        assert pdf.fit_words(rows, [120, 250, 100]) == [120, 250, 100]


def test_a_typed_paragraph_keeps_its_single_line_breaks(app):
    """Milestones typed one a line stay one a line in a PDF (reportlab alone runs them together)."""
    from fundapp.core import pdf

    with app.app_context():
        data = pdf.render([pdf.typed("Mes 3: 2 escuelas abiertas\nMes 12: 5 escuelas & <redes>")], title="Hitos")
    lines = [line.strip() for line in PdfReader(io.BytesIO(data)).pages[0].extract_text().splitlines()]
    assert "Mes 3: 2 escuelas abiertas" in lines and "Mes 12: 5 escuelas & <redes>" in lines
