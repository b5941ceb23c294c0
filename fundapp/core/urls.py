"""Absolute links for e-mails and feeds, and the one check on where a redirect may lead."""

import re
from urllib.parse import unquote, urlsplit

from flask import current_app

# Browsers drop tabs and line breaks inside a URL and read a backslash as a slash, so
# "/\tevil.example", "/\\evil.example" and "/%09/evil.example" all lead off-site.
_IGNORED_BY_BROWSERS = re.compile(r"[\x00-\x1f\x7f]")


def external_url(endpoint, **values):
    """An absolute link built from FUNDAPP_BASE_URL, never from the request's Host header."""
    base = current_app.config["BASE_URL"].rstrip("/")
    scheme, _, rest = base.partition("://")
    netloc, _, script = rest.partition("/")
    adapter = current_app.url_map.bind(netloc, script_name="/" + script if script else None, url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)


def _looks_local(target):
    cleaned = _IGNORED_BY_BROWSERS.sub("", target).replace("\\", "/").strip()
    if not cleaned.startswith("/") or cleaned.startswith("//"):
        return False
    parts = urlsplit(cleaned)
    return not parts.scheme and not parts.netloc


def safe_redirect_target(target):
    """`target` when it is a path on this site (for `next=` and the like); None otherwise.

    The target is checked as given and once more after percent-decoding (twice), so that an
    encoded tab, slash or backslash cannot turn it into a link to another host.
    """
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    candidate = target
    for _ in range(3):
        if not _looks_local(candidate):
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            break
        candidate = decoded
    else:
        return None  # still encoded after three rounds: nothing a page of ours links to
    if _IGNORED_BY_BROWSERS.search(target):
        return None
    return target
