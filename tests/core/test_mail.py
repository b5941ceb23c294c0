"""E-mail goes through the outbox and a job to a real SMTP server, once, in the right language."""

import email
from email import policy

import pytest

from fundapp.core.mail import queue_mail
from fundapp.core.models import Document, JobRecord, OutboxMessage
from fundapp.extensions import db

from ..helpers import run_jobs


def _queue(app, to="focal@bogota.example", language="en", **kw):
    from datetime import datetime, timezone

    with app.app_context():
        message = queue_mail(
            to,
            "invitation",
            language=language,
            to_name="Camila",
            inviter="Sofía",
            member="Bogotá",
            role="applicant",
            link="http://fundapp.test/invitation/abc",
            expires_at=datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc),
            **kw,
        )
        db.session.commit()
        return message.id


def test_a_mail_job_run_by_a_real_worker_reaches_the_smtp_server_and_is_recorded_sent(app, smtp_server):
    message_id = _queue(app)
    run_jobs(app)
    assert len(smtp_server.messages) == 1
    envelope = smtp_server.messages[0]
    assert envelope.rcpt_tos == ["focal@bogota.example"]
    parsed = email.message_from_bytes(envelope.content, policy=policy.default)
    assert parsed["Subject"] == "You are invited to the International Fund for Metropolises"
    body = parsed.get_content()
    assert "Bogotá" in body and "http://fundapp.test/invitation/abc" in body
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "sent" and message.sent_at is not None and message.attempts == 1


def test_a_refused_send_is_retried_then_recorded_failed_with_the_reason(app, refusing_smtp_server):
    message_id = _queue(app)
    run_jobs(app)
    attempts = 1 + len(app.config["JOB_RETRY_INTERVALS"])
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "failed"
        assert message.attempts == attempts
        assert "Mailbox unavailable" in message.last_error
        job = db.session.query(JobRecord).filter_by(name="mail.send").one()
        assert job.status == "failed" and job.attempts == attempts
        assert "Mailbox unavailable" in job.error
    assert refusing_smtp_server.messages == []


def test_an_unreachable_smtp_server_is_a_recorded_failure(app):
    from ..conftest import free_port

    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_TIMEOUT=2)
    message_id = _queue(app)
    run_jobs(app)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "failed" and "Connection refused" in message.last_error


def test_running_the_send_job_twice_sends_one_email(app, smtp_server):
    from fundapp.core.mail import send_message

    message_id = _queue(app)
    run_jobs(app)
    with app.app_context():
        assert send_message(message_id) == "already handled"
    assert len(smtp_server.messages) == 1


def test_the_same_dedupe_key_records_one_message(app, smtp_server):
    first = _queue(app, dedupe_key="invite:1")
    second = _queue(app, dedupe_key="invite:1")
    assert first == second
    run_jobs(app)
    assert len(smtp_server.messages) == 1


def test_mail_is_written_in_the_recipients_language(app, smtp_server):
    _queue(app, to="a@fr.example", language="fr")
    _queue(app, to="b@es.example", language="es")
    run_jobs(app)
    subjects = {
        e.rcpt_tos[0]: email.message_from_bytes(e.content, policy=policy.default)["Subject"]
        for e in smtp_server.messages
    }
    assert "Fonds international pour les métropoles" in subjects["a@fr.example"]
    assert "Fondo Internacional para las Metrópolis" in subjects["b@es.example"]


def test_attachments_travel_with_the_message(app, smtp_server):
    with app.app_context():
        doc = Document(filename="letter.pdf", content_type="application/pdf", size=8, sha256="0" * 64, data=b"%PDF-1.4")
        db.session.add(doc)
        db.session.flush()
        from datetime import datetime, timezone

        queue_mail(
            "c@x.example",
            "invitation",
            to_name="C",
            inviter="S",
            member=None,
            role="reviewer",
            link="http://x",
            expires_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
            attachments=[doc],
        )
        db.session.commit()
    run_jobs(app)
    parsed = email.message_from_bytes(smtp_server.messages[0].content, policy=policy.default)
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "letter.pdf" and attachment.get_content() == b"%PDF-1.4"


@pytest.mark.sqlite
def test_without_smtp_mail_is_logged_and_kept_in_the_outbox(app, caplog):
    app.config["SMTP_HOST"] = None
    message_id = _queue(app)
    run_jobs(app)
    with app.app_context():
        message = db.session.get(OutboxMessage, message_id)
        assert message.status == "logged" and message.sent_at is not None


def test_a_send_abandoned_mid_way_is_taken_again_after_its_claim_expires(app, smtp_server):
    from datetime import timedelta

    import sqlalchemy as sa

    from fundapp.core.mail import CLAIM_EXPIRES, send_message
    from fundapp.core.timeutil import utcnow

    message_id = _queue(app)
    with app.app_context():
        # A worker claimed it a minute ago and may still be sending: leave it alone.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(status="sending", claimed_at=utcnow() - timedelta(minutes=1))
        )
        db.session.commit()
        assert send_message(message_id) == "already handled"
        # That worker died: after the claim expires the message goes out.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(claimed_at=utcnow() - CLAIM_EXPIRES - timedelta(seconds=1))
        )
        db.session.commit()
        assert send_message(message_id) == "sent"
    assert len(smtp_server.messages) == 1


def test_jobs_that_never_reached_the_queue_are_sent_again(app, smtp_server):
    import sqlalchemy as sa

    from fundapp.core.jobs import redispatch_stale

    message_id = _queue(app)
    with app.app_context():
        from fundapp.core.jobs import get_queue

        get_queue(app).empty()  # as if Redis had been down when the transaction committed
        db.session.execute(
            sa.update(JobRecord).values(status="failed", error="could not reach the job queue: Connection refused")
        )
        db.session.commit()
    assert redispatch_stale(app) == 1
    run_jobs(app)
    with app.app_context():
        assert db.session.get(OutboxMessage, message_id).status == "sent"
    assert len(smtp_server.messages) == 1
