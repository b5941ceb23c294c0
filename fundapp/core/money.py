"""Money is integer cents of EUR; these helpers parse and format it, never through float."""

import functools
import re
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_currency

from .catalogue import current_locale

CENT = Decimal("0.01")


class MoneyError(ValueError):
    pass


_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_GROUPED = re.compile(r"^\d{1,3}(?:\d{3})*$")


def _is_grouping(parts):
    """Whether "100", "000", "000" read as thousands groups (first 1 to 3 digits, then 3 each)."""
    # "0.001" is a number with three decimals, never EUR 1.00: a grouped number does not start with 0.
    return (
        1 <= len(parts[0]) <= 3
        and not parts[0].startswith("0")
        and all(len(p) == 3 for p in parts[1:])
        and all(p.isdigit() for p in parts)
    )


def parse_eur(text):
    """An amount typed in any of the fund's languages -> integer cents, exactly.

    "100000", "100,000.00", "100.000,00", "100 000,50", "100000.5" and "€ 1.234,56" all read as
    people mean them. A separator followed by one or two digits is the decimal one; one followed
    by groups of three digits is a thousands separator. Anything else (three decimals, stray
    characters) is refused rather than guessed.
    """
    if text is None:
        raise MoneyError("empty")
    if isinstance(text, Decimal):
        value = text
    else:
        body = _SPACES.sub("", str(text)).replace("€", "")
        if body.upper().endswith("EUR"):
            body = body[:-3]
        if body.upper().startswith("EUR"):
            body = body[3:]
        negative = body.startswith("-")
        body = body.lstrip("-+")
        if not body:
            raise MoneyError("empty")
        if not re.fullmatch(r"[0-9.,]+", body) or not body[0].isdigit():
            raise MoneyError("not a number")
        dots, commas = body.count("."), body.count(",")
        if dots and commas:
            decimal_sep = "." if body.rfind(".") > body.rfind(",") else ","
            group_sep = "," if decimal_sep == "." else "."
            if body.count(decimal_sep) > 1:
                raise MoneyError("not a number")
            whole, fraction = body.split(decimal_sep)
            groups = whole.split(group_sep)
            if not _is_grouping(groups):
                raise MoneyError("not a number")
            whole = "".join(groups)
        elif dots or commas:
            sep = "." if dots else ","
            parts = body.split(sep)
            if len(parts) > 2 or (len(parts[-1]) == 3 and _is_grouping(parts)):
                if not _is_grouping(parts):
                    raise MoneyError("not a number")
                whole, fraction = "".join(parts), ""
            else:
                whole, fraction = parts
                if not whole or not fraction:
                    raise MoneyError("not a number")
        else:
            whole, fraction = body, ""
        if len(fraction) > 2:
            raise MoneyError("more than two decimals")
        if len(whole) > 13:  # more than EUR 10 trillion is a typing slip, not an amount
            raise MoneyError("too large")
        value = Decimal(f"{whole}.{fraction or '0'}")
        if negative:
            value = -value
    if not value.is_finite():
        raise MoneyError("not a number")
    if abs(value) >= Decimal(10) ** 13:
        raise MoneyError("too large")
    if value != value.quantize(CENT):
        raise MoneyError("more than two decimals")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def cents_to_decimal(cents):
    return (Decimal(int(cents)) / 100).quantize(CENT)


def format_eur(cents, currency="EUR"):
    """Formatted in the viewer's locale, e.g. €100,000.00 or 100 000,00 €."""
    if cents is None:
        return ""
    # Babel itself with the request's locale (flask-babel caches it on the request): flask-babel's own
    # wrapper looks the locale and its context up again on every call.
    return _formatted_eur(cents, currency, str(current_locale() or "en"))


@functools.lru_cache(maxsize=8192)
def _formatted_eur(cents, currency, locale_name):
    """Babel's text for an amount, kept: lists and boards show the same amounts (the cap, the usual
    requests) again and again, and each costs Babel a pattern parse."""
    return format_currency(cents_to_decimal(cents), currency, locale=locale_name)
