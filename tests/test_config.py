"""Configuration: safe defaults, and production refuses to run unsafely.

Apps for other environments are built in a subprocess: the extensions are process-wide, and
the test app must keep its own settings.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from config import ConfigError, ProductionConfig
from fundapp import create_app

pytestmark = pytest.mark.sqlite
ROOT = Path(__file__).resolve().parent.parent


def _python(code, **env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDAPP_")}
    env.update(env_overrides)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)


def test_production_refuses_to_start_without_a_secret_key():
    result = _python(
        "from fundapp import create_app; create_app('production')", FUNDAPP_DATABASE_URL="postgresql://db.example/fund"
    )
    assert result.returncode != 0
    assert "ConfigError" in result.stderr and "FUNDAPP_SECRET_KEY" in result.stderr


def test_production_starts_with_a_secret_key_and_sets_strict_cookies_and_hsts():
    result = _python(
        "from fundapp import create_app; app = create_app('production'); "
        "r = app.test_client().get('/login', base_url='https://fund.example'); "
        "print(app.config['SESSION_COOKIE_SECURE'], app.config['SQLALCHEMY_DATABASE_URI']); "
        "print(r.headers['Strict-Transport-Security'])",
        FUNDAPP_SECRET_KEY="k" * 48,
        FUNDAPP_DATABASE_URL="postgresql://db.example/fund",
    )
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert first == "True postgresql+psycopg://db.example/fund"
    assert "max-age=31536000" in second


def test_unknown_environment_is_refused():
    with pytest.raises(ConfigError):
        create_app("staging")


def test_postgres_urls_use_the_installed_driver():
    from config import _database_url

    assert _database_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert _database_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    assert _database_url("sqlite:////tmp/x.db") == "sqlite:////tmp/x.db"


def test_embedded_default_is_sqlite_in_instance_with_in_process_jobs_and_logged_mail():
    result = _python(
        "import config; c = config.DevelopmentConfig; print(c.SQLALCHEMY_DATABASE_URI, c.REDIS_URL, c.SMTP_HOST)"
    )
    out = result.stdout.split()
    assert out[0].startswith("sqlite:///") and out[0].endswith("instance/fundapp.sqlite3")
    assert out[1:] == ["None", "None"]
    assert ProductionConfig.HSTS


def test_templates_fail_on_undefined_names_in_tests_only(app):
    import jinja2

    template = "{{ missing }}{% if figures.notices %}x{% endif %}"
    with app.app_context(), pytest.raises(jinja2.UndefinedError):
        app.jinja_env.from_string(template).render(figures={})
    result = _python(
        "from fundapp import create_app; app = create_app('development'); "
        f"print(repr(app.jinja_env.from_string({template!r}).render(figures={{}})))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "''"
