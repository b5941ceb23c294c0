"""Flask-Login wiring: sessions carry the user's session token, so rotating it signs them out."""

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from .models import User


def init_login(app):
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(session_token):
    if not session_token:
        return None
    user = db.session.scalar(sa.select(User).where(User.session_token == session_token))
    if user is None or not user.active:
        return None
    return user
