"""Every page, every role, on the demo fund.

The demo fund is built through the operations (`flask fund demo`): a past window run to its
end and the open call. As each demo account (and anonymously) the test follows every link it can
reach from its home page inside the app, GET only, each URL once, and fails on any server or
template error, naming the page, the role and the page that linked to it.
"""

import re
from collections import deque
from html import unescape
from urllib.parse import urldefrag, urlsplit

import pytest

from fundapp.demo import DEMO_USERS

pytestmark = pytest.mark.sqlite

HREF_RE = re.compile(r'href="([^"]+)"')
# Pages of one shape (the same path with other ids, the same query keys) visited at most this often:
# enough to meet every kind of object, bounded on any amount of data.
PER_SHAPE = 3
MAX_PAGES = 400
SKIP_PREFIXES = ("/static/", "/logout")


def shape(url):
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", parts.path)
    keys = sorted({pair.split("=", 1)[0] for pair in parts.query.split("&") if pair})
    return path, tuple(keys)


def links(page, base):
    for raw in HREF_RE.findall(page):
        url = urldefrag(unescape(raw))[0]
        if not url or url.startswith(("mailto:", "tel:", "javascript:")):
            continue
        if url.startswith(("http://", "https://", "//")):
            parts = urlsplit(url)
            if parts.netloc not in ("localhost", "fundapp.test", "127.0.0.1:5000"):
                continue  # another site
            url = parts.path + (f"?{parts.query}" if parts.query else "")
        if not url.startswith("/"):
            url = base.rsplit("/", 1)[0] + "/" + url
        if url.startswith(SKIP_PREFIXES):
            continue
        yield url


def crawl(client, role):
    """Visit what `client` can reach from the home page; returns (pages visited, failures)."""
    queue, seen, shapes, failures, visited = deque([("/", None)]), {"/"}, {}, [], 0
    while queue and visited < MAX_PAGES:
        url, referrer = queue.popleft()
        visited += 1
        try:
            response = client.get(url)
        except Exception as error:  # a template or view error raised in testing mode
            failures.append(f"{role}: {url} (linked from {referrer}) raised {type(error).__name__}: {error}")
            continue
        if response.status_code >= 500:
            failures.append(f"{role}: {url} (linked from {referrer}) answered {response.status_code}")
            continue
        if not response.content_type.startswith("text/html"):
            continue
        page = response.get_data(as_text=True)
        if "maxlength" in page:  # a browser cuts typed or pasted text there without a word
            failures.append(f"{role}: {url} (linked from {referrer}) has a field with a maxlength")
        for link in links(page, url):
            if link in seen:
                continue
            seen.add(link)
            key = shape(link)
            if shapes.get(key, 0) >= PER_SHAPE:
                continue
            shapes[key] = shapes.get(key, 0) + 1
            queue.append((link, url))
    return visited, failures


@pytest.fixture
def demo_fund(app):
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output


def test_every_page_reachable_by_every_demo_role_answers_without_error(app, demo_fund, make_client):
    failures, report = [], {}
    accounts = [(None, None)] + [(u["email"], u["password"]) for u in DEMO_USERS]
    for email, password in accounts:
        client = make_client()
        if email:
            client.login(email, password)
        role = email or "anonymous"
        visited, found = crawl(client, role)
        report[role] = visited
        failures.extend(found)
    assert not failures, "\n".join(failures)
    # The crawl really walked the fund: each signed-in role reaches well beyond its home page.
    assert all(count > 5 for role, count in report.items() if role != "anonymous"), report
    # Every action the demo's past and this crawl wrote to the audit log has a name in the
    # reader's language (the log shows the name above the code).
    import sqlalchemy as sa

    from fundapp.core import audit
    from fundapp.core.models import AuditEntry
    from fundapp.extensions import db

    with app.app_context():
        actions = set(db.session.scalars(sa.select(AuditEntry.action).distinct()))
        object_types = set(db.session.scalars(sa.select(AuditEntry.object_type).distinct())) - {"-"}
    assert len(actions) > 30
    assert not {a for a in actions if audit.action_label(a) == a}, "audit actions without a name"
    # And every kind of object they were written about (the log names it, and links its page).
    assert len(object_types) > 10
    named = {code for code, _label in audit.named_object_types()}
    assert not object_types - named, "audit objects without a name"


def test_the_crawl_finds_a_broken_page(app, demo_fund, make_client, monkeypatch):
    """The crawl is not blind: a page that fails is reported with its role and where it was linked."""
    import fundapp.home.routes as home_routes

    def broken(*args, **kwargs):
        raise RuntimeError("deliberately broken")

    monkeypatch.setattr(home_routes, "home_figures", broken)
    client = make_client()
    _visited, failures = crawl(client, "anonymous")
    assert failures and "anonymous: / " in failures[0] and "deliberately broken" in failures[0]
