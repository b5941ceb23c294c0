"""The award letter reads its data in a fixed number of statements, and core.pdf's quick plain-text
paragraphs print exactly what reportlab's parser would (not timed: see scripts/bench/inproc.py)."""

import io
from xml.sax.saxutils import escape

import pytest
from pypdf import PdfReader
from reportlab.platypus import Paragraph
from sqlalchemy import event

from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Decision
from fundapp.calls import operations as calls
from fundapp.calls.models import Call
from fundapp.core import pdf
from fundapp.extensions import db

from .conftest import awards_call_with, reviewed, staff_user


def _pdf_text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def _award(call_id, city):
    application_id = reviewed(call_id, city)
    decision = operations.decide(
        db.session.get(Application, application_id), "award", actor=staff_user(), amount_cents=100_000_00
    )
    return decision.id


def _render_counting(decision_id):
    """(statements sent while rendering, the PDF) for the decision loaded in a fresh session, as the
    letter job has it."""
    db.session.remove()
    decision = db.session.get(Decision, decision_id)
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        data = operations.render_letter(decision)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return statements, data


def test_an_award_letter_reads_the_same_few_statements_whatever_its_tranches_and_donors(app, fund, staff):
    one_tranche_one_donor = awards_call_with(
        app, code="ONE-2025", tranche_schedule=[["acceptance", 100]], envelope={"SDC": 200_000_00}
    )
    three_tranches_two_donors = awards_call_with(app, code="TWO-2025", envelope={"SDC": 200_000_00, "OSF": 100_000_00})
    with app.test_request_context():
        small = _award(one_tranche_one_donor, "Bogotá")
        large = _award(three_tranches_two_donors, "Quito")
        for decision_id, tranches, allocations in ((small, 1, 1), (large, 3, 2)):
            grant = db.session.get(Decision, decision_id).grant
            assert (len(grant.tranches), len(grant.allocations)) == (tranches, allocations)

        few, small_pdf = _render_counting(small)
        many, large_pdf = _render_counting(large)

    assert len(many) == len(few) <= 3, many
    text = " ".join(_pdf_text(large_pdf).split())  # Quito writes in Spanish: the donors' Spanish names
    assert "Agencia Suiza para el Desarrollo y la Cooperación y Fundaciones para una Sociedad Abierta." in text
    assert "1 tras la aceptación de la subvención 40.000,00 €" in text
    assert "3 tras la aprobación del informe final 20.000,00 €" in text
    assert "Página 1 de 1" in text
    assert "Fundaciones para una Sociedad Abierta" not in " ".join(_pdf_text(small_pdf).split())


PLAIN_TEXTS = [
    "Payment schedule",
    "Chișinău, Muğla, Xi’an — 100 000,00 €",
    "  spaces   inside\tand\naround lines \n\n second line ",
    " ",
    "",
    "a 'quoted' \"text\"; 50% ok?",
    "x" * 300 + " long words " * 40,
]
MARKUP_TEXTS = ["Tom & Jerry", "<b>not bold</b>", "a > b", "&amp; stays as typed"]


@pytest.mark.parametrize("style", ["body", "small", "title", "h2", "right"])
def test_plain_paragraphs_are_those_the_parser_makes(app, style):
    for text in PLAIN_TEXTS + MARKUP_TEXTS:
        quick = pdf.para(text, style)
        parsed = Paragraph(escape(text), pdf.styles()[style])
        assert quick.text == parsed.text
        assert [f.__dict__ for f in quick.frags] == [f.__dict__ for f in parsed.frags], text
    # Never the same lists shared by two paragraphs (the parser gives each its own).
    first, second = pdf.para("one", style), pdf.para("two", style)
    assert first.frags[0].us_lines is not second.frags[0].us_lines
    assert first.frags[0].link is not second.frags[0].link


def test_a_document_of_quick_paragraphs_is_the_same_pdf_as_one_parsed(app):
    def story(make):
        flowables = [make(text, style) for style in ("title", "h2", "body", "small", "right") for text in PLAIN_TEXTS]
        flowables.append(pdf.table([["Tranche", "When", "Amount"], ["1", "On acceptance", "40 000,00 €"]]))
        return flowables

    def parsed(text, style):
        return Paragraph(escape(text), pdf.styles()[style])

    with app.test_request_context():
        quick = pdf.render(story(pdf.para), title="T", footer="LCS-2025-001")
        slow = pdf.render(story(parsed), title="T", footer="LCS-2025-001")
    assert quick == slow
    pages = PdfReader(io.BytesIO(quick)).pages
    assert len(pages) > 1 and f"Page 2 of {len(pages)}" in pages[1].extract_text()


def test_the_award_letter_names_the_reports_the_calls_schedule_sets(app, fund, staff):
    """One interim report by default; a call that sets two says two (issue 16, reporting per call)."""
    default = awards_call_with(app, code="ONE-2025", envelope={"SDC": 200_000_00})
    two_interims = awards_call_with(app, code="TWO-2025", envelope={"SDC": 200_000_00})
    with app.test_request_context():
        call = db.session.get(Call, two_interims)
        calls.save_report_step(call, None, actor=staff_user(), values={"due_mode": "month", "due_month": 6})
        letters = {}
        for call_id, city in ((default, "Bogotá"), (two_interims, "Quito")):
            decision_id = _award_in(call_id, city, "en")
            statements, data = _render_counting(decision_id)
            assert len(statements) <= 3  # the schedule's count rides on the tranches' statement
            letters[city] = " ".join(_pdf_text(data).split())
    assert "in 1 interim report and a final report" in letters["Bogotá"]
    assert "in 2 interim reports and a final report" in letters["Quito"]
    assert "the value reached for each of the call's indicators" in letters["Quito"]


def _award_in(call_id, city, language):
    application_id = reviewed(call_id, city, language=language)
    decision = operations.decide(
        db.session.get(Application, application_id), "award", actor=staff_user(), amount_cents=100_000_00
    )
    return decision.id
