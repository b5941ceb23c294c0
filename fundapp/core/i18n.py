"""Language and timezone of the viewer, and the formatting filters templates use."""

from babel import Locale
from babel.dates import format_datetime
from flask import current_app, request, session
from flask_babel import get_locale as babel_locale
from flask_login import current_user

from .money import format_eur
from .timeutil import as_utc, in_zone

LANGUAGE_NAMES = {"en": "English", "fr": "Français", "es": "Español"}


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


def viewer_timezone():
    user = _viewer()
    if user is not None and user.timezone:
        return user.timezone
    return current_app.config["FUND_TIMEZONE"]


def country_name(code):
    if not code:
        return ""
    locale = babel_locale() or Locale("en")
    return locale.territories.get(code.upper(), code)


def valid_country(code):
    return bool(code) and len(code) == 2 and code.upper() in Locale("en").territories and code.isalpha()


def format_instant(value, tz_name=None, fmt="medium"):
    """An instant in the viewer's timezone (or tz_name), with the zone's name."""
    if value is None:
        return ""
    tz_name = tz_name or viewer_timezone()
    local = in_zone(as_utc(value), tz_name)
    # Babel itself with the request's cached locale (flask-babel's wrapper costs four times as much).
    text = format_datetime(local.replace(tzinfo=None), fmt, locale=babel_locale() or "en")
    return f"{text} ({tz_name})"


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


def format_day(value):
    """A calendar date in the reader's language ("2 déc. 2026")."""
    from flask_babel import format_date

    return format_date(value, "medium") if value else ""


def init_app(app):
    app.jinja_env.filters["eur"] = format_eur
    app.jinja_env.filters["isoformat"] = lambda value: as_utc(value).isoformat() if value else ""
    app.jinja_env.globals["countdown"] = countdown
    app.jinja_env.filters["instant"] = format_instant
    app.jinja_env.filters["country"] = country_name
    app.jinja_env.filters["day"] = format_day

    @app.context_processor
    def _language_context():
        return {
            "LANGUAGE_NAMES": LANGUAGE_NAMES,
            "current_language": str(babel_locale() or "en"),
        }
