"""What changed between two submitted versions of an application."""

import difflib
import re
from datetime import date

from markupsafe import Markup, escape

from ..accounts.models import GENDERS
from ..core.catalogue import lazy_gettext as _l
from ..core.i18n import LANGUAGE_NAMES, colon, format_day, format_number
from ..core.money import format_eur
from .models import BUDGET_CATEGORIES, DIMENSIONS

LABEL_ORDER = [
    "title",
    "summary",
    "problem",
    "objectives",
    "activities",
    "dimensions",
    "target_groups",
    "beneficiaries_women",
    "beneficiaries_men",
    "beneficiaries_other",
    "lead_name",
    "lead_gender",
    "start_date",
    "duration_months",
    "milestones",
    "risks",
    "partners",
    "budget",
    "requested_cents",
    "cofunding_cents",
    "documents",
    "language",
]


_TOKENS = re.compile(r"\n|[^\s]+")

# What each field is called on the comparison page, in the reader's language.
FIELD_LABELS = {
    "title": _l("Project title"),
    "summary": _l("Summary"),
    "problem": _l("Problem and context"),
    "objectives": _l("Objectives"),
    "activities": _l("Activities"),
    "dimensions": _l("Care-system dimensions the project addresses"),
    "target_groups": _l("Target groups"),
    "beneficiaries_women": _l("Direct beneficiaries: women"),
    "beneficiaries_men": _l("Direct beneficiaries: men"),
    "beneficiaries_other": _l("Direct beneficiaries: other or undisclosed"),
    "lead_name": _l("Project lead"),
    "lead_gender": _l("Project lead’s gender"),
    "start_date": _l("Start date"),
    "duration_months": _l("Duration (months)"),
    "milestones": _l("Milestones"),
    "risks": _l("Risks and how they are handled"),
    "partners": _l("Partner cities"),
    "budget": _l("Budget"),
    "requested_cents": _l("Requested from the fund"),
    "cofunding_cents": _l("Co-funding"),
    "documents": _l("Documents"),
    "language": _l("Language of the application"),
}


def _as_text(field, value, language):
    """A field of a submitted version as the reader reads it: amounts in euros, days, labels in
    their language, a line per budget line, partner or document."""
    if value is None or value == [] or value == "":
        return ""
    if field in ("requested_cents", "cofunding_cents"):
        return format_eur(value)
    if field == "start_date":
        return format_day(date.fromisoformat(value))
    if field == "dimensions":
        return "\n".join(str(DIMENSIONS.get(d, d)) for d in value)
    if field == "lead_gender":
        return str(GENDERS.get(value, value))
    if field == "language":
        return LANGUAGE_NAMES.get(value, value)
    if field == "budget":
        return "\n".join(
            str(
                _l(
                    "%(category)s · %(description)s · requested %(requested)s, co-funding %(cofunding)s",
                    category=BUDGET_CATEGORIES.get(ln.get("category"), ln.get("category")),
                    description=ln.get("description") or "—",
                    requested=format_eur(ln.get("requested_cents") or 0),
                    cofunding=format_eur(ln.get("cofunding_cents") or 0),
                )
            )
            for ln in value
        )
    if field == "partners":
        return "\n".join(f"{p.get('member')} · {p.get('role') or '—'}" for p in value)
    if field == "documents":
        return "\n".join(
            f"{(d.get('names') or {}).get(language) or d.get('requirement')}{colon()} {d.get('file')}" for d in value
        )
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return format_number(value, 0)
    return str(value)


def _word_diff(old, new):
    """HTML with removed words in <del> and added words in <ins>."""
    # Words, and the line breaks between them (a budget line, a partner, a milestone a line).
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(Markup("<del>%s</del>") % " ".join(a[i1:i2]))
        if op in ("insert", "replace"):
            out.append(Markup("<ins>%s</ins>") % " ".join(b[j1:j2]))
    return Markup(" ").join(out)


def compare(old, new, language="en"):
    """[(field, label, old text, new text, html diff)] for every field that differs, read in
    `language` (amounts, days and labels)."""
    changes = []
    for field in LABEL_ORDER:
        if old.get(field) == new.get(field):
            continue
        before, after = _as_text(field, old.get(field), language), _as_text(field, new.get(field), language)
        if before != after:
            changes.append((field, FIELD_LABELS[field], before, after, _word_diff(before, after)))
    return changes
