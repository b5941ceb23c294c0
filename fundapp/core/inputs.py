"""What comes in from a browser is made safe to store before any view reads it.

- Control characters (NUL and the other C0 codes but tab and line breaks, DEL) and lone UTF-16
  surrogates cannot be stored in PostgreSQL text and mean nothing in a name or a paragraph: they
  are stripped from every query argument, form field and JSON string.
- Line breaks are stored as "\n" (browsers send "\r\n").
- Numbers in URLs and query arguments stay within the database's integer range: an id beyond it
  is "not found" (404), a page number beyond it is not a page.
"""

import re
import unicodedata

from flask import Request, abort
from werkzeug.datastructures import ImmutableMultiDict, iter_multi_items
from werkzeug.routing import IntegerConverter

# PostgreSQL's INTEGER, the type of every id.
DB_INT_MAX = 2**31 - 1

_UNSTORABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value):
    """`value` without what cannot be stored, its line breaks as "\n" (a browser sends a textarea's
    as "\r\n": stored as typed, a paragraph break would not read as one, nor a length as counted)."""
    return _UNSTORABLE.sub("", value).replace("\r\n", "\n") if isinstance(value, str) else value


def folded(text):
    """`text` without accents and case, to sort and match names as people read them: "Área
    Metropolitana" before "Zhengzhou", "Medellin" the same as "Medellín"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


LIKE_ESCAPE = "\\"


def contains_pattern(text):
    """A LIKE pattern (escaped with LIKE_ESCAPE) matching what contains `text` folded: a % or _
    typed in a search box is itself, not a wildcard."""
    escaped = folded(text).replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_PARAGRAPH_BREAK = re.compile(r"\r?\n[ \t]*\r?\n\s*")


def paragraphs(text):
    """A text's paragraphs (split at blank lines, whichever line breaks it was stored with)."""
    return [p for p in _PARAGRAPH_BREAK.split((text or "").strip()) if p]


def has_unstorable(value):
    return isinstance(value, str) and _UNSTORABLE.search(value) is not None


def _clean_json(value):
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_clean_json(v) for v in value]
    if isinstance(value, dict):
        return {clean_text(k): _clean_json(v) for k, v in value.items()}
    return value


class CleanMultiDict(ImmutableMultiDict):
    """The query arguments and form fields, with what cannot be stored taken out."""

    def __init__(self, mapping=None):
        if mapping is not None:
            mapping = [(clean_text(k), clean_text(v)) for k, v in iter_multi_items(mapping)]
        super().__init__(mapping)


class CleanRequest(Request):
    parameter_storage_class = CleanMultiDict

    def get_json(self, *args, **kwargs):
        return _clean_json(super().get_json(*args, **kwargs))


class DatabaseIntConverter(IntegerConverter):
    """`<int:...>` in a route: only numbers an id column can hold match (others are a 404)."""

    def __init__(self, url_map, fixed_digits=0, min=None, max=None, signed=False):
        super().__init__(url_map, fixed_digits=fixed_digits, min=min, max=DB_INT_MAX if max is None else max)


def db_int(text):
    """For `request.args.get(name, default, type=db_int)` and `coerce=db_int`: an int the database
    can compare with its ids, else ValueError (the default is used, or the field says why)."""
    value = int(text)
    if not 0 <= value <= DB_INT_MAX:
        raise ValueError("out of the database's range")
    return value


def page_number(text):
    """For `request.args.get("page", 1, type=page_number)`: any whole number, brought within 1 and
    the database's range (a page beyond the last then shows the last page)."""
    return min(max(int(text), 1), DB_INT_MAX)


def init_app(app):
    app.request_class = CleanRequest
    app.url_map.converters["int"] = DatabaseIntConverter

    @app.url_value_preprocessor
    def _refuse_unstorable_path_values(endpoint, values):
        # A path part with a NUL or a control character names nothing we keep.
        if values and any(has_unstorable(v) for v in values.values()):
            abort(404)
