"""Letters once: "sent" is recorded when the letter job has put the e-mail in the outbox for every
focal point, never when staff queue it; sending, revising and the letter job take turns on the
decision's row lock, so a double click gives one letter and no error, and revise versus send ends
in one outcome. A letter whose job failed leaves the decision revisable and hidden from the city.

Clicks are real requests in real threads, each with its own session (PostgreSQL); the letter job
runs on a real RQ worker (burst mode) and mails a real SMTP server on loopback.
"""

import email
import threading
from email import policy

import pytest
import sqlalchemy as sa

from fundapp.accounts import operations as accounts
from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Decision, Grant, Letter
from fundapp.core.errors import Refused
from fundapp.core.jobs import run_job
from fundapp.core.models import AuditEntry, JobRecord, OutboxMessage
from fundapp.extensions import db

from .. import factories as f
from ..helpers import count, run_jobs, text
from .conftest import ledger

BOARD = "/staff/calls/{call}/decisions"
UNTOUCHED = {"SDC": (700_000_00, 0, 0), "OSF": (100_000_00, 0, 0)}


def _awarded(city="Bogotá", amount_cents=100_000_00, **kw):
    """(application id, decision id): `city`'s application awarded, its letter not asked for yet."""
    decision = f.awarded(city, amount_cents, letter=False, **kw)
    return decision.application_id, decision.id


def _letter_mails(smtp_server, address):
    """The decision letters `address` received (other mail, such as receipts, left aside)."""
    received = [
        email.message_from_bytes(e.content, policy=policy.default)
        for e in smtp_server.messages
        if address in e.rcpt_tos
    ]
    return [m for m in received if any(a.get_filename().endswith("-letter.pdf") for a in m.iter_attachments())]


def _staff_tab(make_client):
    tab = make_client()
    tab.login("staff@fund.example")
    return tab


def _city(make_client, address):
    client = make_client()
    client.login(address, f.PASSWORD)
    return client


def _at_once(*actions):
    """Run each action in its own thread, released together; what each returned or raised."""
    barrier, outcomes = threading.Barrier(len(actions)), [None] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            outcomes[index] = action()
        except Exception as exc:  # kept, so the test can say which answer was an error
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


def _post(client, url, data):
    return lambda: client.http.post(url, data=data)


def _snapshot(decision_id):
    """What a refusal must leave as it was."""
    db.session.expire_all()
    decision = db.session.get(Decision, decision_id)
    return {
        "letters": [(letter.id, letter.status, letter.job_id) for letter in decision.letters],
        "letter_sent_at": decision.letter_sent_at,
        "revised_at": decision.revised_at,
        "decision_sent_at": decision.application.decision_sent_at,
        "jobs": count(JobRecord),
        "outbox": count(OutboxMessage),
        "audit": count(AuditEntry),
    }


def test_two_clicks_on_send_letter_give_one_letter_and_no_error(app, awards_call, staff, make_client, smtp_server):
    with app.app_context():
        application_id, decision_id = _awarded("Bogotá")
        grant_id = db.session.scalar(sa.select(Grant.id).where(Grant.decision_id == decision_id))
    board = BOARD.format(call=awards_call)
    tabs = [staff, _staff_tab(make_client)]  # a double click, or two staff at once
    url = f"/staff/decisions/{decision_id}/send"
    responses = _at_once(*(_post(tab, url, {"csrf_token": tab.csrf_token(board)}) for tab in tabs))
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    with app.app_context():
        (letter,) = db.session.scalars(sa.select(Letter).where(Letter.decision_id == decision_id)).all()
        assert letter.status == "queued"
        assert count(JobRecord, JobRecord.name == "awards.send_letter") == 1
        assert count(AuditEntry, AuditEntry.action == "letter.send") == 1
        # Queued is not sent: the city does not see the decision yet.
        decision = db.session.get(Decision, decision_id)
        assert decision.letter_sent_at is None and not decision.application.decision_is_public
    page = text(staff.get(board))
    card = page[page.index(f'id="decide-{application_id}"') :]
    card = card[: card.index("</section>")]
    assert 'data-letter="queued"' in card and "send-letter" not in card  # nothing to click twice
    city = _city(make_client, "focal@bogota.example")
    assert city.get(f"/applications/{application_id}/grant").status_code == 404

    run_jobs(app)  # the worker renders the letter and puts it in the outbox

    with app.app_context():
        letter = db.session.get(Letter, letter.id)
        decision = db.session.get(Decision, decision_id)
        assert letter.status == "sent" and letter.error is None
        assert decision.letter_sent_at == letter.sent_at == decision.application.decision_sent_at
        assert count(AuditEntry, AuditEntry.action == "letter.sent") == 1
    assert len(_letter_mails(smtp_server, "focal@bogota.example")) == 1
    response = city.get(f"/applications/{application_id}/grant")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant_id}")
    assert 'data-letter="sent"' in text(staff.get(board))

    # A third click, late: the same letter, no new job, no second e-mail.
    assert staff.post(url, {}, token_from=board).status_code == 302
    run_jobs(app)
    with app.app_context():
        assert count(Letter) == 1 and count(JobRecord, JobRecord.name == "awards.send_letter") == 1
    assert len(_letter_mails(smtp_server, "focal@bogota.example")) == 1


def test_revise_and_send_letter_at_once_end_in_one_outcome(app, awards_call, staff, make_client, smtp_server):
    """Staff revise while a colleague sends the letter: whichever goes first, the decision ends
    revised, its money back, and no letter leaves (a revision wins over a letter still queued)."""
    with app.app_context():
        application_id, decision_id = _awarded("Montréal")
    board = BOARD.format(call=awards_call)
    colleague = _staff_tab(make_client)
    responses = _at_once(
        _post(staff, f"/staff/decisions/{decision_id}/send", {"csrf_token": staff.csrf_token(board)}),
        _post(
            colleague,
            f"/staff/decisions/{decision_id}/revise",
            {"csrf_token": colleague.csrf_token(board), "reason": "Le budget de personnel est à revoir."},
        ),
    )
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    run_jobs(app)
    with app.app_context():
        decision = db.session.get(Decision, decision_id)
        assert decision.revised_at is not None and decision.letter_sent_at is None
        assert decision.application.decision_sent_at is None and not decision.application.decision_is_public
        assert db.session.scalar(sa.select(Grant).where(Grant.decision_id == decision_id)) is None
        assert ledger(awards_call) == UNTOUCHED
        for letter in decision.letters:  # queued first, then cancelled by the revision
            assert letter.status == "failed" and "revised" in letter.error
        assert count(AuditEntry, AuditEntry.action == "decision.revise") == 1
        assert count(AuditEntry, AuditEntry.action == "letter.sent") == 0
    assert _letter_mails(smtp_server, "focal@montreal.example") == []
    page = text(staff.get(board))  # the board offers a new decision
    assert f'action="/staff/applications/{application_id}/decide"' in page


@pytest.mark.parametrize("city", ["Dakar", "Seoul", "Accra"])
def test_revise_and_the_letter_job_at_once_end_in_one_outcome(app, awards_call, smtp_server, city):
    """The worker hands the letter over while staff revise: either the letter left (and the revision
    is refused) or the decision was revised (and the job sends nothing); never both, never an error."""
    with app.app_context():
        application_id, decision_id = _awarded(city)
        letter = operations.send_letter(db.session.get(Decision, decision_id), actor=f.staff())
        job_id = letter.job_id
    focal = f"focal@{f.slug(city)}.example"

    def revise():
        with app.app_context():
            try:
                operations.revise(
                    db.session.get(Decision, decision_id), actor=f.staff(), reason="Partner letter missing."
                )
            except Refused as refusal:
                db.session.rollback()
                return str(refusal.message)
            return "revised"

    def letter_job():
        with app.app_context():
            return run_job(job_id)

    revised, sent = _at_once(revise, letter_job)
    assert not isinstance(revised, Exception) and not isinstance(sent, Exception), (revised, sent)
    run_jobs(app)  # the e-mails the letter job queued, if any
    with app.app_context():
        decision = db.session.get(Decision, decision_id)
        letter = decision.letters[0]
        if revised == "revised":
            assert sent == "decision revised"
            assert decision.revised_at is not None and decision.letter_sent_at is None
            assert letter.status == "failed" and "revised" in letter.error
            assert ledger(awards_call) == UNTOUCHED
            assert not db.session.get(Application, application_id).decision_is_public
            assert _letter_mails(smtp_server, focal) == []
        else:
            assert revised == "The letter has been sent: this decision can no longer be revised."
            assert sent == "sent"
            assert decision.revised_at is None and decision.letter_sent_at == letter.sent_at
            assert letter.status == "sent"
            assert sum(v[1] for v in ledger(awards_call).values()) == 100_000_00
            assert db.session.get(Application, application_id).decision_is_public
            assert len(_letter_mails(smtp_server, focal)) == 1


def test_a_letter_whose_job_failed_leaves_the_decision_revisable_and_hidden_from_the_city(
    app, awards_call, staff, make_client, smtp_server
):
    with app.app_context():
        application_id, decision_id = _awarded("Quito", focal=f.focal_point("Quito", "andrea.paredes@quito.example"))
        # The focal point who wrote the application has left the city: nobody holds its role any more.
        accounts.set_roles(f.focal_point("Quito", "andrea.paredes@quito.example"), [], actor=f.staff())
    board = BOARD.format(call=awards_call)
    page = text(staff.post(f"/staff/decisions/{decision_id}/send", {}, token_from=board, follow_redirects=True))
    assert "is being sent" in page
    run_jobs(app)
    with app.app_context():
        decision = db.session.get(Decision, decision_id)
        (letter,) = decision.letters
        assert letter.status == "failed" and "no active focal point" in letter.error
        assert db.session.get(JobRecord, letter.job_id).status == "failed"
        # Not sent: nothing recorded as sent, the city does not see the decision.
        assert decision.letter_sent_at is None and letter.sent_at is None
        assert decision.application.decision_sent_at is None and not decision.application.decision_is_public
        assert count(OutboxMessage, OutboxMessage.template == "decision_letter") == 0
        f.focal_point("Quito", "focal@quito.example", name="Diego Andrade")  # the city's new focal point
    page = text(staff.get(board))
    card = page[page.index(f'id="decide-{application_id}"') :]
    card = card[: card.index("</section>")]
    assert 'data-letter="failed"' in card and "no active focal point" in card
    assert "Send the letter again" in card and f"/staff/decisions/{decision_id}/revise" in card
    city = _city(make_client, "focal@quito.example")
    assert city.get(f"/applications/{application_id}/grant").status_code == 404
    assert 'data-decision="awarded"' not in text(city.get(f"/applications/{application_id}"))

    page = text(
        staff.post(
            f"/staff/decisions/{decision_id}/revise",
            {"reason": "El presupuesto debe revisarse con el comité."},
            token_from=board,
            follow_redirects=True,
        )
    )
    assert "Decision revised" in page
    with app.app_context():
        decision = db.session.get(Decision, decision_id)
        assert decision.revised_at is not None and decision.letters[0].status == "failed"
        assert ledger(awards_call) == UNTOUCHED
        assert db.session.get(Application, application_id).decision_sent_at is None
    assert city.get(f"/applications/{application_id}/grant").status_code == 404
    run_jobs(app)
    assert _letter_mails(smtp_server, "focal@quito.example") == []


def test_a_failed_letter_sent_again_goes_once_to_the_new_focal_point(app, awards_call, staff, make_client, smtp_server):
    with app.app_context():
        application_id, decision_id = _awarded("Lisbon", focal=f.focal_point("Lisbon", "ines@lisbon.example"))
        accounts.set_roles(f.focal_point("Lisbon", "ines@lisbon.example"), [], actor=f.staff())
    board = BOARD.format(call=awards_call)
    staff.post(f"/staff/decisions/{decision_id}/send", {}, token_from=board)
    run_jobs(app)
    with app.app_context():
        f.focal_point("Lisbon", "focal@lisbon.example", name="Rui Costa")
        jobs_before = count(JobRecord, JobRecord.name == "awards.send_letter")
    # "Send the letter again", clicked twice at once: queued again once.
    colleague = _staff_tab(make_client)
    url = f"/staff/decisions/{decision_id}/send"
    responses = _at_once(*(_post(tab, url, {"csrf_token": tab.csrf_token(board)}) for tab in (staff, colleague)))
    assert [getattr(r, "status_code", r) for r in responses] == [302, 302]
    with app.app_context():
        assert count(JobRecord, JobRecord.name == "awards.send_letter") == jobs_before + 1
        assert db.session.get(Decision, decision_id).letters[0].status == "queued"
    run_jobs(app)
    with app.app_context():
        decision = db.session.get(Decision, decision_id)
        assert decision.letters[0].status == "sent" and decision.letters[0].error is None
        assert decision.letter_sent_at is not None and decision.application.decision_is_public
    assert len(_letter_mails(smtp_server, "focal@lisbon.example")) == 1
    assert _letter_mails(smtp_server, "ines@lisbon.example") == []
    city = _city(make_client, "focal@lisbon.example")
    assert city.get(f"/applications/{application_id}/grant").status_code == 302


def test_refusals_change_nothing(app, awards_call, staff, smtp_server):
    """A letter for a revised decision, and revising a decision whose letter left, are refused next
    to the button; the database is as it was."""
    with app.app_context():
        _revised_app, revised_id = _awarded("Tunis")
        operations.revise(db.session.get(Decision, revised_id), actor=f.staff(), reason="Mauvais montant.")
        _sent_app, sent_id = _awarded("Abidjan", 80_000_00)
        f.s.send_letter(db.session.get(Decision, sent_id), f.staff())
        before = {d: _snapshot(d) for d in (revised_id, sent_id)}
    board = BOARD.format(call=awards_call)
    page = text(staff.post(f"/staff/decisions/{revised_id}/send", {}, token_from=board, follow_redirects=True))
    assert "This decision was revised: its letter cannot be sent." in page
    page = text(
        staff.post(
            f"/staff/decisions/{sent_id}/revise", {"reason": "Trop tard"}, token_from=board, follow_redirects=True
        )
    )
    assert "The letter has been sent: this decision can no longer be revised." in page
    with app.app_context():
        after = {d: _snapshot(d) for d in (revised_id, sent_id)}
    assert after == before
    with app.app_context():
        assert (
            count(AuditEntry, AuditEntry.action.in_(("letter.send", "letter.sent", "decision.revise"))) == 3
        )  # Tunis revised; Abidjan's letter queued and sent
