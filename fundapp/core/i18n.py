"""Language and timezone of the viewer, and the formatting filters templates use."""

import datetime
import functools
import re
import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal

from babel import Locale
from babel.dates import UTC, get_date_format, get_datetime_format, get_time_format, parse_pattern, tokenize_pattern
from babel.numbers import format_decimal, get_decimal_symbol, get_group_symbol
from babel.units import format_unit
from flask import current_app, request, session
from flask_login import current_user

from . import audit, catalogue
from .catalogue import current_locale, translations
from .inputs import paragraphs
from .kept import kept_forms_saved
from .money import cents_to_decimal, format_eur
from .timeutil import as_utc, in_zone

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}


def language_names(codes):
    """Languages stored as codes ("en,fr", or a list) as their own names: "English, Français"."""
    if isinstance(codes, str):
        codes = codes.split(",")
    names = [LANGUAGE_NAMES.get(code.strip(), code.strip()) for code in codes or () if code and code.strip()]
    return ", ".join(names) or "—"


def format_size(size):
    """A file's size in the reader's language: "12 kB", "12 ko", "1,5 Mo"."""
    size = size or 0
    if size >= 1024 * 1024:
        return format_unit(round(size / (1024 * 1024), 1), "digital-megabyte", length="short", locale=_locale())
    return format_unit(max(1, round(size / 1024)), "digital-kilobyte", length="short", locale=_locale())


def _viewer():
    """The signed-in user, or None (one look through flask-login's proxy, not one per attribute)."""
    try:
        user = current_user._get_current_object()
    except Exception:
        return None
    return user if user is not None and user.is_authenticated else None


def select_locale():
    """The user's choice, else the switcher's choice this session, else the browser, else English."""
    languages = current_app.config["LANGUAGES"]
    user = _viewer()
    if user is not None and user.language in languages:
        return user.language
    if request:
        chosen = session.get("language")
        if chosen in languages:
            return chosen
        return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


_reader_zone = ContextVar("fundapp_reader_zone", default=None)


@contextmanager
def reader_zone(tz_name):
    """Render for someone other than the signed-in user (an e-mail's recipient) in their timezone."""
    token = _reader_zone.set(tz_name)
    try:
        yield
    finally:
        _reader_zone.reset(token)


def viewer_timezone():
    chosen = _reader_zone.get()
    if chosen:
        return chosen
    user = _viewer()
    if user is not None and user.timezone:
        return user.timezone
    return current_app.config["FUND_TIMEZONE"]


def country_name(code):
    if not code:
        return ""
    locale = current_locale() or Locale("en")
    return locale.territories.get(code.upper(), code)


def timezone_options(current=None):
    """[(zone, label)] for a timezone select, in the reader's language, by country: "Colombie ·
    America/Bogota". The zones of a country and UTC, not the legacy aliases ("US/Eastern",
    "Etc/GMT+5"); a `current` value that is one of those (a real zone) stays listed, so it is kept."""
    from .timeutil import is_valid_timezone

    locale = current_locale() or Locale("en")
    options = _timezone_options(str(locale))
    if current and is_valid_timezone(current) and current not in {zone for zone, _label in options}:
        return [(current, current), *options]
    return options


@functools.lru_cache(maxsize=8)
def _timezone_options(locale_name):
    from babel.core import get_global

    from .timeutil import is_valid_timezone

    locale = Locale.parse(locale_name)
    territories = get_global("zone_territories")
    options = [
        (zone, f"{locale.territories.get(territory, territory)} · {zone}")
        for zone, territory in territories.items()
        if is_valid_timezone(zone) and "/" in zone and not zone.startswith("Etc/")
    ]

    def plain(text):  # "États-Unis" beside "Estonie", not after "Zimbabwe"
        return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()

    options.sort(key=lambda option: plain(option[1]))
    return [("UTC", "UTC"), *options]


def valid_country(code):
    return bool(code) and len(code) == 2 and code.upper() in Locale("en").territories and code.isalpha()


def format_instant(value, tz_name=None, fmt="medium"):
    """An instant in the viewer's timezone (or tz_name), with the zone's name: "7 févr. 2027,
    18:00 (Europe/Madrid)". The usual ("medium") form gives the time to the minute, without
    the seconds Babel's medium time adds; the other named forms are Babel's own."""
    if value is None:
        return ""
    tz_name = tz_name or viewer_timezone()
    local = in_zone(as_utc(value), tz_name).replace(tzinfo=None)
    return f"{_instant_writer(_locale(), fmt).write(local)} ({tz_name})"


class _InstantWriter:
    """What babel.dates.format_datetime(local, fmt, locale=locale) writes (with the minute as the
    last figure for "medium"), with the patterns looked up once per locale, and each day's and
    each time's text written once: a list formats one instant per row, most of them on a few days.
    """

    KEPT = 4096  # texts kept of each kind before starting again

    def __init__(self, locale, fmt):
        self.locale = locale
        self.combined = get_datetime_format(fmt, locale=locale).replace("'", "")
        self.date_pattern = parse_pattern(get_date_format(fmt, locale=locale))
        self.time_pattern = parse_pattern(get_time_format("short" if fmt == "medium" else fmt, locale=locale))
        fields = {token[1][0] for token in tokenize_pattern(self.time_pattern.pattern) if token[0] == "field"}
        # A time with a zone field ("long", "full": summer time depends on the day) or fractions of
        # a second is written each time; another is kept by its hour, minute (and second).
        self.time_alone = not fields & set("zZvVOxXSA")
        self.seconds = "s" in fields
        self.days, self.times = {}, {}

    def day(self, day):
        text = self.days.get(day)
        if text is None:
            if len(self.days) >= self.KEPT:
                self.days.clear()
            text = self.days[day] = self.date_pattern.apply(day, self.locale)
        return text

    def time(self, local):
        if not self.time_alone:
            return self.time_pattern.apply(local.replace(tzinfo=UTC).timetz(), self.locale, reference_date=local.date())
        key = (local.hour, local.minute, local.second if self.seconds else 0)
        text = self.times.get(key)
        if text is None:
            if len(self.times) >= self.KEPT:
                self.times.clear()
            text = self.times[key] = self.time_pattern.apply(local.time(), self.locale)
        return text

    def write(self, local):
        return self.combined.replace("{0}", self.time(local)).replace("{1}", self.day(local.date()))


_instant_writers = {}


def _instant_writer(locale, fmt):
    """The _InstantWriter of a locale and format, made once (keyed by the locale's parts: a
    Locale compares itself slowly, and a list asks once per row)."""
    key = (locale.language, locale.territory, locale.script, locale.variant, locale.modifier, fmt)
    writer = _instant_writers.get(key)
    if writer is None:
        writer = _instant_writers[key] = _InstantWriter(locale, fmt)
    return writer


def format_deadline(value, call_tz):
    """A deadline in the viewer's zone, and in the call's zone beside it when the two differ."""
    if value is None:
        return ""
    mine = viewer_timezone()
    if not call_tz or mine == call_tz:
        return format_instant(value, call_tz or mine)
    from flask_babel import gettext

    return gettext(
        "%(yours)s; call time: %(call)s", yours=format_instant(value, mine), call=format_instant(value, call_tz)
    )


class _Lazy:
    """A value in a refusal message, formatted for the reader when the message is shown.

    Messages are lazy strings, turned into text in the request that shows them: a date or a
    deadline inside one is formatted then, in that reader's language and timezone.
    """

    def __init__(self, value, *args):
        self.value, self.args = value, args

    def __str__(self):
        try:
            return self.render(self.value, *self.args)
        except RuntimeError:  # no application context: the plain form
            return self.fallback()

    def fallback(self):
        return self.value.isoformat() if self.value is not None else ""


class lazy_day(_Lazy):
    render = staticmethod(lambda value: format_day(value))


class lazy_instant(_Lazy):
    render = staticmethod(lambda value: format_instant(value))


class lazy_decimal(_Lazy):
    render = staticmethod(lambda value: format_number(value, 0, 2))

    def fallback(self):
        return format(self.value.normalize(), "f")


class lazy_count(_Lazy):
    """A whole number as the reader writes it ("4 000" in French, "4.000" in Spanish)."""

    render = staticmethod(lambda value: format_number(value, 0))

    def fallback(self):
        return str(self.value)


class lazy_in_language(_Lazy):
    """`function(*args, language)`: a text that exists in each language (a document's name)."""

    def __init__(self, function, *args):
        super().__init__(None, function, *args)

    @staticmethod
    def render(_value, function, *args):
        return function(*args, str(current_locale() or "en"))

    def fallback(self):
        function, *args = self.args
        return function(*args, "en")


class lazy_deadline(_Lazy):
    render = staticmethod(lambda value, call_tz: format_deadline(value, call_tz))


def countdown(until, now):
    """'3 days, 4 hours' until an instant (server time), or '' once it has passed."""
    from flask_babel import ngettext

    seconds = int((as_utc(until) - as_utc(now)).total_seconds())
    if seconds <= 0:
        return ""
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(num)d day", "%(num)d days", days))
    if hours or days:
        parts.append(ngettext("%(num)d hour", "%(num)d hours", hours))
    if not days:
        parts.append(ngettext("%(num)d minute", "%(num)d minutes", minutes))
    return ", ".join(parts)


def _locale():
    """The request's locale, cached by flask-babel (or the one force_locale set), else English."""
    return current_locale() or Locale("en")


def _pattern(places, max_places):
    """A Babel decimal pattern with grouping and places..max_places decimals ("#,##0.00")."""
    places = int(places)
    max_places = places if max_places is None else max(int(max_places), places)
    if not max_places:
        return "#,##0"
    return "#,##0." + "0" * places + "#" * (max_places - places)


def format_number(value, places=2, max_places=None):
    """A number in the reader's language: 62.66 -> "62,66" in French; "" for None.

    `places` decimals are always shown, up to `max_places` when the number has them
    (`score|decimal(0, 2)` shows 5 as "5" and 0.5 as "0,5"). Anything that is not a number
    (a "—" placeholder) is shown as it is.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        return value
    locale = _locale()
    if max_places is None and type(value) is Decimal and value.is_finite() and not value.is_signed() and value < 1000:
        # The common case (a score of 0-100 with its two decimals): no grouping, no rounding, so
        # only the locale's decimal sign differs from Python's own text. A ranking page shows a
        # thousand of these; Babel's pattern machinery costs ten times as much for each.
        if value.as_tuple().exponent == -int(places):
            return format(value, "f").replace(".", _decimal_sign(locale))
    # Decimals stay Decimals: Babel rounds them without going through float.
    return format_decimal(value, _pattern(places, max_places), locale=locale)


@functools.cache
def _decimal_sign_of(locale_name):
    return get_decimal_symbol(locale_name)


def _decimal_sign(locale):
    return _decimal_sign_of(str(locale))


def format_percent(value, places=0, max_places=1):
    """A percentage given out of 100 in the reader's language: 25 -> "25 %" (fr), "25%" (en)."""
    if value is None or value == "":
        return ""
    locale = _locale()
    pattern = locale.percent_formats[None].pattern.replace("#,##0", _pattern(places, max_places), 1)
    share = Decimal(str(value)) / 100 if not isinstance(value, Decimal) else value / 100
    return format_decimal(share, pattern, locale=locale)


def format_decimal_input(value):
    """A decimal as typed into a form in the reader's language, without grouping ("2,5" in
    French), which core.forms.DecimalText reads back to the same value."""
    if value is None:
        return ""
    value = Decimal(str(value))
    # Every decimal it holds (an exchange rate has ten): a form shown and saved again keeps the
    # value exactly, never rounded to what a pattern shows.
    places = max(0, -value.normalize().as_tuple().exponent) if value.is_finite() else 0
    return format_decimal(value, "0." + "#" * max(places, 1), locale=_locale(), decimal_quantization=False)


def format_eur_input(cents):
    """Cents as typed into a form in the reader's language, without the currency sign.

    "100,000.00" (en), "100 000,00" (fr), "100.000,00" (es): what `parse_eur` reads back to the
    same cents.
    """
    if cents is None:
        return ""
    return _eur_input(cents, str(_locale()))


@functools.lru_cache(maxsize=8192)
def _eur_input(cents, locale_name):
    """Babel's text, kept as core.money keeps the displayed amounts: a decision board fills a
    hundred amount fields, most of them with the same few requests and the cap."""
    return format_decimal(cents_to_decimal(cents), "#,##0.00", locale=locale_name)


def format_eur_plain(cents):
    """Cents as a plain machine number ("60000.00") for hidden inputs the server reads back."""
    return "" if cents is None else str(cents_to_decimal(cents))


def format_day(value):
    """A calendar date in the reader's language ("2 déc. 2026"); an ISO string is read first."""
    if not value:
        return ""
    if isinstance(value, str):
        try:
            value = datetime.date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime.datetime):  # an instant: its day where the reader is
        value = in_zone(as_utc(value), viewer_timezone()).date()
    return _instant_writer(_locale(), "medium").day(value)


def parse_count(text):
    """A whole number as the reader writes it: "1450", "1 450" (any space), and their language's
    thousands ("1.450" in Spanish, "1,450" in English); ValueError for anything else ("1,5")."""
    cleaned = re.sub(r"[\s\u00a0\u202f]", "", text or "")
    group = get_group_symbol(_locale())
    if group.strip() and re.fullmatch(rf"-?[0-9]{{1,3}}({re.escape(group)}[0-9]{{3}})+", cleaned):
        cleaned = cleaned.replace(group, "")
    if not re.fullmatch(r"-?[0-9]+", cleaned):
        raise ValueError(text)
    return int(cleaned)


def colon():
    """The colon after a label, spaced the reader's way: French puts a no-break space before it."""
    return "\u00a0:" if _locale().language == "fr" else ":"


def init_app(app):
    catalogue.init_app(app)
    # The templates' _() and ngettext() through the catalogue found once per locale (translations()).
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["eur"] = format_eur
    app.jinja_env.filters["paragraphs"] = paragraphs
    app.jinja_env.filters["isoformat"] = lambda value: as_utc(value).isoformat() if value else ""
    app.jinja_env.globals["countdown"] = countdown
    app.jinja_env.globals["action_label"] = audit.action_label
    app.jinja_env.globals["kept_forms_saved"] = kept_forms_saved
    app.jinja_env.globals["object_label"] = audit.object_label
    app.jinja_env.globals["colon"] = colon
    app.jinja_env.globals["viewer_timezone"] = viewer_timezone
    app.jinja_env.filters["instant"] = format_instant
    app.jinja_env.filters["deadline"] = format_deadline
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.filters["language_names"] = language_names
    app.jinja_env.filters["filesize"] = format_size
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["decimal"] = format_number
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.filters["eur_input"] = format_eur_input
    app.jinja_env.filters["eur_plain"] = format_eur_plain

    @app.context_processor
    def _language_context():
        return {
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_language": str(current_locale() or "en"),
        }
