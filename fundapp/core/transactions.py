"""Where a transaction ends: once per request, per job, per CLI command.

Operations write, flush and raise; they end with `done()`, which does not commit inside a
boundary. The boundary commits once when it ends well, so a request that runs several
operations (a batch of awards, a report saved then sent) is all or nothing, and the jobs those
operations queue go out only after that commit (core.jobs sends them on `after_commit`).

- A request is a boundary (`init_app`): its writes are committed after the view returns a
  response. A refusal caught by the view rolls the request back (core.forms.attempt and act);
  an unhandled error reaches the 500 page, which rolls back.
- A job is a boundary (core.jobs runs each job's function inside `boundary()`, and records the
  job done in the same commit).
- A CLI command is a boundary where it calls operations (`with boundary():`).
- Outside any boundary (a Python shell, a test calling an operation directly) `done()` commits at
  once, as the operation's own unit of work.

A few writes must outlive the refusal that follows them (a wrong second-step code is recorded
even though the sign-in is refused): those operations call `commit_now()`, and say why.
"""

from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db

BOUNDARY_KEY = "fundapp_boundary"
WROTE_KEY = "fundapp_wrote"


def in_boundary():
    return bool(db.session.info.get(BOUNDARY_KEY))


def done():
    """The end of an operation's writes: flushed, for the boundary to commit; committed at once
    when there is no boundary."""
    session = db.session
    if session.info.get(BOUNDARY_KEY):
        session.flush()
        session.info[WROTE_KEY] = True
    else:
        session.commit()


def commit_now():
    """Commit now, inside a boundary too: for a record that must stay although the request is then
    refused (and rolled back). Rare; each caller says why."""
    db.session.commit()


@contextmanager
def boundary():
    """One transaction around a job or a command: committed when the block ends well, rolled back
    when it raises. Nested, it is part of the outer one."""
    session = db.session
    if session.info.get(BOUNDARY_KEY):
        yield
        return
    session.info[BOUNDARY_KEY] = True
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    else:
        session.commit()
    finally:
        session.info.pop(BOUNDARY_KEY, None)
        session.info.pop(WROTE_KEY, None)


@contextmanager
def kept_unless_refused():
    """A part of a request that may be refused without undoing what came before it (a report is
    saved, then its sending is refused): a savepoint, rolled back alone on any error."""
    with db.session.begin_nested():
        yield


def _has_writes(session):
    return bool(session.info.get(WROTE_KEY) or session.new or session.dirty or session.deleted)


@event.listens_for(Session, "after_transaction_end")
def _forget_writes(session, transaction):
    # Only when the whole transaction ends (committed or rolled back): a savepoint rolled back
    # (kept_unless_refused) leaves what was written before it to be committed.
    if transaction.parent is None:
        session.info.pop(WROTE_KEY, None)


def init_app(app):
    """Every request is a boundary. Registered before the other hooks: the flag is up before
    anything reads the session, and the commit runs after every other `after_request`."""

    @app.before_request
    def _open_boundary():
        db.session.info[BOUNDARY_KEY] = True

    @app.after_request
    def _commit_boundary(response):
        session = db.session
        if session.info.pop(BOUNDARY_KEY, None) and _has_writes(session):
            session.commit()  # a failure here is an error like any other: the 500 page, rolled back
        session.info.pop(WROTE_KEY, None)
        return response

    @app.teardown_request
    def _close_boundary(exc):
        session = db.session
        if session.info.pop(BOUNDARY_KEY, None) or exc is not None:
            # The response was never made (an error past the error pages): nothing is kept.
            session.rollback()
        session.info.pop(WROTE_KEY, None)
