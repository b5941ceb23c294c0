"""Command line: `flask fund demo` and `flask users create`."""

from datetime import date

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from .accounts import operations as accounts
from .core.errors import Refused
from .core.permissions import ROLES
from .core.timeutil import utcnow
from .extensions import db
from .funding import operations as funding
from .funding.models import Donor
from .members import operations as members
from .members.models import Member

fund_cli = AppGroup("fund", help="The fund's data.")
users_cli = AppGroup("users", help="User accounts.")

DONORS = [
    dict(
        name="Swiss Agency for Development and Cooperation",
        short_name="SDC",
        reporting_language="fr",
        amount_cents=700_000_00,
        pledged_on=date(2024, 11, 1),
    ),
    dict(
        name="Open Society Foundations",
        short_name="OSF",
        reporting_language="en",
        amount_cents=100_000_00,
        pledged_on=date(2024, 11, 1),
    ),
]

# One account per role; the passwords are printed and only ever set outside production.
DEMO_USERS = [
    dict(email="admin@fundapp.test", name="Ada Admin", roles=["admin"], password="demo-admin-pass"),
    dict(email="staff@fundapp.test", name="Sofía Staff", roles=["staff"], password="demo-staff-pass"),
    dict(
        email="city@fundapp.test",
        name="Camila Focal",
        roles=["applicant"],
        member="Bogotá",
        password="demo-city-pass",
        language="es",
    ),
    dict(email="reviewer@fundapp.test", name="Rania Reviewer", roles=["reviewer"], password="demo-reviewer-pass"),
    dict(
        email="donor@fundapp.test",
        name="Daniel Donor",
        roles=["donor"],
        donor="SDC",
        password="demo-donor-pass",
        language="fr",
    ),
]


def _member(name):
    member = db.session.scalar(sa.select(Member).where(Member.name == name))
    if member is None:
        raise click.ClickException(f"No member named {name!r}.")
    return member


def _donor(short_name):
    donor = db.session.scalar(sa.select(Donor).where(Donor.short_name == short_name))
    if donor is None:
        raise click.ClickException(f"No donor with short name {short_name!r}.")
    return donor


@fund_cli.command("demo")
@click.option("--without-call", is_flag=True, help="Leave the Local Care Systems call out (to create it by hand).")
def demo_command(without_call):
    """Load the demo fund (idempotent): members, donors, one user per role, the published call."""
    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("The demo data is never loaded in production.")
    created, updated = members.import_bundled_members()
    click.echo(f"Members: {created} created, {updated} updated from the 2024 member list.")
    year = utcnow().year
    if members.record_dues_where_missing(year):
        click.echo(f"Members without dues on record are taken as paid through {year}.")
    for spec in DONORS:
        donor = db.session.scalar(sa.select(Donor).where(Donor.short_name == spec["short_name"]))
        if donor is None:
            donor = funding.create_donor(
                actor=None,
                name=spec["name"],
                short_name=spec["short_name"],
                reporting_language=spec["reporting_language"],
            )
            funding.add_contribution(
                donor,
                actor=None,
                amount_original_cents=spec["amount_cents"],
                pledged_on=spec["pledged_on"],
                received_on=spec["pledged_on"],
            )
        click.echo(f"Donor {donor.short_name}: {donor.name}.")
    click.echo("\nDemo accounts (sign in at /login):")
    for spec in DEMO_USERS:
        roles = [
            (r, _member(spec["member"]) if r == "applicant" else None, _donor(spec["donor"]) if r == "donor" else None)
            for r in spec["roles"]
        ]
        user = accounts.find_user_by_email(spec["email"])
        if user is None:
            user = accounts.create_user(
                email=spec["email"],
                name=spec["name"],
                roles=roles,
                password=spec["password"],
                language=spec.get("language", "en"),
            )
        else:
            accounts.set_demo_password(user, spec["password"])
        click.echo(f"  {', '.join(spec['roles']):<10} {spec['email']:<24} password: {spec['password']}")
    if not without_call:
        call = _demo_call()
        click.echo(
            f"\nCall {call.code} ({call.staff_label}), open until {call.closes_at.isoformat()}: /calls/{call.code}"
        )


def _demo_call():
    from .calls import demo
    from .calls import operations as calls
    from .calls.models import Call
    from .funding.models import Contribution

    call = db.session.scalar(sa.select(Call).where(Call.code == demo.CODE))
    if call is not None:
        return call
    admin = accounts.find_user_by_email("admin@fundapp.test")
    funding = {c.id: c.eur_cents for c in db.session.scalars(sa.select(Contribution))}
    call = calls.save_call(None, actor=admin, values=demo.call_values(), funding=funding)
    for name, weight in demo.CRITERIA:
        calls.save_criterion(call, None, actor=admin, values=demo.criterion_values(name, weight))
    return calls.publish_call(call, actor=admin)


@users_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", default=None, help="Defaults to the part of the e-mail before @.")
@click.option(
    "--role", "roles", multiple=True, required=True, type=click.Choice(ROLES), help="Repeat for several roles."
)
@click.option("--member", default=None, help="Member city name, for the applicant role.")
@click.option("--donor", default=None, help="Donor short name, for the donor role.")
@click.option("--language", default="en", type=click.Choice(["en", "fr", "es"]))
@click.option("--password", default=None, help="Prompted for when not given.")
def create_user_command(email, name, roles, member, donor, language, password):
    """Create a user, e.g. the first admin."""
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    member_obj = _member(member) if member else None
    donor_obj = _donor(donor) if donor else None
    try:
        user = accounts.create_user(
            email=email,
            name=name or email.split("@")[0],
            language=language,
            password=password,
            roles=[(r, member_obj if r == "applicant" else None, donor_obj if r == "donor" else None) for r in roles],
        )
    except Refused as refusal:
        db.session.rollback()
        raise click.ClickException(str(refusal.message)) from None
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(user.role_names()))}.")
