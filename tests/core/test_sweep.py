"""No mail lost: the sweep sends again what failed after its retries (1 h, 6 h, 24 h, 72 h, then
"dead"), takes back a send abandoned by a dead worker, and runs again a job left "running"; a job
record is claimed by one worker only; staff see failed mail and send it again from the outbox.

Time passes by replaying the past (`clock_at`): a message fails days ago, the sweep runs at each
later instant. Jobs run on a real RQ worker (burst mode), mail goes to real SMTP servers on loopback.
"""

import threading
import time
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from fundapp.core import audit, jobs, mail
from fundapp.core.jobs import enqueue, ensure_sweep_scheduled, get_queue, job, run_job, sweep
from fundapp.core.models import AuditEntry, JobRecord, OutboxMessage
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db

from .. import factories as f
from ..calls.conftest import staff  # noqa: F401  (the staff member's signed-in client)
from ..conftest import RecordingHandler, RefusingHandler, _smtp
from ..helpers import count, run_jobs, text

HOUR = timedelta(hours=1)


@job("tests.sweep.work")
def work(label):
    """A job that takes a moment, so two runs of one record would overlap."""
    audit.record("tests.sweep.worked", object_type="Test", object_id=label, summary=label)
    time.sleep(0.3)
    db.session.commit()


@job("tests.sweep.once", retry=False)
def work_once(label):
    audit.record("tests.sweep.worked", object_type="Test", object_id=label, summary=label)
    db.session.commit()


@pytest.fixture
def smtp(app):
    """Two real SMTP servers: one that refuses every recipient, one that accepts; `use(...)` picks."""
    refusing, accepting = RefusingHandler(), RecordingHandler()
    controllers = {"refusing": _smtp(app, refusing), "accepting": _smtp(app, accepting)}

    def use(name):
        app.config["SMTP_PORT"] = controllers[name].port

    yield SimpleNamespace(refusing=refusing, accepting=accepting, use=use)
    for controller in controllers.values():
        controller.stop()


def _queue(to="camila.rodriguez@bogota.example", name="Camila Rodríguez", language="es"):
    message = mail.queue_mail(
        to,
        "invitation",
        language=language,
        to_name=name,
        inviter="Sofía Martínez",
        member="Bogotá",
        role="applicant",
        link="http://fundapp.test/invitation/abc",
        expires_at=datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc),
    )
    db.session.commit()
    return message.id


def _message(message_id):
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def _delivered(handler, address):
    return [e for e in handler.messages if address in e.rcpt_tos]


def _run_at_once(*actions):
    barrier, outcomes = threading.Barrier(len(actions)), [None] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            outcomes[index] = action()
        except Exception as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


# -- job records -----------------------------------------------------------------------------------


def test_two_workers_given_one_record_run_it_once(app):
    with app.app_context():
        record_id = enqueue("tests.sweep.work", label="Montréal").id
        db.session.commit()
    get_queue(app).empty()  # two workers hold it (a retry and a sweep, a job sent twice)

    def worker():
        with app.app_context():
            return run_job(record_id)

    assert _run_at_once(worker, worker) == [None, None]
    with app.app_context():
        record = db.session.get(JobRecord, record_id)
        assert (record.status, record.attempts) == ("done", 1)
        assert count(AuditEntry, AuditEntry.action == "tests.sweep.worked") == 1


def test_a_job_left_running_by_a_dead_worker_is_run_again_and_one_without_attempts_fails(app):
    now = utcnow()
    with app.app_context():
        stuck = enqueue("tests.sweep.work", label="Dakar").id
        last = enqueue("tests.sweep.once", label="Abidjan").id
        alive = enqueue("tests.sweep.work", label="Tunis").id
        db.session.commit()
    get_queue(app).empty()
    with app.app_context():
        # Workers took them: two an hour ago, and died; one a minute ago, and is still at it.
        with clock_at(now - HOUR):
            assert jobs._claim(stuck) and jobs._claim(last)
        with clock_at(now - timedelta(minutes=1)):
            assert jobs._claim(alive)
    counts = sweep(app)
    assert counts["jobs_requeued"] == 1 and counts["jobs_given_up"] == 1
    with app.app_context():
        given_up = db.session.get(JobRecord, last)
        assert given_up.status == "failed" and "the worker stopped" in given_up.error
        assert db.session.get(JobRecord, alive).status == "running"
    run_jobs(app)
    with app.app_context():
        record = db.session.get(JobRecord, stuck)
        assert (record.status, record.attempts) == ("done", 2)
        assert count(AuditEntry, AuditEntry.action == "tests.sweep.worked", AuditEntry.object_id == "Dakar") == 1
        assert count(AuditEntry, AuditEntry.action == "tests.sweep.worked", AuditEntry.object_id == "Abidjan") == 0
        assert db.session.get(JobRecord, alive).status == "running"  # left to its worker
    assert sweep(app)["jobs_requeued"] == 0  # and nothing twice


# -- mail ------------------------------------------------------------------------------------------


def test_a_failed_message_goes_again_after_1_6_24_72_hours_then_is_given_up_and_staff_resend_it(
    app,
    smtp,
    staff,  # noqa: F811
    make_client,
):
    smtp.use("refusing")
    start = utcnow().replace(microsecond=0) - timedelta(days=9)
    with app.app_context(), clock_at(start):
        message_id = _queue()
    with clock_at(start):
        run_jobs(app)  # the job and its retries are refused
    with app.app_context():
        message = _message(message_id)
        attempts = message.attempts
        assert message.status == "failed" and "Mailbox unavailable" in message.last_error
        assert message.next_attempt_at == start + HOUR and message.sweeps == 0
    instant = start
    for sweeps, wait in enumerate([1, 6, 24, 72], start=1):
        due = instant + wait * HOUR
        with clock_at(due - timedelta(seconds=1)):
            assert sweep(app)["mail_requeued"] == 0  # not before its time
        with clock_at(due):
            assert sweep(app)["mail_requeued"] == 1
            with app.app_context():
                assert _message(message_id).status == "queued"
            run_jobs(app)
        instant = due
        with app.app_context():
            message = _message(message_id)
            assert message.sweeps == sweeps and message.attempts == attempts * (sweeps + 1)
            if sweeps < 4:
                assert message.status == "failed"
                assert message.next_attempt_at == due + [6, 24, 72][sweeps - 1] * HOUR
            else:  # after the last wait: given up, in sight
                assert message.status == "dead" and message.next_attempt_at is None
    assert sweep(app)["mail_requeued"] == 0
    with app.app_context():
        assert count(AuditEntry, AuditEntry.action == "mail.sweep") == 4
        assert count(AuditEntry, AuditEntry.action == "mail.dead") == 1
    assert smtp.refusing.messages == []

    # Staff see it on the jobs page and in the outbox, and send it again once the address is fixed.
    assert "1 e-mail was given up" in text(staff.get("/jobs"))
    page = text(staff.get("/outbox?status=dead"))
    assert "camila.rodriguez@bogota.example" in page and "Given up" in page
    assert f'action="/outbox/resend/{message_id}"' in page
    smtp.use("accepting")
    page = text(
        staff.post(
            f"/outbox/resend/{message_id}",
            {"status": "dead"},
            token_from="/outbox?status=dead",
            follow_redirects=True,
        )
    )
    assert "queued to be sent again" in page
    with app.app_context():
        message = _message(message_id)
        assert message.status == "queued" and message.sweeps == 0
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "mail.resend"))
        assert entry.actor.email == "staff@fund.example" and entry.before["status"] == "dead"
    run_jobs(app)
    with app.app_context():
        assert _message(message_id).status == "sent"
    assert len(_delivered(smtp.accepting, "camila.rodriguez@bogota.example")) == 1
    # A second click, once it is sent: refused next to the button, nothing changed.
    with app.app_context():
        jobs_before, audit_before = count(JobRecord), count(AuditEntry)
    page = text(staff.post(f"/outbox/resend/{message_id}", {}, token_from="/outbox", follow_redirects=True))
    assert "only a message that failed can be sent again" in page
    with app.app_context():
        assert _message(message_id).status == "sent"
        assert (count(JobRecord), count(AuditEntry)) == (jobs_before, audit_before)
    run_jobs(app)
    assert len(_delivered(smtp.accepting, "camila.rodriguez@bogota.example")) == 1


def test_a_send_abandoned_by_a_dead_worker_is_taken_back_once(app, smtp):
    smtp.use("accepting")
    now = utcnow()
    with app.app_context():
        abandoned = _queue("aminata.sow@dakar.example", "Aminata Sow", "fr")
        in_progress = _queue("koffi.kouassi@abidjan.example", "Koffi Kouassi", "fr")
        job_ids = {
            m: db.session.scalar(sa.select(JobRecord.id).where(JobRecord.args["message_id"].as_integer() == m))
            for m in (abandoned, in_progress)
        }
    get_queue(app).empty()  # the workers took both jobs...
    with app.app_context():
        with clock_at(now - timedelta(minutes=20)):  # ...one 20 minutes ago, and died mid-send
            assert jobs._claim(job_ids[abandoned]) and mail._claim(abandoned)
        with clock_at(now - timedelta(minutes=1)):  # the other is still sending
            assert jobs._claim(job_ids[in_progress]) and mail._claim(in_progress)
    counts = sweep(app)
    assert counts["mail_reclaimed"] == 1 and counts["jobs_requeued"] == 1
    assert sweep(app)["mail_reclaimed"] == 1  # still "sending": the same job, not a second one
    with app.app_context():
        assert count(JobRecord, JobRecord.name == "mail.send") == 3
    run_jobs(app)
    with app.app_context():
        assert _message(abandoned).status == "sent"
        assert _message(in_progress).status == "sending"  # its own worker finishes it
    assert len(_delivered(smtp.accepting, "aminata.sow@dakar.example")) == 1
    assert _delivered(smtp.accepting, "koffi.kouassi@abidjan.example") == []
    assert sweep(app)["mail_reclaimed"] == 0
    run_jobs(app)
    assert len(_delivered(smtp.accepting, "aminata.sow@dakar.example")) == 1


def test_two_sweeps_at_once_send_a_failed_message_once(app, smtp):
    smtp.use("refusing")
    with app.app_context(), clock_at(utcnow() - 2 * HOUR):
        message_id = _queue("genevieve.tremblay@montreal.example", "Geneviève Tremblay", "fr")
    with clock_at(utcnow() - 2 * HOUR):
        run_jobs(app)
    smtp.use("accepting")
    outcomes = _run_at_once(lambda: sweep(app), lambda: sweep(app))
    assert not any(isinstance(o, Exception) for o in outcomes), outcomes
    assert sum(o["mail_requeued"] for o in outcomes) == 1
    run_jobs(app)
    with app.app_context():
        assert _message(message_id).status == "sent" and _message(message_id).sweeps == 1
    assert len(_delivered(smtp.accepting, "genevieve.tremblay@montreal.example")) == 1
    assert sweep(app)["mail_requeued"] == 0  # a sent message is never taken again


def test_staff_see_failed_mail_only_staff_resend_and_a_queued_one_is_not_resent(
    app,
    smtp,
    staff,  # noqa: F811
    make_client,
):
    smtp.use("refusing")
    with app.app_context():
        failed = _queue("lucas.oliveira@saopaulo.example", "Lucas Oliveira", "en")
    run_jobs(app)
    with app.app_context():
        queued = _queue("ines.carvalho@lisbon.example", "Inês Carvalho", "en")  # not sent yet
        focal = f.focal_point("São Paulo", "lucas.oliveira@saopaulo.example")
        focal_email = focal.email
    page = text(staff.get("/outbox?status=failed"))
    assert "lucas.oliveira@saopaulo.example" in page and "ines.carvalho@lisbon.example" not in page
    assert "Next attempt" in page and f'action="/outbox/resend/{failed}"' in page
    assert f'action="/outbox/resend/{queued}"' not in text(staff.get("/outbox"))
    assert "1 e-mail failed" in text(staff.get("/jobs"))
    # A city's focal point may not resend (nor see) the outbox.
    city = make_client()
    city.login(focal_email, f.PASSWORD)
    assert city.post(f"/outbox/resend/{failed}", {}, token_from="/").status_code == 403
    assert staff.post("/outbox/resend/2147483648", {}, token_from="/outbox").status_code == 404
    # A queued message is refused; nothing changes.
    with app.app_context():
        before = (count(JobRecord), count(AuditEntry), _message(queued).status)
    page = text(staff.post(f"/outbox/resend/{queued}", {}, token_from="/outbox", follow_redirects=True))
    assert "only a message that failed can be sent again" in page
    with app.app_context():
        assert (count(JobRecord), count(AuditEntry), _message(queued).status) == before
        assert _message(failed).status == "failed"


# -- the sweep's own schedule -----------------------------------------------------------------------


def test_the_sweep_runs_on_the_rq_scheduler_and_queues_its_next_run(app):
    interval = timedelta(seconds=app.config["JOB_SWEEP_INTERVAL"])
    first = ensure_sweep_scheduled(app)
    assert first == 1 and ensure_sweep_scheduled(app) == 1  # a worker starting again: the same one
    with app.app_context():
        (record,) = db.session.scalars(sa.select(JobRecord).where(JobRecord.name == "jobs.sweep")).all()
        assert record.status == "queued" and record.run_at > utcnow()
        scheduled = ScheduledJobRegistry(queue=get_queue(app))
        assert f"fundapp-job-{record.id}" in scheduled.get_job_ids()
        record_id, run_at = record.id, record.run_at
    with app.app_context():
        assert run_job(record_id)["mail_requeued"] == 0  # its time came (RQ's scheduler runs it)
    with app.app_context():
        records = db.session.scalars(
            sa.select(JobRecord).where(JobRecord.name == "jobs.sweep").order_by(JobRecord.id)
        ).all()
        assert [r.status for r in records] == ["done", "queued"]
        assert records[1].run_at == run_at + interval
        assert f"fundapp-job-{records[1].id}" in ScheduledJobRegistry(queue=get_queue(app)).get_job_ids()


@pytest.mark.sqlite
def test_without_redis_run_due_runs_the_sweep(app, smtp):
    app.config["REDIS_URL"] = None  # the embedded default: jobs in-process, no scheduler
    smtp.use("refusing")
    with app.app_context(), clock_at(utcnow() - 2 * HOUR):
        message_id = _queue("mariana.lopez@cdmx.example", "Mariana López", "es")
    with app.app_context():
        assert _message(message_id).status == "failed"
    smtp.use("accepting")
    result = app.test_cli_runner().invoke(args=["jobs", "run-due"])
    assert result.exit_code == 0, result.output
    assert "mail requeued 1" in result.output
    with app.app_context():
        assert _message(message_id).status == "sent"
    assert len(_delivered(smtp.accepting, "mariana.lopez@cdmx.example")) == 1
    result = app.test_cli_runner().invoke(args=["jobs", "sweep"])
    assert "mail requeued 0" in result.output
