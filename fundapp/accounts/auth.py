"""Flask-Login wiring: sessions carry the user's session token, so rotating it signs them out."""

from urllib.parse import urlsplit

from flask import flash, redirect, request, url_for

from ..core.catalogue import lazy_gettext as _l
from ..core.urls import safe_redirect_target
from ..extensions import login_manager
from . import operations


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    login_manager.unauthorized_handler(_to_sign_in)


def _to_sign_in():
    """Signed out (or the session ended) on a page that needs a person: to the sign-in page, and
    back afterwards. A form sent after the session ended comes back to the page it was sent from,
    not to the address it posts to (which only takes a POST), and is told to send it again."""
    if request.method in ("GET", "HEAD"):
        back = request.full_path if request.query_string else request.path
        flash(login_manager.login_message, login_manager.login_message_category)
    else:
        referrer = urlsplit(request.referrer or "")
        same_site = referrer.netloc in ("", request.host)
        back = (referrer.path + (f"?{referrer.query}" if referrer.query else "")) if same_site else ""
        flash(_l("Your session ended before this was sent: please sign in, then send it again."), "info")
    return redirect(url_for(login_manager.login_view, next=safe_redirect_target(back) or None))


@login_manager.user_loader
def load_user(ident):
    """The user of this browser's session while it lives (see accounts.operations.session_for)."""
    from flask import g

    user, row = operations.session_for(ident)
    g.user_session = row
    return user
