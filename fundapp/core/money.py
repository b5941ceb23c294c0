"""Money is integer cents of EUR; these helpers parse and format it, never through float."""
from decimal import Decimal, InvalidOperation, ROUND_HALF_UP

from flask_babel import format_currency

CENT = Decimal("0.01")


class MoneyError(ValueError):
    pass


def parse_eur(text):
    """'100000', '100,000.00' or '100000.5' -> cents. Refuses more than two decimals."""
    if text is None:
        raise MoneyError("empty")
    if isinstance(text, Decimal):
        value = text
    else:
        cleaned = str(text).strip().replace(" ", "").replace("\u00a0", "").replace(",", "")
        if not cleaned:
            raise MoneyError("empty")
        try:
            value = Decimal(cleaned)
        except InvalidOperation:
            raise MoneyError("not a number") from None
    if not value.is_finite():
        raise MoneyError("not a number")
    if value != value.quantize(CENT):
        raise MoneyError("more than two decimals")
    return int((value * 100).to_integral_value(rounding=ROUND_HALF_UP))


def cents_to_decimal(cents):
    return (Decimal(int(cents)) / 100).quantize(CENT)


def format_eur(cents, currency="EUR"):
    """Formatted in the viewer's locale, e.g. €100,000.00 or 100 000,00 €."""
    if cents is None:
        return ""
    return format_currency(cents_to_decimal(cents), currency)
