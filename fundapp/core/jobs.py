"""Background jobs: queued only after the commit succeeds, recorded in a row the UI can show.

A job function is registered with @job("name") and takes ids and plain values as keyword
arguments. enqueue() writes a JobRecord in the caller's transaction; when that transaction
commits, the job goes to RQ (FUNDAPP_REDIS_URL set) or runs in-process right away (embedded
default). When it rolls back, the record and the job vanish together.

A run claims its record in one conditional UPDATE (queued or retrying -> running), so two workers
never run one record. The sweep (sweep(); an RQ job that schedules its own next run, or
`flask jobs run-due` without Redis) gives back what a dead worker left: records stuck "running"
past their timeout, retries that never came, jobs that never reached the queue; features add their
own part with @sweeper (the outbox: core/mail.py).
"""

import logging
import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import click
import sqlalchemy as sa
from flask import current_app, g, has_app_context
from flask.cli import AppGroup
from redis import Redis
from rq import Queue, Retry, Worker
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .catalogue import lazy_gettext as _l
from .models import JobRecord
from .timeutil import utcnow
from .transactions import BOUNDARY_KEY

log = logging.getLogger(__name__)

PENDING_KEY = "fundapp_pending_jobs"


@dataclass(frozen=True)
class JobSpec:
    name: str
    func: object
    timeout: int | None
    retry: bool
    label: object = None  # what staff read on the jobs page (a lazy translated string)


_REGISTRY: dict[str, JobSpec] = {}


def job(name, *, label=None, timeout=None, retry=True):
    """Register a job function. `retry=False` for work that must not be repeated blindly; `label`:
    what the job does, in words staff read on the jobs page."""

    def decorator(func):
        _REGISTRY[name] = JobSpec(name, func, timeout, retry, label)
        return func

    return decorator


def job_label(name):
    """What a job does, in the reader's language (its code when it has no label)."""
    spec = _REGISTRY.get(name)
    return spec.label if spec is not None and spec.label else name


def current_job_id():
    """The id of the job record being run in this app context (None outside a job)."""
    return g.get("fundapp_job_id") if has_app_context() else None


def current_job_gives_up():
    """Whether the job being run is on its last attempt (a failure now is final). Outside a job: yes."""
    record_id = current_job_id()
    record = db.session.get(JobRecord, record_id) if record_id is not None else None
    return record is None or record.attempts >= record.max_attempts


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
    """The one function RQ runs: look up the record, run the registered function, record the outcome.

    It runs in the app context of `flask rq worker` (AppWorker's work horse inherits it).
    """
    if not has_app_context():
        raise RuntimeError("fundapp jobs run inside the app: start workers with `flask --app wsgi rq worker`")
    return _run(record_id)


# A record in one of these states may be taken by a run; any other is running, done or given up.
CLAIMABLE = ("queued", "retrying")


def _claim(record_id):
    """Move the record to running in one conditional UPDATE: of two workers given the same record
    (a retry and a sweep, a job sent twice), one runs it and the other finds it taken."""
    result = db.session.execute(
        sa.update(JobRecord)
        .where(JobRecord.id == record_id, JobRecord.status.in_(CLAIMABLE))
        .values(status="running", attempts=JobRecord.attempts + 1, started_at=utcnow(), error=None)
    )
    db.session.commit()
    return result.rowcount == 1


def _run(record_id):
    g.fundapp_job_id = record_id
    record = db.session.get(JobRecord, record_id)
    if record is None:
        log.warning("job record %s is gone; nothing to run", record_id)
        return None
    spec = _REGISTRY.get(record.name)
    if spec is None:
        record.status = "failed"
        record.error = f"no job registered under {record.name!r}"
        record.finished_at = utcnow()
        db.session.commit()
        return None
    args = dict(record.args or {})
    if not _claim(record_id):
        log.info("job %s is not queued (another run has it, or it is over): not run", record_id)
        return None
    # The job is a boundary: its operations flush, and its work commits with the record marked
    # done, once (core.transactions).
    db.session.info[BOUNDARY_KEY] = True
    try:
        result = spec.func(**args)
    except Exception as exc:
        db.session.info.pop(BOUNDARY_KEY, None)
        db.session.rollback()
        record = db.session.get(JobRecord, record_id)
        record.status = "failed" if record.attempts >= record.max_attempts else "retrying"
        record.error = f"{type(exc).__name__}: {exc}"[:2000]
        record.finished_at = utcnow()
        db.session.commit()
        raise
    db.session.info.pop(BOUNDARY_KEY, None)
    record = db.session.get(JobRecord, record_id)
    record.status = "done"
    record.finished_at = utcnow()
    db.session.commit()
    return result


def run_due_jobs(app):
    """Embedded default: run queued jobs whose time has come (there is no RQ scheduler).
    (`flask jobs run-due` runs the sweep after them.)"""
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
    queued (also past their scheduled time); a run claims its record first, so this never runs
    work twice."""
    with app.app_context():
        cutoff = utcnow() - STALE_AFTER
        rows = db.session.execute(
            sa.select(JobRecord.id, JobRecord.name, JobRecord.run_at).where(
                sa.or_(
                    sa.and_(JobRecord.status == "queued", JobRecord.created_at < cutoff, JobRecord.run_at.is_(None)),
                    sa.and_(JobRecord.status == "queued", JobRecord.run_at < cutoff),
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


# -- the sweep ----------------------------------------------------------------------------------

# Beyond its timeout a job is not running any more: RQ kills it there; past this margin too, the
# worker itself died (a machine lost, a process killed) and nobody will record the outcome.
SWEEP_MARGIN = timedelta(minutes=5)

_SWEEPERS = []


def sweeper(func):
    """Register a part of the sweep: func(now) -> {what: count}, run in an app context; it commits."""
    _SWEEPERS.append(func)
    return func


def _timeout(app, name):
    spec = _REGISTRY.get(name)
    return timedelta(seconds=(spec.timeout if spec and spec.timeout else app.config["JOB_TIMEOUT"]))


def unstick_jobs(app, now):
    """Records left "running" by a dead worker past their timeout, and "retrying" ones whose retry
    never came: queued again (the run claims them) or, with no attempt left, failed with the reason."""
    longest_wait = timedelta(seconds=max(app.config["JOB_RETRY_INTERVALS"] or [0]))
    rows = db.session.execute(
        sa.select(JobRecord.id, JobRecord.name, JobRecord.status, JobRecord.attempts, JobRecord.max_attempts).where(
            JobRecord.status.in_(("running", "retrying")), JobRecord.name.in_(list(_REGISTRY))
        )
    ).all()
    again, given_up = [], 0
    for row in rows:
        limit = now - _timeout(app, row.name) - SWEEP_MARGIN
        if row.status == "running":
            stuck = sa.and_(JobRecord.status == "running", JobRecord.started_at < limit)
            reason = "the worker stopped before the job finished; "
            last_attempt = row.attempts >= row.max_attempts
        else:
            stuck = sa.and_(JobRecord.status == "retrying", JobRecord.finished_at < limit - longest_wait)
            reason = "its retry never came; "
            last_attempt = False
        values = (
            dict(status="failed", error=reason + "no attempt left", finished_at=now)
            if last_attempt
            else dict(status="queued", error=reason + "queued again by the sweep")
        )
        done = db.session.execute(sa.update(JobRecord).where(JobRecord.id == row.id, stuck).values(**values))
        if done.rowcount != 1:
            continue
        if last_attempt:
            given_up += 1
        else:
            again.append((row.id, row.name, None))
    db.session.commit()
    if again:
        dispatch(app, again)
    return {"jobs_requeued": len(again), "jobs_given_up": given_up}


def sweep_once():
    """One pass of the sweep in the current app context: stuck jobs, each registered part (the
    outbox), then jobs that never reached the queue. Returns {what: count}."""
    app = current_app._get_current_object()
    now = utcnow()
    counts = unstick_jobs(app, now)
    for func in _SWEEPERS:
        counts.update(func(now) or {})
    counts["jobs_redispatched"] = redispatch_stale(app)
    return counts


def sweep(app):
    with app.app_context():
        return sweep_once()


SWEEP_JOB = "jobs.sweep"


def _next_slot(app, now):
    """The next sweep's instant, on a grid of the interval: two workers scheduling it pick the same."""
    interval = app.config["JOB_SWEEP_INTERVAL"]
    slot = int(now.timestamp() // interval) + 1
    return slot, datetime.fromtimestamp(slot * interval, timezone.utc)


def schedule_sweep(app, after=None):
    """Queue the next sweep (one per slot, whoever asks): RQ's scheduler runs it when its time comes.
    `after`: the instant the next one must follow (a sweep's own slot, even if it runs early)."""
    now = utcnow()
    slot, run_at = _next_slot(app, max(now, after) if after is not None else now)
    try:
        record = enqueue(SWEEP_JOB, dedupe_key=f"{SWEEP_JOB}:{slot}", run_at=run_at)
        db.session.commit()
    except sa.exc.IntegrityError:  # another worker queued this slot's sweep at the same moment
        db.session.rollback()
        return None
    return record


def ensure_sweep_scheduled(app):
    """At a worker's start: send the pending sweep to RQ again (Redis may have lost it), or queue one."""
    with app.app_context():
        pending = db.session.execute(
            sa.select(JobRecord.id, JobRecord.name, JobRecord.run_at).where(
                JobRecord.name == SWEEP_JOB, JobRecord.status.in_(CLAIMABLE)
            )
        ).all()
        if pending:
            dispatch(app, [tuple(row) for row in pending])
            return len(pending)
        return 1 if schedule_sweep(app) is not None else 0


@job(SWEEP_JOB, label=_l("Sweep: restart what was lost, send what is due"), timeout=600, retry=False)
def sweep_job():
    """The periodic sweep on RQ: the next one is queued first (so a worker dying mid-sweep does not
    end the chain), then one pass; yesterday's finished sweeps are forgotten."""
    app = current_app._get_current_object()
    own = db.session.get(JobRecord, current_job_id()) if current_job_id() is not None else None
    schedule_sweep(app, after=own.run_at if own is not None else None)
    counts = sweep_once()
    db.session.execute(
        sa.delete(JobRecord).where(
            JobRecord.name == SWEEP_JOB,
            JobRecord.status == "done",
            JobRecord.finished_at < utcnow() - timedelta(days=1),
        )
    )
    db.session.commit()
    return counts


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
    ensure_sweep_scheduled(app)
    make_worker(app, list(queues) or None).work(burst=burst, with_scheduler=True)


jobs_cli = AppGroup("jobs", help="Background job records.")


@jobs_cli.command("redispatch")
def redispatch_command():
    """Send again jobs that never reached the queue or were left queued (the worker does this at start)."""
    click.echo(f"{redispatch_stale(current_app._get_current_object())} job(s) sent again")


@jobs_cli.command("run-due")
@click.option("--loop", is_flag=True, help="Keep checking every 30 seconds.")
def run_due_command(loop):
    """Run scheduled jobs that are due, then the sweep (embedded default, where there is no RQ scheduler)."""
    app = current_app._get_current_object()
    while True:
        count = run_due_jobs(app)
        click.echo(f"{count} due job(s) run")
        click.echo(_sweep_summary(sweep(app)))
        if not loop:
            break
        time.sleep(30)


@jobs_cli.command("sweep")
def sweep_command():
    """One pass of the sweep now: failed mail after its back-off, abandoned sends, stuck jobs."""
    click.echo(_sweep_summary(sweep(current_app._get_current_object())))


def _sweep_summary(counts):
    return "sweep: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items()))


def init_app(app):
    app.cli.add_command(rq_cli)
    app.cli.add_command(jobs_cli)
    if not app.config.get("REDIS_URL"):
        # Without a scheduler, requests give due jobs (a call closing, a reminder) their turn,
        # at most once a minute.
        state = {"next": 0.0, "sweep": 0.0}

        @app.before_request
        def _tick_due_jobs():
            now = time.monotonic()
            if now >= state["next"]:
                state["next"] = now + 60
                run_due_jobs(app)
            if now >= state["sweep"]:
                state["sweep"] = now + app.config["JOB_SWEEP_INTERVAL"]
                sweep(app)
