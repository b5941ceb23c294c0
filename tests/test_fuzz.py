"""Hostile input never gives a server error, and a refusal never leaves a change half-written.

On the demo fund, as every demo role and anonymously: each page the role can reach is fetched
with hostile path ids and query arguments, and each form the role is shown is posted back (with
its real CSRF token) with hostile values that hypothesis draws for every field: NUL and other
control characters, numbers beyond the database's range, amounts with three decimals, dates in
year 1 and 9999, formulas, very long text. The test fails on any exception or 5xx, and on any
4xx answer after which the audit log (written in the same transaction as every change) grew.
"""

import io
import re
from collections import deque
from html import unescape
from urllib.parse import parse_qsl, urldefrag, urlencode, urlsplit

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fundapp.core.models import AuditEntry
from fundapp.demo import DEMO_USERS
from fundapp.extensions import db

from .test_crawl import links, shape

HUGE = ["2147483648", "9223372036854775808", "99999999999999999999", "-1", "0"]
HOSTILE = [
    "",
    "\x00",
    "Bogot\x00á",
    "\x01\x02\x1b[31m",
    "0.001",
    "1,000.001",
    "1e999",
    "9E+9999999999",
    "NaN",
    "-Infinity",
    "-100000",
    *HUGE,
    "１２３",
    "٣٤٥",
    "0001-01-01",
    "9999-12-31",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "2026-02-30",
    '=HYPERLINK("http://evil.example","clic")',
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "../../etc/passwd",
    "\u202egnp.exe",
    "x" * 70_000,
    "on",
    "fund",
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=40),
)
FILES = st.sampled_from(
    [
        (b"", "empty.pdf"),
        (b"\x00" * 64, "nul.pdf"),
        (b"PK\x03\x04" + b"\x00" * 60, "broken.docx"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", "tiny.pdf"),
        (b"name,country\nBarcelona\x00,ES\n", "members.csv"),
    ]
)

FORM_RE = re.compile(r"<form\b([^>]*)>(.*?)</form>", re.S | re.I)
ATTR_RE = re.compile(r'(\w[\w-]*)="([^"]*)"')
FIELD_RE = re.compile(r"<(input|select|textarea)\b([^>]*)>", re.I)
PAGES_PER_ROLE = 60
SKIP = ("/static/", "/logout", "/account/password")


def _forms(html, url):
    """[(action, {name: type})] of the POST forms on a page."""
    found = []
    for attrs, body in FORM_RE.findall(html):
        a = dict(ATTR_RE.findall(attrs))
        if a.get("method", "get").lower() != "post":
            continue
        action = unescape(a.get("action") or url)
        if action.startswith(SKIP):
            continue
        fields = {}
        for tag, field_attrs in FIELD_RE.findall(body):
            f = dict(ATTR_RE.findall(field_attrs))
            if f.get("name") and f["name"] != "csrf_token":
                fields[f["name"]] = "file" if f.get("type") == "file" else tag
        found.append((action, fields))
    return found


def _walk(client):
    """The pages (GET) and forms (POST) a role meets from its home page."""
    queue, seen, shapes, pages, forms = deque(["/"]), {"/"}, {}, [], {}
    while queue and len(pages) < PAGES_PER_ROLE:
        url = queue.popleft()
        response = client.get(url)
        pages.append(url)
        if not response.content_type.startswith("text/html"):
            continue
        html = response.get_data(as_text=True)
        for action, fields in _forms(html, url):
            forms.setdefault((shape(action), tuple(sorted(fields))), (action, fields, url))
        for link in links(html, url):
            if link not in seen and not link.startswith(SKIP) and shapes.get(shape(link), 0) < 1:
                seen.add(link)
                shapes[shape(link)] = 1
                queue.append(link)
    return pages, list(forms.values())


def _hostile_urls(url):
    parts = urlsplit(urldefrag(url)[0])
    segments = parts.path.split("/")
    for i, segment in enumerate(segments):
        if segment.isdigit():
            for value in HUGE[:3]:
                yield "/".join(segments[:i] + [value] + segments[i + 1 :])
        elif segment:
            yield "/".join(segments[:i] + ["%00" + segment] + segments[i + 1 :])
    query = dict(parse_qsl(parts.query))
    for key in set(query) | {"page", "q", "status", "format", "sort"}:
        for value in ("99999999999999999999", "-3", "\x00", "x" * 3000):
            yield parts.path + "?" + urlencode({**query, key: value})


# A draft keeps every valid field even when others are refused (the page answers 400 and shows
# why next to each refused field): those saves are the design, not a half-written change.
DRAFT_SAVES = ("application.save", "review.save")


def _changes(app):
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                AuditEntry.action.notlike("user.login%"), AuditEntry.action.notin_(DRAFT_SAVES)
            )
        )


def _check(app, failures, role, method, url, call):
    before = _changes(app)
    try:
        response = call()
    except Exception as error:  # in testing mode a server error is raised, not answered
        failures.append(f"{role}: {method} {url[:120]} raised {type(error).__name__}: {str(error)[:200]}")
        with app.app_context():
            db.session.rollback()
        return
    if response.status_code >= 500:
        failures.append(f"{role}: {method} {url[:120]} answered {response.status_code}")
    elif 400 <= response.status_code < 500 and response.status_code != 429 and _changes(app) != before:
        failures.append(f"{role}: {method} {url[:120]} refused ({response.status_code}) but changed the data")


@pytest.fixture
def demo_fund(app):
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output


ROLES = [None] + [u["email"] for u in DEMO_USERS]


@pytest.mark.parametrize("email", ROLES, ids=[e or "anonymous" for e in ROLES])
def test_hostile_input_on_every_page_and_form_gives_no_server_error(app, demo_fund, make_client, email):
    app.config.update(LOGIN_LIMIT_PER_ACCOUNT="1000 per minute", LOGIN_LIMIT_PER_ADDRESS="1000 per minute")
    client = make_client()
    role = email or "anonymous"

    def signed_in():
        """Sign in again when a form ended this browser's session (a role may end its own)."""
        if email and client.get("/account").status_code != 200:
            client.login(email, next(u["password"] for u in DEMO_USERS if u["email"] == email))

    signed_in()
    pages, forms = _walk(client)
    assert len(pages) > (1 if email is None else 5)
    failures = []
    for page in pages:
        for url in _hostile_urls(page):
            _check(app, failures, role, "GET", url, lambda url=url: client.get(url))

    for action, fields, origin in forms:

        @settings(
            max_examples=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(
            st.fixed_dictionaries(
                {}, optional={name: FILES if kind == "file" else VALUES for name, kind in fields.items()}
            )
        )
        def post(data):
            signed_in()
            payload = {k: (io.BytesIO(v[0]), v[1]) if isinstance(v, tuple) else v for k, v in data.items()}
            _check(
                app,
                failures,
                role,
                "POST",
                action,
                lambda: client.post(action, payload, token_from=origin, content_type="multipart/form-data"),
            )

        post()
        signed_in()
        for hostile in _hostile_urls(action):
            if "?" not in hostile:
                _check(app, failures, role, "POST", hostile, lambda h=hostile: client.post(h, {}, token_from=origin))
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(dict.fromkeys(failures))
