"""Notices on a user's home page, shown in the language the reader reads now.

A feature names the text of each kind of notice once (`notice_text`); a notice keeps the values
that fill it (`params`), so it is written out when shown, in the reader's language of the day:
a call's title as the call gives it in that language, an amount as the reader writes amounts.
The text as first written (`message`) stays for notices kept from before, and as the fallback.
"""

import sqlalchemy as sa
from flask_babel import force_locale

from ..extensions import db
from .models import Notice
from .money import format_eur
from .timeutil import utcnow

_TEXTS = {}


def notice_text(kind, text):
    """Name the text of the notices of `kind`: a lazy message (`_l`, no values given) with
    %(name)s fields, filled from each notice's params when shown."""
    _TEXTS[kind] = text


def in_language(values):
    """A value of each language ({"en": ..., "fr": ...}) kept in a notice's params."""
    return {"by_language": dict(values)}


def in_euros(cents):
    """An amount kept in a notice's params, written in the reader's way when shown."""
    return {"cents": int(cents)}


def add_notice(user, kind, *, params, link=None, dedupe_key=None):
    """A notice of `kind` (its text named with notice_text) on `user`'s home page, filled from
    `params`; its text as written today in the user's language is kept as the fallback."""
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(Notice).where(Notice.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    with force_locale(user.language):
        message = _written(kind, params, user.language)
    notice = Notice(
        user_id=user.id,
        kind=kind,
        message=message[:500],
        params=params,
        link=link,
        dedupe_key=dedupe_key,
    )
    db.session.add(notice)
    return notice


def _value(value, language):
    if isinstance(value, dict) and "by_language" in value:
        texts = value["by_language"]
        return texts.get(language) or texts.get("en") or next(iter(texts.values()), "")
    if isinstance(value, dict) and "cents" in value:
        return format_eur(value["cents"])
    return value


def _written(kind, params, language):
    """The text of a notice of `kind` filled with `params`, in the current request's language."""
    # The lazy text unformatted is its translation with its %(name)s fields, in this request.
    return str(_TEXTS[kind]) % {key: _value(value, language) for key, value in params.items()}


def notice_message(notice, language):
    """The notice's text for a reader of `language`: its kind's text filled with its params, or
    the text as first written (a notice kept from before it had params)."""
    if notice.kind not in _TEXTS or notice.params is None:
        return notice.message
    try:
        return _written(notice.kind, notice.params, language)
    except (KeyError, TypeError, ValueError):
        return notice.message


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
