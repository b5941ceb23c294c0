"""The audit log: every change writes an entry in the same transaction as the change."""

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from flask import g, has_request_context, request
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .catalogue import lazy_gettext as _l
from .models import AuditEntry


class AuditLogIsAppendOnly(RuntimeError):
    pass


def _jsonable(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        # One text per number: the stored "20.00" and the typed "20" are the same threshold, so an
        # unchanged save shows no change in the history.
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


_action_names = {}


def name_actions(names, *, keep_existing=False):
    """Say what audit actions are called on the pages ({action: lazy label}): each feature names
    its own. A workflow names its transitions by their buttons (`keep_existing`), unless its feature
    gave a better name for the history."""
    for action, label in names.items():
        if keep_existing:
            _action_names.setdefault(action, label)
        else:
            _action_names[action] = label


def action_label(action):
    """What an audit action is called in the reader's language (its code if it has no name)."""
    return _action_names.get(action, action)


_object_kinds = {}


def name_objects(kinds):
    """Say what the audit log's objects are called on its pages, and where one is seen: {type (the
    model's class name): label, or (label, endpoint of its page, the endpoint's id argument[,
    shown])}. `shown(ids)` answers which of those ids have a page (an application is not staff's
    to see while it is a draft); without it, every one has. Each feature names its own."""
    for object_type, kind in kinds.items():
        label, *page = kind if isinstance(kind, tuple) else (kind,)
        endpoint, argument, shown = (*page, None, None, None)[:3]
        _object_kinds[object_type] = (label, endpoint, argument, shown)


def object_label(object_type):
    """What an object type is called in the reader's language (its code if it has no name)."""
    kind = _object_kinds.get(object_type)
    return kind[0] if kind else object_type


def object_links(entries):
    """{(type, id): the page of that object} for the objects of these entries that have one, in a
    query per kind that must be asked (not one per entry)."""
    from flask import url_for

    wanted = {}
    for entry in entries:
        kind = _object_kinds.get(entry.object_type)
        if kind and kind[1] and (entry.object_id or "").isdigit():
            wanted.setdefault(entry.object_type, set()).add(int(entry.object_id))
    links = {}
    for object_type, ids in wanted.items():
        _label, endpoint, argument, shown = _object_kinds[object_type]
        for ident in shown(ids) if shown else ids:
            links[(object_type, str(ident))] = url_for(endpoint, **{argument: ident})
    return links


def named_object_types():
    """[(type, label)] of the named object types, by label (the log's filter), each label once."""
    seen, types = set(), []
    for object_type, kind in sorted(_object_kinds.items(), key=lambda item: str(item[1][0]).lower()):
        if str(kind[0]) not in seen:
            seen.add(str(kind[0]))
            types.append((object_type, kind[0]))
    return types


def snapshot(obj, fields=None):
    """The object's column values (or just `fields`) as a JSON-ready dict."""
    if obj is None:
        return None
    mapper = sa.inspect(obj).mapper
    names = fields or [c.key for c in mapper.column_attrs]
    return {name: _jsonable(getattr(obj, name)) for name in names}


def _current_actor_id():
    if g.get("fundapp_job_id") is not None:  # a background job acts for nobody in particular
        return None
    try:
        if current_user and current_user.is_authenticated:
            return current_user.id
    except Exception:  # outside a request or before login is set up
        return None
    return None


def record(action, obj=None, *, object_type=None, object_id=None, before=None, after=None, summary="", actor=None):
    """Add an audit entry to the current transaction (it commits or rolls back with the change)."""
    if obj is not None:
        object_type = object_type or type(obj).__name__
        if object_id is None:
            if obj in db.session.new:
                db.session.flush()
            object_id = getattr(obj, "id", None)
    entry = AuditEntry(
        action=action,
        object_type=object_type or "-",
        object_id=None if object_id is None else str(object_id),
        before=_jsonable(before),
        after=_jsonable(after),
        summary=(summary or "")[:300],
        actor_id=actor.id if actor is not None else _current_actor_id(),
        remote_addr=request.remote_addr if has_request_context() else None,
    )
    db.session.add(entry)
    return entry


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session, flush_context, instances):
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditLogIsAppendOnly("audit entries are never changed or deleted")


name_objects(
    {
        "AuditEntry": _l("Audit entry"),
        "JobRecord": _l("Job"),
        "Document": _l("Document"),
        "OutboxMessage": (_l("E-mail"), "core.outbox_message", "message_id"),
        "Notice": _l("Notice"),
    }
)
