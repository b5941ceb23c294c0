"""Double clicks and two staff at once: one cancellation, one payment, one decision."""

import threading

import sqlalchemy as sa

from fundapp.accounts import operations as accounts
from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Grant, Letter, Tranche
from fundapp.core.errors import Refused
from fundapp.extensions import db

from .. import factories as f
from ..helpers import run_jobs
from ..reviews.conftest import user_by_email
from .conftest import ledger, reviewed, staff_user


def _race(app, action, times=2):
    barrier, outcomes = threading.Barrier(times), []

    def run():
        with app.app_context():
            barrier.wait()
            try:
                action()
                outcomes.append("done")
            except Refused:
                db.session.rollback()
                outcomes.append("refused")

    threads = [threading.Thread(target=run) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return sorted(outcomes)


def _accepted(app, awards_call):
    with app.app_context():
        application_id = reviewed(awards_call, "Bogotá", focal="focal@bogota.example")
        decision = operations.decide(
            db.session.get(Application, application_id), "award", actor=staff_user(), amount_cents=100_000_00
        )
        f.s.send_letter(decision, staff_user())
        operations.accept_grant(decision.grant, actor=user_by_email("focal@bogota.example"), bank_details="IBAN")
        return decision.grant.id


def test_two_cancellations_at_once_return_the_money_once(app, awards_call):
    grant_id = _accepted(app, awards_call)

    def cancel():
        operations.cancel_grant(db.session.get(Grant, grant_id), actor=staff_user(), reason="Stopped")

    assert _race(app, cancel) == ["done", "refused"]
    with app.app_context():
        assert ledger(awards_call) == {"SDC": (700_000_00, 0, 0), "OSF": (100_000_00, 0, 0)}
        assert db.session.get(Grant, grant_id).returned_cents == 100_000_00


def test_two_payments_of_the_same_tranche_at_once_pay_it_once(app, awards_call):
    grant_id = _accepted(app, awards_call)

    def pay():
        grant = db.session.get(Grant, grant_id)
        tranche = db.session.scalar(sa.select(Tranche).where(Tranche.grant_id == grant_id, Tranche.position == 1))
        operations.record_payment(
            grant,
            tranche,
            actor=staff_user(),
            amount_cents=40_000_00,
            paid_on=grant.application.call_today(),
            reference="TR-1",
        )

    assert _race(app, pay) == ["done", "refused"]
    with app.app_context():
        grant = db.session.get(Grant, grant_id)
        assert grant.paid_cents == 40_000_00 == grant.tranches[0].paid_cents
        assert sum(a.paid_cents for a in grant.allocations) == 40_000_00
        assert sum(v[2] for v in ledger(awards_call).values()) == 40_000_00


def test_two_decisions_on_one_application_at_once_make_one(app, awards_call):
    with app.app_context():
        application_id = reviewed(awards_call, "Bogotá")

    def award():
        operations.decide(
            db.session.get(Application, application_id), "award", actor=staff_user(), amount_cents=100_000_00
        )

    assert _race(app, award) == ["done", "refused"]
    with app.app_context():
        assert sum(v[1] for v in ledger(awards_call).values()) == 100_000_00


def test_a_letter_with_nobody_to_send_to_fails_visibly_and_can_be_sent_again(app, awards_call, smtp_server):
    with app.app_context():
        application_id = reviewed(awards_call, "Quito", focal="andrea.paredes@quito.example")
        # The focal point who wrote the application has left the city: nobody holds its role any more.
        accounts.set_roles(f.focal_point("Quito", "andrea.paredes@quito.example"), [], actor=staff_user())
        decision = operations.decide(db.session.get(Application, application_id), "reserve", actor=staff_user())
        letter_id = operations.send_letter(decision, actor=staff_user()).id
    run_jobs(app)
    with app.app_context():
        assert db.session.get(Letter, letter_id).status == "failed"
        application = db.session.get(Application, application_id)
        f.focal_point("Quito", "focal@quito.example", name="Diego Andrade")  # the new focal point
        operations.send_letter(operations.current_decision(application), actor=staff_user())
    run_jobs(app)
    with app.app_context():
        assert db.session.get(Letter, letter_id).status == "sent"
    assert [e.rcpt_tos for e in smtp_server.messages if e.rcpt_tos == ["focal@quito.example"]] == [
        ["focal@quito.example"]
    ]
