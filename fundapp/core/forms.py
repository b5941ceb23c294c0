"""Form fields every feature shares."""

import re
from decimal import Decimal

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectMultipleField, StringField
from wtforms.validators import Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget, Select, html_params

from ..extensions import db
from .addresses import check_email_address
from .catalogue import lazy_gettext as _l
from .catalogue import lazy_ngettext
from .errors import Refused
from .i18n import format_decimal_input, format_eur_input, lazy_count, parse_count
from .money import MoneyError, parse_eur

_SPACES = re.compile(r"[\s\u00a0\u202f]+")


class PostedForm(FlaskForm):
    """A form that reads a POST whose page draws its fields by hand, several forms on one page
    (the decision board, a grant, a report): CSRFProtect has checked the request, so the form
    carries no token of its own. A field it cannot read is refused like an operation refuses."""

    class Meta:
        csrf = False

    def first_errors(self):
        """{field name: its first message}."""
        return {name: messages[0] for name, messages in self.errors.items() if messages}

    def validate_or_refuse(self):
        """Refused with the first field the form could not read (an amount with three decimals...)."""
        if not self.validate():
            field, message = next(iter(self.first_errors().items()))
            raise Refused(message, field=field)


def typed_by_key(formdata, prefix, field_class, keys=None):
    """Values typed one per row, in fields named `<prefix><id>` (each funding line's share of an
    award, each line of an approved budget, each row of a funding scenario, each criterion's
    score), read by one field class. `keys`: the ids expected (default: every such field posted).

    Returns ({id: value, or None when left empty}, {id: why it could not be read}).
    """
    if keys is None:
        keys = [
            int(name[len(prefix) :]) for name in formdata if name.startswith(prefix) and name[len(prefix) :].isdigit()
        ]
    fields = {f"{prefix}{key}": field_class(validators=[Optional()]) for key in keys}
    form = type("TypedRowsForm", (PostedForm,), fields)(formdata=formdata)
    form.validate()
    values, errors = {}, {}
    for key in keys:
        field = form[f"{prefix}{key}"]
        values[key] = None if field.errors else field.data
        if field.errors:
            errors[key] = field.errors[0]
    return values, errors


def amounts_by_key(formdata, prefix, keys=None):
    """Amounts in euros typed one per row (typed_by_key with the shared money field): cents."""
    return typed_by_key(formdata, prefix, MoneyField, keys)


class TextLength(Length):
    """Length, for every text typed: the page gets no maxlength, which a browser counts in UTF-16
    units (an emoji as two) and at which it cuts typed or pasted text without a word. The server
    says when a text is too long, beside it, with the numbers in the reader's language ("10.000"
    in Spanish), and keeps it as typed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.field_flags = {}

    def __call__(self, form, field):
        length = len(field.data) if field.data else 0
        if self.message is None and self.max != -1 and length > self.max and self.min in (-1, 0):
            raise ValidationError(
                _l(
                    "This text is too long: %(length)s characters, for at most %(max)s.",
                    length=lazy_count(length),
                    max=lazy_count(self.max),
                )
            )
        super().__call__(form, field)


class MoneyField(StringField):
    """An amount in EUR typed as text ("100000", "100,000.00"); `data` is integer cents or None.
    `in_euros=False` for an amount in another currency (a contribution as pledged): the same
    reading, and a refusal that does not ask for euros."""

    def __init__(self, *args, in_euros=True, **kwargs):
        self.in_euros = in_euros
        super().__init__(*args, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        # In the reader's language ("100 000,00" in French), which parse_eur reads back exactly.
        return format_eur_input(self.data)

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip()
        if not text:
            self.data = None
            return
        try:
            self.data = parse_eur(text)
        except MoneyError as error:
            self.data = None
            reason = str(error)
            if reason == "more than two decimals":
                raise ValueError(_l("Use at most two decimals (cents).")) from None
            if reason == "too large":
                raise ValueError(_l("This amount is too large.")) from None
            if not self.in_euros:
                raise ValueError(_l("Enter an amount, such as 100000 or 100,000.00.")) from None
            raise ValueError(_l("Enter an amount in euros, such as 100000 or 100,000.00.")) from None
        if self.data < 0:
            raise ValueError(_l("The amount cannot be negative."))


class WholeNumber(StringField):
    """A count of people or activities as the reader writes it ("1 450", "1.450" in Spanish): a
    whole number below a billion, or nothing."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        try:
            value = parse_count(text)
        except ValueError:
            raise ValueError(_l("Enter a whole number.")) from None
        if abs(value) >= 10**9:
            raise ValueError(_l("Enter a whole number."))
        self.data = value


class DecimalText(StringField):
    """A decimal number typed as text, kept exact (weights, scores, shares): at most `places`
    decimals and below 10**`digits` (what its column holds)."""

    def __init__(self, *args, places=6, digits=9, **kwargs):
        self.places, self.digits = places, digits
        super().__init__(*args, **kwargs)

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        # In the reader's language ("2,5" in French), exact to the digits stored.
        return format_decimal_input(self.data)

    def process_formdata(self, valuelist):
        self.raw_data = valuelist
        text = _SPACES.sub("", valuelist[0] if valuelist else "")
        if "." in text and "," in text:  # "1,000.5" or "1.000,5": the last mark is the decimal one
            decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
            text = text.replace("," if decimal_mark == "." else ".", "")
        text = text.replace(",", ".")
        if not text:
            self.data = None
            return
        try:
            self.data = Decimal(text)
        except ArithmeticError:
            self.data = None
            raise ValueError(_l("Enter a number, such as 2.5.")) from None
        # By the exponent, not by arithmetic: abs() of "1e999999999" overflows the decimal context.
        if not self.data.is_finite():
            self.data = None
            raise ValueError(_l("Enter a number, such as 2.5."))
        if self.data.adjusted() >= self.digits:
            self.data = None
            raise ValueError(_l("This number is too large."))
        if self.data.normalize().as_tuple().exponent < -self.places:
            self.data = None
            raise ValueError(
                lazy_ngettext("Use at most %(num)d decimal.", "Use at most %(num)d decimals.", self.places)
            )


# Dates the fund can mean: a payment, a contribution, a call or a report outside these years is a
# typing slip (year 1 or 9999), and dates near the ends of the calendar overflow when converted.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def plausible_date(value):
    """Whether a date or datetime lies in the years the fund can mean."""
    return value is None or EARLIEST_YEAR <= value.year <= LATEST_YEAR


class PlausibleDate:
    """Validator for DateField and DateTimeLocalField: refuses year 1, 9999 and the like."""

    def __call__(self, form, field):
        if not plausible_date(field.data):
            raise ValidationError(
                _l("Give a date between %(first)d and %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR)
            )


class CheckboxList(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def attempt(form, operation, *args, **kwargs):
    """Run an operation for a form; on a refusal roll back and show why (next to its field, or as a
    message) and return None."""
    from flask import flash

    try:
        return operation(*args, **kwargs)
    except Refused as refusal:
        db.session.rollback()
        if not refusal.apply_to(form):
            flash(refusal.message, "error")
        return None


def act(success, operation, *args, **kwargs):
    """Run an operation behind a button: flash `success` (a text, or a function giving the text
    once the operation is done), or roll back and flash why it was refused. Returns whether it
    went through."""
    from flask import flash

    try:
        operation(*args, **kwargs)
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return False
    flash(success() if callable(success) else success, "success")
    return True


class EmailAddress:
    """Validator: an e-mail address by the one rule of core/addresses.py (reserved test domains
    accepted outside production; the normal deliverability checks in production)."""

    def __init__(self, deliverable=True):
        self.deliverable = deliverable

    def __call__(self, form, field):
        if not field.data:
            return
        try:
            check_email_address(field.data, deliverable=self.deliverable)
        except Refused as refusal:
            raise ValidationError(str(refusal.message)) from None


class SharedChoices(list):
    """Choices shared by many select fields of one page (the member cities of each partner row):
    SharedSelect escapes them once for the page, not once per field."""

    rendered = None


class SharedSelect(Select):
    """A select that renders SharedChoices from their escaped options, marking the chosen one."""

    def __call__(self, field, **kwargs):
        choices = field.choices
        if not isinstance(choices, SharedChoices):
            return super().__call__(field, **kwargs)
        if choices.rendered is None:
            choices.rendered = [
                (str(value), Markup(f'<option value="{escape(value)}">{escape(label)}</option>'))
                for value, label in choices
            ]
        kwargs.setdefault("id", field.id)
        chosen = "" if field.data is None else str(field.data)
        options = [
            Markup(f'<option selected value="{escape(value)}">') + html[html.index(">") + 1 :]
            if value == chosen
            else html
            for value, html in choices.rendered
        ]
        return (
            Markup(f"<select {html_params(name=field.name, **kwargs)}>")
            + Markup("").join(options)
            + Markup("</select>")
        )
