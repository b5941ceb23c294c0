"""Configuration classes, read from FUNDAPP_* environment variables.

FUNDAPP_ENV chooses the class (development, testing, production); everything an operator may
need to change is an environment variable, so the same code runs on a laptop and in production.
"""

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"


def _env(name, default=None):
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _env_bool(name, default=False):
    value = _env(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_int(name, default):
    value = _env(name)
    return int(value) if value is not None else default


def _database_url(url):
    # SQLAlchemy's default PostgreSQL driver is psycopg2; the project installs psycopg 3.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class ConfigError(RuntimeError):
    """Raised when the configuration cannot run safely; the message says what to set."""


DEV_SECRET_KEY = "dev-only-insecure-key-change-me"


class Config:
    ENV_NAME = "base"
    SECRET_KEY = _env("FUNDAPP_SECRET_KEY", DEV_SECRET_KEY)
    SQLALCHEMY_DATABASE_URI = _database_url(
        _env("FUNDAPP_DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'fundapp.sqlite3'}")
    )
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    REDIS_URL = _env("FUNDAPP_REDIS_URL")
    RQ_QUEUES = ["default"]
    # Seconds between a failed job's attempts (RQ); the length is the number of retries.
    JOB_RETRY_INTERVALS = [30, 120, 600]
    JOB_TIMEOUT = 300
    # The sweep (an RQ job that schedules its next run; `flask jobs run-due` without Redis): every
    # this many seconds it sends again what failed or was abandoned (core/jobs.py, core/mail.py).
    JOB_SWEEP_INTERVAL = _env_int("FUNDAPP_JOB_SWEEP_INTERVAL", 600)
    # A message that failed after its job's retries is sent again after each of these waits
    # (1 h, 6 h, 24 h, 72 h), then given up as "dead" (staff can still send it again).
    MAIL_RESEND_BACKOFF = [3600, 6 * 3600, 24 * 3600, 72 * 3600]

    # Mail: with no SMTP host, messages go to the outbox table and the log only.
    SMTP_HOST = _env("FUNDAPP_SMTP_HOST")
    SMTP_PORT = _env_int("FUNDAPP_SMTP_PORT", 25)
    SMTP_USERNAME = _env("FUNDAPP_SMTP_USERNAME")
    SMTP_PASSWORD = _env("FUNDAPP_SMTP_PASSWORD")
    SMTP_STARTTLS = _env_bool("FUNDAPP_SMTP_STARTTLS", False)
    SMTP_SSL = _env_bool("FUNDAPP_SMTP_SSL", False)
    SMTP_TIMEOUT = _env_int("FUNDAPP_SMTP_TIMEOUT", 30)
    MAIL_FROM = _env("FUNDAPP_MAIL_FROM", "International Fund for Metropolises <fund@metropolis.org>")
    # Links in e-mails are built from this address, never from the request's Host header.
    BASE_URL = _env("FUNDAPP_BASE_URL", "http://127.0.0.1:5000")

    LANGUAGES = ["en", "fr", "es"]
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "UTC"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "fundapp" / "translations")
    FUND_TIMEZONE = "Europe/Madrid"
    DEFAULT_GRANT_CAP_CENTS = 100_000_00  # EUR 100,000, the default per-grant cap of a call
    # The fund's largest grant: no call's cap may be above it (form, operation). The database CHECK
    # on call.cap_cents holds the same EUR 100,000 (migration 0011): a higher maximum needs a migration.
    FUND_MAX_GRANT_CENTS = _env_int("FUNDAPP_FUND_MAX_GRANT_EUR", 100_000) * 100

    INVITATION_TTL = timedelta(days=_env_int("FUNDAPP_INVITATION_TTL_DAYS", 14))
    PASSWORD_RESET_TTL = timedelta(hours=_env_int("FUNDAPP_PASSWORD_RESET_TTL_HOURS", 2))
    PASSWORD_MIN_LENGTH = 12

    # Failed logins allowed before the form refuses, per account and per address.
    LOGIN_LIMIT_PER_ACCOUNT = _env("FUNDAPP_LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = _env("FUNDAPP_LOGIN_LIMIT_PER_ADDRESS", "30 per 15 minutes")
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    # How many reverse proxies stand in front of fundapp; their X-Forwarded-For/-Proto/-Host are
    # trusted, nobody else's (0: the address is the connection's own).
    TRUSTED_PROXIES = _env_int("FUNDAPP_TRUSTED_PROXIES", 0)
    RATELIMIT_KEY_PREFIX = "fundapp-limits"
    RATELIMIT_HEADERS_ENABLED = False
    # While Redis cannot be reached the limits are counted in memory, never turned into errors.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 1, "socket_timeout": 1}

    # Two-step verification (an authenticator app): required of these roles at their next sign-in
    # (FUNDAPP_MFA_REQUIRED=0 turns the requirement off outside production), offered to everyone.
    MFA_REQUIRED = _env_bool("FUNDAPP_MFA_REQUIRED", True)
    MFA_REQUIRED_ROLES = ("staff", "admin")
    MFA_ISSUER = _env("FUNDAPP_MFA_ISSUER", "fundapp (Metropolis)")
    # Wrong second-step codes allowed per account before the form pauses.
    MFA_LIMIT = _env("FUNDAPP_MFA_LIMIT", "5 per 15 minutes")
    # A signed-in browser: ended after this long whatever happens, and after this long without a
    # request (shorter for staff and admins, who move money).
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=_env_int("FUNDAPP_SESSION_HOURS", 12))
    SESSION_IDLE_TIMEOUT_STAFF = timedelta(minutes=_env_int("FUNDAPP_SESSION_IDLE_MINUTES_STAFF", 30))
    SESSION_IDLE_TIMEOUT = timedelta(minutes=_env_int("FUNDAPP_SESSION_IDLE_MINUTES", 120))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    PERMANENT_SESSION_LIFETIME = SESSION_ABSOLUTE_LIFETIME
    # The cookie lives as long as the session may (from sign-in), and is not signed and sent again
    # on every request: the server's session row carries the idle timeout (accounts.operations).
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT = None  # a focal point may keep a form open for hours
    MAX_CONTENT_LENGTH = 20 * 1024 * 1024
    MAX_UPLOAD_BYTES = _env_int("FUNDAPP_MAX_UPLOAD_MB", 10) * 1024 * 1024
    FORCE_HTTPS = False
    HSTS = False
    PAGE_SIZE = 50
    # Rows of a call's ranking per page (it is computed whole; the CSV has every row).
    RANKING_PAGE_SIZE = 100
    # The 360Giving open data (/open-data/360giving.json): grant identifiers are "<prefix>-<grant id>",
    # the prefix registered with 360Giving; the funder (Metropolis) is named with its organisation id.
    THREESIXTYGIVING_PREFIX = _env("FUNDAPP_360GIVING_PREFIX", "360G-metropolis")
    FUNDER_ORG_ID = _env("FUNDAPP_FUNDER_ORG_ID", f"{THREESIXTYGIVING_PREFIX}-metropolis")
    FUNDER_NAME = _env("FUNDAPP_FUNDER_NAME", "Metropolis – World Association of the Major Metropolises")
    # The JSON API: requests without a token per address; with a token, per token; refused tokens
    # per address (fundapp/api/v1.py, fundapp/accounts/tokens.py). Beyond, a 429.
    API_RATE_LIMIT = _env("FUNDAPP_API_RATE_LIMIT", "120/minute")
    API_TOKEN_REQUESTS_PER_TOKEN = _env("FUNDAPP_API_TOKEN_REQUESTS_PER_TOKEN", "300/minute")
    API_TOKEN_FAILURES_PER_ADDRESS = _env("FUNDAPP_API_TOKEN_FAILURES_PER_ADDRESS", "30/minute")
    # Templates fail on an undefined name or attribute instead of printing nothing (tests only).
    JINJA_STRICT_UNDEFINED = False

    @classmethod
    def check(cls, config):
        """Refuse configurations that are unsafe for this environment."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False
    # The demo's staff and admin accounts sign in with their printed passwords alone; set
    # FUNDAPP_MFA_REQUIRED=1 to try the enrolment production asks of them.
    MFA_REQUIRED = _env_bool("FUNDAPP_MFA_REQUIRED", False)


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SQLALCHEMY_DATABASE_URI = _database_url(
        _env("FUNDAPP_TEST_DATABASE_URL", "postgresql://postgres:postgres@127.0.0.1:5432/fundapp_test")
    )
    # "none" runs the tests as the embedded default does: jobs in-process, limits in memory.
    REDIS_URL = (
        None
        if _env("FUNDAPP_TEST_REDIS_URL") == "none"
        else _env("FUNDAPP_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    JOB_RETRY_INTERVALS = [0, 0]
    SMTP_HOST = None
    BASE_URL = "http://fundapp.test"
    JINJA_STRICT_UNDEFINED = True
    MFA_REQUIRED = False  # the tests of two-step verification turn it on


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    FORCE_HTTPS = _env_bool("FUNDAPP_FORCE_HTTPS", True)
    HSTS = True
    MFA_REQUIRED = True  # staff and admins move donors' money: never without a second factor

    @classmethod
    def check(cls, config):
        key = config.get("SECRET_KEY")
        if not key or key == DEV_SECRET_KEY or len(key) < 32:
            raise ConfigError(
                "fundapp will not start in production without a secret key: set FUNDAPP_SECRET_KEY "
                "to a long random value (for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
            )
        if not _env("FUNDAPP_DATABASE_URL"):
            raise ConfigError(
                "fundapp will not start in production on the embedded SQLite file: set "
                "FUNDAPP_DATABASE_URL to the PostgreSQL database."
            )


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_for(name=None):
    name = name or _env("FUNDAPP_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"FUNDAPP_ENV must be one of {', '.join(CONFIGS)}, not {name!r}.") from None
