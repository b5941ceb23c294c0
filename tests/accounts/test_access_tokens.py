"""Personal access tokens for the JSON API: created and revoked on the account page, shown once,
kept as a digest, read-only, audited, throttled; `tokens.authenticate` is what the API calls."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from fundapp.accounts import operations, tokens
from fundapp.accounts.models import AccessToken, User
from fundapp.core.errors import Refused
from fundapp.core.i18n import format_instant
from fundapp.core.models import AuditEntry
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db

from .. import factories as f
from ..helpers import count, make_donor, make_user, text, translated

pytestmark = pytest.mark.sqlite

RAW_RE = re.compile(r"fa_[A-Za-z0-9_-]{43}")
BOGOTA = "focal@bogota.example"
AFD = "elodie.lefevre@afd.example"


@pytest.fixture
def people(app):
    with app.app_context():
        f.focal_point("Bogotá")  # Camila Rodríguez, reads Spanish
        f.focal_point("Quito")
        make_user(
            AFD,
            "donor",
            donor=make_donor("AFD", "Agence française de développement"),
            language="fr",
            name="Élodie Lefèvre",
        )
        make_user("admin@fund.example", "admin", name="Ada Admin")


def _user(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def _token(token_id):
    db.session.expire_all()
    return db.session.get(AccessToken, token_id)


def _audit_rows(action):
    return db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)).all()


def _create(email, name="Tablero de la Secretaría de Planeación", days=90):
    user = _user(email)
    return operations.create_access_token(user, actor=user, name=name, days=days)


def _as_read_by(app, email, instant):
    """An instant as the account page shows it to `email`: their language, their timezone."""
    with app.app_context():
        user = _user(email)
        language, zone = user.language, user.timezone
    with app.test_request_context(), force_locale(language):
        return format_instant(instant, zone)


def _refusal(app, raw, address="203.0.113.7"):
    """authenticate() as the API calls it: (status, message as the reader reads it)."""
    with app.test_request_context():
        with pytest.raises(tokens.TokenRefused) as caught:
            tokens.authenticate(raw, address=address)
        return caught.value.status, str(caught.value.message)


def _authenticates(app, raw, address="203.0.113.7"):
    with app.test_request_context():
        user = tokens.authenticate(raw, address=address)
        db.session.commit()
        return user.email


def test_a_new_token_is_shown_once_and_only_its_digest_is_kept(app, client, people):
    client.login(BOGOTA)
    page = text(client.get("/account"))
    assert 'id="tokens"' in page and "/api/v1/docs" in page and 'id="token-list"' not in page
    response = client.post(
        "/account/tokens",
        {"token-name": "  Tablero de la Secretaría de Planeación ", "token-days": "90"},
        token_from="/account",
    )
    assert response.status_code == 200
    shown = RAW_RE.findall(text(response))
    assert len(set(shown)) == 1
    raw = shown[0]
    assert translated(app, "es", "Copy it now: it will not be shown again.") in text(response)
    # Never in a cookie: the session holds no trace of it.
    assert all(raw not in cookie for cookie in response.headers.getlist("Set-Cookie"))
    with app.app_context():
        token = db.session.scalar(sa.select(AccessToken))
        assert token.name == "Tablero de la Secretaría de Planeación"
        assert token.token_digest == hashlib.sha256(raw.encode()).hexdigest()
        assert token.prefix == raw[:11] and token.scope == "read"
        assert timedelta(days=89, hours=23) < token.expires_at - token.created_at <= timedelta(days=90)
        row = db.session.execute(sa.text("SELECT * FROM access_token")).mappings().one()
        assert all(raw not in str(value) for value in row.values())
        assert _authenticates(app, raw) == BOGOTA
        expires = token.expires_at
    # The account page lists it by name and first characters, never the whole token again.
    page = text(client.get("/account"))
    assert raw not in page
    row = page.split('id="token-list"')[1].split("</table>")[0]
    assert "Tablero de la Secretaría de Planeación" in row and f"{raw[:11]}…" in row
    assert translated(app, "es", "Active") in row
    assert _as_read_by(app, BOGOTA, expires) in row
    assert translated(app, "es", "Revoke") in row


def test_the_owner_revokes_a_token_on_the_account_page_and_it_stops_working(app, client, people):
    with app.app_context():
        token, raw = _create(BOGOTA)
        token_id = token.id
        assert _authenticates(app, raw) == BOGOTA
    client.login(BOGOTA)
    response = client.post(f"/account/tokens/{token_id}/revoke", {}, token_from="/account")
    assert response.status_code == 302 and response.headers["Location"].endswith("/account#tokens")
    page = text(client.get("/account"))
    row = page.split(f'id="token-{token_id}"')[1].split("</tr>")[0]
    assert translated(app, "es", "Revoked") in row and "<button" not in row
    with app.app_context():
        token = _token(token_id)
        assert token.revoked_at is not None and token.revoked_by_id == _user(BOGOTA).id
        revoked_at = token.revoked_at
    status, message = _refusal(app, raw)
    assert status == 401
    with app.test_request_context():
        assert message == f"This access token was revoked on {format_instant(revoked_at)}."
    # Twice is refused, and says why, in the reader's language and timezone.
    client.post(f"/account/tokens/{token_id}/revoke", {}, token_from="/account")
    said = translated(
        app, "es", "This access token was already revoked on %(date)s.", date=_as_read_by(app, BOGOTA, revoked_at)
    )
    assert said in text(client.get("/account"))
    with app.app_context():
        assert len(_audit_rows("token.revoked")) == 1
        with pytest.raises(Refused, match="already revoked"):
            operations.revoke_access_token(_token(token_id), actor=_user(BOGOTA))


def test_someone_else_cannot_revoke_a_token_and_the_refusal_changes_nothing(app, make_client, people):
    with app.app_context():
        token, raw = _create(BOGOTA)
        token_id = token.id
    quito = make_client()
    quito.login("focal@quito.example")
    assert quito.post(f"/account/tokens/{token_id}/revoke", {}, token_from="/account").status_code == 404
    # Not through the administrators' route either, without the administrator's role.
    bogota_id = None
    with app.app_context():
        bogota_id = _user(BOGOTA).id
    assert quito.post(f"/users/{bogota_id}/tokens/{token_id}/revoke", {}, token_from="/account").status_code in (
        403,
        404,
    )
    with app.app_context():
        with pytest.raises(Refused) as caught:
            operations.revoke_access_token(_token(token_id), actor=_user("focal@quito.example"))
        assert "owner" in str(caught.value.message)
        db.session.rollback()
        token = _token(token_id)
        assert token.revoked_at is None and token.revoked_by_id is None
        assert _audit_rows("token.revoked") == []
    assert _authenticates(app, raw) == BOGOTA


def test_an_administrator_revokes_a_persons_token_from_the_user_page(app, make_client, people):
    with app.app_context():
        token, raw = _create(BOGOTA)
        token_id, bogota_id, admin_id = token.id, _user(BOGOTA).id, _user("admin@fund.example").id
    admin = make_client()
    admin.login("admin@fund.example")
    page = text(admin.get(f"/users/{bogota_id}"))
    assert "1 API access token in use." in page and f"{raw[:11]}…" in page and raw not in page
    response = admin.post(f"/users/{bogota_id}/tokens/{token_id}/revoke", {}, token_from=f"/users/{bogota_id}")
    assert response.status_code == 302
    assert "0 API access tokens in use." in text(admin.get(f"/users/{bogota_id}"))
    # A token is revoked through its own user's page only.
    with app.app_context():
        other, _raw = _create("focal@quito.example")
        quito_token = other.id
    assert admin.post(f"/users/{bogota_id}/tokens/{quito_token}/revoke", {}, token_from="/").status_code == 404
    with app.app_context():
        assert _token(token_id).revoked_by_id == admin_id
        assert _token(quito_token).revoked_at is None
        (entry,) = _audit_rows("token.revoked")
        assert entry.actor_id == admin_id and entry.object_id == str(token_id)
    assert _refusal(app, raw)[0] == 401


def test_unknown_malformed_expired_and_deactivated_are_refused_with_401(app, people):
    with app.app_context():
        now = utcnow()
        with clock_at(now - timedelta(days=40)):
            expired, expired_raw = _create(BOGOTA, name="Hoja de cálculo del observatorio", days=30)
        expires_at = expired.expires_at
        _token_row, quito_raw = _create("focal@quito.example", name="Informe trimestral de Quito")
        _ok, afd_raw = _create(AFD, name="Power BI du bailleur")
    not_valid = "This access token is not valid."
    assert _refusal(app, "fa_" + "x" * 43) == (401, not_valid)  # well formed, unknown
    assert _refusal(app, quito_raw[:-1]) == (401, not_valid)  # one character short
    assert _refusal(app, "") == (401, not_valid)
    assert _refusal(app, "Bearer " + quito_raw) == (401, not_valid)  # the API strips "Bearer "
    assert _refusal(app, quito_raw + "\u00e9") == (401, not_valid)
    status, message = _refusal(app, expired_raw)
    with app.test_request_context():
        assert (status, message) == (401, f"This access token expired on {format_instant(expires_at)}.")
    with app.app_context():
        operations.set_active(_user(AFD), False, actor=_user("admin@fund.example"))
    assert _refusal(app, afd_raw) == (401, "The account this access token belongs to is deactivated.")
    assert _authenticates(app, quito_raw) == "focal@quito.example"
    # The reader's language: an API client asking for French reads French.
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        with pytest.raises(tokens.TokenRefused) as caught:
            tokens.authenticate("fa_" + "y" * 43, address="198.51.100.4")
        assert str(caught.value.message) == translated(app, "fr", not_valid)


def test_failed_attempts_from_an_address_are_throttled_with_429(app, people):
    app.config["API_TOKEN_FAILURES_PER_ADDRESS"] = "3/minute"
    with app.app_context():
        _token_row, raw = _create(BOGOTA)
    for _ in range(3):
        assert _refusal(app, "fa_" + "z" * 43, address="192.0.2.50")[0] == 401
    status, message = _refusal(app, "fa_" + "z" * 43, address="192.0.2.50")
    assert status == 429 and message.startswith("Too many attempts")
    # That address is held back even with a good token; another address is not.
    assert _refusal(app, raw, address="192.0.2.50")[0] == 429
    assert _authenticates(app, raw, address="192.0.2.51") == BOGOTA
    # Good tokens do not fill the window of failures.
    for _ in range(5):
        assert _authenticates(app, raw, address="192.0.2.52") == BOGOTA


def test_requests_per_token_are_throttled_with_429(app, people):
    app.config["API_TOKEN_REQUESTS_PER_TOKEN"] = "2/minute"
    with app.app_context():
        _row, raw = _create(BOGOTA)
        _row, other = _create("focal@quito.example", name="Informe trimestral de Quito")
    assert _authenticates(app, raw) == BOGOTA
    assert _authenticates(app, raw, address="198.51.100.9") == BOGOTA
    status, message = _refusal(app, raw, address="198.51.100.10")
    assert status == 429 and message.startswith("Too many requests with this access token")
    assert _authenticates(app, other) == "focal@quito.example"


def test_last_use_is_written_at_most_once_a_minute(app, people):
    with app.app_context():
        start = utcnow()
        with clock_at(start - timedelta(minutes=5)):
            token, raw = _create(BOGOTA)
        token_id = token.id
        assert token.last_used_at is None
        with clock_at(start - timedelta(minutes=2)), app.test_request_context():
            tokens.authenticate(raw, address="203.0.113.7")
            db.session.commit()
        assert _token(token_id).last_used_at == start - timedelta(minutes=2)
        with clock_at(start - timedelta(minutes=1, seconds=30)), app.test_request_context():
            tokens.authenticate(raw, address="203.0.113.7")
            db.session.commit()
        assert _token(token_id).last_used_at == start - timedelta(minutes=2)  # 30 s later: not written
        with clock_at(start - timedelta(seconds=30)), app.test_request_context():
            tokens.authenticate(raw, address="203.0.113.7")
            db.session.commit()
        assert _token(token_id).last_used_at == start - timedelta(seconds=30)


def test_the_eleventh_token_is_refused_and_the_form_keeps_the_name(app, client, people):
    with app.app_context():
        for number in range(1, 11):
            _create(AFD, name=f"Export n° {number}")
        ten = {e.id for e in _audit_rows("token.created")}
    client.login(AFD)
    response = client.post(
        "/account/tokens", {"token-name": "Power BI du bailleur", "token-days": "365"}, token_from="/account"
    )
    assert response.status_code == 400
    page = text(response)
    assert 'value="Power BI du bailleur"' in page
    assert translated(app, "fr", operations_message_eleventh(), num=10) in page
    assert not RAW_RE.search(page)
    with app.app_context():
        assert count(AccessToken) == 10
        assert {e.id for e in _audit_rows("token.created")} == ten
        with pytest.raises(Refused):
            _create(AFD, name="Power BI du bailleur")
        db.session.rollback()
        # A revoked or expired token no longer counts.
        first = db.session.scalar(sa.select(AccessToken).order_by(AccessToken.id))
        operations.revoke_access_token(first, actor=_user(AFD))
    response = client.post(
        "/account/tokens", {"token-name": "Power BI du bailleur", "token-days": "365"}, token_from="/account"
    )
    assert response.status_code == 200 and RAW_RE.search(text(response))


def operations_message_eleventh():
    return "You already have %(num)d access tokens in use, the most allowed: revoke one you no longer need first."


def test_bad_input_is_refused_and_nothing_is_created(app, client, people):
    client.login(AFD)
    for data in (
        {"token-name": "", "token-days": "90"},
        {"token-name": "Power BI du bailleur", "token-days": "7"},
        {"token-name": "x" * 101, "token-days": "90"},
    ):
        response = client.post("/account/tokens", data, token_from="/account")
        assert response.status_code == 400 and not RAW_RE.search(text(response))
    # Without the form's CSRF token, nothing either.
    assert client.post("/account/tokens", {"token-name": "Power BI", "token-days": "90"}, csrf=False).status_code == 400
    with app.app_context():
        assert count(AccessToken) == 0
        afd, admin = _user(AFD), _user("admin@fund.example")
        for kwargs, field in (
            ({"name": "   ", "days": 90}, "name"),
            ({"name": "Power BI du bailleur", "days": 60}, "days"),
            ({"name": "é" * 101, "days": 90}, "name"),
        ):
            with pytest.raises(Refused) as caught:
                operations.create_access_token(afd, actor=afd, **kwargs)
            assert caught.value.field == field
        # Only for oneself, and only while the account is active.
        with pytest.raises(Refused):
            operations.create_access_token(afd, actor=admin, name="Power BI du bailleur", days=90)
        operations.set_active(afd, False, actor=admin)
        with pytest.raises(Refused):
            operations.create_access_token(afd, actor=afd, name="Power BI du bailleur", days=90)
        db.session.rollback()
        assert count(AccessToken) == 0 and _audit_rows("token.created") == []


def test_creation_and_revocation_are_audited_without_the_token(app, people):
    with app.app_context():
        token, raw = _create(AFD, name="Power BI du bailleur", days=30)
        operations.revoke_access_token(token, actor=_user(AFD))
        (created,) = _audit_rows("token.created")
        (revoked,) = _audit_rows("token.revoked")
        afd_id = _user(AFD).id
        assert created.actor_id == afd_id and revoked.actor_id == afd_id
        assert created.object_type == "AccessToken" and created.object_id == str(token.id)
        assert created.after["name"] == "Power BI du bailleur" and created.after["scope"] == "read"
        assert created.summary == f"{AFD} created the access token {raw[:11]}… (Power BI du bailleur)"
        for entry in (created, revoked):
            columns = sa.inspect(entry).mapper.column_attrs
            everything = json.dumps({c.key: str(getattr(entry, c.key)) for c in columns}, ensure_ascii=False)
            assert raw not in everything and raw[11:] not in everything
            assert token.token_digest not in everything
