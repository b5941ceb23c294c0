"""Writes on what core owns that users start themselves."""

from ..extensions import db
from .timeutil import utcnow


def dismiss_notice(notice):
    notice.dismissed_at = utcnow()
    db.session.commit()
