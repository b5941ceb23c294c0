"""CSRF on every form, strict cookies and headers, friendly error pages."""

import pytest

from fundapp.members.models import Member

from ..helpers import count, make_member, make_user, text

pytestmark = pytest.mark.sqlite


def test_a_post_without_csrf_token_is_refused_and_changes_nothing(app, client):
    with app.app_context():
        member = make_member()
        make_user("staff@fund.example", "staff")
        member_id = member.id
    client.login("staff@fund.example")
    response = client.post(
        f"/members/{member_id}/edit",
        csrf=False,
        data={"name": "Renamed", "country": "ES", "region": "europe", "membership": "full"},
    )
    assert response.status_code == 400
    assert "nothing was changed" in text(response).lower()
    with app.app_context():
        assert count(Member, Member.name == "Renamed") == 0


def test_login_itself_needs_the_csrf_token(app, client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    response = client.post("/login", csrf=False, data={"email": "staff@fund.example", "password": "x"})
    assert response.status_code == 400


def test_security_headers_and_cookie_flags(app, client):
    response = client.get("/login")
    csp = response.headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'self'", "frame-ancestors 'none'", "default-src 'self'"):
        assert directive in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_pages_use_no_outside_assets(app, client):
    page = text(client.get("/"))
    assert "http://" not in page.replace("http://localhost", "") and "https://" not in page


def test_error_pages_are_friendly(app, client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and "Page not found" in text(response)
    assert "Traceback" not in text(response)


def test_a_server_error_shows_the_friendly_page(app):
    def boom():
        raise RuntimeError("boom")

    original = app.view_functions["core.healthz"]
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.view_functions["core.healthz"] = boom
    try:
        response = app.test_client().get("/healthz")
    finally:
        app.view_functions["core.healthz"] = original
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong on our side" in page and "RuntimeError" not in page
