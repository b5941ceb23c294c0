"""Jobs are queued only after the commit, run by a real RQ worker, and recorded as they go."""

import pytest
import sqlalchemy as sa

from fundapp.core import audit
from fundapp.core.jobs import enqueue, get_queue, job
from fundapp.core.models import AuditEntry, JobRecord
from fundapp.extensions import db

from ..helpers import count, run_jobs


@job("tests.touch")
def touch(label):
    audit.record("tests.touched", object_type="Test", object_id=label, summary=label)
    db.session.commit()


@job("tests.explode")
def explode(label):
    raise RuntimeError(f"boom {label}")


def _records(app):
    with app.app_context():
        return db.session.scalars(sa.select(JobRecord).order_by(JobRecord.id)).all()


def test_a_job_queued_in_a_transaction_that_rolls_back_never_runs(app):
    with app.app_context():
        enqueue("tests.touch", label="rolled-back")
        db.session.rollback()
        assert get_queue(app).count == 0
    run_jobs(app)
    with app.app_context():
        assert count(JobRecord) == 0
        assert count(AuditEntry, AuditEntry.action == "tests.touched") == 0


def test_a_job_is_sent_only_when_the_transaction_commits(app):
    with app.app_context():
        record = enqueue("tests.touch", label="committed")
        assert get_queue(app).count == 0  # not before the commit
        db.session.commit()
        assert get_queue(app).count == 1
        record_id = record.id
    assert run_jobs(app)
    with app.app_context():
        record = db.session.get(JobRecord, record_id)
        assert (record.status, record.attempts, record.error) == ("done", 1, None)
        assert record.started_at and record.finished_at
        assert count(AuditEntry, AuditEntry.action == "tests.touched", AuditEntry.object_id == "committed") == 1


def test_a_failing_job_is_retried_then_recorded_as_failed_with_its_reason(app):
    with app.app_context():
        enqueue("tests.explode", label="x")
        db.session.commit()
    run_jobs(app)
    (record,) = _records(app)
    assert record.status == "failed"
    assert record.attempts == record.max_attempts == 1 + len(app.config["JOB_RETRY_INTERVALS"])
    assert record.error == "RuntimeError: boom x"


def test_a_rerun_of_a_finished_job_does_nothing(app):
    from fundapp.core.jobs import run_job

    with app.app_context():
        record = enqueue("tests.touch", label="once")
        db.session.commit()
        record_id = record.id
    run_jobs(app)
    with app.app_context():
        run_job(record_id)
        assert count(AuditEntry, AuditEntry.action == "tests.touched") == 1


def test_a_dedupe_key_queues_the_work_once(app):
    with app.app_context():
        first = enqueue("tests.touch", label="k", dedupe_key="touch:k")
        second = enqueue("tests.touch", label="k", dedupe_key="touch:k")
        assert first is second
        db.session.commit()
        assert get_queue(app).count == 1


def test_unknown_job_names_are_refused(app):
    with app.app_context(), pytest.raises(KeyError):
        enqueue("tests.nope")


@pytest.mark.sqlite
def test_without_redis_jobs_run_in_process_right_after_commit(app):
    app.config["REDIS_URL"] = None
    with app.app_context():
        record = enqueue("tests.touch", label="inline")
        assert count(AuditEntry, AuditEntry.action == "tests.touched") == 0
        db.session.commit()
        record_id = record.id
    with app.app_context():
        assert db.session.get(JobRecord, record_id).status == "done"
        assert count(AuditEntry, AuditEntry.action == "tests.touched", AuditEntry.object_id == "inline") == 1


@pytest.mark.sqlite
def test_without_redis_a_failing_job_is_recorded_failed_and_the_commit_stands(app):
    app.config["REDIS_URL"] = None
    with app.app_context():
        enqueue("tests.explode", label="inline")
        audit.record("tests.committed", object_type="Test")
        db.session.commit()
    (record,) = _records(app)
    assert record.status == "failed" and record.error == "RuntimeError: boom inline"
    with app.app_context():
        assert count(AuditEntry, AuditEntry.action == "tests.committed") == 1


@pytest.mark.sqlite
def test_without_redis_scheduled_jobs_wait_for_their_time(app):
    from datetime import timedelta

    from fundapp.core.jobs import run_due_jobs
    from fundapp.core.timeutil import utcnow

    app.config["REDIS_URL"] = None
    with app.app_context():
        later = enqueue("tests.touch", label="later", run_at=utcnow() + timedelta(hours=1))
        due = enqueue("tests.touch", label="due", run_at=utcnow() + timedelta(seconds=1))
        db.session.commit()
        later_id, due_id = later.id, due.id
        db.session.execute(
            sa.update(JobRecord).where(JobRecord.id == due_id).values(run_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert run_due_jobs(app) == 1
    with app.app_context():
        assert db.session.get(JobRecord, due_id).status == "done"
        assert db.session.get(JobRecord, later_id).status == "queued"


def test_the_worker_command_refuses_without_redis(app):
    app.config["REDIS_URL"] = None
    result = app.test_cli_runner().invoke(args=["rq", "worker", "--burst"])
    assert result.exit_code != 0 and "FUNDAPP_REDIS_URL" in result.output
