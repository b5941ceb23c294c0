"""Who is asking: the JSON API reads `Authorization: Bearer <token>` and nothing else.

The session cookie is ignored: a browser signed in to the site is anonymous to the API unless it
sends a token, so no page's session can be used (or forged, CSRF) through the API.

The user a token stands for is kept in `g.api_user` and passed explicitly to every permission and
query function (`can_view(user)`, `viewable_applications(user)`…). It is also pinned as
flask-login's user of the request (`g._login_user`, where flask-login keeps it) so that nothing
read during the request (the locale selector, a lazy message) falls back to the cookie's user;
nothing is written to the session (flask_login.login_user would).
"""

from flask import g, jsonify, request
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import HTTPException

from ..accounts.tokens import TokenRefused, authenticate
from ..core.catalogue import lazy_gettext as _l
from ..extensions import login_manager


class ApiError(HTTPException):
    """An error answered as the API's JSON body {"error": {"status", "message", "field"?}}."""

    def __init__(self, status, message, field=None):
        super().__init__(description=str(message))
        self.code = status
        self.message = message
        self.field = field

    def get_response(self, environ=None, scope=None):
        return error_response(self.code, self.message, self.field)


def error_response(status, message, field=None):
    body = {"status": status, "message": str(message)}
    if field:
        body["field"] = field
    response = jsonify({"error": body})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fundapp"'
    return response


def identify():
    """before_request of the API: set g.api_user (the token's user, or the anonymous user)."""
    header = request.headers.get("Authorization")
    if header is None:
        user = login_manager.anonymous_user()
    else:
        scheme, _sep, raw = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not raw.strip():
            raise ApiError(401, _l("Send your access token as “Authorization: Bearer <token>”."))
        try:
            user = authenticate(raw.strip(), address=get_remote_address())
        except TokenRefused as refusal:
            raise ApiError(refusal.status, refusal.message) from None
    g.api_user = user
    g._login_user = user


def signed_in_user():
    """The token's user; a 401 when the request carries no token (a protected endpoint)."""
    user = g.get("api_user")
    if user is None or not user.is_authenticated:
        raise ApiError(401, _l("This endpoint needs an access token: create one on your account page."))
    return user


def api_user():
    return g.get("api_user") or login_manager.anonymous_user()
