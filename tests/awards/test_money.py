"""Money under pressure: racing awards, and any sequence of operations keeps the ledger exact."""

import threading

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Allocation, Grant
from fundapp.core.errors import Refused
from fundapp.extensions import db
from fundapp.funding.models import CallFunding

from .. import factories as f
from .conftest import awards_call_with, reviewed, staff_user

EIGHT_CITIES = ["Bogotá", "Medellín", "Montréal", "Dakar", "Abidjan", "São Paulo", "Quito", "Lisbon"]
PROPERTY_CITIES = ["Bogotá", "Dakar", "Montréal", "Seoul"]


def test_n_concurrent_awards_for_an_envelope_that_fits_k_exactly_k_succeed(app, fund, staff):
    """8 staff award 8 applications EUR 100,000 at once from an envelope of EUR 300,000."""
    call_id = awards_call_with(app, envelope={"SDC": 250_000_00, "OSF": 50_000_00})
    with app.app_context():
        ids = [reviewed(call_id, city) for city in EIGHT_CITIES]
    barrier = threading.Barrier(len(ids))
    outcomes = {}

    def award(application_id):
        with app.app_context():  # its own session and connection
            application = db.session.get(Application, application_id)
            actor = staff_user()
            barrier.wait()
            try:
                operations.decide(application, "award", actor=actor, amount_cents=100_000_00)
                outcomes[application_id] = "awarded"
            except Refused as refusal:
                db.session.rollback()
                outcomes[application_id] = str(refusal.message)

    threads = [threading.Thread(target=award, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert list(outcomes.values()).count("awarded") == 3, outcomes
    with app.app_context():
        lines = db.session.scalars(sa.select(CallFunding)).all()
        assert sum(line.committed_cents for line in lines) == 300_000_00
        assert all(line.committed_cents == line.amount_cents for line in lines)
        allocated = db.session.scalar(sa.select(sa.func.sum(Allocation.amount_cents)))
        assert allocated == 300_000_00 and db.session.scalar(sa.select(sa.func.count(Grant.id))) == 3


OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["award", "revise", "accept", "pay", "cancel"]), st.integers(0, 3), st.integers(1, 120_000_00)
    ),
    max_size=14,
)


def _check_ledger(call_id):
    """committed + remaining = envelope, for the call and for every contribution line, to the cent."""
    db.session.expire_all()
    lines = db.session.scalars(sa.select(CallFunding).where(CallFunding.call_id == call_id)).all()
    allocations = db.session.scalars(sa.select(Allocation)).all()
    for line in lines:
        mine = [a for a in allocations if a.call_funding_id == line.id]
        committed = sum(a.amount_cents - a.returned_cents for a in mine)
        paid = sum(a.paid_cents for a in mine)
        assert line.committed_cents == committed
        assert line.paid_cents == paid
        assert 0 <= line.paid_cents <= line.committed_cents <= line.amount_cents
        assert line.committed_cents + line.remaining_cents == line.amount_cents
    envelope = sum(line.amount_cents for line in lines)
    committed = sum(line.committed_cents for line in lines)
    assert committed + (envelope - committed) == envelope
    for grant in db.session.scalars(sa.select(Grant)):
        assert 0 <= grant.paid_cents + grant.returned_cents <= grant.amount_cents <= grant.cap_cents
        assert sum(a.amount_cents for a in grant.allocations) == grant.amount_cents
        assert sum(a.paid_cents for a in grant.allocations) == grant.paid_cents


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=OPERATIONS)
def test_any_sequence_of_awards_revisions_cancellations_and_payments_keeps_the_ledger_exact(app, awards_call, steps):
    with app.app_context():
        # Each example starts from an envelope with no decision on it: the decisions of the example
        # before are wiped in SQL (a reset between examples, not a state the test is about).
        for table in (
            "payment_share",
            "payment",
            "expenditure",
            "report_document",
            "grant_report",
            "tranche",
            "letter",
            "allocation",
            "grant_award",
            "decision",
        ):
            db.session.execute(sa.text(f"DELETE FROM {table}"))
        db.session.execute(sa.update(CallFunding).values(committed_cents=0, paid_cents=0))
        db.session.commit()
        ids = db.session.scalars(sa.select(Application.id).order_by(Application.id)).all()
        while len(ids) < 4:
            ids.append(reviewed(awards_call, PROPERTY_CITIES[len(ids)]))
        staff = staff_user()
        for action, index, cents in steps:
            application = db.session.get(Application, ids[index])
            decision = operations.current_decision(application)
            grant = decision.grant if decision is not None else None
            try:
                if action == "award" and decision is None:
                    operations.decide(
                        application, "award", actor=staff, amount_cents=min(cents, application.requested_cents)
                    )
                elif action == "revise" and decision is not None:
                    operations.revise(decision, actor=staff, reason="property test")
                elif action == "accept" and grant is not None:
                    f.s.send_letter(decision, staff)
                    operations.accept_grant(
                        grant, actor=f.focal_point(PROPERTY_CITIES[index]), bank_details="IBAN FR76 3000 6000 0112"
                    )
                elif action == "pay" and grant is not None:
                    tranche = next((t for t in grant.tranches if t.is_due), grant.tranches[0])
                    operations.record_payment(
                        grant,
                        tranche,
                        actor=staff,
                        amount_cents=cents % 50_000_00 + 1,
                        paid_on=grant.application.call_today(),
                        reference="P",
                    )
                elif action == "cancel" and grant is not None:
                    operations.cancel_grant(grant, actor=staff, reason="property test")
            except Refused:
                db.session.rollback()
            _check_ledger(awards_call)
