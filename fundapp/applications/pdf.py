"""The PDF copy of a submitted application, in the application's language."""

from flask_babel import gettext as _

from ..calls.models import INDICATOR_PARTS
from ..core import pdf
from ..core.documents import slug
from ..core.i18n import format_day, format_number
from ..core.inputs import paragraphs
from ..core.money import format_eur
from .models import BUDGET_CATEGORIES, DIMENSIONS


def application_pdf(data, language, version_no=1):
    """Render a submission snapshot (the dict kept in Submission.data)."""
    story = [
        pdf.para(data["reference"] or "", "small"),
        pdf.para(data["title"], "title"),
        pdf.para(
            _(
                "Application of %(city)s to the call %(call)s (version %(n)d)",
                city=data["city"],
                call=data["call"],
                n=version_no,
            )
        ),
        pdf.para(_("Amount requested from the fund: %(amount)s", amount=format_eur(data["requested_cents"]))),
    ]
    for key, label in [
        ("summary", _("Summary")),
        ("problem", _("Problem and context")),
        ("objectives", _("Objectives")),
        ("activities", _("Activities")),
        ("target_groups", _("Target groups")),
        ("milestones", _("Milestones")),
        ("risks", _("Risks")),
    ]:
        story.append(pdf.para(label, "h2"))
        for paragraph in paragraphs(data.get(key) or "—"):
            story.append(pdf.typed(paragraph))
    if data.get("lead_name"):
        story.append(pdf.para(_("Project lead"), "h2"))
        story.append(pdf.para(data["lead_name"]))
    story.append(pdf.para(_("Care-system dimensions"), "h2"))
    story.append(pdf.para(", ".join(str(DIMENSIONS[d]) for d in data["dimensions"] if d in DIMENSIONS) or "—"))
    story.append(pdf.para(_("Direct beneficiaries"), "h2"))
    story.append(
        pdf.para(
            _(
                "Women: %(w)s · Men: %(m)s · Other or undisclosed: %(o)s",
                w=format_number(data.get("beneficiaries_women") or 0, 0),
                m=format_number(data.get("beneficiaries_men") or 0, 0),
                o=format_number(data.get("beneficiaries_other") or 0, 0),
            )
        )
    )
    story.append(pdf.para(_("Start and duration"), "h2"))
    story.append(
        pdf.para(
            _(
                "Starts on %(date)s, for %(months)s months",
                date=format_day(data.get("start_date")) or "—",
                months=data.get("duration_months") or "—",
            )
        )
    )
    if data["partners"]:
        story.append(pdf.para(_("Partner cities"), "h2"))
        story.append(
            pdf.table(
                [[_("City"), _("Role")]] + [[p["member"], p["role"]] for p in data["partners"]], col_widths=[150, 320]
            )
        )
    story.append(pdf.para(_("Budget"), "h2"))
    rows = [[_("Category"), _("Description"), _("Requested"), _("Co-funding")]]
    rows += [
        [
            str(BUDGET_CATEGORIES.get(ln["category"], ln["category"])),
            ln["description"],
            format_eur(ln["requested_cents"]),
            format_eur(ln["cofunding_cents"]),
        ]
        for ln in data["budget"]
    ]
    rows.append([_("Total"), "", format_eur(data["requested_cents"]), format_eur(data["cofunding_cents"])])
    story.append(pdf.table(rows, col_widths=[90, 200, 90, 90]))
    if data.get("indicators"):
        story.append(pdf.para(_("Indicators and targets"), "h2"))
        story.append(
            pdf.table(
                [[_("Indicator"), _("Target")]]
                + [[_indicator_name(i, language), _indicator_target(i)] for i in data["indicators"]],
                col_widths=[270, 200],
            )
        )
    if data["documents"]:
        story.append(pdf.para(_("Documents"), "h2"))
        story.append(
            pdf.table(
                [[_("Document"), _("File")]]
                + [[_document_name(d, language), _file_name(d, data, language)] for d in data["documents"]],
                col_widths=[220, 250],
            )
        )
    return pdf.render(
        story,
        title=data["reference"] or data["title"],
        language=language,
        footer=data["reference"] or "",
        page_label=_("Page %(page)s of %(pages)s", page="{page}", pages="{pages}"),
    )


def _indicator_name(indicator, language):
    names, units = indicator.get("names") or {}, indicator.get("units") or {}
    unit = units.get(language) or units.get("en")
    name = names.get(language) or names.get("en") or ""
    return f"{name} ({unit})" if unit else name


def _indicator_target(indicator):
    def figure(part):
        value = (indicator.get("target") or {}).get(part)
        return format_number(value, 0) if value is not None else "—"

    parts = indicator.get("parts") or []
    if len(parts) == 1:
        return figure(parts[0])
    return " · ".join(_("%(label)s: %(value)s", label=INDICATOR_PARTS.get(p, p), value=figure(p)) for p in parts)


def _file_name(document, data, language):
    """The file as the city and staff download it: the application's reference and the document's
    name in the PDF's language ("IFM-LCS-2026-004-carta-de-apoyo.pdf"), not the name it was stored
    under while a draft ("draft-12-letter-of-support.pdf")."""
    stored = document.get("file") or ""
    if not data.get("reference"):
        return stored
    label = "document" if document["requirement"] == "other" else _document_name(document, language)
    extension = stored.rpartition(".")[2] if "." in stored else ""
    stem = f"{data['reference']}-{slug(label)}"
    return f"{stem}.{extension}" if extension else stem


def _document_name(document, language):
    """The document's name in the PDF's language (snapshots before names were kept: the key)."""
    if document["requirement"] == "other":
        return _("Other document")
    return (document.get("names") or {}).get(language) or document["requirement"]
