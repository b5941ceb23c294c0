"""fundapp: grant management for the International Fund for Metropolises."""

import logging
from pathlib import Path

import jinja2
from flask import Flask, render_template, request
from flask_talisman import Talisman
from flask_wtf.csrf import CSRFError
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ConfigError, config_for

from .extensions import babel, csrf, db, limiter, migrate

ROOT = Path(__file__).resolve().parent.parent

CSP = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "style-src": "'self'",
    "script-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def create_app(config_name=None, overrides=None):
    config_class = config_for(config_name)
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
        instance_relative_config=False,
    )
    app.config.from_object(config_class)
    if overrides:
        app.config.update(overrides)
    config_class.check(app.config)
    if app.config.get("JINJA_STRICT_UNDEFINED"):
        # A template that reads a name or attribute nobody gave it fails loudly, not blank.
        app.jinja_env.undefined = jinja2.StrictUndefined
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        # Only the last `proxies` hops of X-Forwarded-* are believed: with none (the default), a
        # client cannot forge the address the sign-in limiter counts.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    from .core import inputs, transactions

    transactions.init_app(app)  # first: every request is one transaction (core/transactions.py)
    inputs.init_app(app)  # before the blueprints: their routes use its `int` converter
    _init_extensions(app)
    _register_template_globals(app)
    _register_blueprints(app)
    _register_error_pages(app)
    _register_cli(app)
    return app


def _init_extensions(app):
    from .core import i18n, jobs

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.viewer_timezone)
    app.config["RATELIMIT_STORAGE_URI"] = app.config.get("RATELIMIT_STORAGE_URI") or (
        app.config.get("REDIS_URL") or "memory://"
    )
    limiter.init_app(app)
    # One Talisman per app: it keeps its settings on the instance.
    Talisman(
        app,
        force_https=app.config["FORCE_HTTPS"],
        strict_transport_security=app.config["HSTS"],
        strict_transport_security_max_age=31536000,
        session_cookie_secure=app.config["SESSION_COOKIE_SECURE"],
        session_cookie_http_only=True,
        frame_options="DENY",
        content_security_policy=CSP,
        referrer_policy="same-origin",
    )

    from .accounts import auth

    auth.init_login(app)
    i18n.init_app(app)
    jobs.init_app(app)
    _import_models_and_jobs()


def _import_models_and_jobs():
    # Models must be known to the metadata (migrations) and jobs to the registry (workers).
    import importlib

    for module in (
        "accounts.models",
        "applications.models",
        "applications.operations",
        "calls.models",
        "calls.operations",
        "core.mail",
        "core.models",
        "funding.models",
        "members.models",
    ):
        importlib.import_module(f"{__name__}.{module}")


def _register_template_globals(app):
    """Labels that templates of several features show (a review shows an application's dimensions and
    budget, a donor report its regions): given once to every template, never by one blueprint."""
    from .applications.models import BUDGET_CATEGORIES, DIMENSIONS
    from .calls.models import INDICATOR_PARTS
    from .core.notices import notice_message
    from .members.models import REGIONS

    app.jinja_env.globals.update(
        dimension_labels=DIMENSIONS,
        category_labels=BUDGET_CATEGORIES,
        region_labels=REGIONS,
        indicator_parts=INDICATOR_PARTS,
        notice_message=notice_message,
    )


def _register_blueprints(app):
    from .accounts.routes import bp as accounts_bp
    from .applications.routes import bp as applications_bp
    from .awards.routes import bp as awards_bp
    from .calls.routes import bp as calls_bp
    from .core.routes import bp as core_bp
    from .funding.routes import bp as funding_bp
    from .home.routes import bp as home_bp
    from .members.routes import bp as members_bp
    from .reporting.routes import bp as reporting_bp
    from .reviews.routes import bp as reviews_bp

    app.register_blueprint(core_bp)
    app.register_blueprint(home_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(members_bp)
    app.register_blueprint(calls_bp)
    app.register_blueprint(funding_bp)
    app.register_blueprint(applications_bp)
    app.register_blueprint(reviews_bp)
    app.register_blueprint(awards_bp)
    app.register_blueprint(reporting_bp)

    from . import api

    api.init_app(app)


def _register_error_pages(app):
    def page(code, template="errors/error.html", **context):
        def handler(error):
            if code == 500:
                db.session.rollback()
            if request.path.startswith("/api/"):
                # The JSON API answers JSON, even where no route of it matched (fundapp/api/v1.py).
                from .api.v1 import json_error_for_api_paths

                return json_error_for_api_paths(code, request.path)
            return render_template(template, code=code, error=error, csrf=False, **context), code

        return handler

    for code in (400, 403, 404, 405, 413, 429, 500):
        app.register_error_handler(code, page(code))

    @app.errorhandler(CSRFError)
    def csrf_error(error):
        return render_template("errors/error.html", code=400, error=error, csrf=True), 400

    @app.after_request
    def _no_store_for_signed_in(response):
        # Pages with a city's data must not be kept by shared caches or the back button after logout.
        if request.endpoint and request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response


def _register_cli(app):
    from .cli import fund_cli, users_cli

    app.cli.add_command(fund_cli)
    app.cli.add_command(users_cli)


__all__ = ["create_app", "ConfigError"]
