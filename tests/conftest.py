"""Test fixtures: real PostgreSQL (or SQLite for the marked subset), real Redis, real SMTP.

The schema is built once per run by the migrations themselves; each test starts from empty
tables and an empty Redis database. Data is committed for real, because RQ workers and the
browser's server read it over their own connections.
"""

import os
import socket
import threading

os.environ["FUNDAPP_ENV"] = "testing"

import pytest  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402

from config import TestingConfig  # noqa: E402
from fundapp import create_app  # noqa: E402
from fundapp.extensions import db  # noqa: E402

from .helpers import Client  # noqa: E402

DATABASE_URL = TestingConfig.SQLALCHEMY_DATABASE_URI
ON_SQLITE = DATABASE_URL.startswith("sqlite")


def pytest_collection_modifyitems(config, items):
    # On the embedded default only the tests marked `sqlite` make sense; say so if others run.
    if ON_SQLITE and config.getoption("-m") != "sqlite":
        skip = pytest.mark.skip(reason="runs on PostgreSQL only")
        for item in items:
            if "sqlite" not in item.keywords:
                item.add_marker(skip)


def _reset_database(url):
    engine = sa.create_engine(url)
    if url.startswith("sqlite"):
        path = engine.url.database
        engine.dispose()
        if path and os.path.exists(path):
            os.remove(path)
        return
    admin_url = engine.url.set(database="postgres")
    engine.dispose()
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": engine.url.database})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{engine.url.database}"'))
    admin.dispose()
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def app():
    import flask_migrate

    _reset_database(DATABASE_URL)
    application = create_app("testing")
    with application.app_context():
        flask_migrate.upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


def _truncate_all(application):
    with application.app_context():
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if ON_SQLITE:
                for name in tables:
                    conn.execute(sa.text(f'DELETE FROM "{name}"'))
            else:
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"))


@pytest.fixture(autouse=True)
def clean_state(request, app):
    """Every test starts with empty tables, an empty Redis database and default settings."""
    _truncate_all(app)
    if app.config.get("REDIS_URL"):
        from fundapp.core.jobs import get_redis

        get_redis(app).flushdb()
    else:
        from fundapp.extensions import limiter

        limiter.reset()
    from fundapp.accounts import throttle
    from fundapp.reviews.queries import forget_criterion_means

    throttle.reset_memory()
    forget_criterion_means()  # kept per call and its reviews: ids start again from 1 in every test
    saved = dict(app.config)
    yield
    app.config.clear()
    app.config.update(saved)


@pytest.fixture
def client(app):
    return Client(app)


@pytest.fixture
def make_client(app):
    return lambda: Client(app)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RecordingHandler:
    """An SMTP server's handler that keeps every message it accepts."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(envelope)
        return "250 Message accepted for delivery"


class RefusingHandler(RecordingHandler):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        return "550 5.1.1 Mailbox unavailable"


def _smtp(app, handler):
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_TIMEOUT=5)
    return controller


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback; app's mail goes to it. `.messages` holds what it received."""
    handler = RecordingHandler()
    controller = _smtp(app, handler)
    yield handler
    controller.stop()


@pytest.fixture
def refusing_smtp_server(app):
    handler = RefusingHandler()
    controller = _smtp(app, handler)
    yield handler
    controller.stop()
