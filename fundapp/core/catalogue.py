"""Messages translated through the catalogue flask-babel chose, found once per locale.

flask-babel looks the request's context up four times and names the locale again for every
message, lazy ones included (a staff list shows a state label per row). Once flask-babel has chosen
the locale (or `force_locale` set one), `translations()` reads it once and finds its catalogue in a
dict; before that, or outside a context, flask-babel's own lookup answers. The functions below
format as flask-babel's do (`%` with the keyword arguments, `num` for plurals), and the lazy ones
are flask-babel's LazyString, so forms, JSON and templates treat them alike.
"""

from flask import g
from flask_babel import get_translations
from flask_babel.speaklater import LazyString

_catalogues = {}


def translations():
    """The message catalogue of the locale flask-babel chose for this context (or force_locale set)."""
    try:
        locale = g._flask_babel.babel_locale
    except (AttributeError, RuntimeError):
        locale = None
    if locale is None:
        return get_translations()
    catalogue = _catalogues.get(locale)
    if catalogue is None:
        catalogue = _catalogues[locale] = get_translations()
    return catalogue


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
