"""Bulk actions on the staff list of a call's applications (issue 16, item 7): staff tick rows and
mark them eligible, ineligible (one reason for all), assign reviewers automatically or send the
decision letters. Each action is one transaction: all the selected applications take it, or none
does and the message names the one that could not; the list comes back with the selection kept."""

import re

import sqlalchemy as sa

from fundapp import scenarios as s
from fundapp.applications.models import Application
from fundapp.awards.models import Letter
from fundapp.core.models import AuditEntry, OutboxMessage
from fundapp.extensions import db
from fundapp.reviews.models import Assignment

from .. import factories as f
from ..calls.conftest import fund, staff  # noqa: F401
from ..helpers import commits, count, run_jobs, text


def _list(call_id):
    return f"/staff/calls/{call_id}/applications"


def _bulk(staff, call_id, ids, endpoint="screen", **data):  # noqa: F811
    data = {"application": [str(i) for i in ids], **data}
    return staff.post(f"{_list(call_id)}/{endpoint}", data, token_from=_list(call_id))


def _states(ids):
    db.session.expire_all()
    return [db.session.get(Application, i).state for i in ids]


def _ticked(page):
    return sorted(int(i) for i in re.findall(r'name="application" value="(\d+)" id="select-\d+" checked', page))


def _three_submitted(app):
    with app.app_context():
        call = f.call()
        ids = [f.submitted(city).id for city in ("Bogotá", "Dakar", "Montréal")]
        return call.id, ids


def test_three_applications_marked_eligible_in_one_commit(app, fund, staff):  # noqa: F811
    call_id, ids = _three_submitted(app)
    page = text(staff.get(_list(call_id)))
    with app.app_context():
        references = [db.session.get(Application, i).reference for i in ids]
    # A checkbox per row, each with its own label; "select all on this page" is a real checkbox.
    for application_id, reference in zip(ids, references):
        assert f'<label for="select-{application_id}" class="visually-hidden">Select {reference}</label>' in page
    assert 'name="all_on_page"' in page and "Select all on this page" in page

    data = {"application": [str(i) for i in ids], "action": "mark_eligible", "csrf_token": staff.csrf_token()}
    with commits(app) as made:
        response = staff.http.post(f"{_list(call_id)}/screen?sort=city", data=data)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{_list(call_id)}?sort=city")
    assert len(made) == 1  # three screenings and their audit entries, together
    assert "3 applications marked eligible." in text(staff.get(response.headers["Location"]))
    with app.app_context():
        assert _states(ids) == ["eligible"] * 3
        audited = db.session.scalars(
            sa.select(AuditEntry.object_id).where(AuditEntry.action == "application.mark_eligible")
        ).all()
        assert sorted(audited) == sorted(str(i) for i in ids)


def test_select_all_on_this_page_works_without_javascript(app, fund, staff):  # noqa: F811
    call_id, ids = _three_submitted(app)
    response = staff.post(
        f"{_list(call_id)}/screen",
        {"all_on_page": "y", "shown": [str(i) for i in ids], "action": "mark_eligible"},
        token_from=_list(call_id),
        follow_redirects=True,
    )
    assert "3 applications marked eligible." in text(response)
    with app.app_context():
        assert _states(ids) == ["eligible"] * 3


def test_ineligible_needs_one_reason_for_all(app, fund, staff):  # noqa: F811
    call_id, ids = _three_submitted(app)
    response = _bulk(staff, call_id, ids[:2], action="mark_ineligible", reason="   ")
    assert response.status_code == 400
    page = text(response)
    assert 'id="bulk-reason-error"' in page and "Give the reason the cities will read. Nothing was recorded." in page
    assert _ticked(page) == sorted(ids[:2])  # the selection is kept
    with app.app_context():
        assert _states(ids) == ["submitted"] * 3
        assert count(AuditEntry, AuditEntry.action == "application.mark_ineligible") == 0
        assert count(OutboxMessage, OutboxMessage.template == "application_ineligible") == 0

    reason = "La ciudad no está al día con su cuota de miembro."
    response = _bulk(staff, call_id, ids[:2], action="mark_ineligible", reason=reason)
    assert response.status_code == 302
    with app.app_context():
        assert _states(ids) == ["ineligible", "ineligible", "submitted"]
        assert {db.session.get(Application, i).ineligible_reason for i in ids[:2]} == {reason}
        told = db.session.scalars(
            sa.select(OutboxMessage.to_email).where(OutboxMessage.template == "application_ineligible")
        ).all()
        assert sorted(told) == ["focal@bogota.example", "focal@dakar.example"]


def test_one_application_that_cannot_take_the_action_stops_the_whole_batch(app, fund, staff):  # noqa: F811
    with app.app_context():
        f.call(envelope={"SDC": 400_000_00, "OSF": 100_000_00})  # what is left funds another call
    call_id, ids = _three_submitted(app)
    with app.app_context():
        s.screen(db.session.get(Application, ids[1]), f.staff())  # Dakar is already eligible
        dakar = db.session.get(Application, ids[1]).reference
        other = f.submitted("Quito", the_call=f.call("LCS-2026", envelope={"SDC": 300_000_00, "OSF": 0})).id
        quito = db.session.get(Application, other).reference
        draft = f.draft("Lisbon").id  # a draft: staff cannot see it
    response = _bulk(staff, call_id, ids, action="mark_eligible")
    assert response.status_code == 400
    page = text(response)
    assert f"{dakar} is “Eligible”: only a submitted application can be marked eligible. Nothing was recorded." in page
    assert _ticked(page) == sorted(ids)
    with app.app_context():
        assert _states(ids) == ["submitted", "eligible", "submitted"]
        assert count(AuditEntry, AuditEntry.action == "application.mark_eligible") == 1  # Dakar's own, before

    response = _bulk(staff, call_id, [ids[0], other], action="mark_eligible")
    assert response.status_code == 400
    assert f"{quito} is not an application of this call. Nothing was recorded." in text(response)
    response = _bulk(staff, call_id, [ids[0], draft], action="mark_eligible")
    assert response.status_code == 404
    assert _bulk(staff, call_id, ["Bogotá"], action="mark_eligible").status_code == 404
    with app.app_context():
        assert _states([ids[0], ids[2], other]) == ["submitted", "submitted", "submitted"]

    response = _bulk(staff, call_id, [], action="mark_eligible")
    assert response.status_code == 400 and "Tick the applications to act on." in text(response)


def test_reviewers_are_assigned_to_the_selected_applications_only(app, fund, staff):  # noqa: F811
    with app.app_context():
        call = f.call()
        ids = [f.eligible(city).id for city in ("Bogotá", "Dakar", "Montréal")]
        waiting = f.submitted("Quito").id
        s.seat_jury(call, f.staff(), f.panel(5))
        call_id, per_application = call.id, call.reviewers_per_application
        references = {i: db.session.get(Application, i).reference for i in ids + [waiting]}

    # One still to screen in the selection: nothing assigned, and the message names it.
    response = _bulk(staff, call_id, [ids[0], waiting], endpoint="assign")
    assert response.status_code == 400
    assert f"{references[waiting]} is “Submitted: to screen”: only applications that passed screening" in text(response)
    assert _ticked(text(response)) == sorted([ids[0], waiting])
    with app.app_context():
        assert count(Assignment) == 0

    data = {"application": [str(ids[0]), str(ids[1])], "csrf_token": staff.csrf_token()}
    with commits(app) as made:
        response = staff.http.post(f"{_list(call_id)}/assign", data=data)
    assert response.status_code == 302
    assert len(made) == 1
    page = text(staff.get(response.headers["Location"]))
    assert f"Reviewers assigned to 2 applications ({2 * per_application} assignments)" in page
    with app.app_context():
        panels = {i: count(Assignment, Assignment.application_id == i) for i in ids}
        assert panels == {ids[0]: per_application, ids[1]: per_application, ids[2]: 0}
        assert count(AuditEntry, AuditEntry.action == "assignment.create") == 2 * per_application

    # A full panel cannot take more: named, nothing assigned.
    response = _bulk(staff, call_id, [ids[2], ids[0]], endpoint="assign")
    assert response.status_code == 400
    assert f"{references[ids[0]]} already has its {per_application} reviewers. Nothing was assigned." in text(response)
    with app.app_context():
        assert count(Assignment, Assignment.application_id == ids[2]) == 0


def test_decision_letters_go_out_once_for_the_selection(app, fund, staff):  # noqa: F811
    with app.app_context():
        call_id = f.call().id
        awarded = f.awarded("Bogotá", letter=False).application_id
        reserved = f.reserved("Dakar", letter=False).id
        undecided = f.reviewed("Montréal").id
        references = {i: db.session.get(Application, i).reference for i in (awarded, reserved, undecided)}

    response = _bulk(staff, call_id, [awarded, undecided], endpoint="letters")
    assert response.status_code == 400
    assert f"{references[undecided]} is “Reviewed”: it has no decision to send. No letter was sent." in text(response)
    with app.app_context():
        assert count(Letter) == 0

    data = {"application": [str(awarded), str(reserved)], "csrf_token": staff.csrf_token()}
    with commits(app) as made:
        response = staff.http.post(f"{_list(call_id)}/letters", data=data)
    assert response.status_code == 302
    assert len(made) == 1
    assert "2 decision letters are being sent." in text(staff.get(response.headers["Location"]))
    run_jobs(app)

    # Sent again: refused by name, nothing queued twice.
    response = _bulk(staff, call_id, [reserved, awarded], endpoint="letters")
    assert response.status_code == 400
    assert f"{references[reserved]}: its decision letter has already gone out or is on its way." in text(response)
    with app.app_context():
        assert count(Letter) == 2
        assert count(AuditEntry, AuditEntry.action == "letter.send") == 2
        letters = db.session.scalars(
            sa.select(OutboxMessage.to_email).where(OutboxMessage.template == "decision_letter")
        )
        assert sorted(letters) == ["focal@bogota.example", "focal@dakar.example"]
