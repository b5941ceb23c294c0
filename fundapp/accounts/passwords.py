"""What makes a password acceptable (ASVS 5.0 V6.2): long enough, not among the passwords people
use most, and not built from words anyone can guess about the account.

The common passwords are zxcvbn's list of the 30,000 most used ones (from leaked password sets),
installed with the package, so the check works offline.
"""

import re
import string
import unicodedata
from functools import lru_cache

from flask import current_app

from ..core.catalogue import lazy_gettext as _l

# Words anyone can guess about any account here.
SITE_WORDS = ("metropolis", "metropolises", "fundapp", "international fund")

_SEPARATORS = re.compile(r"[^0-9a-z]+")
_EDGES = string.digits + string.punctuation + string.whitespace


@lru_cache(maxsize=1)
def common_passwords():
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def _plain(text):
    """Lower case without accents: "Núria" and "nuria" are the same word to a guesser."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def context_words(*texts):
    """The guessable words of an account: its name and e-mail address, split into parts."""
    words = set()
    for text in texts:
        for word in _SEPARATORS.split(_plain(text)):
            if len(word) >= 3:
                words.add(word)
    words.update(w.replace(" ", "") for w in SITE_WORDS)
    return words


def problem(password, *, context=()):
    """None when the password may be used; otherwise the reason, to show next to the field."""
    password = password or ""
    minimum = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < minimum:
        return _l("Use at least %(n)d characters.", n=minimum)
    plain = _plain(password)
    # "password1234", "iloveyou2020!!" and "1234567890!!" are common ones with something added.
    candidates = {plain, plain.strip(string.punctuation + string.whitespace), plain.strip(_EDGES)}
    if candidates & common_passwords() or len(set(plain)) < 4:
        return _l("This password is one of the most used ones: choose one that is harder to guess.")
    rest = plain
    for word in sorted(context_words(*context), key=len, reverse=True):
        rest = rest.replace(word, "")
    if rest != plain and sum(c.isalpha() for c in rest) < 5:
        return _l(
            "This password is built from your name, your e-mail address or the fund's name: "
            "add words nobody would guess."
        )
    return None
