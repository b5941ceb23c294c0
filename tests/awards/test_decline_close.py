"""The grant's life after the award: the city withdraws only before a decision and declines an offered
grant (the money goes back, staff are told, the board shows it); after acceptance only staff cancel;
staff close a grant (what was not paid goes back); an ended grant has nothing due."""

import threading

import pytest
import sqlalchemy as sa

from fundapp.accounts import operations as accounts
from fundapp.accounts.models import User
from fundapp.applications.models import APPLICATION_WORKFLOW, Application
from fundapp.awards import operations
from fundapp.awards.models import GRANT_WORKFLOW, Grant, Tranche
from fundapp.core.errors import Refused
from fundapp.core.models import Notice, OutboxMessage
from fundapp.extensions import db
from fundapp.reporting import operations as reporting
from fundapp.reporting.dashboard import fund_dashboard
from fundapp.reporting.models import REPORT_WORKFLOW, GrantReport

from .. import factories as f
from .grant_life import envelope, field_error, forms, page, refusal, state

REASON = "A Câmara Municipal não aprovou a contrapartida da prefeitura."


@pytest.fixture
def call_id(app):
    """The Local Care Systems call (SDC EUR 700,000, OSF EUR 100,000), with two programme officers."""
    with app.app_context():
        f.staff()
        f.user("elodie.martin@fund.example", "staff", name="Élodie Martin", language="fr")
        return f.call().id


@pytest.fixture
def staff(app, call_id, make_client):
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    return client


def _client(make_client, email):
    client = make_client()
    client.login(email, f.PASSWORD)
    return client


def _grant(grant_id):
    db.session.expire_all()
    return db.session.get(Grant, grant_id)


def _tranches_due():
    return [(t.grant_id, t.position) for t in fund_dashboard()["tranches_due"]]


# -- withdraw: only before a decision -------------------------------------------------------------


def test_the_table_lets_a_city_withdraw_only_before_a_decision():
    for name in APPLICATION_WORKFLOW.state_names():
        can = APPLICATION_WORKFLOW.can(name, "withdraw", {"applicant"})
        # Every state before a decision that is not final (withdrawn and ineligible are).
        expected = not APPLICATION_WORKFLOW.has(name, "decided") and not APPLICATION_WORKFLOW.is_final(name)
        assert can == expected, name
        if APPLICATION_WORKFLOW.has(name, "decided"):
            assert not can, f"{name} is decided: the city declines a grant instead"
    # After an award the city declines the offered grant; after acceptance only staff end it.
    assert GRANT_WORKFLOW.can("offered", "decline", {"applicant"})
    for name in GRANT_WORKFLOW.state_names():
        if name != "offered":
            assert not GRANT_WORKFLOW.can(name, "decline", {"applicant"}), name
        assert not GRANT_WORKFLOW.can(name, "cancel", {"applicant"}), name
        assert not GRANT_WORKFLOW.can(name, "close", {"applicant"}), name


def test_the_city_page_offers_withdraw_before_the_decision_and_decline_after_it(app, call_id, make_client):
    with app.app_context():
        montreal = f.reviewed("Montréal").id
        decision = f.awarded("São Paulo")
        sao_paulo, grant_id = decision.application_id, decision.grant.id
    city = _client(make_client, "focal@montreal.example")
    assert f"/applications/{montreal}/withdraw" in forms(page(city.get(f"/applications/{montreal}")))

    city = _client(make_client, "focal@saopaulo.example")
    html = page(city.get(f"/applications/{sao_paulo}"))
    assert f"/applications/{sao_paulo}/withdraw" not in forms(html)
    grant_page = page(city.get(f"/grants/{grant_id}"))
    assert f"/grants/{grant_id}/decline" in forms(grant_page) and f"/grants/{grant_id}/accept" in forms(grant_page)
    assert f"/staff/grants/{grant_id}/cancel" not in forms(grant_page)

    # Withdrawing the awarded application anyway: refused, and nothing moved.
    with app.app_context():
        before = state()
    response = city.post(
        f"/applications/{sao_paulo}/withdraw",
        {"reason": "We can no longer carry out the project."},
        token_from=f"/applications/{sao_paulo}",
        follow_redirects=True,
    )
    assert "This application can no longer be withdrawn" in page(response)
    with app.app_context():
        assert state() == before
        assert db.session.get(Application, sao_paulo).state == "awarded"


# -- decline -------------------------------------------------------------------------------------


def test_the_city_declines_its_offered_grant_the_money_returns_and_staff_are_told(app, call_id, staff, make_client):
    with app.app_context():
        decision = f.awarded("São Paulo", 80_000_00, partners=["Bogotá"])
        grant_id, application_id = decision.grant.id, decision.application_id
        reference = decision.application.reference
        assert envelope(call_id) == {"SDC": (700_000_00, 70_000_00, 0), "OSF": (100_000_00, 10_000_00, 0)}
    city = _client(make_client, "focal@saopaulo.example")
    url = f"/grants/{grant_id}"
    with app.app_context():
        before = state()

    # No reason: refused next to the field, what was typed kept, nothing changed.
    response = city.post(f"{url}/decline", {"reason": "   "}, token_from=url)
    assert response.status_code == 400
    assert field_error(page(response), "decline", "reason") == (
        "Tell the programme team why your city declines the grant."
    )
    with app.app_context():
        assert state() == before

    html = page(city.post(f"{url}/decline", {"reason": REASON}, token_from=url, follow_redirects=True))
    assert "Your city has declined the grant. The programme team has been told." in html
    assert 'id="grant-ended" data-state="declined"' in html and REASON in html
    assert f"{url}/decline" not in forms(html) and f"{url}/accept" not in forms(html)
    with app.app_context():
        grant = _grant(grant_id)
        assert (grant.state, grant.paid_cents, grant.returned_cents) == ("declined", 0, 80_000_00)
        assert grant.declined_reason == REASON and grant.ended_at is not None
        assert [(a.paid_cents, a.returned_cents) for a in grant.allocations] == [
            (0, a.amount_cents) for a in grant.allocations
        ]
        # Back on the lines it came from: both donors' lines hold nothing for it.
        assert envelope(call_id) == {"SDC": (700_000_00, 0, 0), "OSF": (100_000_00, 0, 0)}
        assert db.session.get(Application, application_id).state == "awarded"  # the decision stays
        mails = {
            m.to_email: m
            for m in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "grant_declined"))
        }
        assert set(mails) == {"staff@fund.example", "elodie.martin@fund.example"}
        assert mails["staff@fund.example"].subject == f"São Paulo declined its grant {reference}"
        assert REASON in mails["staff@fund.example"].body and f"/staff/calls/{call_id}/decisions" in (
            mails["staff@fund.example"].body
        )
        assert (
            db.session.scalar(sa.select(sa.func.count()).select_from(Notice).where(Notice.kind == "grant_declined"))
            == 2
        )

    home = page(staff.get("/"))
    assert f"São Paulo declined its grant {reference}: €80,000.00 is back in the envelope." in home
    # Read in French, the same notice is in French, the amount written the French way.
    with app.app_context():
        me = db.session.scalar(sa.select(User).where(User.email == "staff@fund.example"))
        accounts.update_profile(me, name=me.name, language="fr", timezone=me.timezone, actor=me)
    french = page(staff.get("/")).replace("\u202f", " ").replace("\xa0", " ")
    assert f"São Paulo a refusé sa subvention {reference}" in french and "80 000,00 €" in french
    with app.app_context():
        me = db.session.scalar(sa.select(User).where(User.email == "staff@fund.example"))
        accounts.update_profile(me, name=me.name, language="en", timezone=me.timezone, actor=me)
    board = page(staff.get(f"/staff/calls/{call_id}/decisions"))
    assert 'data-grant-state="declined"' in board and "Declined by the city" in board
    assert 'id="reserve-offer"' in board and "€80,000.00 returned" in board and REASON in board
    assert 'data-grant-state="declined"' in page(staff.get(f"/staff/applications/{application_id}"))
    city_application = page(city.get(f"/applications/{application_id}"))
    assert 'data-grant-state="declined"' in city_application and "Grant: Declined." in city_application

    # A second click: refused next to the field, nothing changed (no second return, no second mail).
    with app.app_context():
        before = state()
    response = city.post(f"{url}/decline", {"reason": REASON}, token_from=url)
    assert response.status_code == 400
    assert "This cannot be done while it is “Declined by the city”." in page(response)
    with app.app_context():
        assert state() == before


def test_only_the_lead_city_declines_and_only_once_the_letter_is_out(app, call_id, staff, make_client):
    with app.app_context():
        grant_id = f.awarded("Bogotá").grant.id
        unsent = f.awarded("Montréal", letter=False).grant.id
        f.focal_point("Quito")
    other = _client(make_client, "focal@quito.example")
    assert other.post(f"/grants/{grant_id}/decline", {"reason": REASON}, token_from="/").status_code == 404
    montreal = _client(make_client, "focal@montreal.example")
    with app.app_context():
        before = state()
    # The city does not know of a grant whose letter has not gone out.
    assert montreal.get(f"/grants/{unsent}").status_code == 404
    assert montreal.post(f"/grants/{unsent}/decline", {"reason": REASON}, token_from="/").status_code == 404
    response = staff.post(f"/grants/{grant_id}/decline", {"reason": REASON}, token_from=f"/grants/{grant_id}")
    assert response.status_code == 400 and "Only the lead city can decline its grant." in page(response)
    with app.app_context():
        assert state() == before
        with pytest.raises(Refused, match="The award letter has not been sent yet."):
            operations.decline_grant(_grant(unsent), actor=f.focal_point("Montréal"), reason=REASON)
        db.session.rollback()
        assert state() == before


def test_after_acceptance_the_city_cannot_decline_only_staff_cancel(app, call_id, staff, make_client):
    with app.app_context():
        grant_id = f.accepted("São Paulo").id
    city = _client(make_client, "focal@saopaulo.example")
    url = f"/grants/{grant_id}"
    with app.app_context():
        before = state()
    html = page(city.get(url))
    assert f"{url}/decline" not in forms(html) and f"/staff{url}/cancel" not in forms(html)
    response = city.post(f"{url}/decline", {"reason": REASON}, token_from=url)
    assert response.status_code == 400 and "This cannot be done while it is “Accepted”." in page(response)
    assert city.post(f"/staff{url}/cancel", {"reason": REASON}, token_from=url).status_code in (302, 403, 404)
    with app.app_context():
        assert state() == before
    # Staff cancel it: the 40% due on acceptance is no longer due, and the money goes back.
    assert f"/staff{url}/cancel" in forms(page(staff.get(url)))
    response = staff.post(f"/staff{url}/cancel", {"reason": ""}, token_from=url)
    assert response.status_code == 400 and field_error(page(response), "cancel", "reason") == "A reason is required."
    with app.app_context():
        assert state() == before
    html = page(staff.post(f"/staff{url}/cancel", {"reason": REASON}, token_from=url, follow_redirects=True))
    assert "The grant is cancelled" in html and 'data-status="ended"' in html
    with app.app_context():
        grant = _grant(grant_id)
        assert (grant.state, grant.returned_cents) == ("cancelled", 100_000_00)
        assert not any(t.is_due for t in grant.tranches) and _tranches_due() == []
        assert envelope(call_id) == {"SDC": (700_000_00, 0, 0), "OSF": (100_000_00, 0, 0)}
        # São Paulo's focal point is told, in their language, with the reason.
        (mail,) = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == "grant_cancelled")).all()
        assert mail.to_email == "focal@saopaulo.example" and REASON in mail.body


# -- close ---------------------------------------------------------------------------------------


def test_staff_close_a_grant_that_has_run_its_course_and_the_underspend_returns(app, call_id, staff, make_client):
    with app.app_context():
        grant = f.final_approved("Bogotá", partners=["Medellín"])
        grant_id, last = grant.id, grant.tranches[-1]
        assert (grant.paid_cents, last.amount_cents, last.is_due) == (80_000_00, 20_000_00, True)
        last_id = last.id
        today = grant.application.call_today().isoformat()
        assert [(g, p) for g, p in _tranches_due()] == [(grant_id, 3)]
    url = f"/grants/{grant_id}"
    # The city spent less: the last payment is EUR 12,500, not the EUR 20,000 of the tranche.
    staff.post(
        f"/staff{url}/payments",
        {"tranche": last_id, "amount": "12500", "paid_on": today, "reference": "TR-3 Bogotá"},
        token_from=url,
    )
    html = page(staff.get(url))
    assert "The final report is approved and the last payment made." in html
    assert "Closing returns the €7,500.00 not paid to the envelope." in html
    html = page(staff.post(f"/staff{url}/close", {"reason": ""}, token_from=url, follow_redirects=True))
    assert "The grant is closed" in html and 'id="grant-ended" data-state="closed"' in html
    assert 'data-status="ended"' in html  # the rest of the last tranche: not due, the grant is closed
    assert f"/staff{url}/payments" not in forms(html) and f"/staff{url}/close" not in forms(html)
    with app.app_context():
        grant = _grant(grant_id)
        assert (grant.state, grant.paid_cents, grant.returned_cents) == ("closed", 92_500_00, 7_500_00)
        assert grant.closed_reason is None and grant.ended_at is not None
        assert sum(a.returned_cents for a in grant.allocations) == 7_500_00
        assert all(a.paid_cents + a.returned_cents == a.amount_cents for a in grant.allocations)
        assert envelope(call_id) == {
            "SDC": (700_000_00, 80_937_50, 80_937_50),
            "OSF": (100_000_00, 11_562_50, 11_562_50),
        }
        assert _tranches_due() == []
        # The approved reports stay approved: closing ends only what was still due.
        assert sorted(r.state for r in grant.reports) == ["approved", "approved"]


def test_closing_early_needs_a_reason_and_ends_what_was_due(app, call_id, staff, make_client):
    with app.app_context():
        grant = f.paid_first_tranche("São Paulo")
        grant_id, reference = grant.id, grant.application.reference
        reports = [r.id for r in grant.reports]
    city = _client(make_client, "focal@saopaulo.example")
    url = f"/grants/{grant_id}"
    with app.app_context():
        before = state()
    html = page(staff.get(url))
    assert "closing now needs a reason" in html
    response = staff.post(f"/staff{url}/close", {"reason": ""}, token_from=url)
    assert response.status_code == 400
    assert field_error(page(response), "close", "reason") == (
        "The final report is not approved yet: give the reason for closing the grant now."
    )
    with app.app_context():
        assert state() == before
    assert city.post(f"/staff{url}/close", {"reason": "We stop here"}, token_from=url).status_code in (302, 403, 404)
    with app.app_context():
        assert state() == before

    reason = "The city merged the project into its district care system."
    html = page(staff.post(f"/staff{url}/close", {"reason": reason}, token_from=url, follow_redirects=True))
    assert "The grant is closed" in html and reason in html
    with app.app_context():
        grant = _grant(grant_id)
        assert (grant.state, grant.paid_cents, grant.returned_cents) == ("closed", 40_000_00, 60_000_00)
        assert envelope(call_id) == {"SDC": (700_000_00, 35_000_00, 35_000_00), "OSF": (100_000_00, 5_000_00, 5_000_00)}
        duties = [db.session.get(GrantReport, r) for r in reports]
        assert [r.state for r in duties] == ["cancelled", "cancelled"]
        assert not any(REPORT_WORKFLOW.has(r.state, "editable") for r in duties)
        # The reminders queued at acceptance find nothing to remind, and send nothing.
        mails = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
        assert [reporting.remind(r) for r in reports] == ["nothing to remind", "nothing to remind"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == mails
    # The city reads that nothing is due; writing the report is refused.
    html = page(city.get(url))
    assert html.count("No longer due") == 2 and 'data-status="ended"' in html
    response = city.post(
        f"/reports/{reports[0]}", {"progress": "Two care hubs are open."}, token_from=f"/reports/{reports[0]}"
    )
    assert response.status_code == 400 and "No report is written on a grant that is “Closed”." in page(response)
    staff_reports = page(staff.get("/staff/reports?state=due"))
    assert reference not in staff_reports


def test_a_cancelled_grant_has_nothing_due_and_refuses_a_payment(app, call_id, staff):
    with app.app_context():
        grant = f.interim_approved("Bogotá")
        grant_id, second = grant.id, grant.tranches[1].id
        today = grant.application.call_today().isoformat()
        assert _tranches_due() == [(grant_id, 2)]
        operations.cancel_grant(grant, actor=f.staff(), reason="La alcaldía suspendió el programa.")
        grant = _grant(grant_id)
        assert _tranches_due() == [] and [t.outstanding_cents for t in grant.tranches] == [0, 0, 0]
        assert sorted(r.state for r in grant.reports) == ["approved", "cancelled"]
        assert envelope(call_id) == {"SDC": (700_000_00, 35_000_00, 35_000_00), "OSF": (100_000_00, 5_000_00, 5_000_00)}
        before = state()
    url = f"/grants/{grant_id}"
    html = page(staff.get(url))
    assert f"/staff{url}/payments" not in forms(html) and "<strong>due</strong>" not in html
    response = staff.post(
        f"/staff{url}/payments",
        {"tranche": second, "amount": "40000", "paid_on": today, "reference": "TR-2"},
        token_from=url,
    )
    assert response.status_code == 400
    # The payment form is gone from a cancelled grant's page: the refusal is said on top.
    assert refusal(page(response)) == "No payment can be made on a grant that is “Cancelled”."
    with app.app_context():
        assert state() == before
    dashboard = page(staff.get("/dashboard"))
    section = dashboard[dashboard.index("Tranches due") :]
    assert url not in section


# -- races ---------------------------------------------------------------------------------------


def _race(app, *actions):
    """Run the actions at the same moment, each in its own thread and session: their outcomes."""
    barrier, outcomes = threading.Barrier(len(actions)), {}

    def run(name, action):
        with app.app_context():
            barrier.wait()
            try:
                action()
                outcomes[name] = "done"
            except Refused:
                db.session.rollback()
                outcomes[name] = "refused"
            except Exception as error:  # any other error is a failure of the test
                db.session.rollback()
                outcomes[name] = f"error: {error!r}"

    threads = [threading.Thread(target=run, args=(name, action)) for name, action in actions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_pay_and_cancel_at_the_same_moment_end_in_one_consistent_outcome(app, call_id):
    with app.app_context():
        grant = f.accepted("Bogotá")
        grant_id, first = grant.id, grant.tranches[0].id
        today = grant.application.call_today()

    def pay():
        grant = db.session.get(Grant, grant_id)
        operations.record_payment(
            grant,
            db.session.get(Tranche, first),
            actor=f.staff(),
            amount_cents=40_000_00,
            paid_on=today,
            reference="TR-1 Bogotá",
        )

    def cancel():
        operations.cancel_grant(db.session.get(Grant, grant_id), actor=f.staff(), reason="Project stopped.")

    outcomes = _race(app, ("pay", pay), ("cancel", cancel))
    assert outcomes["cancel"] == "done" and outcomes["pay"] in ("done", "refused"), outcomes
    with app.app_context():
        grant = _grant(grant_id)
        paid = 40_000_00 if outcomes["pay"] == "done" else 0
        assert (grant.state, grant.paid_cents, grant.returned_cents) == ("cancelled", paid, 100_000_00 - paid)
        lines = envelope(call_id)
        assert sum(v[1] for v in lines.values()) == paid == sum(v[2] for v in lines.values())


def test_decline_and_accept_at_the_same_moment_end_in_one(app, call_id):
    with app.app_context():
        decision = f.awarded("Bogotá")
        grant_id = decision.grant.id

    def accept():
        operations.accept_grant(_grant(grant_id), actor=f.focal_point("Bogotá"), bank_details="IBAN CO12 0001")

    def decline():
        operations.decline_grant(_grant(grant_id), actor=f.focal_point("Bogotá"), reason=REASON)

    outcomes = _race(app, ("accept", accept), ("decline", decline))
    assert sorted(outcomes.values()) == ["done", "refused"], outcomes
    with app.app_context():
        grant = _grant(grant_id)
        committed = sum(v[1] for v in envelope(call_id).values())
        if outcomes["accept"] == "done":
            assert (grant.state, committed, len(grant.reports)) == ("accepted", 100_000_00, 2)
        else:
            assert (grant.state, committed, grant.returned_cents) == ("declined", 0, 100_000_00)


def test_a_withdrawal_and_a_decision_at_the_same_moment_never_leave_a_withdrawn_award(app, call_id):
    with app.app_context():
        application_id = f.reviewed("Bogotá").id

    def withdraw():
        from fundapp.applications import operations as applications

        applications.withdraw(
            db.session.get(Application, application_id), actor=f.focal_point("Bogotá"), reason="Cambio de prioridades."
        )

    def award():
        operations.decide(
            db.session.get(Application, application_id), "award", actor=f.staff(), amount_cents=100_000_00
        )

    outcomes = _race(app, ("withdraw", withdraw), ("award", award))
    assert sorted(outcomes.values()) == ["done", "refused"], outcomes
    with app.app_context():
        db.session.expire_all()
        application = db.session.get(Application, application_id)
        committed = sum(v[1] for v in envelope(call_id).values())
        if outcomes["award"] == "done":
            assert (application.state, committed) == ("awarded", 100_000_00)
        else:
            assert (application.state, committed) == ("withdrawn", 0)


def test_the_database_refuses_an_ended_grant_that_keeps_money_or_has_no_end(app, call_id):
    """The CHECKs of migration 0013: a grant that ends has returned what it did not pay, has an end
    date, and a declined grant says why."""
    with app.app_context():
        grant_id = f.accepted("Bogotá").id
        before = state()
    updates = [
        "UPDATE grant_award SET state = 'cancelled', ended_at = now() WHERE id = :id",  # keeps the money
        "UPDATE grant_award SET state = 'declined', ended_at = now(), returned_cents = amount_cents WHERE id = :id",
        "UPDATE grant_award SET state = 'closed', returned_cents = amount_cents WHERE id = :id",  # no end date
        "UPDATE grant_award SET ended_at = now() WHERE id = :id",  # an end date on a live grant
        "UPDATE grant_award SET state = 'withdrawn' WHERE id = :id",
    ]
    for statement in updates:
        with app.app_context():
            with pytest.raises(sa.exc.IntegrityError):
                db.session.execute(sa.text(statement), {"id": grant_id})
            db.session.rollback()
    with app.app_context():
        assert state() == before


def test_a_declined_grant_and_a_reserve_built_by_the_factories_meet_on_the_board(app, call_id, staff):
    with app.app_context():
        grant = f.declined("Montréal", reason="Le conseil municipal a refusé la contrepartie.")
        quito = f.reserved("Quito")
        assert (grant.state, grant.returned_cents) == ("declined", 100_000_00)
        assert (quito.state, quito.city_state) == ("reserved", "reserved")
        reference = quito.reference
    html = page(staff.get(f"/staff/calls/{call_id}/decisions"))
    assert f'id="next-reserve" data-reference="{reference}"' in html
    assert "Le conseil municipal a refusé la contrepartie." in html


def test_a_grant_paid_in_full_offers_no_payment_form(app, call_id, staff):
    with app.app_context():
        grant = f.final_approved("Bogotá")
        f.s.pay_due(grant, f.staff())
        grant_id = grant.id
    html = page(staff.get(f"/grants/{grant_id}"))
    assert "Every tranche is paid: nothing is left to pay on this grant." in html
    assert f"/staff/grants/{grant_id}/payments" not in forms(html)
    # Nothing is left to return either: it is closed, not cancelled.
    assert f"/staff/grants/{grant_id}/cancel" not in forms(html) and f"/staff/grants/{grant_id}/close" in forms(html)


def test_a_grant_with_no_tranche_due_says_when_the_next_is(app, call_id, staff):
    with app.app_context():
        grant_id = f.paid_first_tranche("Bogotá").id
    html = page(staff.get(f"/grants/{grant_id}"))
    assert "No tranche is due now: the next is paid on approval of the interim report." in html
    assert f"/staff/grants/{grant_id}/payments" not in forms(html)
