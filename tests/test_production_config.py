"""The production web server's configuration, and passwords hashed at OWASP's argon2id parameters."""

import runpy
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher

from fundapp.accounts.models import User
from fundapp.extensions import db

from .helpers import PASSWORD, make_user

pytestmark = pytest.mark.sqlite
ROOT = Path(__file__).resolve().parent.parent


def test_gunicorn_runs_threaded_workers_sized_from_the_machine(monkeypatch):
    monkeypatch.delenv("FUNDAPP_BIND", raising=False)
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == "127.0.0.1:8000" and settings["worker_class"] == "gthread"
    assert settings["workers"] >= 2 and settings["threads"] == 4 and settings["timeout"] > 0
    assert settings["accesslog"] == "-"
    monkeypatch.setenv("FUNDAPP_BIND", "0.0.0.0:9000")
    monkeypatch.setenv("FUNDAPP_WEB_WORKERS", "3")
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert settings["bind"] == "0.0.0.0:9000" and settings["workers"] == 3


def test_passwords_are_hashed_with_owasp_s_argon2id_parameters(app):
    with app.app_context():
        user = make_user("coordination@fund.example", "staff")
        assert user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


@pytest.mark.parametrize("mfa", [False, True], ids=["password", "password-and-code"])
def test_an_old_hash_is_rehashed_at_the_next_sign_in(app, client, mfa):
    app.config["MFA_REQUIRED"] = mfa
    old = PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)  # argon2-cffi's old defaults
    with app.app_context():
        make_user("coordination@fund.example", "staff")
        db.session.execute(
            sa.update(User).where(User.email == "coordination@fund.example").values(password_hash=old.hash(PASSWORD))
        )
        db.session.commit()
    response = client.post("/login", {"email": "coordination@fund.example", "password": PASSWORD}, token_from="/login")
    assert response.status_code == 302
    with app.app_context():
        stored = db.session.scalar(sa.select(User.password_hash).where(User.email == "coordination@fund.example"))
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert PasswordHasher().verify(stored, PASSWORD)
