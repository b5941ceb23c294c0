"""Helpers that let tests act as users do: through the pages, with real CSRF tokens."""

import re
from contextlib import contextmanager
from html import unescape

import sqlalchemy as sa

from fundapp.accounts import operations as accounts
from fundapp.extensions import db

TOKEN_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
PASSWORD = "correct horse battery"


class Client:
    """A Flask test client that fills in the CSRF token the way a browser's form would."""

    def __init__(self, app):
        self.app = app
        self.http = app.test_client()

    def get(self, url, **kwargs):
        return self.http.get(url, **kwargs)

    def csrf_token(self, url="/"):
        page = self.http.get(url).get_data(as_text=True)
        match = TOKEN_RE.search(page)
        assert match, f"no CSRF token on {url}"
        return unescape(match.group(1))

    def post(self, url, data=None, *, token_from="/", csrf=True, **kwargs):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.csrf_token(token_from))
        return self.http.post(url, data=data, **kwargs)

    def login(self, email, password=PASSWORD):
        response = self.post("/login", {"email": email, "password": password}, token_from="/login")
        assert response.status_code == 302, f"login of {email} failed: {response.status_code}"
        return response


def text(response):
    return response.get_data(as_text=True)


def make_member(name="Barcelona", country="ES", region="europe", membership="full", dues=2026):
    """A member city, created through the members operation (as staff or the CSV import would)."""
    from fundapp.members import operations as members

    return members.create_member(
        actor=None, name=name, country=country, region=region, membership=membership, dues_paid_through=dues
    )


def make_donor(short_name="SDC", name="Swiss Agency for Development and Cooperation"):
    from fundapp.funding import operations as funding

    return funding.create_donor(actor=None, name=name, short_name=short_name)


def make_user(email, *roles, member=None, donor=None, password=PASSWORD, language="en", name=None):
    return accounts.create_user(
        email=email,
        name=name or email.split("@")[0].title(),
        language=language,
        password=password,
        roles=[(r, member if r == "applicant" else None, donor if r == "donor" else None) for r in roles],
    )


def run_jobs(app):
    """Let a real RQ worker (burst mode) run every queued job; in-process mode ran them already."""
    if not app.config.get("REDIS_URL"):
        return False
    from fundapp.core.jobs import make_worker

    with app.app_context():
        return make_worker(app).work(burst=True, logging_level="WARNING")


def count(model, *where):
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


@contextmanager
def commits(app):
    """The database commits made inside the block, on every connection of the app's engine: a list
    that grows by one per commit."""
    with app.app_context():
        engine = db.engine
    made = []

    def listener(connection):
        made.append(connection)

    sa.event.listen(engine, "commit", listener)
    try:
        yield made
    finally:
        sa.event.remove(engine, "commit", listener)


def translated(app, language, message, **values):
    """`message` as a reader in `language` reads it: the catalogue's translation, with its values."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale(language):
        return gettext(message, **values)


def fewest_statements(app, client, url):
    """(the SQL statements one GET of `url` sends, its page): the fewer of two requests in a row.
    Without Redis a request now and then also gives due jobs their turn (core.jobs, at most once a
    minute); that request's extra statements are the jobs', not the page's."""
    import sqlalchemy as sa

    from fundapp.extensions import db

    counts, page = [], ""
    for _ in range(2):
        seen = []

        def count(*_args, **_kwargs):
            seen.append(1)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            response = client.get(url)
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, url
        counts.append(len(seen))
        page = text(response)
    return min(counts), page
