"""Background jobs: queued only after the commit succeeds, recorded in a row the UI can show.

A job function is registered with @job("name") and takes ids and plain values as keyword
arguments. enqueue() writes a JobRecord in the caller's transaction; when that transaction
commits, the job goes to RQ (FUNDAPP_REDIS_URL set) or runs in-process right away (embedded
default). When it rolls back, the record and the job vanish together.
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask.cli import AppGroup
from redis import Redis
from rq import Queue, Retry, Worker
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .models import JobRecord
from .timeutil import utcnow

log = logging.getLogger(__name__)

PENDING_KEY = "fundapp_pending_jobs"


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: object
    timeout: int | None
    retry: bool


_REGISTRY: dict[str, JobSpec] = {}


def job(name, *, timeout=None, retry=True):
    """Register a job function. `retry=False` for work that must not be repeated blindly."""

    def decorator(func):
        _REGISTRY[name] = JobSpec(name, func, timeout, retry)
        return func

    return decorator


def registered(name):
    return name in _REGISTRY


def enqueue(name, *, dedupe_key=None, run_at=None, **kwargs):
    """Record a job in the current transaction; it is sent when (and only if) the commit succeeds.

    With a dedupe_key, a job already recorded under that key is returned instead of a new one,
    so a double click or a rerun never queues the same work twice.
    """
    if name not in _REGISTRY:
        raise KeyError(f"no job registered under {name!r}")
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(JobRecord).where(JobRecord.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    spec = _REGISTRY[name]
    retries = len(current_app.config["JOB_RETRY_INTERVALS"]) if spec.retry else 0
    record = JobRecord(
        name=name,
        args=kwargs,
        status="queued",
        max_attempts=retries + 1,
        dedupe_key=dedupe_key,
        run_at=run_at,
        created_by_id=_actor_id(),
    )
    db.session.add(record)
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append((record.id, name, run_at))
    return record


def _actor_id():
    from flask_login import current_user

    try:
        if current_user and current_user.is_authenticated:
            return current_user.id
    except Exception:
        return None
    return None


@event.listens_for(Session, "after_commit")
def _send_pending_jobs(session):
    pending = session.info.pop(PENDING_KEY, None)
    if pending and has_app_context():
        dispatch(current_app._get_current_object(), pending)


@event.listens_for(Session, "after_rollback")
def _drop_pending_jobs(session):
    session.info.pop(PENDING_KEY, None)


# Set while the demo fund replays its history: jobs due at the replayed instant run at once,
# in-process, under that clock (so a letter is sent the day it was decided); later ones wait.
_inline: ContextVar = ContextVar("fundapp_jobs_inline", default=False)


@contextmanager
def jobs_in_process():
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


def dispatch(app, pending):
    if app.config.get("REDIS_URL") and not _inline.get():
        _send_to_rq(app, pending)
        return
    later = []
    for record_id, name, run_at in pending:
        if run_at is None or run_at <= utcnow():
            run_in_process(app, record_id)
        else:
            later.append((record_id, name, run_at))
    if later and app.config.get("REDIS_URL"):
        _send_to_rq(app, later)  # the scheduler runs them when their time comes


def _send_to_rq(app, pending):
    intervals = app.config["JOB_RETRY_INTERVALS"]
    queue = get_queue(app)
    for record_id, name, run_at in pending:
        spec = _REGISTRY[name]
        options = dict(
            args=(record_id,),
            job_id=f"fundapp-job-{record_id}",
            job_timeout=spec.timeout or app.config["JOB_TIMEOUT"],
            description=name,
            retry=Retry(max=len(intervals), interval=list(intervals)) if spec.retry and intervals else None,
        )
        try:
            if run_at is not None and run_at > utcnow():
                queue.enqueue_at(run_at, run_job, **options)
            else:
                queue.enqueue(run_job, **options)
        except Exception as exc:  # Redis unreachable: say so on the record rather than lose it
            log.exception("could not queue job %s", record_id)
            _mark_unqueued(record_id, exc)


def _mark_unqueued(record_id, exc):
    with db.engine.begin() as conn:
        conn.execute(
            sa.update(JobRecord)
            .where(JobRecord.id == record_id)
            .values(status="failed", error=f"could not reach the job queue: {exc}"[:2000], finished_at=utcnow())
        )


def run_in_process(app, record_id):
    """Run a job now, in its own app context and session, retrying at once on failure."""
    with app.app_context():
        record = db.session.get(JobRecord, record_id)
        attempts = record.max_attempts if record else 1
    for _ in range(attempts):
        with app.app_context():
            try:
                run_job(record_id)
                return True
            except Exception:
                log.exception("job %s failed in-process", record_id)
    return False


def run_job(record_id):
    """The one function RQ runs: look up the record, run the registered function, record the outcome."""
    if not has_app_context():
        from .. import create_app

        with create_app().app_context():
            return _run(record_id)
    return _run(record_id)


def _run(record_id):
    g.fundapp_job_id = record_id
    record = db.session.get(JobRecord, record_id)
    if record is None:
        log.warning("job record %s is gone; nothing to run", record_id)
        return None
    if record.status == "done":
        return None
    spec = _REGISTRY.get(record.name)
    if spec is None:
        record.status = "failed"
        record.error = f"no job registered under {record.name!r}"
        record.finished_at = utcnow()
        db.session.commit()
        return None
    record.status = "running"
    record.attempts += 1
    record.started_at = utcnow()
    record.error = None
    args = dict(record.args or {})
    db.session.commit()
    try:
        result = spec.func(**args)
    except Exception as exc:
        db.session.rollback()
        record = db.session.get(JobRecord, record_id)
        record.status = "failed" if record.attempts >= record.max_attempts else "retrying"
        record.error = f"{type(exc).__name__}: {exc}"[:2000]
        record.finished_at = utcnow()
        db.session.commit()
        raise
    record = db.session.get(JobRecord, record_id)
    record.status = "done"
    record.finished_at = utcnow()
    db.session.commit()
    return result


def run_due_jobs(app):
    """Embedded default: run queued jobs whose time has come (there is no RQ scheduler)."""
    with app.app_context():
        ids = db.session.scalars(
            sa.select(JobRecord.id)
            .where(JobRecord.status == "queued", JobRecord.run_at.is_not(None), JobRecord.run_at <= utcnow())
            .order_by(JobRecord.run_at)
        ).all()
    for record_id in ids:
        run_in_process(app, record_id)
    return len(ids)


STALE_AFTER = timedelta(minutes=15)


def redispatch_stale(app):
    """Send again the jobs that never reached the queue (Redis was down at commit) or were left
    queued; a job whose record is done is skipped by run_job, so this never runs work twice."""
    with app.app_context():
        cutoff = utcnow() - STALE_AFTER
        rows = db.session.execute(
            sa.select(JobRecord.id, JobRecord.name, JobRecord.run_at).where(
                sa.or_(
                    sa.and_(JobRecord.status == "queued", JobRecord.created_at < cutoff, JobRecord.run_at.is_(None)),
                    sa.and_(JobRecord.status == "failed", JobRecord.error.like("could not reach the job queue%")),
                ),
                JobRecord.name.in_(list(_REGISTRY)),
            )
        ).all()
        if rows:
            db.session.execute(
                sa.update(JobRecord).where(JobRecord.id.in_([r.id for r in rows])).values(status="queued", error=None)
            )
            db.session.commit()
    if rows:
        dispatch(app, [(r.id, r.name, r.run_at) for r in rows])
    return len(rows)


def get_redis(app=None):
    app = app or current_app
    conn = app.extensions.get("fundapp_redis")
    if conn is None:
        conn = Redis.from_url(app.config["REDIS_URL"])
        app.extensions["fundapp_redis"] = conn
    return conn


def get_queue(app=None, name="default"):
    return Queue(name, connection=get_redis(app))


class AppWorker(Worker):
    """An RQ worker whose forked work horse never reuses the parent's database connections."""

    def main_work_horse(self, job, queue):
        # The pool's sockets were inherited through fork(); drop them without closing them, so
        # the parent's connections stay intact and the horse opens its own.
        db.engine.dispose(close=False)
        return super().main_work_horse(job, queue)


def make_worker(app, queues=None):
    conn = get_redis(app)
    names = queues or app.config["RQ_QUEUES"]
    return AppWorker([Queue(n, connection=conn) for n in names], connection=conn)


rq_cli = AppGroup("rq", help="Background job workers (RQ on Redis).")


@rq_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--queue", "queues", multiple=True, help="Queue names (default: the configured ones).")
def worker_command(burst, queues):
    """Run a worker inside the app context, with the scheduler on."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException("FUNDAPP_REDIS_URL is not set: jobs run in-process, no worker is needed.")
    count = redispatch_stale(app)
    if count:
        click.echo(f"{count} stale job(s) sent again")
    make_worker(app, list(queues) or None).work(burst=burst, with_scheduler=True)


jobs_cli = AppGroup("jobs", help="Background job records.")


@jobs_cli.command("redispatch")
def redispatch_command():
    """Send again jobs that never reached the queue or were left queued (the worker does this at start)."""
    click.echo(f"{redispatch_stale(current_app._get_current_object())} job(s) sent again")


@jobs_cli.command("run-due")
@click.option("--loop", is_flag=True, help="Keep checking every 30 seconds.")
def run_due_command(loop):
    """Run scheduled jobs that are due (embedded default, where there is no RQ scheduler)."""
    app = current_app._get_current_object()
    while True:
        count = run_due_jobs(app)
        click.echo(f"{count} due job(s) run")
        if not loop:
            break
        time.sleep(30)


def init_app(app):
    app.cli.add_command(rq_cli)
    app.cli.add_command(jobs_cli)
    if not app.config.get("REDIS_URL"):
        # Without a scheduler, requests give due jobs (a call closing, a reminder) their turn,
        # at most once a minute.
        state = {"next": 0.0}

        @app.before_request
        def _tick_due_jobs():
            now = time.monotonic()
            if now >= state["next"]:
                state["next"] = now + 60
                run_due_jobs(app)
