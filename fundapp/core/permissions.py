"""Who may see what: a role decorator for pages, and one scoping helper for objects.

Objects answer `can_view(user)` (and `visible_to(user)` for list queries); routes load them with
get_visible_or_404(), so an object outside the user's scope is a 404, the same as one that does
not exist.
"""

from functools import wraps

from flask import abort
from flask_login import current_user

from ..extensions import db, login_manager

ROLES = ("applicant", "reviewer", "staff", "admin", "donor")
STAFF_ROLES = ("staff", "admin")


def roles_required(*roles):
    """The page needs a signed-in user holding one of `roles` (admin counts as staff)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


staff_required = roles_required("staff")
admin_required = roles_required("admin")


def get_visible_or_404(model, ident, user=None):
    """Load `model` by id when `user` (default: the current user) may see it; otherwise 404."""
    user = user or current_user
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        abort(404)
    obj = db.session.get(model, ident)
    if obj is None or not obj.can_view(user):
        abort(404)
    return obj
