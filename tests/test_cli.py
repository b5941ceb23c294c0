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
        assert len(roles) == 5


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
