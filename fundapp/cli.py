"""Command line: `flask fund demo` and `flask users create`."""

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from .accounts import operations as accounts
from .core.errors import Refused
from .core.permissions import ROLES
from .core.transactions import boundary
from .extensions import db
from .funding.models import Donor
from .members.models import Member

fund_cli = AppGroup("fund", help="The fund's data.")
users_cli = AppGroup("users", help="User accounts.")


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
@click.option("--without-calls", is_flag=True, help="Only members, donors and accounts (to create calls by hand).")
def demo_command(without_calls):
    """Load the demo fund (idempotent): a past window run to its end, the open call, one user per role."""
    from . import demo

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("The demo data is never loaded in production.")
    try:
        demo.build(with_calls=not without_calls, echo=click.echo)
    except Refused as refusal:
        db.session.rollback()
        raise click.ClickException(f"The demo fund could not be built: {refusal.message}") from None
    click.echo("\nDemo accounts (sign in at /login):")
    for spec in demo.DEMO_USERS:
        click.echo(f"  {', '.join(spec['roles']):<10} {spec['email']:<26} password: {spec['password']}")


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
        with boundary():  # the command commits once, at its end
            user = accounts.create_user(
                email=email,
                name=name or email.split("@")[0],
                language=language,
                password=password,
                roles=[
                    (r, member_obj if r == "applicant" else None, donor_obj if r == "donor" else None) for r in roles
                ],
            )
    except Refused as refusal:
        raise click.ClickException(str(refusal.message)) from None
    click.echo(f"Created {user.email} with roles: {', '.join(sorted(user.role_names()))}.")
