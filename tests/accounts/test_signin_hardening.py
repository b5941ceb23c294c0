"""Sign-in that tells nothing and cannot be raced: the same cost for every address, limits
counted before the password is checked, a locked-out owner told, and sign-in without Redis."""

import logging
import statistics
import threading
import time

import pytest
import sqlalchemy as sa

from fundapp.core.mail import OutboxMessage
from fundapp.core.models import AuditEntry
from fundapp.extensions import db

from ..helpers import PASSWORD, make_member, make_user, text

WRONG = "The e-mail address or the password is not right."


def _audit(app, action):
    with app.app_context():
        return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action)).all()


def _outbox(app, template):
    with app.app_context():
        return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)).all()


def test_parallel_wrong_passwords_never_get_more_checks_than_the_limit(app, make_client):
    with app.app_context():
        make_user("coordination@fund.example", "staff", name="Núria Camps")
    clients = [make_client() for _ in range(16)]
    tokens = [c.csrf_token("/login") for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def guess(client, token):
        barrier.wait()
        response = client.http.post(
            "/login", data={"email": "coordination@fund.example", "password": "guess-123456", "csrf_token": token}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in zip(clients, tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(statuses)) == [200, 429]
    assert statuses.count(200) == 5  # the limit of the account: five passwords checked, no more
    assert len(_audit(app, "user.login_failed")) == 5
    # The owner is told once, with a way back in, in the account's language.
    (mail,) = _outbox(app, "login_locked")
    assert mail.to_email == "coordination@fund.example" and "/forgot-password" in mail.body
    assert len(_audit(app, "user.login_locked")) == 11


@pytest.mark.sqlite
def test_a_locked_out_owner_is_told_in_their_language_and_an_unknown_address_sends_nothing(app, make_client):
    with app.app_context():
        make_user(
            "maire@montreal.example", "applicant", member=make_member("Montréal", "CA", "north_america"), language="fr"
        )
    attacker = make_client()
    for email in ["maire@montreal.example", "personne@montreal.example"]:
        for _ in range(6):
            response = attacker.post("/login", {"email": email, "password": "mauvais-mot"}, token_from="/login")
        assert response.status_code == 429 and "Too many attempts" in text(response)
    (mail,) = _outbox(app, "login_locked")
    assert mail.to_email == "maire@montreal.example" and "suspendue" in mail.subject
    assert "mot de passe" in mail.body


@pytest.mark.sqlite
def test_a_good_password_clears_the_count_of_earlier_mistakes(app, make_client):
    with app.app_context():
        make_user("focal@bogota.example", "applicant", member=make_member("Bogotá", "CO", "latin_america_caribbean"))
    client = make_client()
    for _round in range(3):
        for _ in range(4):
            response = client.post(
                "/login", {"email": "focal@bogota.example", "password": "casi-casi"}, token_from="/login"
            )
            assert WRONG in text(response)
        client.login("focal@bogota.example")
        client.post("/logout", {})
    assert _outbox(app, "login_locked") == []


def test_signing_in_works_while_the_limiters_redis_is_down_and_the_fault_is_logged(app, make_client, caplog):
    with app.app_context():
        make_user("coordination@fund.example", "staff")
    app.config["RATELIMIT_STORAGE_URI"] = "redis://127.0.0.1:1/0"  # nothing listens there
    caplog.set_level(logging.ERROR, logger="fundapp.accounts.throttle")
    client = make_client()
    client.login("coordination@fund.example")
    assert "unreachable" in caplog.text
    # The limits still hold, counted in memory.
    attacker = make_client()
    for _ in range(5):
        response = attacker.post(
            "/login", {"email": "coordination@fund.example", "password": "x-guess-x"}, token_from="/login"
        )
        assert response.status_code == 200
    response = attacker.post(
        "/login", {"email": "coordination@fund.example", "password": PASSWORD}, token_from="/login"
    )
    assert response.status_code == 429


def test_an_unknown_address_takes_as_long_as_a_wrong_password(app, make_client):
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="1000 per minute", LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    with app.app_context():
        make_user("coordination@fund.example", "staff")
    client = make_client()
    token = client.csrf_token("/login")

    def timed(email):
        start = time.perf_counter()
        response = client.http.post("/login", data={"email": email, "password": "wrong-password", "csrf_token": token})
        assert WRONG in text(response)
        return time.perf_counter() - start

    timed("coordination@fund.example"), timed("nobody@fund.example")  # warm both paths
    known, unknown = [], []
    for _ in range(15):  # interleaved, so a slow moment of the machine weighs on both
        known.append(timed("coordination@fund.example"))
        unknown.append(timed("nobody@fund.example"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.8 <= ratio <= 1.2, (statistics.median(known), statistics.median(unknown))


@pytest.mark.sqlite
def test_a_forged_forwarded_address_does_not_escape_the_address_limit(app, make_client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    with app.app_context():
        make_user("coordination@fund.example", "staff")
    client = make_client()
    for n in range(3):
        client.post(
            "/login",
            {"email": f"guess{n}@fund.example", "password": "guess-guess"},
            token_from="/login",
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    response = client.post(
        "/login",
        {"email": "coordination@fund.example", "password": PASSWORD},
        token_from="/login",
        headers={"X-Forwarded-For": "198.51.100.7"},
    )
    assert response.status_code == 429


def test_forwarded_headers_are_believed_only_from_the_configured_proxies():
    from werkzeug.middleware.proxy_fix import ProxyFix

    from fundapp import create_app

    assert not isinstance(create_app("testing").wsgi_app, ProxyFix)
    behind_one = create_app("testing", overrides={"TRUSTED_PROXIES": 1}).wsgi_app
    assert isinstance(behind_one, ProxyFix) and behind_one.x_for == 1 and behind_one.x_proto == 1
