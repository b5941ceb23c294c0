"""Accounts and passwords (ASVS V6): an invitation never sets an existing account's password,
links die when a newer one is sent or the password changes, and passwords that are short,
common or built from the account's own words are refused next to the field."""

import pytest
import sqlalchemy as sa

from fundapp.accounts import operations
from fundapp.accounts.models import Invitation, PasswordReset, User
from fundapp.core.errors import Refused
from fundapp.extensions import db

from ..helpers import PASSWORD, make_member, make_user, text

pytestmark = pytest.mark.sqlite


def _hash(app, email):
    with app.app_context():
        return db.session.scalar(sa.select(User.password_hash).where(User.email == email))


def _invite(app, email, role="reviewer", name="Amina Diallo"):
    with app.test_request_context():
        staff = db.session.scalar(sa.select(User).where(User.email == "coordination@fund.example"))
        _invitation, token = operations.invite(actor=staff, email=email, name=name, role=role, language="fr")
    return f"/invitation/{token}"


@pytest.fixture
def staff(app):
    with app.app_context():
        make_user("coordination@fund.example", "staff", name="Núria Camps")


def test_an_invitation_to_an_existing_account_adds_the_role_and_never_touches_the_password(app, make_client, staff):
    with app.app_context():
        make_user("amina.diallo@dakar.example", "applicant", member=make_member("Dakar", "SN", "africa"), language="fr")
    before = _hash(app, "amina.diallo@dakar.example")
    path = _invite(app, "amina.diallo@dakar.example")

    stranger = make_client()  # whoever holds the link, without the account's password
    page = stranger.get(path)
    assert page.status_code == 200 and "Sign in" in text(page) and 'name="password"' not in text(page)
    response = stranger.post(
        path, {"name": "Pirate", "password": "a brand new password", "confirm": "a brand new password"}, token_from=path
    )
    assert response.status_code == 200
    assert _hash(app, "amina.diallo@dakar.example") == before
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.accepted_at)) is None

    owner = make_client()
    response = owner.post(
        f"/login?next={path}", {"email": "amina.diallo@dakar.example", "password": PASSWORD}, token_from="/login"
    )
    assert response.headers["Location"] == path
    response = owner.post(path, {}, token_from=path)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "amina.diallo@dakar.example"))
        assert user.role_names() == {"applicant", "reviewer"} and user.password_hash == before
    make_client().login("amina.diallo@dakar.example")  # the same password as before


def test_the_operation_refuses_to_set_a_password_through_an_invitation(app, staff):
    with app.app_context():
        make_user("amina.diallo@dakar.example", "applicant", member=make_member("Dakar", "SN", "africa"))
    before = _hash(app, "amina.diallo@dakar.example")
    token = _invite(app, "amina.diallo@dakar.example").rsplit("/", 1)[1]
    with app.test_request_context(), pytest.raises(Refused):
        operations.accept_invitation(token, name="Amina", password="a brand new password")
    assert _hash(app, "amina.diallo@dakar.example") == before


def test_signed_in_as_someone_else_the_invitation_is_not_taken(app, make_client, staff):
    with app.app_context():
        make_user("amina.diallo@dakar.example", "applicant", member=make_member("Dakar", "SN", "africa"))
    path = _invite(app, "amina.diallo@dakar.example")
    other = make_client()
    other.login("coordination@fund.example")
    other.post(path, {}, token_from=path)
    with app.app_context():
        assert db.session.scalar(sa.select(Invitation.accepted_at)) is None
        assert (
            "reviewer"
            not in db.session.scalar(sa.select(User).where(User.email == "coordination@fund.example")).role_names()
        )


def test_a_newer_invitation_replaces_the_older_link(app, make_client, staff):
    first = _invite(app, "experta@quito.example", name="Gabriela Andrade")
    second = _invite(app, "experta@quito.example", name="Gabriela Andrade")
    old = make_client().get(first)
    assert old.status_code == 410 and 'data-problem="replaced"' in text(old)
    assert make_client().get(second).status_code == 200


def _reset(app, email):
    with app.test_request_context():
        return "/reset-password/" + operations.request_password_reset(email)


def test_an_older_reset_link_dies_when_a_newer_one_is_sent(app, make_client):
    with app.app_context():
        make_user("focal@bogota.example", "applicant", member=make_member("Bogotá", "CO", "latin_america_caribbean"))
    older, newer = _reset(app, "focal@bogota.example"), _reset(app, "focal@bogota.example")
    response = make_client().post(
        older, {"password": "tinto y arepas al alba", "confirm": "tinto y arepas al alba"}, token_from="/login"
    )
    assert response.status_code == 410 and 'data-problem="replaced"' in text(response)
    make_client().login("focal@bogota.example")  # unchanged
    assert make_client().get(newer).status_code == 200


def test_every_open_reset_link_dies_when_the_password_is_reset_or_changed(app, make_client):
    with app.app_context():
        make_user("focal@bogota.example", "applicant", member=make_member("Bogotá", "CO", "latin_america_caribbean"))
    link = _reset(app, "focal@bogota.example")
    second = _reset(app, "focal@bogota.example")
    client = make_client()
    assert (
        client.post(
            second, {"password": "tinto y arepas al alba", "confirm": "tinto y arepas al alba"}, token_from="/login"
        ).status_code
        == 302
    )
    assert 'data-problem="replaced"' in text(make_client().get(link))

    third = _reset(app, "focal@bogota.example")
    client.login("focal@bogota.example", "tinto y arepas al alba")
    response = client.post(
        "/account/password",
        {
            "password-current_password": "tinto y arepas al alba",
            "password-new_password": "empanadas bajo la lluvia",
            "password-confirm": "empanadas bajo la lluvia",
        },
        token_from="/account",
    )
    assert response.status_code == 302
    assert 'data-problem="replaced"' in text(make_client().get(third))


@pytest.mark.parametrize(
    "password, reason",
    [
        ("short pass", "Use at least 12 characters."),
        ("password1234", "one of the most used"),
        ("1234567890!!", "one of the most used"),
        ("qwertyuiop12", "one of the most used"),
        ("iloveyou2020!!", "one of the most used"),
        ("aaaaaaaaaaaaaaaa", "one of the most used"),
        ("metropolis2025", "built from your name"),
        ("Fundapp-2026-!!", "built from your name"),
        ("LuisaFernandaBogota1", "built from your name"),
        ("luisa.fernanda@bogota", "built from your name"),
    ],
)
def test_a_weak_password_is_refused_next_to_the_field_and_nothing_changes(app, client, password, reason):
    with app.app_context():
        make_user(
            "luisa.fernanda@bogota.example",
            "applicant",
            member=make_member("Bogotá", "CO", "latin_america_caribbean"),
            name="Luisa Fernanda Ruiz",
        )
    before = _hash(app, "luisa.fernanda@bogota.example")
    path = _reset(app, "luisa.fernanda@bogota.example")
    response = client.post(path, {"password": password, "confirm": password}, token_from=path)
    assert response.status_code == 200 and reason in text(response)
    assert _hash(app, "luisa.fernanda@bogota.example") == before
    with app.app_context():
        assert db.session.scalar(sa.select(PasswordReset.used_at)) is None


@pytest.mark.parametrize("password", ["tinto y arepas al alba", "Mi ciudad cuida 24/7", "correct horse battery"])
def test_a_long_uncommon_password_is_accepted(app, password):
    with app.test_request_context():
        assert operations.passwords.problem(password, context=("Luisa Fernanda Ruiz", "luisa@bogota.example")) is None
