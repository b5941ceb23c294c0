"""The reportlab base every letter and report uses: letterhead, page numbers, a Unicode font.

Output is deterministic (reportlab's invariant mode: no creation time, fixed document id), so
the same content always gives the same bytes and a stored letter can be checked against a new
rendering. DejaVu Sans is embedded, so every member's name prints (Chișinău, Muğla, Xi’an).
"""

import io
from functools import lru_cache, partial
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Table, TableStyle
from reportlab.platypus.paragraph import cleanBlockQuotedText, textTransformFrags
from reportlab.platypus.paraparser import ParaParser

FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
BRAND = colors.HexColor("#1f4e79")

_fonts_registered = False


def register_fonts():
    global _fonts_registered
    if _fonts_registered:
        return
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "DejaVuSans-Bold.ttf")))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)
    _fonts_registered = True


@lru_cache(maxsize=1)
def styles():
    """The paragraph styles, built once per process (reportlab's sample stylesheet is costly and a
    letter has dozens of paragraphs); nothing changes them after."""
    register_fonts()
    base = getSampleStyleSheet()
    return {
        "body": ParagraphStyle("body", parent=base["BodyText"], fontName=FONT, fontSize=10, leading=14),
        "small": ParagraphStyle("small", parent=base["BodyText"], fontName=FONT, fontSize=8, leading=10),
        "title": ParagraphStyle(
            "title", parent=base["Title"], fontName=FONT_BOLD, fontSize=16, leading=20, textColor=BRAND, alignment=0
        ),
        "h2": ParagraphStyle(
            "h2", parent=base["Heading2"], fontName=FONT_BOLD, fontSize=12, leading=16, textColor=BRAND
        ),
        "right": ParagraphStyle("right", parent=base["BodyText"], fontName=FONT, fontSize=10, alignment=TA_RIGHT),
    }


@lru_cache(maxsize=None)
def _plain_fragment(style):
    """The fragment reportlab's parser makes of plain text (no markup, no entity) in this style:
    parsed once, then cloned for each paragraph with its own text."""
    _style, frags, _bullet = ParaParser().parse("x", styles()[style])
    (fragment,) = frags
    return fragment


def _paragraph(text, style):
    """Paragraph(escape(text), style), without running reportlab's markup parser on every paragraph
    of a letter: text with no &, < or > (nothing for escape to change, so one plain fragment) gets a
    clone of the fragment the parser makes for plain text in that style; the rest is parsed."""
    text = str(text)
    if "&" in text or "<" in text or ">" in text:
        return Paragraph(escape(text), styles()[style])
    cleaned = cleanBlockQuotedText(text)  # what Paragraph does to its text before parsing
    frags = []
    if cleaned:
        # Fresh lists, as the parser gives each paragraph.
        frags.append(_plain_fragment(style).clone(text=cleaned, link=[], us_lines=[]))
    paragraph_style = styles()[style]
    textTransformFrags(frags, paragraph_style)
    return Paragraph(cleaned, paragraph_style, frags=frags)


def para(text, style="body"):
    """A paragraph of plain text (escaped: names with & or < print as written)."""
    return _paragraph(text, style)


def typed(text, style="body"):
    """A paragraph as a person typed it: its single line breaks kept (a list of milestones, one a
    line), where reportlab would run the lines together."""
    text = str(text)
    if "\n" not in text:
        return _paragraph(text, style)
    return Paragraph("<br/>".join(escape(line) for line in text.split("\n")), styles()[style])


CELL_PADDING = 6  # reportlab's padding on each side of a table cell


def fit_words(rows, col_widths, style="small"):
    """The column widths, widened where a column is narrower than its longest word (reportlab cuts
    a word that does not fit in two: "Rechaza/da"), the room taken from the columns that have some
    to spare, so that the table keeps its width. Where the whole table cannot hold every word, each
    short column gets its share of what there is."""
    if not col_widths:
        return col_widths
    font = styles()[style]
    need = [0.0] * len(col_widths)
    for row in rows:
        for i, cell in enumerate(row[: len(need)]):
            if isinstance(cell, str):
                for word in cell.split():
                    width = pdfmetrics.stringWidth(word, font.fontName, font.fontSize) + 2 * CELL_PADDING + 1
                    need[i] = max(need[i], width)
    short = [max(0.0, n - w) for n, w in zip(need, col_widths)]
    spare = [max(0.0, w - n) for n, w in zip(need, col_widths)]
    missing, available = sum(short), sum(spare)
    if not missing or not available:
        return col_widths
    moved = min(missing, available)
    return [
        w + moved * short_i / missing - moved * spare_i / available
        for w, short_i, spare_i in zip(col_widths, short, spare)
    ]


def table(rows, col_widths=None, header=True):
    """A simple ruled table of plain text cells, no word cut across two lines where it can fit."""
    data = [[c if not isinstance(c, str) else _paragraph(c, "small") for c in row] for row in rows]
    t = Table(data, colWidths=fit_words(rows, col_widths), repeatRows=1 if header else 0)
    commands = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")))
    t.setStyle(TableStyle(commands))
    return t


class _NumberedCanvas(Canvas):
    """Holds pages until the end so each can print "page n of N"."""

    def __init__(self, *args, page_label="Page {page} of {pages}", **kwargs):
        super().__init__(*args, **kwargs)
        self.page_label = page_label
        self._saved_pages = []

    def showPage(self):
        self._saved_pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._saved_pages)
        for state in self._saved_pages:
            self.__dict__.update(state)
            self.setFont(FONT, 8)
            self.setFillColor(colors.grey)
            self.drawRightString(A4[0] - 20 * mm, 12 * mm, self.page_label.format(page=self._pageNumber, pages=total))
            super().showPage()
        super().save()


def render(
    story,
    *,
    title,
    subject="",
    letterhead=None,
    footer="",
    page_label="Page {page} of {pages}",
    language="en",
):
    """Render a list of flowables to PDF bytes on A4 with the fund's letterhead."""
    from flask import has_app_context
    from flask_babel import gettext

    if letterhead is None:
        letterhead = "Metropolis · International Fund for Metropolises"
        if has_app_context():
            letterhead = gettext(letterhead)
    register_fonts()
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=28 * mm,
        bottomMargin=22 * mm,
        title=title,
        subject=subject,
        author="Metropolis",
        creator="fundapp",
        lang=language,
        invariant=1,
    )

    def decorate(canvas, _doc):
        canvas.saveState()
        canvas.setFillColor(BRAND)
        canvas.rect(0, A4[1] - 14 * mm, A4[0], 14 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(FONT_BOLD, 11)
        canvas.drawString(20 * mm, A4[1] - 9 * mm, letterhead)
        if footer:
            canvas.setFillColor(colors.grey)
            canvas.setFont(FONT, 8)
            canvas.drawString(20 * mm, 12 * mm, footer)
        canvas.restoreState()

    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    flowables = list(story)
    # Platypus drops each flowable once drawn; without this name (and a caller that passes its story
    # on) a page's paragraphs, lines and words are freed as the build goes, not all kept to the end.
    del story
    doc.build(flowables, canvasmaker=partial(_NumberedCanvas, page_label=page_label))
    return buffer.getvalue()
