"""Two-step verification (ASVS V6.4-V6.6): required of staff and admins at their next sign-in,
offered to everyone; a code works once; recovery codes work once; wrong codes are throttled and
audited; an admin's reset is audited and ends the person's sessions."""

import re

import pyotp
import pytest
import sqlalchemy as sa

from fundapp.accounts.models import User
from fundapp.core.models import AuditEntry
from fundapp.extensions import db

from ..helpers import PASSWORD, make_member, make_user, text

pytestmark = pytest.mark.sqlite
SECRET_RE = re.compile(r'<code id="mfa-secret">([A-Z2-7 ]+)</code>')
CODES_RE = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")


@pytest.fixture
def required(app):
    app.config["MFA_REQUIRED"] = True
    with app.app_context():
        make_user("coordination@fund.example", "staff", name="Núria Camps")
        make_user("admin@fund.example", "admin", name="Ada Admin")
        make_user("focal@bogota.example", "applicant", member=make_member("Bogotá", "CO", "latin_america_caribbean"))


def _password(client, email):
    return client.post("/login", {"email": email, "password": PASSWORD}, token_from="/login")


def _enrol(client, email):
    """Password, then the enrolment page: returns (secret, recovery codes)."""
    response = _password(client, email)
    assert response.headers["Location"] == "/login/enrol"
    page = text(client.get("/login/enrol"))
    assert '<img src="data:image/svg+xml' in page
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = client.post("/login/enrol", {"code": pyotp.TOTP(secret).now()}, token_from="/login/enrol")
    assert response.status_code == 200
    codes = CODES_RE.findall(text(response))
    assert len(codes) == 10
    return secret, codes


def _audit(app, action):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.action == action))


def test_staff_enrol_at_their_next_sign_in_and_are_not_signed_in_before(app, make_client, required):
    client = make_client()
    _password(client, "coordination@fund.example")
    assert client.get("/account").status_code == 302  # the password alone signs nobody in
    wrong = client.post("/login/enrol", {"code": "000000"}, token_from="/login/enrol")
    assert wrong.status_code == 400 and "not the one the app shows now" in text(wrong)
    client = make_client()
    _secret, codes = _enrol(client, "coordination@fund.example")
    assert client.get("/account").status_code == 200
    assert "10 recovery codes left." in text(client.get("/account"))
    assert _audit(app, "mfa.enable") == 1


def test_signing_in_asks_for_the_code_which_works_once(app, make_client, required):
    secret, _codes = _enrol(make_client(), "coordination@fund.example")
    client = make_client()
    assert _password(client, "coordination@fund.example").headers["Location"] == "/login/verify"
    assert client.get("/").status_code == 200 and client.get("/account").status_code == 302
    with app.app_context():
        used = db.session.scalar(sa.select(User.totp_last_step).where(User.email == "coordination@fund.example"))
    # The code of the step already used at enrolment is refused; the next step's code is taken.
    stale = pyotp.TOTP(secret).at(used * 30)
    response = client.post("/login/verify", {"code": stale}, token_from="/login/verify")
    assert response.status_code == 400 and "already used" in text(response)
    fresh = pyotp.TOTP(secret).at((used + 1) * 30)
    response = client.post("/login/verify", {"code": fresh}, token_from="/login/verify")
    assert response.status_code == 302 and client.get("/account").status_code == 200
    again = make_client()
    _password(again, "coordination@fund.example")
    response = again.post("/login/verify", {"code": fresh}, token_from="/login/verify")
    assert response.status_code == 400  # the same code cannot sign in twice
    assert _audit(app, "mfa.failed") == 2


def test_a_recovery_code_signs_in_once(app, make_client, required):
    _secret, codes = _enrol(make_client(), "coordination@fund.example")
    client = make_client()
    _password(client, "coordination@fund.example")
    response = client.post("/login/verify", {"code": codes[0].upper()}, token_from="/login/verify")
    assert response.status_code == 302
    assert "9 are left" in text(client.get("/"))
    other = make_client()
    _password(other, "coordination@fund.example")
    assert other.post("/login/verify", {"code": codes[0]}, token_from="/login/verify").status_code == 400
    assert _audit(app, "mfa.recovery_used") == 1


def test_wrong_codes_are_throttled(app, make_client, required):
    _enrol(make_client(), "coordination@fund.example")
    client = make_client()
    _password(client, "coordination@fund.example")
    for _ in range(5):
        assert client.post("/login/verify", {"code": "123456"}, token_from="/login/verify").status_code == 400
    assert client.post("/login/verify", {"code": "123456"}, token_from="/login/verify").status_code == 429


def test_a_city_is_offered_two_step_verification_and_may_turn_it_off(app, make_client, required):
    client = make_client()
    client.login("focal@bogota.example")  # not required of a city
    page = text(client.get("/account/mfa"))
    secret = SECRET_RE.search(page).group(1).replace(" ", "")
    response = client.post("/account/mfa", {"code": pyotp.TOTP(secret).now()}, token_from="/account/mfa")
    assert len(CODES_RE.findall(text(response))) == 10
    with app.app_context():
        step = db.session.scalar(sa.select(User.totp_last_step).where(User.email == "focal@bogota.example"))
    response = client.post(
        "/account/mfa/disable", {"disable-code": pyotp.TOTP(secret).at((step + 1) * 30)}, token_from="/account"
    )
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.mfa_enabled_at).where(User.email == "focal@bogota.example")) is None


def test_an_admin_resets_a_lost_phone_and_the_person_enrols_again(app, make_client, required):
    _enrol(staff := make_client(), "coordination@fund.example")
    admin = make_client()
    _enrol(admin, "admin@fund.example")
    with app.app_context():
        staff_id = db.session.scalar(sa.select(User.id).where(User.email == "coordination@fund.example"))
    assert admin.post(f"/users/{staff_id}/mfa/reset", {}, token_from=f"/users/{staff_id}").status_code == 302
    assert staff.get("/account").status_code == 302  # signed out everywhere
    assert _audit(app, "mfa.reset") == 1
    assert _password(make_client(), "coordination@fund.example").headers["Location"] == "/login/enrol"


def test_a_staff_member_cannot_turn_it_off_or_reset_others(app, make_client, required):
    secret, _codes = _enrol(staff := make_client(), "coordination@fund.example")
    with app.app_context():
        step = db.session.scalar(sa.select(User.totp_last_step).where(User.email == "coordination@fund.example"))
        admin_id = db.session.scalar(sa.select(User.id).where(User.email == "admin@fund.example"))
    staff.post("/account/mfa/disable", {"disable-code": pyotp.TOTP(secret).at((step + 1) * 30)}, token_from="/account")
    with app.app_context():
        assert db.session.scalar(sa.select(User.mfa_enabled_at).where(User.email == "coordination@fund.example"))
    assert staff.post(f"/users/{admin_id}/mfa/reset", {}, token_from="/account").status_code == 403
