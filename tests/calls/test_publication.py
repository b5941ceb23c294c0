"""Publishing checks the call is complete, tells the eligible cities, and the call closes on time."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from rq.registry import ScheduledJobRegistry

from fundapp.accounts import operations as accounts
from fundapp.accounts.models import User
from fundapp.calls.models import Call
from fundapp.core.jobs import get_queue, run_job
from fundapp.core.models import JobRecord, Notice, OutboxMessage
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db

from ..helpers import count, make_member, make_user, run_jobs, text
from .conftest import make_call


def _publish(staff, call_id):
    return staff.post(
        f"/staff/calls/{call_id}/state",
        {"action": "publish"},
        token_from=f"/staff/calls/{call_id}",
        follow_redirects=True,
    )


def test_an_incomplete_call_is_not_published_and_staff_see_what_is_missing(app, fund, staff):
    call_id = make_call(app, fund, criteria=False, funding_cents={})
    page = text(staff.get(f"/staff/calls/{call_id}"))
    assert "The envelope is not funded" in page and "Add at least one criterion." in page
    page = text(_publish(staff, call_id))
    assert "The call cannot be published yet." in page and "Add at least one criterion." in page
    with app.app_context():
        assert db.session.get(Call, call_id).state == "draft"
        assert count(JobRecord) == 0


def test_a_call_whose_closing_has_passed_cannot_be_published(app, fund, staff):
    now = utcnow()
    call_id = make_call(app, fund, opens_at=now - timedelta(days=10), closes_at=now - timedelta(seconds=1))
    assert "The closing date has already passed." in text(_publish(staff, call_id))
    with app.app_context():
        assert db.session.get(Call, call_id).state == "draft"


def test_publishing_notifies_each_eligible_focal_point_once_and_no_one_else(app, fund, staff, smtp_server):
    with app.app_context():
        bogota = make_member("Bogotá", "CO", "latin_america_caribbean", dues=2026)
        quito = make_member("Quito", "EC", "latin_america_caribbean", dues=2026)
        unpaid = make_member("Lima", "PE", "latin_america_caribbean", dues=2020)
        elsewhere = make_member("Barcelona", "ES", "europe", dues=2026)
        associate = make_member("Guangzhou Academy", "CN", "latin_america_caribbean", membership="associate")
        make_user("camila@bogota.example", "applicant", member=bogota, language="es")
        make_user("andres@bogota.example", "applicant", member=bogota, language="en")
        make_user("focal@quito.example", "applicant", member=quito, language="fr")
        make_user("focal@lima.example", "applicant", member=unpaid)
        make_user("focal@bcn.example", "applicant", member=elsewhere)
        make_user("focal@gz.example", "applicant", member=associate)
        gone = make_user("gone@quito.example", "applicant", member=quito)
        accounts.set_active(gone, False, actor=accounts.find_user_by_email("staff@fund.example"))
        make_user("rev@x.example", "reviewer")
    now = utcnow()
    call_id = make_call(
        app,
        fund,
        regions=["latin_america_caribbean"],
        opens_at=now - timedelta(hours=1),
        closes_at=now + timedelta(days=30),
    )
    page = text(_publish(staff, call_id))
    assert "The call is now “Published”." in page
    with app.app_context():
        assert db.session.get(Call, call_id).state == "published"
        (notify,) = db.session.scalars(sa.select(JobRecord).where(JobRecord.name == "calls.notify_published")).all()
    run_jobs(app)
    recipients = sorted(e.rcpt_tos[0] for e in smtp_server.messages)
    assert recipients == ["andres@bogota.example", "camila@bogota.example", "focal@quito.example"]
    with app.app_context():
        assert db.session.get(JobRecord, notify.id).status == "done"
        languages = {m.to_email: (m.language, m.subject) for m in db.session.scalars(sa.select(OutboxMessage))}
        assert languages["camila@bogota.example"][0] == "es"
        assert "Sistemas Locales de Cuidados 2025" in languages["camila@bogota.example"][1]
        assert "Systèmes locaux de soins 2025" in languages["focal@quito.example"][1]
        # Each reads the deadline on their city's clock, the call's (Madrid) beside it, never the
        # clock of the staff member who published (the mails are written in that request).
        bodies = {m.to_email: m.body for m in db.session.scalars(sa.select(OutboxMessage))}
        assert "(America/Bogota); hora de la convocatoria: " in bodies["camila@bogota.example"]
        assert "(America/Guayaquil) ; heure de l’appel : " in bodies["focal@quito.example"]
        assert all("(Europe/Madrid)" in body for body in bodies.values())
        assert count(Notice) == 3
        # A rerun of the notification job sends nothing more.
        run_job(notify.id)
        db.session.execute(sa.update(JobRecord).where(JobRecord.id == notify.id).values(status="queued"))
        db.session.commit()
        run_job(notify.id)
        assert count(OutboxMessage) == 3 and count(Notice) == 3
    run_jobs(app)
    assert len(smtp_server.messages) == 3


def test_the_focal_point_sees_the_notice_and_the_open_call_at_home(app, fund, staff, make_client):
    with app.app_context():
        make_user("focal@bcn.example", "applicant", member=make_member("Barcelona", dues=2026))
    make_call(app, fund, publish=True)
    run_jobs(app)
    focal = make_client()
    focal.login("focal@bcn.example")
    home = text(focal.get("/"))
    assert "A new call is open: Local Care Systems 2025." in home
    assert "open until" in home
    # The notice links the call on this site, not on the fund's public address the e-mail names.
    with app.app_context():
        code = db.session.scalar(sa.select(Call.code))
    assert f'<a href="/calls/{code}">A new call is open' in home and "http://fundapp.test" not in home
    # The focal point switches to Spanish: the notice reads in Spanish, with the call's Spanish title.
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "focal@bcn.example"))
        accounts.update_profile(user, name=user.name, language="es", timezone=user.timezone, actor=user)
        spanish_title = db.session.scalar(sa.select(Call)).title_in("es")
    assert spanish_title != "Local Care Systems 2025"
    assert f"Se ha abierto una nueva convocatoria: {spanish_title}." in text(focal.get("/"))
    # Once the call has closed, the notice is taken off the home page: it no longer holds.
    with app.app_context():
        call_id = db.session.scalar(sa.select(Call.id))
    staff.post(
        f"/staff/calls/{call_id}/state",
        {"action": "close", "reason": "Envelope exhausted"},
        token_from=f"/staff/calls/{call_id}",
    )
    assert "A new call is open" not in text(focal.get("/"))


def test_publishing_schedules_the_close_at_the_closing_instant(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    with app.app_context():
        call = db.session.get(Call, call_id)
        record = db.session.scalar(sa.select(JobRecord).where(JobRecord.name == "calls.close_at_deadline"))
        assert record.run_at == call.closes_at and record.args == {"call_id": call_id}
        registry = ScheduledJobRegistry(queue=get_queue(app))
        assert f"fundapp-job-{record.id}" in registry.get_job_ids()
        scheduled = registry.get_scheduled_time(f"fundapp-job-{record.id}")
        assert abs((scheduled - call.closes_at).total_seconds()) < 1


def test_a_submission_one_second_late_is_refused_by_the_server(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    with app.app_context():
        call = db.session.get(Call, call_id)
        closes = call.closes_at
        assert call.accepts_submissions(closes - timedelta(seconds=1))
        assert not call.accepts_submissions(closes)
        assert not call.accepts_submissions(closes + timedelta(seconds=1))
        assert not call.accepts_submissions(call.opens_at - timedelta(seconds=1))


def test_the_call_closes_by_itself_at_its_instant_and_not_before(app, fund, staff):
    now = utcnow()
    closes = now - timedelta(seconds=1)
    with clock_at(now - timedelta(days=2)):  # published two days ago, it closed a second ago
        call_id = make_call(app, fund, opens_at=now - timedelta(days=2), closes_at=closes, publish=True)
    with app.app_context():
        record_id = db.session.scalar(sa.select(JobRecord.id).where(JobRecord.name == "calls.close_at_deadline"))
        with clock_at(closes - timedelta(seconds=1)):
            run_job(record_id)  # run early (a clock skew, a manual rerun): nothing happens
        assert db.session.get(Call, call_id).state == "published"
        # The job is run again (as the scheduler's retry would), now, one second after the closing instant.
        db.session.execute(sa.update(JobRecord).where(JobRecord.id == record_id).values(status="queued"))
        db.session.commit()
        run_job(record_id)
        db.session.expire_all()
        call = db.session.get(Call, call_id)
        assert call.state == "closed" and not call.accepts_submissions()


def test_an_rq_worker_with_the_scheduler_closes_a_call_when_its_time_comes(app, fund, staff):
    from fundapp.core.jobs import make_worker

    now = utcnow()
    call_id = make_call(app, fund, opens_at=now - timedelta(days=1), closes_at=now + timedelta(seconds=2), publish=True)
    import time

    time.sleep(2.5)
    with app.app_context():
        # What `flask rq worker` runs: a worker with its scheduler, here in burst mode.
        make_worker(app).work(burst=True, with_scheduler=True, logging_level="WARNING")
        assert db.session.get(Call, call_id).state == "closed"


def test_staff_close_a_call_early_with_a_reason_and_move_it_through_review(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    url = f"/staff/calls/{call_id}/state"
    page = text(staff.post(url, {"action": "close"}, token_from=f"/staff/calls/{call_id}", follow_redirects=True))
    assert "A reason is required." in page
    staff.post(url, {"action": "close", "reason": "Envelope exhausted"}, token_from=f"/staff/calls/{call_id}")
    # The public page does not name the deadline, still ahead, as the day it closed.
    with app.app_context():
        code = db.session.get(Call, call_id).code
    public = text(staff.get(f"/calls/{code}"))
    assert "This call closed before its deadline: it no longer takes applications." in public
    assert "This call closed on" not in public
    page = text(staff.post(url, {"action": "archive"}, token_from=f"/staff/calls/{call_id}", follow_redirects=True))
    assert "This cannot be done while it is “Closed”." in page
    for action in ("start_review", "decide", "archive"):
        staff.post(url, {"action": action}, token_from=f"/staff/calls/{call_id}")
    with app.app_context():
        assert db.session.get(Call, call_id).state == "archived"


@pytest.mark.sqlite
def test_the_embedded_default_closes_due_calls_without_a_scheduler(app, fund, staff):
    app.config["REDIS_URL"] = None
    from fundapp.core.jobs import run_due_jobs

    now = utcnow()
    with clock_at(now - timedelta(hours=2)):  # published two hours ago, it closed a second ago
        call_id = make_call(
            app, fund, opens_at=now - timedelta(days=1), closes_at=now - timedelta(seconds=1), publish=True
        )
    with app.app_context():
        assert db.session.get(Call, call_id).state == "published"
    assert run_due_jobs(app) == 1
    with app.app_context():
        assert db.session.get(Call, call_id).state == "closed"
