from datetime import date

import pytest
import sqlalchemy as sa

from fundapp.applications.models import Application, BudgetLine
from fundapp.awards import operations as awards
from fundapp.calls.models import Call
from fundapp.extensions import db
from fundapp.members.models import Member

from ..awards.conftest import score_all
from ..reviews.conftest import eligible_application, user_by_email


@pytest.fixture
def funded(app):
    """The demo fund after two awards of EUR 100,000 (Bogotá and Montréal), both accepted, and
    the first tranche of each paid."""
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        ids = []
        for name in ("Bogotá", "Montréal"):
            member = db.session.scalar(sa.select(Member).where(Member.name == name))
            application = eligible_application(call.id, member)
            application.requested_cents = 100_000_00
            application.dimensions = ["recognise", "redistribute"] if name == "Bogotá" else ["reward"]
            application.budget_lines = [
                BudgetLine(
                    position=1,
                    category="personnel",
                    description="Coordinators",
                    requested_cents=60_000_00,
                    cofunding_cents=10_000_00,
                ),
                BudgetLine(
                    position=2,
                    category="equipment",
                    description="Furniture",
                    requested_cents=40_000_00,
                    cofunding_cents=5_000_00,
                ),
            ]
            application.state = "reviewed"
            ids.append(application.id)
        db.session.commit()
        call_id = call.id
    if True:
        from fundapp.accounts.operations import create_user

        with app.app_context():
            montreal = db.session.scalar(sa.select(Member).where(Member.name == "Montréal"))
            create_user(
                email="focal@montreal.example",
                name="Focal Montréal",
                password="correct horse battery",
                roles=[("applicant", montreal, None)],
            )
    score_all(app, call_id, ids, [[5] * 5, [4] * 5], staff_email="staff@fundapp.test")
    grants = []
    with app.app_context():
        staff = user_by_email("staff@fundapp.test")
        for application_id, focal in zip(ids, ("city@fundapp.test", "focal@montreal.example")):
            decision = awards.decide(
                db.session.get(Application, application_id), "award", actor=staff, amount_cents=100_000_00
            )
            awards.send_letter(decision, actor=staff)
            grant = decision.grant
            awards.accept_grant(grant, actor=user_by_email(focal), bank_details="IBAN")
            awards.record_payment(
                grant,
                grant.tranches[0],
                actor=staff,
                amount_cents=40_000_00,
                paid_on=date(2026, 11, 20),
                reference=f"TR-{grant.id}-1",
            )
            grants.append(grant.id)
    return grants
