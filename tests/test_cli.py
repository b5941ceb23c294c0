"""`flask fund demo` and `flask users create`."""

import pytest
import sqlalchemy as sa

from fundapp.accounts.models import User
from fundapp.extensions import db
from fundapp.funding.models import Contribution, Donor
from fundapp.members.models import Member

from .helpers import count

pytestmark = pytest.mark.sqlite


def test_the_demo_loads_members_donors_and_one_user_per_role_and_is_idempotent(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["fund", "demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["fund", "demo"])
    assert second.exit_code == 0, second.output
    assert "password: demo-admin-pass" in second.output
    with app.app_context():
        assert count(Member) == 160
        assert {d.short_name: d.total_eur_cents for d in db.session.scalars(sa.select(Donor))} == {
            "SDC": 700_000_00,
            "OSF": 100_000_00,
        }
        assert count(Contribution) == 2
        roles = {u.email: u.role_names() for u in db.session.scalars(sa.select(User))}
        assert roles["city@fundapp.test"] == {"applicant"}
        assert roles["admin@fundapp.test"] == {"admin", "staff"}
        assert roles["donor@fundapp.test"] == {"donor"}
        assert roles["partner@fundapp.test"] == {"applicant"}
        assert roles["reviewer2@fundapp.test"] == {"reviewer"}


def test_the_demo_fund_has_lived_a_whole_window_and_has_an_open_call(app):
    """The past window ran to its end through the operations; the open call is under way."""
    from fundapp.applications.models import Application
    from fundapp.awards.models import Grant
    from fundapp.calls.models import Call
    from fundapp.core.timeutil import utcnow
    from fundapp.reporting.models import DonorReport, GrantReport
    from fundapp.reviews.models import CriterionScore

    runner = app.test_cli_runner()
    assert runner.invoke(args=["fund", "demo"]).exit_code == 0
    with app.app_context():
        calls = db.session.scalars(sa.select(Call).order_by(Call.opens_at)).all()
        past, current = calls
        assert past.closes_at < utcnow() and not past.accepts_submissions() and past.published_at < past.opens_at
        assert current.accepts_submissions()
        applications = db.session.scalars(sa.select(Application).where(Application.call_id == past.id)).all()
        assert len(applications) == 8
        assert {a.language for a in applications} == {"en", "fr", "es"}
        assert all(a.dimensions and a.budget_lines and a.documents for a in applications)
        assert any(a.partners for a in applications)
        assert any(len(a.submissions) == 2 for a in applications)  # "more information" answered
        assert any(a.ineligible_reason for a in applications) and any(a.withdrawn_reason for a in applications)
        assert db.session.scalar(sa.select(sa.func.count()).where(CriterionScore.cannot_judge.is_(True))) >= 1
        every_grant = db.session.scalars(sa.select(Grant)).all()
        # Montréal declined the grant it was offered; São Paulo was then awarded from the reserve list.
        (declined,) = [g for g in every_grant if g.state == "declined"]
        assert declined.application.member.name == "Montréal" and declined.ended_at
        assert declined.returned_cents == declined.amount_cents > 0 and declined.committed_cents == 0
        grants = [g for g in every_grant if g is not declined]
        assert len(grants) == 3 and all(g.accepted_at and g.paid_cents > 0 for g in grants)
        assert {g.application.member.name for g in grants} == {"Bogotá", "Dakar", "São Paulo"}
        # Every instant of the past window lies in the past, in the order the fund lives it.
        for grant in grants:
            assert past.closes_at < grant.decision.decided_at < grant.accepted_at < utcnow()
        assert any(t.is_due for g in grants for t in g.tranches[1:])  # an interim approved: tranche 2 due
        assert db.session.scalar(sa.select(sa.func.count()).where(GrantReport.approved_at.is_not(None))) >= 1
        reports = db.session.scalars(sa.select(DonorReport)).all()
        assert {r.donor.short_name for r in reports} == {"SDC", "OSF"} and all(r.status == "done" for r in reports)
        # Each donor report counts the past call by gender (issue 16): the project leads of its
        # applications, its jury, and the people its grants reached.
        sent = [a for a in applications if a.first_submitted_at is not None]
        leads = {
            g: sum(1 for a in sent if (a.lead_gender or "not_given") == g) for g in ("woman", "man", "undisclosed")
        }
        assert leads["woman"] >= 2 and leads["man"] >= 1  # the demo's leads are people of both genders
        reached = []
        for report in reports:
            (row,) = [r for r in report.figures["by_gender"] if r["call"] == past.code]
            assert {g: row["leads"][g] for g in leads} == leads
            assert row["jury"]["woman"] >= 2 and row["jury"]["man"] >= 2  # a balanced jury
            assert row["reached"] == report.figures["reached"]
            reached.append(sum(row["reached"].values()))
        assert any(reached)  # an interim report was approved: people reached are counted
        # Part of each contribution is left for a new call.
        for contribution in db.session.scalars(sa.select(Contribution)):
            allocated = sum(
                line.amount_cents for c in calls for line in c.funding if line.contribution_id == contribution.id
            )
            assert 0 < allocated < contribution.eur_cents
        committed = sum(line.committed_cents for line in past.funding)
        assert committed == sum(g.amount_cents for g in grants)
        assert sum(line.paid_cents for line in past.funding) == sum(g.paid_cents for g in grants)
        counts = (len(calls), db.session.scalar(sa.select(sa.func.count(Application.id))))
    assert runner.invoke(args=["fund", "demo"]).exit_code == 0
    with app.app_context():
        again = (count(Call), db.session.scalar(sa.select(sa.func.count(Application.id))))
    assert again == counts


def test_the_demo_is_refused_in_production(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code != 0 and "never loaded in production" in result.output


def test_users_create_makes_the_first_admin_and_prompts_for_the_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create", "--email", "Boss@Metropolis.example", "--role", "admin"],
        input="a long admin password\na long admin password\n",
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "boss@metropolis.example"))
        assert user.check_password("a long admin password") and user.has_role("staff")


def test_users_create_refuses_a_duplicate_and_an_applicant_without_member(app):
    runner = app.test_cli_runner()
    ok = runner.invoke(
        args=["users", "create", "--email", "a@x.example", "--role", "staff", "--password", "long enough pass"]
    )
    assert ok.exit_code == 0
    dup = runner.invoke(
        args=["users", "create", "--email", "A@x.example", "--role", "staff", "--password", "long enough pass"]
    )
    assert dup.exit_code != 0 and "already exists" in dup.output
    no_member = runner.invoke(
        args=["users", "create", "--email", "b@x.example", "--role", "applicant", "--password", "long enough pass"]
    )
    assert no_member.exit_code != 0 and "member city" in no_member.output
