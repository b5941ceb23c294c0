"""A donor report as PDF (with charts), XLSX (one sheet per section, numbers as numbers) and CSV."""

import io
import textwrap
from datetime import date
from decimal import Decimal
from functools import partial

from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors

from ..applications.models import DIMENSIONS
from ..calls.models import localized
from ..core import pdf
from ..core.exports import csv_writer, xlsx_append
from ..core.i18n import colon, format_day, format_number, format_percent
from ..core.money import cents_to_decimal, format_eur
from ..members.models import REGIONS
from . import gender

PALETTE = [colors.HexColor(c) for c in ("#1f4e79", "#c55a11", "#548235", "#7030a0", "#bf9000", "#2e75b6")]


def _paid_by(figures):
    """The heading of the grants' paid column: what each had been paid by the period's end (not in
    the period alone, which the summary gives)."""
    return _("Paid out by %(date)s", date=format_day(figures.end))


def _title(figures):
    # The donor's name in the report's language, as its page says it ("Direction du développement...").
    who = (
        figures.donor.name_in(str(get_locale() or "en"))
        if figures.donor is not None
        else _("International Fund for Metropolises")
    )
    return who, _(
        "Report from %(start)s to %(end)s",
        start=format_date(figures.start, "long"),
        end=format_date(figures.end, "long"),
    )


def summary_rows(figures):
    return [
        (_("Contributed"), figures.contributed_cents),
        (_("Amount received"), figures.received_cents),
        (_("Allocated to grants"), figures.allocated_cents),
        (_("Paid out in the period"), figures.paid_in_period_cents),
        # What was paid by the period's last day (the report's figures stand as of then).
        (_("Paid out by %(date)s", date=format_day(figures.end)), figures.paid_to_date_cents),
        (_("Still committed"), figures.committed_cents),
        (_("Not yet allocated"), figures.unallocated_cents),
    ]


def _bar(title, labels, values_cents, empty_text):
    """A bar chart in whole euros; with nothing to draw, a sentence saying so (not an empty axis)."""
    drawing = Drawing(460, 190)
    drawing.add(String(0, 175, title, fontName=pdf.FONT_BOLD, fontSize=10))
    if not any(values_cents):
        drawing.add(String(0, 150, empty_text, fontName=pdf.FONT, fontSize=9))
        drawing.height = 165
        return drawing
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 40, 400, 120
    chart.data = [[int(v) // 100 for v in values_cents]]
    # Whole names over as many lines as they need ("América Latina y el Caribe"), never cut.
    chart.categoryAxis.categoryNames = [textwrap.fill(str(label), 16) for label in labels]
    chart.categoryAxis.labels.fontName = pdf.FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.valueAxis.labels.fontName = pdf.FONT
    # The axis's euros grouped as the report's language writes them ("50 000", "50.000").
    chart.valueAxis.labelTextFormat = partial(format_number, places=0)
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = PALETTE[0]
    drawing.add(chart)
    return drawing


def _pie(title, labels, values):
    drawing = Drawing(460, 170)
    drawing.add(String(0, 155, title, fontName=pdf.FONT_BOLD, fontSize=10))
    if sum(values) == 0:
        drawing.add(String(0, 120, _("No people reached are reported yet."), fontName=pdf.FONT, fontSize=9))
        return drawing
    pie = Pie()
    pie.x, pie.y, pie.width, pie.height = 40, 10, 130, 130
    pie.data = list(values)
    pie.labels = [
        _("%(label)s: %(value)s", label=label, value=format_number(value, 0)) for label, value in zip(labels, values)
    ]
    pie.simpleLabels = 1
    pie.slices.fontName = pdf.FONT
    for i in range(len(values)):
        pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
    drawing.add(pie)
    return drawing


def to_pdf(figures, language):
    who, period = _title(figures)
    story = [
        pdf.para(who, "title"),
        pdf.para(period),
        pdf.para(_("Summary"), "h2"),
        pdf.table(
            [[_("Figure"), _("EUR")]] + [[label, format_eur(v)] for label, v in summary_rows(figures)],
            col_widths=[280, 190],
        ),
    ]
    story += [
        pdf.para(_("Contributions"), "h2"),
        pdf.table(
            [[_("Donor"), _("As pledged"), _("Rate"), _("EUR"), _("Pledged on"), _("Received on")]]
            + [
                [
                    c.donor.short_name,
                    format_eur(c.amount_original_cents, c.currency),
                    format_number(c.rate_to_eur, 0, 10),
                    format_eur(c.eur_cents),
                    format_day(c.pledged_on) or "—",
                    format_day(c.received_on) or "—",
                ]
                for c in figures.contributions
            ],
            col_widths=[60, 90, 60, 90, 80, 80],
        ),
    ]
    story += [
        pdf.para(_("Grants"), "h2"),
        pdf.table(
            [[_("Grant"), _("City"), _("Region"), _("Amount"), _paid_by(figures), _("State")]]
            + [
                [
                    g.reference,
                    g.city,
                    str(REGIONS.get(g.region, g.region)),
                    format_eur(g.amount_cents),
                    format_eur(g.paid_cents),
                    str(g.state_label),
                ]
                for g in figures.grants
            ],
            col_widths=[100, 80, 90, 75, 75, 50],
        ),
    ]
    for g in figures.grants:
        if g.summary:
            story.append(pdf.para(f"{g.reference} · {g.city}{colon()} {g.summary}", "small"))
    regions = sorted(figures.by_region.items())
    story.append(
        _bar(
            _("Allocation by region (EUR)"),
            [str(REGIONS.get(r, r)) for r, _v in regions],
            [v for _r, v in regions],
            _("Nothing is allocated to grants yet."),
        )
    )
    months = sorted(figures.payments_by_month.items())
    story.append(
        _bar(
            _("Payments over time (EUR)"),
            [format_date(date.fromisoformat(f"{m}-01"), "MMM y") for m, _v in months],
            [v for _m, v in months],
            _("No payment was made in the period."),
        )
    )
    reached = figures.reached
    story.append(
        _pie(
            _("People reached, by gender"),
            [_("Women"), _("Men"), _("Other or undisclosed")],
            [reached["women"], reached["men"], reached["other"]],
        )
    )
    story += _gender_story(figures.by_gender, language)
    story += [
        pdf.para(_("By care-system dimension"), "h2"),
        pdf.table(
            [[_("Dimension"), _("Grants"), _("EUR")]]
            + [
                [str(DIMENSIONS.get(d, d)), str(n), format_eur(v)] for d, (n, v) in sorted(figures.by_dimension.items())
            ],
            col_widths=[260, 60, 150],
        ),
    ]
    return pdf.render(
        story,
        title=f"{who} · {period}",
        language=language,
        page_label=_("Page %(page)s of %(pages)s", page="{page}", pages="{pages}"),
    )


def _gender_story(rows, language):
    """Participation by gender per call: the applications' project leads and the jury, with shares,
    and the people reached."""
    if not rows:
        return []
    story = [pdf.para(_("Participation by gender"), "h2")]
    for row in rows:
        title = localized(row["titles"], language)[0]
        story.append(pdf.para(f"{row['call']} · {title}" if title else row["call"]))
        jury = gender.shares(row["jury"])
        story.append(
            pdf.table(
                [[_("Gender"), _("Project leads of the applications"), _("Jury")]]
                + [
                    [
                        str(gender.PERSON_GROUPS[group]),
                        f"{n} ({format_percent(share, 0, 1)})",
                        f"{j} ({format_percent(js, 0, 1)})",
                    ]
                    for (group, n, share), (_g, j, js) in zip(gender.shares(row["leads"]), jury, strict=True)
                ],
                col_widths=[150, 160, 160],
            )
        )
        story.append(
            pdf.para(
                _("People reached:")
                + " "
                + " · ".join(
                    f"{gender.REACHED_GROUPS[group]} {format_number(n, 0)} ({format_percent(share, 0, 1)})"
                    for group, n, share in gender.shares(row["reached"])
                )
            )
        )
    return story


def _euros(cents):
    return cents_to_decimal(cents)  # openpyxl writes a Decimal as a number cell, exactly


def to_xlsx(figures):
    book = Workbook()
    sheet = book.active
    sheet.title = _("Summary")[:31]
    who, period = _title(figures)
    xlsx_append(sheet, [who])
    xlsx_append(sheet, [period])
    xlsx_append(sheet, [_("Figure"), _("EUR")])
    for label, value in summary_rows(figures):
        xlsx_append(sheet, [label, _euros(value)])
    sheets = [
        (
            _("Contributions"),
            [
                _("Donor"),
                _("Amount as pledged"),
                _("Currency"),
                _("Rate"),
                _("EUR"),
                _("Pledged on"),
                _("Received on"),
            ],
            [
                [
                    c.donor.short_name,
                    _euros(c.amount_original_cents),
                    c.currency,
                    c.rate_to_eur,
                    _euros(c.eur_cents),
                    c.pledged_on,
                    c.received_on,
                ]
                for c in figures.contributions
            ],
        ),
        (
            _("Grants"),
            [_("Grant"), _("City"), _("Region"), _("Project"), _("Amount"), _paid_by(figures), _("State")],
            [
                [
                    g.reference,
                    g.city,
                    str(REGIONS.get(g.region, g.region)),
                    g.title,
                    _euros(g.amount_cents),
                    _euros(g.paid_cents),
                    str(g.state_label),
                ]
                for g in figures.grants
            ],
        ),
        (
            _("Regions"),
            [_("Region"), _("EUR")],
            [[str(REGIONS.get(r, r)), _euros(v)] for r, v in sorted(figures.by_region.items())],
        ),
        (
            _("Dimensions"),
            [_("Dimension"), _("Grants"), _("EUR")],
            [[str(DIMENSIONS.get(d, d)), n, _euros(v)] for d, (n, v) in sorted(figures.by_dimension.items())],
        ),
        (
            _("People reached"),
            [_("Women"), _("Men"), _("Other or undisclosed")],
            [[figures.reached["women"], figures.reached["men"], figures.reached["other"]]],
        ),
        (_("Payments"), [_("Month"), _("EUR")], [[m, _euros(v)] for m, v in sorted(figures.payments_by_month.items())]),
        (
            _("Gender"),
            [_("Call"), _("Counted"), _("Gender"), _("Number"), _("Share (%)")],
            [
                [row["call"], str(measure), str(groups[group]), n, share]
                for row in figures.by_gender
                for key, measure, groups in (
                    ("leads", _("Project leads of the applications"), gender.PERSON_GROUPS),
                    ("jury", _("Jury"), gender.PERSON_GROUPS),
                    ("reached", _("People reached"), gender.REACHED_GROUPS),
                )
                for group, n, share in gender.shares(row[key])
            ],
        ),
    ]
    for title, header, rows in sheets:
        ws = book.create_sheet(title[:31])
        xlsx_append(ws, header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            xlsx_append(ws, row)  # text a person typed (a title, a city) stays text, never a formula
        for column in ws.iter_cols(min_row=2):
            for cell in column:
                if isinstance(cell.value, Decimal):
                    cell.number_format = "#,##0.00"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_csv(figures):
    out = io.StringIO()
    writer = csv_writer(out)  # text cells neutralised against formulas; numbers stay numbers
    writer.writerow(["section", "key", "city", "region", "amount_eur", "paid_eur", "state", "project"])
    for label, value in summary_rows(figures):
        writer.writerow(["summary", label, "", "", cents_to_decimal(value), "", "", ""])
    for g in figures.grants:
        writer.writerow(
            [
                "grant",
                g.reference,
                g.city,
                g.region,
                cents_to_decimal(g.amount_cents),
                cents_to_decimal(g.paid_cents),
                g.state,
                g.title,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")
