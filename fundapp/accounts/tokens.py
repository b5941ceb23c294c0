"""Signing in to the JSON API with a personal access token (the API calls `authenticate`).

A request carries `Authorization: Bearer fa_…`; the API passes the token (without "Bearer") and the
client's address, and turns a `TokenRefused` into its JSON error. Two limits, from the config
(defaults below), are kept with the sign-in limiter (`throttle`):

- API_TOKEN_FAILURES_PER_ADDRESS: tokens refused (unknown, revoked, expired, deactivated account)
  from one address; once the window is full, that address is answered 429 without any token being
  looked at;
- API_TOKEN_REQUESTS_PER_TOKEN: requests made with one token, 429 beyond.

Every token is read-only (scope "read", the only one the table accepts), and so is the API: there is
no scope to check yet. When a token may write, `authenticate` must say which scope a request needs.
"""

import re

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from ..core.catalogue import lazy_gettext as _l
from ..core.i18n import lazy_instant
from ..core.timeutil import utcnow
from ..extensions import db
from . import operations, throttle
from .models import AccessToken, User, token_digest

DEFAULT_FAILURES_PER_ADDRESS = "30/minute"
DEFAULT_REQUESTS_PER_TOKEN = "300/minute"

# What new_access_token makes: "fa_" and 43 characters of URL-safe base64.
_WELL_FORMED = re.compile(r"fa_[A-Za-z0-9_-]{43}")


class TokenRefused(Exception):
    """The request is not let in: `message` (a translated lazy string) says why, `status` is the
    HTTP status to answer (401: no valid token; 429: too many attempts or requests)."""

    def __init__(self, message, status=401):
        super().__init__(str(message))
        self.message = message
        self.status = status


def _limit(key, default):
    return current_app.config.get(key) or default


def _refuse(message, address):
    """A refused token counts against its address; the attempt that fills the window is a 429."""
    if not throttle.take(
        "api-token-failures", address, _limit("API_TOKEN_FAILURES_PER_ADDRESS", DEFAULT_FAILURES_PER_ADDRESS)
    ):
        return _too_many_attempts()
    return TokenRefused(message, 401)


def _too_many_attempts():
    return TokenRefused(
        _l("Too many attempts with access tokens that are not valid from this address: try again later."),
        429,
    )


def authenticate(raw, *, address):
    """The user a valid token stands for; TokenRefused otherwise (see the module's docstring)."""
    address = address or "-"
    if not throttle.allows(
        "api-token-failures", address, _limit("API_TOKEN_FAILURES_PER_ADDRESS", DEFAULT_FAILURES_PER_ADDRESS)
    ):
        raise _too_many_attempts()
    raw = (raw or "").strip()
    if not _WELL_FORMED.fullmatch(raw):
        raise _refuse(_l("This access token is not valid."), address)
    # The token, its user and the user's roles in one statement: every API request asks.
    found = (
        db.session.execute(
            sa.select(AccessToken, User)
            .join(User, User.id == AccessToken.user_id)
            .options(joinedload(User.grants))
            .where(AccessToken.token_digest == token_digest(raw))
        )
        .unique()
        .first()
    )
    if found is None:
        raise _refuse(_l("This access token is not valid."), address)
    token, user = found
    if token.revoked_at is not None:
        raise _refuse(_l("This access token was revoked on %(date)s.", date=lazy_instant(token.revoked_at)), address)
    if token.expires_at <= utcnow():
        raise _refuse(_l("This access token expired on %(date)s.", date=lazy_instant(token.expires_at)), address)
    if not user.active:
        raise _refuse(_l("The account this access token belongs to is deactivated."), address)
    if not throttle.take(
        "api-token", str(token.id), _limit("API_TOKEN_REQUESTS_PER_TOKEN", DEFAULT_REQUESTS_PER_TOKEN)
    ):
        raise TokenRefused(_l("Too many requests with this access token: try again later."), 429)
    operations.note_token_use(token)
    return user
