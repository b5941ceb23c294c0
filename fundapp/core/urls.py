"""Absolute links for e-mails and feeds."""

from flask import current_app


def external_url(endpoint, **values):
    """An absolute link built from FUNDAPP_BASE_URL, never from the request's Host header."""
    base = current_app.config["BASE_URL"].rstrip("/")
    scheme, _, rest = base.partition("://")
    netloc, _, script = rest.partition("/")
    adapter = current_app.url_map.bind(netloc, script_name="/" + script if script else None, url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)
