"""Notices on a user's home page, written in the user's language when they are created."""

import sqlalchemy as sa

from ..extensions import db
from .models import Notice
from .timeutil import utcnow


def add_notice(user, kind, message, *, link=None, dedupe_key=None):
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Notice).where(Notice.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    notice = Notice(user_id=user.id, kind=kind, message=str(message)[:500], link=link, dedupe_key=dedupe_key)
    db.session.add(notice)
    return notice


def withdraw_notices(dedupe_prefix):
    """Take off every home page the notices whose key starts with `dedupe_prefix` (what they
    announced is over: "a call is open" once it has closed)."""
    db.session.execute(
        sa.update(Notice)
        .where(Notice.dedupe_key.startswith(dedupe_prefix, autoescape=True), Notice.dismissed_at.is_(None))
        .values(dismissed_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def open_notices(user, limit=10):
    return db.session.scalars(
        sa.select(Notice)
        .where(Notice.user_id == user.id, Notice.dismissed_at.is_(None))
        .order_by(Notice.created_at.desc(), Notice.id.desc())
        .limit(limit)
    ).all()
