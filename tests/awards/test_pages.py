"""The decision board, the grant page and the city's acceptance, through the pages."""

import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Grant
from fundapp.extensions import db

from .. import factories as f
from ..helpers import commits, run_jobs, text
from .conftest import ledger, reviewed, staff_user


def _ranked(app, awards_call):
    with app.app_context():
        return [
            reviewed(awards_call, "Bogotá", [5] * 5, focal="focal@bogota.example", language="en"),
            reviewed(awards_call, "Quito", [4] * 5),
        ]


def test_refusals_on_the_board_say_why_and_move_no_money(app, awards_call, staff):
    ids = _ranked(app, awards_call)
    url = f"/staff/calls/{awards_call}/decisions"
    page = text(
        staff.post(
            f"/staff/applications/{ids[0]}/decide",
            {"kind": "award", "amount": "100000.01"},
            token_from=url,
            follow_redirects=True,
        )
    )
    assert "above the call’s cap of €100,000.00" in page
    page = text(
        staff.post(
            f"/staff/applications/{ids[0]}/decide",
            {"kind": "award", "amount": "lots"},
            token_from=url,
            follow_redirects=True,
        )
    )
    # The shared money field says what it could not read (awards/forms.py).
    assert "Enter an amount in euros, such as 100000 or 100,000.00." in page
    page = text(
        staff.post(
            f"/staff/applications/{ids[0]}/decide",
            {"kind": "reject", "reason": ""},
            token_from=url,
            follow_redirects=True,
        )
    )
    assert "Give the reason the city will read." in page
    with app.app_context():
        assert sum(v[1] for v in ledger(awards_call).values()) == 0


def test_a_batch_that_cannot_award_one_of_its_applications_records_none(app, awards_call, staff):
    """All or nothing: the second award is above the cap, so the first is not recorded either."""
    ids = _ranked(app, awards_call)
    url = f"/staff/calls/{awards_call}/decisions"
    with app.app_context():
        before = ledger(awards_call)
        references = [db.session.get(Application, i).reference for i in ids]
    page = text(
        staff.post(
            f"/staff/calls/{awards_call}/decide-batch",
            {"award": [f"{ids[0]}:10000000", f"{ids[1]}:10000001"]},
            token_from=url,
            follow_redirects=True,
        )
    )
    assert f"{references[1]}: €100,000.01 is above the call’s cap of €100,000.00. Nothing was recorded." in page
    with app.app_context():
        assert ledger(awards_call) == before
        assert [db.session.get(Application, i).state for i in ids] == ["reviewed", "reviewed"]
        assert db.session.scalar(sa.select(sa.func.count(Grant.id))) == 0


def test_a_batch_of_awards_is_one_commit(app, awards_call, staff):
    ids = _ranked(app, awards_call)
    data = {
        "award": [f"{i}:10000000" for i in ids],
        "csrf_token": staff.csrf_token(f"/staff/calls/{awards_call}/decisions"),
    }
    with commits(app) as made:
        response = staff.http.post(f"/staff/calls/{awards_call}/decide-batch", data=data)
    assert response.status_code == 302
    assert len(made) == 1  # both decisions, their grants, ledger entries and audit records
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Grant.id))) == 2


def test_amounts_in_the_scenario_are_read_in_the_readers_language_or_said_unreadable(app, awards_call, staff):
    ids = _ranked(app, awards_call)
    url = f"/staff/calls/{awards_call}/decisions"
    page = text(staff.get(f"{url}?amount_{ids[1]}=90.000,50"))
    assert "€190,000.50" in page  # 100,000.00 + 90,000.50 in the scenario's running total
    page = text(staff.get(f"{url}?amount_{ids[1]}=mucho"))
    assert "An amount in the scenario was left as proposed: Enter an amount in euros" in page
    # On its row: what was typed, kept, and why beside it; the scenario counts the proposal.
    row = page.split(f'name="amount_{ids[1]}"')[1].split("</td>")[0]
    assert 'value="mucho"' in row and 'aria-invalid="true"' in row
    assert "Enter an amount in euros, such as 100000 or 100,000.00. The scenario counts €100,000.00." in row
    assert "€200,000.00" in page
    # Nothing (0) is no award: said on the row, the proposal counted, and no batch award offered for it.
    page = text(staff.get(f"{url}?amount_{ids[1]}=0"))
    row = page.split(f'name="amount_{ids[1]}"')[1].split("</td>")[0]
    assert "An award needs an amount above zero: the scenario counts €100,000.00." in row
    assert 'value="0"' in row  # what was typed, kept
    assert f'name="award" value="{ids[1]}:0"' not in page and f'name="award" value="{ids[1]}:10000000"' in page


def test_batch_award_above_the_cut_line_then_grant_pages(app, awards_call, staff, make_client):
    ids = _ranked(app, awards_call)
    url = f"/staff/calls/{awards_call}/decisions"
    page = text(staff.get(url))
    assert "Award the 2 applications above the cut line" in page
    pairs = [f"{i}:10000000" for i in ids]
    page = text(
        staff.post(f"/staff/calls/{awards_call}/decide-batch", {"award": pairs}, token_from=url, follow_redirects=True)
    )
    assert "2 awards recorded." in page and 'data-figure="committed">€200,000.00' in page
    with app.app_context():
        grant = db.session.scalar(sa.select(Grant).where(Grant.application_id == ids[0]))
        grant_id, decision_id = grant.id, grant.decision_id
    preview = staff.get(f"/staff/decisions/{decision_id}/letter.pdf")
    assert preview.status_code == 200 and preview.mimetype == "application/pdf"

    focal = make_client()
    focal.login("focal@bogota.example")
    # Before the letter the city does not learn of its grant: not found, nothing accepted.
    assert focal.get(f"/grants/{grant_id}").status_code == 404
    assert focal.post(f"/grants/{grant_id}/accept", {"bank_details": "IBAN CO12"}).status_code == 404
    staff.post(f"/staff/decisions/{decision_id}/send", {}, token_from=url)
    run_jobs(app)  # the worker's letter job sends it: from then the city sees its grant
    page = text(
        focal.post(
            f"/grants/{grant_id}/accept", {"bank_details": ""}, token_from=f"/grants/{grant_id}", follow_redirects=True
        )
    )
    assert "Confirm the bank details payments go to." in page
    focal.post(f"/grants/{grant_id}/accept", {"bank_details": "IBAN CO12"}, token_from=f"/grants/{grant_id}")
    with app.app_context():
        assert db.session.get(Grant, grant_id).state == "accepted"

    # Another city, a reviewer, an anonymous visitor: nothing to see.
    with app.app_context():
        f.focal_point("Montevideo")
    other = make_client()
    other.login("focal@montevideo.example")
    assert other.get(f"/grants/{grant_id}").status_code == 404
    assert make_client().get(f"/grants/{grant_id}").status_code == 302

    grant_url = f"/grants/{grant_id}"
    with app.app_context():
        tranche_ids = [t.id for t in db.session.get(Grant, grant_id).tranches]
        today = db.session.get(Grant, grant_id).application.call_today().isoformat()  # a payment's date: up to today
    page = text(
        staff.post(
            f"/staff/grants/{grant_id}/payments",
            {"tranche": tranche_ids[0], "amount": "40000.01", "paid_on": today, "reference": "TR-1"},
            token_from=grant_url,
            follow_redirects=True,
        )
    )
    assert "Only €40,000.00 is due on this tranche." in page
    page = text(
        staff.post(
            f"/staff/grants/{grant_id}/payments",
            {"tranche": tranche_ids[0], "amount": "40000", "paid_on": today, "reference": "TR-1"},
            token_from=grant_url,
            follow_redirects=True,
        )
    )
    assert "Payment recorded." in page and 'data-figure="paid">€40,000.00' in page
    assert operations and staff_user and Application  # modules under test
