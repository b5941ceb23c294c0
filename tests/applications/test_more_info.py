"""When "more information" ends: a reply date the city sees, a reminder, and closing as ineligible."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from babel.dates import format_date

from fundapp.applications import models as application_models
from fundapp.applications import operations
from fundapp.applications import queries as application_queries
from fundapp.core.jobs import run_job
from fundapp.core.models import AuditEntry, JobRecord, OutboxMessage
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db

from ..helpers import run_jobs
from .conftest import as_user, complete_fields, get_application, page_text, pdf_bytes, save, start, upload

LETTER = "Letter of support from the mayor or city government"
BUDGET = "Detailed budget"
MADRID = ZoneInfo("Europe/Madrid")  # the call's timezone (make_call)
BOGOTA_FOCAL_POINTS = {"camila@bogota.example", "andres@bogota.example"}
ASK = "Please split the personnel costs between coordinators and trainers."


def madrid_today():
    return datetime.now(MADRID).date()


def _submitted(app, make_client, call_id, email="camila@bogota.example"):
    client = as_user(make_client, email)
    application_id = start(client)
    assert save(client, application_id, complete_fields(app, call_id)).status_code == 302
    for requirement in (LETTER, BUDGET):
        upload(client, application_id, requirement, pdf_bytes(), "doc.pdf")
    response = client.post(
        f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check"
    )
    assert response.status_code == 302
    return client, application_id


def _ask(staff, application_id, reply_by, *, reason=ASK, sections=("budget",)):
    data = {"action": "request_info", "reason": reason, "sections": list(sections)}
    if reply_by is not None:
        data["reply_by"] = reply_by if isinstance(reply_by, str) else reply_by.isoformat()
    return staff.post(
        f"/staff/applications/{application_id}/screen",
        data,
        token_from=f"/staff/applications/{application_id}",
        follow_redirects=True,
    )


def _close(staff, application_id, reason):
    return staff.post(
        f"/staff/applications/{application_id}/close",
        {"reason": reason},
        token_from=f"/staff/applications/{application_id}",
        follow_redirects=True,
    )


def _resubmit(app, camila, application_id):
    data = {
        "budget-0-category": "personnel",
        "budget-0-description": "Coordinators",
        "budget-0-requested": "50,000",
        "budget-0-cofunding": "10,000",
        "budget-1-category": "personnel",
        "budget-1-description": "Trainers",
        "budget-1-requested": "10,000",
        "budget-1-cofunding": "0",
        "budget-2-category": "equipment",
        "budget-2-description": "Furniture",
        "budget-2-requested": "40000",
        "budget-2-cofunding": "5000",
    }
    assert save(camila, application_id, data).status_code == 302
    response = camila.post(
        f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check"
    )
    assert response.status_code == 302


def _state(application_id):
    application = get_application(application_id)
    return (
        application.state,
        application.return_state,
        application.more_info_reply_by,
        application.more_info_message,
        application.ineligible_reason,
    )


def _mails(template):
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
    ).all()


def _audit_count(application_id):
    return db.session.scalar(
        sa.select(sa.func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "Application", AuditEntry.object_id == str(application_id)
        )
    )


@pytest.fixture
def days_later(monkeypatch):
    """Move the server's clock forward (as the model and the staff list read it) by a number of
    days from now."""

    def move(days):
        moved = utcnow() + timedelta(days=days)
        monkeypatch.setattr(application_models, "utcnow", lambda: moved)
        monkeypatch.setattr(application_queries, "utcnow", lambda: moved)

    return move


# -- asking with a date -------------------------------------------------------------------------


@pytest.mark.sqlite
def test_staff_ask_with_a_reply_date_the_city_sees_on_its_pages(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, open_call)
    reply_by = madrid_today() + timedelta(days=21)
    staff_page = page_text(staff.get(f"/staff/applications/{application_id}"))
    assert 'name="reply_by"' in staff_page and "Europe/Madrid" in staff_page
    assert "close-unanswered" not in staff_page  # nothing asked yet: nothing to close

    page = page_text(_ask(staff, application_id, reply_by))
    assert "More information requested" in page
    shown = format_date(reply_by, "medium", locale="en")  # a date in the reader's language, "Dec 24, 2026"
    assert f"Reply asked by {shown} (Europe/Madrid)." in page
    assert "The reply date has not passed yet." in page
    with app.app_context():
        state, return_state, stored, message, _reason = _state(application_id)
        assert (state, return_state, stored, message) == ("more_info", "submitted", reply_by, ASK)
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "application.more_info_reply_by"))
        assert entry.after["reply_by"] == reply_by.isoformat()

    view = page_text(camila.get(f"/applications/{application_id}"))
    assert ASK in view and f"Please reply by {shown} (Europe/Madrid)." in view
    assert "This date has passed" not in view
    assert shown in page_text(camila.get(f"/applications/{application_id}/edit"))
    assert f"Reply by {shown}" in page_text(camila.get("/applications/"))


@pytest.mark.sqlite
def test_the_more_information_email_carries_the_reply_date(app, cities, open_call, make_client, staff):
    _camila, application_id = _submitted(app, make_client, open_call)
    reply_by = madrid_today() + timedelta(days=45)
    _ask(staff, application_id, reply_by)
    run_jobs(app)
    with app.app_context():
        mails = _mails("application_more_info")
        assert {m.to_email for m in mails} == BOGOTA_FOCAL_POINTS
        for mail in mails:
            assert ASK in mail.body
            shown = format_date(reply_by, "medium", locale="en")
            assert f"Please reply by {shown} (Europe/Madrid)." in mail.body


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "reply_by, message",
    [
        (None, "Give the date by which the city should reply."),
        ("", "Give the date by which the city should reply."),
        (-1, "The reply date must be after today"),
        (0, "The reply date must be after today"),
        (91, "The reply date can be at most 90 days ahead"),
        ("31/12/2026", "Not a valid date value."),
    ],
)
def test_a_missing_past_or_too_distant_reply_date_is_refused_and_nothing_changes(
    app, cities, open_call, make_client, staff, reply_by, message
):
    _camila, application_id = _submitted(app, make_client, open_call)
    if isinstance(reply_by, int):
        reply_by = madrid_today() + timedelta(days=reply_by)
    with app.app_context():
        before, audits = _state(application_id), _audit_count(application_id)
        jobs = db.session.scalar(sa.select(sa.func.count(JobRecord.id)))
    response = _ask(staff, application_id, reply_by, sections=("budget", "documents"))
    assert response.status_code == 400
    page = page_text(response)
    assert message in page
    # The message sits next to the date field; the rest of what staff typed is kept.
    form = page[page.index('data-action="request_info"') :]
    form = form[: form.index("</form>")]
    assert 'id="reply_by-error"' in form and message in form
    assert ASK in form and 'value="budget" checked' in form and 'value="documents" checked' in form
    with app.app_context():
        assert _state(application_id) == before and before[0] == "submitted"
        assert _audit_count(application_id) == audits
        assert db.session.scalar(sa.select(sa.func.count(JobRecord.id))) == jobs
        assert _mails("application_more_info") == []


@pytest.mark.sqlite
def test_the_last_allowed_day_is_ninety_days_ahead(app, cities, open_call, make_client, staff):
    _camila, application_id = _submitted(app, make_client, open_call)
    reply_by = madrid_today() + timedelta(days=90)
    _ask(staff, application_id, reply_by)
    with app.app_context():
        assert _state(application_id)[:3] == ("more_info", "submitted", reply_by)


def test_a_missing_date_is_refused_next_to_the_missing_parts_too(app, cities, open_call, make_client, staff):
    _camila, application_id = _submitted(app, make_client, open_call)
    page = page_text(_ask(staff, application_id, None, sections=()))
    assert "Tick the parts the city may change." in page and "Give the date by which the city should reply." in page
    with app.app_context():
        assert get_application(application_id).state == "submitted"


# -- the reminder -------------------------------------------------------------------------------


def test_the_reminder_goes_three_days_before_once_and_not_after_the_city_answered(
    app, cities, open_call, make_client, staff
):
    camila, application_id = _submitted(app, make_client, open_call)
    reply_by = madrid_today() + timedelta(days=20)
    _ask(staff, application_id, reply_by)
    with app.app_context():
        job = db.session.scalar(sa.select(JobRecord).where(JobRecord.name == "applications.remind_more_info"))
        expected = datetime.combine(reply_by - timedelta(days=3), time(9, 0), tzinfo=MADRID)
        assert job.run_at == expected and job.status == "queued"
        assert job.args == {"application_id": application_id, "request_no": 1}
        job_id = job.id
    run_jobs(app)  # a scheduled job does not run before its time
    with app.app_context():
        assert _mails("application_more_info_reminder") == []
        run_job(job_id)  # its time has come
        run_job(job_id)  # a rerun of a finished job does nothing
        assert operations.remind_more_info(application_id, 1) == "reminded"  # nor does a forced second run
        reminders = _mails("application_more_info_reminder")
        assert sorted(m.to_email for m in reminders) == sorted(BOGOTA_FOCAL_POINTS)
        shown = format_date(reply_by, "medium", locale="en")
        assert all(f"reply by {shown}" in m.subject for m in reminders)
        assert all(ASK in m.body for m in reminders)

    # The city answers; a later reminder of that request sends nothing.
    _resubmit(app, camila, application_id)
    with app.app_context():
        assert get_application(application_id).state == "submitted"
        assert operations.remind_more_info(application_id, 1) == "nothing to remind"
        assert len(_mails("application_more_info_reminder")) == 2


def test_a_reminder_of_an_earlier_request_does_not_fire_for_a_later_one(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, open_call)
    _ask(staff, application_id, madrid_today() + timedelta(days=30))
    _resubmit(app, camila, application_id)
    _ask(staff, application_id, madrid_today() + timedelta(days=40), sections=("documents",))
    with app.app_context():
        keys = db.session.scalars(
            sa.select(JobRecord.dedupe_key).where(JobRecord.name == "applications.remind_more_info")
        ).all()
        assert sorted(keys) == [f"more-info-reminder:{application_id}:1", f"more-info-reminder:{application_id}:2"]
        assert operations.remind_more_info(application_id, 1) == "nothing to remind"
        assert _mails("application_more_info_reminder") == []


@pytest.mark.sqlite
def test_a_reply_date_within_three_days_is_reminded_at_once(app, cities, open_call, make_client, staff):
    _camila, application_id = _submitted(app, make_client, open_call)
    _ask(staff, application_id, madrid_today() + timedelta(days=2))
    run_jobs(app)
    with app.app_context():
        job = db.session.scalar(sa.select(JobRecord).where(JobRecord.name == "applications.remind_more_info"))
        assert job.run_at is None and job.status == "done"
        assert {m.to_email for m in _mails("application_more_info_reminder")} == BOGOTA_FOCAL_POINTS


# -- closing ------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_staff_close_an_unanswered_application_after_the_reply_date(
    app, cities, open_call, make_client, staff, days_later
):
    camila, application_id = _submitted(app, make_client, open_call)
    staff_page = page_text(_ask(staff, application_id, madrid_today() + timedelta(days=7)))
    assert "Close as ineligible" in staff_page and "The reply date has not passed yet" in staff_page
    url = f"/staff/calls/{open_call}/applications"
    assert 'data-overdue="reply"' not in page_text(staff.get(url))  # the list says so only once it has passed
    days_later(7)
    assert 'data-overdue="reply"' not in page_text(staff.get(url))  # the reply day itself
    days_later(8)
    assert 'data-overdue="reply"' in page_text(staff.get(url))
    staff_page = page_text(staff.get(f"/staff/applications/{application_id}"))
    assert 'data-passed="yes"' in staff_page and "The reply date has passed." in staff_page
    assert "The city did not reply by the date it was given." in staff_page
    assert "This date has passed" in page_text(camila.get(f"/applications/{application_id}"))

    reason = "No reply by the date given: the split of personnel costs never arrived."
    page = page_text(_close(staff, application_id, reason))
    assert "The application is closed as ineligible" in page and "Ineligible" in page
    assert "close-unanswered" not in page and 'data-overdue="reply"' not in page_text(staff.get(url))
    run_jobs(app)
    with app.app_context():
        state, return_state, _by, _message, stored_reason = _state(application_id)
        assert (state, return_state, stored_reason) == ("ineligible", None, reason)
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "application.close_unanswered"))
        assert entry.after == {"state": "ineligible", "reason": reason}
        assert "after the reply date" in entry.summary
        mails = _mails("application_ineligible")
        assert {m.to_email for m in mails} == BOGOTA_FOCAL_POINTS and all(reason in m.body for m in mails)

    view = page_text(camila.get(f"/applications/{application_id}"))
    assert "Not eligible" in view and reason in view and "Please reply by" not in view
    # Closed is final: the city cannot send the changes any more.
    assert camila.get(f"/applications/{application_id}/edit").status_code == 302


@pytest.mark.sqlite
def test_staff_may_close_before_the_reply_date_with_a_reason(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, open_call)
    _ask(staff, application_id, madrid_today() + timedelta(days=30))
    reason = "Bogotá told us by letter that it will not pursue the project this year."
    _close(staff, application_id, reason)
    with app.app_context():
        assert _state(application_id)[0:2] == ("ineligible", None)
        assert get_application(application_id).ineligible_reason == reason
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "application.close_unanswered"))
        assert "before the reply date" in entry.summary
    assert reason in page_text(camila.get(f"/applications/{application_id}"))


@pytest.mark.sqlite
@pytest.mark.parametrize("reason", ["", "   "])
def test_closing_without_a_reason_is_refused_and_changes_nothing(
    app, cities, open_call, make_client, staff, days_later, reason
):
    _camila, application_id = _submitted(app, make_client, open_call)
    _ask(staff, application_id, madrid_today() + timedelta(days=3))
    days_later(5)
    with app.app_context():
        before, audits = _state(application_id), _audit_count(application_id)
    response = _close(staff, application_id, reason)
    assert response.status_code == 400
    page = page_text(response)
    section = page[page.index('id="close-unanswered"') :]
    assert "Give the reason." in section[: section.index("</form>")]
    with app.app_context():
        assert _state(application_id) == before and before[0] == "more_info"
        assert _audit_count(application_id) == audits
        assert _mails("application_ineligible") == []


def test_closing_is_offered_and_allowed_only_while_the_city_is_asked(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, open_call)
    assert "close-unanswered" not in page_text(staff.get(f"/staff/applications/{application_id}"))
    page = page_text(_close(staff, application_id, "Closing a submitted application this way"))
    assert "This cannot be done while it is" in page
    with app.app_context():
        assert get_application(application_id).state == "submitted"
    # The city cannot close it, nor reach the staff page.
    _ask(staff, application_id, madrid_today() + timedelta(days=10))
    response = camila.post(
        f"/staff/applications/{application_id}/close", {"reason": "We give up"}, token_from="/applications/"
    )
    assert response.status_code in (403, 404)
    with app.app_context():
        assert get_application(application_id).state == "more_info"
    # After the city answers, there is nothing to close any more.
    _resubmit(app, camila, application_id)
    page = page_text(staff.get(f"/staff/applications/{application_id}"))
    assert "close-unanswered" not in page and 'id="reply-by"' not in page
