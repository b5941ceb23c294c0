"""Signing in and out: one message for every failure, throttling, sessions that really end."""

import pytest

from ..helpers import PASSWORD, make_member, make_user, text

SAME_MESSAGE = "The e-mail address or the password is not right."


@pytest.mark.sqlite
def test_unknown_email_and_wrong_password_get_the_same_message(app, client):
    from fundapp.accounts import operations as accounts

    with app.app_context():
        staff = make_user("staff@fund.example", "staff")
        accounts.set_active(make_user("gone@fund.example", "staff"), False, actor=staff)
    answers = []
    for email, password in [
        ("nobody@fund.example", PASSWORD),
        ("staff@fund.example", "wrong password"),
        ("gone@fund.example", PASSWORD),
    ]:
        response = client.post("/login", {"email": email, "password": password}, token_from="/login")
        assert response.status_code == 200
        answers.append(text(response).count(SAME_MESSAGE))
        assert email in text(response)  # the address typed is kept
    assert answers == [1, 1, 1]


@pytest.mark.sqlite
def test_email_is_case_insensitive(app, client):
    with app.app_context():
        make_user("Staff@Fund.example", "staff")
    client.login("STAFF@fund.EXAMPLE")
    assert "Programme team" in text(client.get("/"))


def test_login_is_throttled_per_account_after_repeated_failures(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    attacker = make_client()
    for _ in range(5):
        response = attacker.post("/login", {"email": "staff@fund.example", "password": "guess"}, token_from="/login")
        assert response.status_code == 200
    response = attacker.post("/login", {"email": "staff@fund.example", "password": PASSWORD}, token_from="/login")
    assert response.status_code == 429
    assert "Too many attempts" in text(response)
    # Another account from the same address is not locked by this one's failures.
    with app.app_context():
        make_user("other@fund.example", "staff")
    assert (
        attacker.post("/login", {"email": "other@fund.example", "password": PASSWORD}, token_from="/login").status_code
        == 302
    )


def test_login_is_throttled_per_address(app, make_client):
    app.config["LOGIN_LIMIT_PER_ADDRESS"] = "3 per 15 minutes"
    with app.app_context():
        make_user("staff@fund.example", "staff")
    client = make_client()
    for i in range(3):
        client.post("/login", {"email": f"guess{i}@fund.example", "password": "x"}, token_from="/login")
    response = client.post("/login", {"email": "staff@fund.example", "password": PASSWORD}, token_from="/login")
    assert response.status_code == 429


def test_successful_logins_do_not_count_towards_the_limit(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    for _ in range(7):
        c = make_client()
        c.login("staff@fund.example")


@pytest.mark.sqlite
def test_logout_ends_the_session_even_if_the_cookie_is_replayed(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    client = make_client()
    client.login("staff@fund.example")
    stolen = client.http.get_cookie("session").value
    assert client.get("/members/").status_code == 200
    client.post("/logout")
    replay = make_client()
    replay.http.set_cookie("session", stolen)
    response = replay.get("/members/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.sqlite
def test_a_password_change_signs_out_every_other_session(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    laptop, phone = make_client(), make_client()
    laptop.login("staff@fund.example")
    phone.login("staff@fund.example")
    response = laptop.post(
        "/account/password",
        {
            "password-current_password": PASSWORD,
            "password-new_password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase",
        },
        token_from="/account",
    )
    assert response.status_code == 302
    assert laptop.get("/members/").status_code == 200
    assert phone.get("/members/").status_code == 302
    fresh = make_client()
    fresh.login("staff@fund.example", "a brand new passphrase")


@pytest.mark.sqlite
def test_a_wrong_current_password_changes_nothing(app, client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    client.login("staff@fund.example")
    response = client.post(
        "/account/password",
        {
            "password-current_password": "not it",
            "password-new_password": "a brand new passphrase",
            "password-confirm": "a brand new passphrase",
        },
        token_from="/account",
    )
    assert "Your current password is not right." in text(response)
    assert client.get("/members/").status_code == 200


@pytest.mark.sqlite
def test_next_parameter_only_redirects_inside_the_site(app, client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    response = client.post(
        "/login?next=//evil.example/x", {"email": "staff@fund.example", "password": PASSWORD}, token_from="/login"
    )
    assert response.headers["Location"] == "/"


@pytest.mark.sqlite
def test_deactivated_users_are_signed_out(app, make_client):
    with app.app_context():
        make_user("admin@fund.example", "admin")
        target = make_user("focal@bcn.example", "applicant", member=make_member())
        target_id = target.id
    focal, admin = make_client(), make_client()
    focal.login("focal@bcn.example")
    admin.login("admin@fund.example")
    assert admin.post(f"/users/{target_id}/active", {"active": "0"}).status_code == 302
    assert focal.get("/account").status_code == 302
