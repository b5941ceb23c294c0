"""Messages translated through the catalogue flask-babel chose, found once per locale.

flask-babel looks the request's context up four times and names the locale again for every
message, lazy ones included (a staff list shows a state label per row). Once flask-babel has chosen
the locale (or `force_locale` set one), `translations()` reads it once and finds its catalogue in a
dict; before that, or outside a context, flask-babel's own lookup answers. The functions below
format as flask-babel's do (`%` with the keyword arguments, `num` for plurals), and the lazy ones
are flask-babel's LazyString, so forms, JSON and templates treat them alike.
"""

from flask import g, request
from flask_babel import get_locale, get_translations
from flask_babel.speaklater import LazyString

_catalogues = {}


def _babel_context():
    """flask-babel's namespace of this context (where it keeps the chosen locale), or None."""
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):
        return None


def translations():
    """The message catalogue of the locale flask-babel chose for this context (or force_locale set)."""
    ctx = _babel_context()
    locale = getattr(ctx, "babel_locale", None)
    if locale is None:
        return get_translations()
    # The same locale as this context's last lookup (force_locale puts another in its place): its
    # catalogue without hashing the Locale again (a list page asks a hundred times).
    last = getattr(ctx, "fundapp_catalogue", None)
    if last is not None and last[0] is locale:
        return last[1]
    catalogue = _catalogues.get(locale)
    if catalogue is None:
        catalogue = _catalogues[locale] = get_translations()
    ctx.fundapp_catalogue = (locale, catalogue)
    return catalogue


def current_locale():
    """The locale flask-babel chose for this context (or force_locale set), as flask_babel.get_locale
    answers (None outside a request), read without its four lookups of the context once chosen."""
    locale = getattr(_babel_context(), "babel_locale", None)
    return locale if locale is not None else get_locale()


def gettext(string, **variables):
    text = translations().ugettext(string)
    return text % variables if variables else text


def ngettext(singular, plural, num, **variables):
    variables.setdefault("num", num)
    return translations().ungettext(singular, plural, num) % variables


def pgettext(context, string, **variables):
    text = translations().upgettext(context, string)
    return text % variables if variables else text


def lazy_gettext(string, **variables):
    return LazyString(gettext, string, **variables)


def lazy_ngettext(singular, plural, num, **variables):
    return LazyString(ngettext, singular, plural, num, **variables)


def lazy_pgettext(context, string, **variables):
    return LazyString(pgettext, context, string, **variables)


class _WTFormsMessages:
    """WTForms' own messages ("This field is required.", the default labels) in the request's
    language, each language's catalogue read from disk once per process. Flask-WTF reads it again
    for every request that makes a form, unless the request already holds one (its
    `request.wtforms_translations`, which init_app fills with this object)."""

    _loaded = {}

    def _catalogue(self):
        locale = current_locale()
        key = str(locale or "en")
        catalogue = self._loaded.get(key)
        if catalogue is None:
            from babel.support import Translations
            from wtforms.i18n import messages_path

            catalogue = self._loaded[key] = Translations.load(messages_path(), [key], domain="wtforms")
        return catalogue

    def ugettext(self, string):
        return self._catalogue().ugettext(string)

    def ungettext(self, singular, plural, n):
        return self._catalogue().ungettext(singular, plural, n)


def init_app(app):
    messages = _WTFormsMessages()

    @app.before_request
    def _wtforms_messages():
        request.wtforms_translations = messages
