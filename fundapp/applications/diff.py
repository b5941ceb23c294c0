"""What changed between two submitted versions of an application."""

import difflib

from markupsafe import Markup, escape

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


def _as_text(value):
    if isinstance(value, list):
        lines = []
        for item in value:
            if isinstance(item, dict):
                lines.append(" · ".join(f"{k}: {v}" for k, v in item.items() if k not in ("member_id", "document_id")))
            else:
                lines.append(str(item))
        return "\n".join(lines)
    return "" if value is None else str(value)


def _word_diff(old, new):
    """HTML with removed words in <del> and added words in <ins>."""
    a, b = old.split(), new.split()
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape(" ".join(a[i1:i2])))
        if op in ("delete", "replace"):
            out.append(Markup("<del>%s</del>") % " ".join(a[i1:i2]))
        if op in ("insert", "replace"):
            out.append(Markup("<ins>%s</ins>") % " ".join(b[j1:j2]))
    return Markup(" ").join(out)


def compare(old, new):
    """[(field, old text, new text, html diff)] for every field that differs."""
    changes = []
    for field in LABEL_ORDER:
        before, after = _as_text(old.get(field)), _as_text(new.get(field))
        if before != after:
            changes.append((field, before, after, _word_diff(before, after)))
    return changes
