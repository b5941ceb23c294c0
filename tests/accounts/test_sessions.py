"""Sessions (ASVS V7): an absolute lifetime and an inactivity timeout (shorter for staff), the account
page lists where one is signed in and ends the others, an admin ends a user's sessions, and the
audit log keeps every end."""

from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

import pytest
import sqlalchemy as sa

from fundapp.accounts.models import UserSession, wall_clock
from fundapp.core.models import AuditEntry
from fundapp.extensions import db

from ..helpers import make_member, make_user, text

pytestmark = pytest.mark.sqlite


def _signed_in(client):
    response = client.get("/account")
    return response.status_code == 200


def _age(app, email, *, idle=None, age=None):
    """As if the browsers of `email` had been idle for `idle` or signed in `age` ago."""
    with app.app_context():
        user_id = db.session.scalar(sa.text("SELECT id FROM user_account WHERE email = :e"), {"e": email})
        values = {}
        if idle is not None:
            values["last_seen_at"] = wall_clock() - idle
        if age is not None:
            values["created_at"] = wall_clock() - age
        db.session.execute(sa.update(UserSession).where(UserSession.user_id == user_id).values(**values))
        db.session.commit()


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry.summary).where(AuditEntry.action == action)).all()


@pytest.fixture
def people(app):
    with app.app_context():
        make_user("coordination@fund.example", "staff", name="Núria Camps")
        make_user("admin@fund.example", "admin", name="Ada Admin")
        make_user(
            "focal@bogota.example",
            "applicant",
            member=make_member("Bogotá", "CO", "latin_america_caribbean"),
            language="es",
        )


def test_the_account_page_lists_the_sessions_and_ends_the_others(app, make_client, people):
    phone, laptop = make_client(), make_client()
    phone.http.environ_base["HTTP_USER_AGENT"] = "Mozilla/5.0 (Android 14) Chrome/131 Mobile"
    phone.login("focal@bogota.example")
    laptop.login("focal@bogota.example")
    page = text(laptop.get("/account"))
    assert page.count("<tr") >= 3 and "Android 14" in page and "(this browser)" not in page.split("Android 14")[1][:80]
    response = laptop.post(
        "/account/sessions/end-others", {"sessions-csrf_token": laptop.csrf_token("/account")}, csrf=False
    )
    assert response.status_code == 302
    assert _signed_in(laptop) and not _signed_in(phone)
    assert _audit(app, "session.end_others") == ["focal@bogota.example ended 1 other session(s)"]


def test_an_admin_signs_a_person_out_everywhere(app, make_client, people):
    city = make_client()
    city.login("focal@bogota.example")
    admin, staff = make_client(), make_client()
    admin.login("admin@fund.example")
    staff.login("coordination@fund.example")
    with app.app_context():
        user_id = db.session.scalar(sa.text("SELECT id FROM user_account WHERE email = 'focal@bogota.example'"))
    assert "Signed in on 1 browser now." in text(admin.get(f"/users/{user_id}"))
    # Staff who are not admins cannot.
    assert staff.post(f"/users/{user_id}/sessions/end", {}, token_from="/").status_code == 403
    assert _signed_in(city)
    assert admin.post(f"/users/{user_id}/sessions/end", {}, token_from="/").status_code == 302
    assert not _signed_in(city) and _signed_in(admin)
    assert _audit(app, "session.end_all") == ["every session of focal@bogota.example ended"]


def test_staff_are_signed_out_after_30_idle_minutes_cities_after_two_hours(app, make_client, people):
    staff, city = make_client(), make_client()
    staff.login("coordination@fund.example")
    city.login("focal@bogota.example")
    _age(app, "coordination@fund.example", idle=timedelta(minutes=29))
    _age(app, "focal@bogota.example", idle=timedelta(minutes=31))
    assert _signed_in(staff) and _signed_in(city)  # and each request moves "last seen" on
    _age(app, "coordination@fund.example", idle=timedelta(minutes=31))
    _age(app, "focal@bogota.example", idle=timedelta(minutes=119))
    assert not _signed_in(staff) and _signed_in(city)
    _age(app, "focal@bogota.example", idle=timedelta(minutes=121))
    assert not _signed_in(city)
    assert sorted(_audit(app, "session.expire")) == [
        "session of coordination@fund.example ended (idle)",
        "session of focal@bogota.example ended (idle)",
    ]
    assert "Please sign in" in text(city.get("/account", follow_redirects=True))


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, make_client, people):
    city = make_client()
    city.login("focal@bogota.example")
    _age(app, "focal@bogota.example", age=timedelta(hours=11, minutes=59), idle=timedelta(minutes=1))
    assert _signed_in(city)
    _age(app, "focal@bogota.example", age=timedelta(hours=12, minutes=1), idle=timedelta(minutes=1))
    assert not _signed_in(city)
    assert _audit(app, "session.expire") == ["session of focal@bogota.example ended (lifetime)"]
    city.login("focal@bogota.example")  # signing in again starts a new one
    assert _signed_in(city)


def test_a_forged_or_stale_session_cookie_signs_nobody_in(app, make_client, people):
    city = make_client()
    city.login("focal@bogota.example")
    with city.http.session_transaction() as cookie:
        generation, _, token = cookie["_user_id"].partition(":")
        cookie["_user_id"] = generation  # the old form of the cookie: the user's token alone
    assert not _signed_in(city)
    with city.http.session_transaction() as cookie:
        cookie["_user_id"] = f"{generation}:not-a-token"
    assert not _signed_in(city)


def test_the_cookie_lasts_the_absolute_lifetime_and_is_not_sent_again_on_every_page(app, make_client, people):
    """The browser keeps the cookie as long as the session may live (from sign-in), and an ordinary
    page does not sign and send it again: the idle timeout is the server's (the session row)."""
    focal = make_client()
    response = focal.login("focal@bogota.example")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    expires = parsedate_to_datetime(cookie.split("Expires=")[1].split(";")[0])
    lifetime = app.config["SESSION_ABSOLUTE_LIFETIME"]
    assert lifetime - timedelta(minutes=1) < expires - datetime.now(timezone.utc) <= lifetime
    focal.get("/")  # the page after sign-in shows (and takes from the cookie) its message
    page = focal.get("/account")
    assert page.status_code == 200
    assert not [c for c in page.headers.getlist("Set-Cookie") if c.startswith("session=")]
    # Still signed in past the idle timeout's reach only while the server's row says so.
    _age(app, "focal@bogota.example", idle=app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1))
    assert not _signed_in(focal)
