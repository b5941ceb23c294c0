"""Staff list, filter, export and screen applications; "more information" goes there and back."""

import csv
import io
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import force_locale

from fundapp.applications.diff import compare
from fundapp.applications.models import Application, Submission
from fundapp.core.models import OutboxMessage
from fundapp.extensions import db

from ..helpers import make_member, make_user, run_jobs
from .conftest import as_user, complete_fields, get_application, page_text, pdf_bytes, save, start, upload

LETTER = "Letter of support from the mayor or city government"
BUDGET = "Detailed budget"


def _submitted(app, make_client, email, call_id, **changes):
    client = as_user(make_client, email)
    application_id = start(client)
    data = complete_fields(app, call_id)
    data.update(changes)
    assert save(client, application_id, data).status_code == 302
    for requirement in (LETTER, BUDGET):
        upload(client, application_id, requirement, pdf_bytes(), "doc.pdf")
    response = client.post(
        f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check"
    )
    assert response.status_code == 302
    return client, application_id


def _screen(staff, application_id, action, reason="", sections=()):
    data = {"action": action, "reason": reason}
    if action == "request_info":  # a reply date a month ahead (tests/applications/test_more_info.py tests it)
        data["reply_by"] = (date.today() + timedelta(days=30)).isoformat()
    if sections:
        data["sections"] = list(sections)
    return staff.post(
        f"/staff/applications/{application_id}/screen",
        data,
        token_from=f"/staff/applications/{application_id}",
        follow_redirects=True,
    )


def test_more_information_round_trips_to_the_state_it_came_from(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, "camila@bogota.example", open_call)
    home = page_text(staff.get("/"))
    assert "1 application to screen" in home  # staff's home counts what waits for them
    # ...and leads to them: the call's list of applications waiting for screening.
    assert f'<a href="/staff/calls/{open_call}/applications?state=submitted">1 application to screen</a>' in home
    _screen(staff, application_id, "mark_eligible")
    assert "0 applications to screen" in page_text(staff.get("/"))
    page = page_text(_screen(staff, application_id, "request_info", "Please split the personnel costs.", ["budget"]))
    assert "More information requested" in page
    assert "Parts it may change: Budget" in page  # staff read which parts the city may change
    with app.app_context():
        application = get_application(application_id)
        assert (application.state, application.return_state) == ("more_info", "eligible")
        assert application.more_info_sections == ["budget"]
    run_jobs(app)
    with app.app_context():
        mails = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "application_more_info")
        ).all()
        assert {m.to_email for m in mails} == {"camila@bogota.example", "andres@bogota.example"}
        # Each is told which parts they may change, by name.
        assert all(
            "You can change these parts of the application, and send them again:\n- Budget\n" in m.body for m in mails
        )

    view = page_text(camila.get(f"/applications/{application_id}"))
    assert "Please split the personnel costs." in view
    editor = page_text(camila.get(f"/applications/{application_id}/edit"))
    assert 'id="budget"' in editor and 'name="title"' not in editor  # only the named part is open
    # The title is not among the open parts: a crafted post cannot change it.
    data = {
        "title": "Changed behind staff's back",
        "budget-0-category": "personnel",
        "budget-0-description": "Coordinators (2)",
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
    response = save(camila, application_id, data)
    assert response.status_code == 302  # the budget is saved; the title is not among the open parts
    with app.app_context():
        application = get_application(application_id)
        assert application.title == "Care blocks for Bogotá" and len(application.budget_lines) == 3

    response = camila.post(
        f"/applications/{application_id}/submit",
        {},
        token_from=f"/applications/{application_id}/check",
        follow_redirects=True,
    )
    assert "IFM-LCS-2025-001" in page_text(response)
    with app.app_context():
        application = get_application(application_id)
        assert application.state == "eligible" and application.return_state is None
        assert application.reference == "IFM-LCS-2025-001"  # the same reference
        assert [s.version_no for s in application.submissions] == [1, 2]

    diff = page_text(staff.get(f"/applications/{application_id}/versions?a=1&b=2"))
    assert 'data-field="budget"' in diff and "<ins>(2)</ins>" in diff and 'data-field="title"' not in diff
    assert "Trainers" in diff
    # Read as people read it: the field's name, amounts in euros, the category's label, no codes.
    assert '<th scope="row">Budget</th>' in diff and "Personnel · Coordinators" in diff
    assert "€10,000.00" in diff and "requested_cents" not in diff and "category:" not in diff
    # In the reader's language.
    with app.test_request_context(), force_locale("es"):
        submissions = get_application(application_id).submissions
        changes = {
            field: (str(label), after)
            for field, label, _b, after, _h in compare(submissions[0].data, submissions[1].data, "es")
        }
    assert changes["budget"][0] == "Presupuesto"
    assert (
        "Personal · Coordinators (2) · solicitado 50.000,00\xa0€, cofinanciación 10.000,00\xa0€" in changes["budget"][1]
    )


def test_more_information_from_submitted_returns_to_submitted(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, "camila@bogota.example", open_call)
    _screen(staff, application_id, "request_info", "Add the mayor's letter again.", ["documents"])
    upload(camila, application_id, LETTER, pdf_bytes("New letter"), "letter.pdf")
    camila.post(f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check")
    with app.app_context():
        assert get_application(application_id).state == "submitted"


def test_asking_for_information_needs_a_message_and_a_part(app, cities, open_call, make_client, staff):
    _camila, application_id = _submitted(app, make_client, "camila@bogota.example", open_call)
    page = page_text(_screen(staff, application_id, "request_info", "", ["budget"]))
    assert "A reason is required." in page
    page = page_text(_screen(staff, application_id, "request_info", "Details please", []))
    assert "Tick the parts the city may change." in page
    with app.app_context():
        assert get_application(application_id).state == "submitted"


def test_an_ineligible_application_shows_the_reason_to_the_city(app, cities, open_call, make_client, staff):
    camila, application_id = _submitted(app, make_client, "camila@bogota.example", open_call)
    _screen(staff, application_id, "mark_ineligible", "The project is outside the city's jurisdiction.")
    view = page_text(camila.get(f"/applications/{application_id}"))
    assert "Not eligible" in view and "The project is outside the city's jurisdiction." in view
    # Screening is for staff only, and a screened application cannot be screened again.
    assert (
        camila.post(
            f"/staff/applications/{application_id}/screen", {"action": "mark_eligible"}, token_from="/"
        ).status_code
        == 403
    )
    page = page_text(_screen(staff, application_id, "mark_eligible"))
    assert "This cannot be done while it is" in page


def test_staff_list_filters_sorts_paginates_and_exports(app, cities, open_call, make_client, staff):
    with app.app_context():
        lagos = make_member("Lagos", "NG", "africa", dues=2026)
        make_user("focal@lagos.example", "applicant", member=lagos)
    _submitted(app, make_client, "camila@bogota.example", open_call)
    _submitted(
        app, make_client, "focal@quito.example", open_call, **{"budget-0-requested": "20000", "title": "Quito cares"}
    )
    _submitted(
        app, make_client, "focal@lagos.example", open_call, **{"budget-1-requested": "10000", "title": "Lagos care map"}
    )
    url = f"/staff/calls/{open_call}/applications"
    page = page_text(staff.get(url))
    assert "3 results" in page and "IFM-LCS-2025-003" in page
    page = page_text(staff.get(url + "?region=africa"))
    assert "Lagos care map" in page and "Quito cares" not in page
    page = page_text(staff.get(url + "?country=ec"))
    assert "Quito cares" in page and "Lagos care map" not in page
    page = page_text(staff.get(url + "?min=70000&max=90,000"))
    assert "Lagos care map" in page and "Quito cares" not in page and "Care blocks for Bogotá" not in page
    page = page_text(staff.get(url + "?q=QUITO"))
    assert "1 result" in page
    page = page_text(staff.get(url + "?min=lots"))
    assert "Not an amount: lots" in page
    page = page_text(staff.get(url + "?sort=requested_asc"))
    assert page.index("Quito cares") < page.index("Lagos care map") < page.index("Care blocks for Bogotá")

    app.config["PAGE_SIZE"] = 2
    assert "Page 1 of 2" in page_text(staff.get(url))
    assert "IFM-LCS-2025-003" in page_text(staff.get(url + "?page=2"))

    export = staff.get(url + "?region=latin_america_caribbean&format=csv")
    assert export.mimetype == "text/csv" and export.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert [r["reference"] for r in rows] == ["IFM-LCS-2025-001", "IFM-LCS-2025-002"]
    assert rows[0]["requested_eur"] == "100000.00" and rows[0]["city"] == "Bogotá"


def test_the_staff_list_costs_a_constant_number_of_queries(app, cities, open_call, make_client, staff):
    from sqlalchemy import event

    _submitted(app, make_client, "camila@bogota.example", open_call)
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*args):
        statements.append(1)

    url = f"/staff/calls/{open_call}/applications"
    event.listen(engine, "before_cursor_execute", count)
    try:
        staff.get(url)
        one = len(statements)
        _submitted(app, make_client, "focal@quito.example", open_call)
        statements.clear()
        staff.get(url)
        assert len(statements) == one
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_submitted_snapshot_never_changes(app, cities, open_call, make_client):
    import pytest

    from fundapp.applications.models import SubmissionIsImmutable

    _submitted(app, make_client, "camila@bogota.example", open_call)
    with app.app_context():
        submission = db.session.scalar(sa.select(Submission))
        submission.data = {**submission.data, "title": "rewritten"}
        with pytest.raises(SubmissionIsImmutable):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalar(sa.select(Application.title)) == "Care blocks for Bogotá"


def test_a_budget_reopened_for_more_information_is_not_saved_above_the_cap(app, cities, open_call, make_client, staff):
    """An application sent once stays within the cap: above it, the reopened budget is refused beside
    it (autosave and form alike), never a server error, and what was sent stands."""
    camila, application_id = _submitted(app, make_client, "camila@bogota.example", open_call)
    _screen(staff, application_id, "request_info", "Separe los costos de personal.", ["budget"])
    with app.app_context():
        before = sorted((ln.description, ln.requested_cents) for ln in get_application(application_id).budget_lines)
    over = {
        "budget-0-category": "personnel",
        "budget-0-description": "Coordinadoras",
        "budget-0-requested": "120.000",
        "budget-0-cofunding": "10.000",
    }
    autosaved = save(camila, application_id, over, autosave=True)
    assert autosaved.status_code == 200
    assert "the budget was not saved" in autosaved.get_json()["errors"]["budget"]
    response = save(camila, application_id, over)
    assert response.status_code == 400 and "the budget was not saved" in page_text(response)
    assert 'value="120.000"' in page_text(response)  # what was typed comes back
    with app.app_context():
        after = sorted((ln.description, ln.requested_cents) for ln in get_application(application_id).budget_lines)
        assert after == before
