"""The donor report's charts in the PDF: whole region names in the reader's language, and a
sentence instead of an empty axis when there is nothing to draw (issue 14)."""

import io

import pytest
from flask_babel import force_locale
from pypdf import PdfReader

from fundapp.core import pdf
from fundapp.members.models import REGIONS
from fundapp.reporting.exports import _bar

pytestmark = pytest.mark.sqlite


def _text(drawings):
    data = pdf.render(drawings, title="charts")
    return " ".join(" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages)


def test_region_names_are_whole_and_an_empty_chart_says_so(app):
    with app.test_request_context(), force_locale("es"):
        regions = [str(REGIONS[r]) for r in REGIONS]
        allocation = _bar("Asignación por región (EUR)", regions, [100_000_00, 0, 40_000_00, 0, 300_000_00, 0], "—")
        payments = _bar("Pagos en el tiempo (EUR)", [], [], "No se hizo ningún pago en el período.")
        text = _text([allocation, payments])
    # "América Latina y el Caribe" over two lines, never cut to "América Latina y e".
    assert "América Latina y el Caribe" in text and "Eurasia y Oriente Medio" in text
    assert "No se hizo ningún pago en el período." in text
    assert "0,01" not in text and "0.01" not in text  # no axis drawn for nothing


def test_the_axis_groups_euros_as_the_reports_language_writes_them(app):
    """The value axis reads "300.000" in Spanish and "300 000" in French, not "300000"."""
    import re

    with app.test_request_context():
        for language, thousands in (("es", "."), ("fr", "\u202f"), ("en", ",")):
            with force_locale(language):
                chart = _bar("Asignación por región (EUR)", ["Europa", "África"], [300_000_00, 40_000_00], "—")
                data = pdf.render([chart], title="chart")
            raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
            assert re.search(r"\b300000\b", raw) is None, language
            assert f"300{thousands}000" in raw or f"300{thousands.strip() or ' '}000" in raw, (language, raw)
