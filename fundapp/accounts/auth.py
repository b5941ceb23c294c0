"""Flask-Login wiring: sessions carry the user's session token, so rotating it signs them out."""

from ..core.catalogue import lazy_gettext as _l
from ..extensions import login_manager
from . import operations


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(ident):
    """The user of this browser's session while it lives (see accounts.operations.session_for)."""
    from flask import g

    user, row = operations.session_for(ident)
    g.user_session = row
    return user
