"""Invitations and password resets: e-mailed links that work once, until they expire."""

import email
import re
from datetime import timedelta
from email import policy

import pytest
import sqlalchemy as sa

from fundapp.accounts.models import Invitation, PasswordReset, User
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db

from ..helpers import PASSWORD, count, make_member, make_user, run_jobs, text

LINK_RE = re.compile(r"http://fundapp\.test(/\S+)")


def _link(smtp_server, to):
    for envelope in smtp_server.messages:
        if to in envelope.rcpt_tos:
            body = email.message_from_bytes(envelope.content, policy=policy.default).get_content()
            return LINK_RE.search(body).group(1)
    raise AssertionError(f"no mail to {to}")


def test_staff_invite_a_focal_point_who_sets_a_password_and_lands_home(app, make_client, smtp_server):
    with app.app_context():
        member_id = make_member("Bogotá", "CO", "latin_america_caribbean").id
        make_user("staff@fund.example", "staff")
    staff = make_client()
    staff.login("staff@fund.example")
    response = staff.post(
        "/users/invite",
        {
            "name": "Camila",
            "email": "Camila@Bogota.example",
            "role": "applicant",
            "member": member_id,
            "donor": 0,
            "language": "es",
        },
        token_from="/users/invite",
    )
    assert response.status_code == 302
    run_jobs(app)
    path = _link(smtp_server, "camila@bogota.example")
    subject = email.message_from_bytes(smtp_server.messages[0].content, policy=policy.default)["Subject"]
    assert "Fondo Internacional para las Metrópolis" in subject

    invitee = make_client()
    page = invitee.get(path)
    assert page.status_code == 200 and "Bogotá" in text(page)
    # In the language the invitation was sent in, whatever the browser asks for.
    assert '<html lang="es">' in text(page)
    response = invitee.post(path, {"name": "Camila Rojas", "password": PASSWORD, "confirm": PASSWORD}, token_from=path)
    assert response.status_code == 302
    home = text(invitee.get("/"))
    assert "Bogotá" in home
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "camila@bogota.example"))
        assert user.name == "Camila Rojas" and user.language == "es" and user.member_ids() == [member_id]
        # Her clock is her city's, not Barcelona's: deadlines reach her in Bogotá time.
        assert user.timezone == "America/Bogota"
        # Accepting signed her in: the users page says when she last did.
        assert user.last_login_at is not None

    # The link works once.
    again = make_client().get(path)
    assert again.status_code == 410 and 'data-problem="used"' in text(again)


def test_an_expired_invitation_shows_a_clear_page_and_creates_nothing(app, make_client, smtp_server):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    staff = make_client()
    staff.login("staff@fund.example")
    staff.post(
        "/users/invite",
        {"name": "Rev", "email": "rev@x.example", "role": "reviewer", "member": 0, "donor": 0, "language": "en"},
        token_from="/users/invite",
    )
    run_jobs(app)
    path = _link(smtp_server, "rev@x.example")
    with app.app_context():
        db.session.execute(sa.update(Invitation).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    invitee = make_client()
    page = invitee.get(path)
    assert page.status_code == 410 and 'data-problem="expired"' in text(page)
    response = invitee.post(path, {"name": "Rev", "password": PASSWORD, "confirm": PASSWORD}, token_from="/login")
    assert response.status_code == 410
    with app.app_context():
        assert count(User, User.email == "rev@x.example") == 0


def test_a_bad_or_forged_link_is_a_clear_page(app, client):
    response = client.get("/invitation/not-a-real-token")
    assert response.status_code == 410 and "Nothing was changed" in text(response)
    assert client.get("/reset-password/forged").status_code == 410


def test_staff_cannot_invite_staff_but_admins_can(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
        make_user("admin@fund.example", "admin")
    staff = make_client()
    staff.login("staff@fund.example")
    response = staff.post(
        "/users/invite",
        {"name": "X", "email": "x@fund.example", "role": "staff", "member": 0, "donor": 0, "language": "en"},
        token_from="/users/invite",
    )
    assert response.status_code == 200 and "Not a valid choice" in text(response)
    admin = make_client()
    admin.login("admin@fund.example")
    response = admin.post(
        "/users/invite",
        {"name": "X", "email": "x@fund.example", "role": "staff", "member": 0, "donor": 0, "language": "en"},
        token_from="/users/invite",
    )
    assert response.status_code == 302


@pytest.mark.sqlite
def test_a_focal_point_invitation_needs_a_member_city(app, client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    client.login("staff@fund.example")
    response = client.post(
        "/users/invite",
        {"name": "X", "email": "x@city.example", "role": "applicant", "member": 0, "donor": 0, "language": "en"},
        token_from="/users/invite",
    )
    assert "Choose the member city" in text(response)
    assert 'value="x@city.example"' in text(response)  # input kept
    with app.app_context():
        assert count(Invitation) == 0


@pytest.mark.sqlite
def test_applicants_cannot_invite(app, client):
    with app.app_context():
        make_user("focal@x.example", "applicant", member=make_member())
    client.login("focal@x.example")
    assert client.get("/users/invite").status_code == 403


def test_password_reset_by_email_is_single_use(app, make_client, smtp_server):
    with app.app_context():
        make_user("focal@x.example", "applicant", member=make_member())
    anonymous = make_client()
    response = anonymous.post("/forgot-password", {"email": "focal@x.example"}, token_from="/forgot-password")
    assert "Check your e-mail" in text(response)
    run_jobs(app)
    path = _link(smtp_server, "focal@x.example")
    response = anonymous.post(
        path, {"password": "my new long password", "confirm": "my new long password"}, token_from=path
    )
    assert response.status_code == 302
    make_client().login("focal@x.example", "my new long password")
    reused = make_client().post(
        path, {"password": "another password!", "confirm": "another password!"}, token_from="/login"
    )
    assert reused.status_code == 410 and 'data-problem="used"' in text(reused)
    make_client().login("focal@x.example", "my new long password")


def test_reset_for_an_unknown_address_says_the_same_and_sends_nothing(app, client, smtp_server):
    response = client.post("/forgot-password", {"email": "nobody@x.example"}, token_from="/forgot-password")
    assert "Check your e-mail" in text(response)
    run_jobs(app)
    assert smtp_server.messages == []


def test_an_expired_reset_link_changes_nothing(app, make_client, smtp_server):
    with app.app_context():
        make_user("focal@x.example", "applicant", member=make_member())
    c = make_client()
    c.post("/forgot-password", {"email": "focal@x.example"}, token_from="/forgot-password")
    run_jobs(app)
    path = _link(smtp_server, "focal@x.example")
    with app.app_context():
        db.session.execute(sa.update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = c.post(
        path, {"password": "my new long password", "confirm": "my new long password"}, token_from="/login"
    )
    assert response.status_code == 410 and 'data-problem="expired"' in text(response)
    make_client().login("focal@x.example")  # the old password still works


@pytest.mark.sqlite
def test_a_short_new_password_is_refused_next_to_the_field(app, client):
    from fundapp.accounts import operations

    with app.test_request_context():
        make_user("focal@x.example", "applicant", member=make_member())
        token = operations.request_password_reset("focal@x.example")
    path = f"/reset-password/{token}"
    response = client.post(path, {"password": "short", "confirm": "short"}, token_from=path)
    assert response.status_code == 200 and "Use at least 12 characters." in text(response)
