"""Issue 14, items 6 and 7: axe-core (WCAG 2.1 A and AA rules) finds nothing on each role's key
pages of the demo fund, in English, French and Spanish; and every page of a city's focal point and
of a reviewer fits a 390 px wide phone without scrolling sideways (a table may scroll inside its
own box, the page may not).

axe-core comes from npm (package.json, package-lock.json): `make test` installs it into
node_modules/. The pages are found by following the links a user would follow from their home
page, so no id is written here. Building the demo fund is the slow part: one test for axe and one
for the narrow screen, each walking many pages, with one signed-in browser per role and language.
"""

import re
from pathlib import Path

import pytest

from .pages import DEMO_PASSWORDS, sign_in

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
LANGUAGES = {"en": "en-GB", "fr": "fr-FR", "es": "es-ES"}
PHONE = {"width": 390, "height": 844}

CITY = "city@fundapp.test"
REVIEWER = "reviewer@fundapp.test"
STAFF = "staff@fundapp.test"
DONOR = "donor@fundapp.test"

RUN_AXE = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    targets: v.nodes.slice(0, 3).map((n) => n.target.join(' ')),
    count: v.nodes.length,
  }));
}"""

# What sticks out past the right edge of the window, leaving out what scrolls in its own box.
OVERFLOW = """() => {
  const width = window.innerWidth;
  const scrolls = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden') return true;
    }
    return false;
  };
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  const wide = [];
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width && box.right > width + 0.5 && !scrolls(el)) wide.push(name(el) + ' (' + Math.round(box.right) + ' px)');
  }
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width, wide: wide.slice(0, 5)};
}"""


@pytest.fixture
def axe_source():
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run make test, which installs axe-core")
    return str(AXE)


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output


# -- reaching the pages ----------------------------------------------------------------------


def choose_language(page, language):
    """The language menu in the page header: for a signed-in user it saves their profile's language."""
    page.locator("#language-select").select_option(language)
    with page.expect_navigation():
        page.locator("#language-change").click()
    assert page.locator("html").get_attribute("lang") == language


def href(page, selector, *, pattern=None):
    """The first link matching `selector` (and `pattern`, on its address) on the page, or fail."""
    links = page.locator(selector)
    for i in range(links.count()):
        value = links.nth(i).get_attribute("href")
        if pattern is None or re.search(pattern, value):
            return value.split("#")[0]
    raise AssertionError(f"no link {selector} {pattern or ''} on {page.url}")


def visit(page, live_server, path):
    response = page.goto(path if path.startswith("http") else f"{live_server}{path}")
    assert response is not None and response.ok, f"{path}: {response.status if response else 'no response'}"
    return page.url.removeprefix(live_server)


def public_pages(page, live_server):
    visit(page, live_server, "/")
    call = href(page, "main section.card a", pattern=r"^/calls/[^/]+$")
    visit(page, live_server, "/funded-projects")
    project = href(page, "main h2 a", pattern=r"^/funded-projects/\d+$")
    return ["/", "/calls/", call, "/login", "/funded-projects", project, "/api/v1/docs"]


def city_pages(page, live_server):
    visit(page, live_server, "/")
    pages = ["/", href(page, "main a", pattern=r"^/members/\d+$")]  # the city's own page
    open_call = href(page, "main section.card[data-role=applicant] a", pattern=r"^/calls/[^/]+$")
    pages += ["/calls/", open_call, "/account", "/funded-projects", "/api/v1/docs"]
    pages.append(visit(page, live_server, "/applications/"))
    draft = href(page, "main table a", pattern=r"^/applications/\d+/edit$")
    pages += [draft, draft.removesuffix("/edit") + "/check"]
    # The past window's grant (Bogotá was awarded), through the city's own link, and its reports.
    visit(page, live_server, "/applications/")
    grant = visit(page, live_server, href(page, "main a[data-link=grant]"))
    pages.append(grant)
    pages.append(href(page, "main a[data-report]"))
    visit(page, live_server, "/applications/")
    submitted = href(page, "main table a", pattern=r"^/applications/\d+$")
    pages.append(submitted)
    visit(page, live_server, submitted)
    if page.locator("main a[href$='/versions']").count():
        pages.append(href(page, "main a", pattern=r"/versions$"))
    return pages


def reviewer_pages(page, live_server):
    visit(page, live_server, "/")
    pages = ["/", "/calls/", "/account", visit(page, live_server, "/reviews/")]
    links = page.locator("main table a[href^='/reviews/']")
    # Each assignment: the one being scored, the one waiting for its declaration, the submitted ones.
    pages += sorted({links.nth(i).get_attribute("href") for i in range(links.count())})
    assert len(pages) >= 6, pages
    return pages


def staff_pages(page, live_server):
    pages = ["/", visit(page, live_server, "/staff/calls")]
    links = page.locator("main table a[href^='/staff/calls/']")
    calls = sorted({links.nth(i).get_attribute("href") for i in range(links.count())})
    calls = [c for c in calls if re.fullmatch(r"/staff/calls/\d+", c)]
    assert len(calls) >= 2, calls  # the past window (decided) and the open call (in review)
    for call in calls:
        visit(page, live_server, call)
        applications = href(page, "main a", pattern=r"^/staff/calls/\d+/applications$")
        pages += [
            call,
            applications,
            href(page, "main a", pattern=r"^/staff/calls/\d+/ranking$"),
            href(page, "main a", pattern=r"^/staff/calls/\d+/reviews$"),
            href(page, "main a", pattern=r"^/staff/calls/\d+/decisions$"),
        ]
        visit(page, live_server, applications)
        pages.append(href(page, "main table a", pattern=r"^/staff/applications/\d+$"))
    return pages


def donor_pages(page, live_server):
    visit(page, live_server, "/")
    return ["/", href(page, "main a", pattern=r"^/donor-reports/\d+$"), "/donor", "/donor-reports"]


ROLES = {
    None: public_pages,
    CITY: city_pages,
    REVIEWER: reviewer_pages,
    STAFF: staff_pages,
    DONOR: donor_pages,
}


def browser_for(browser, live_server, email, language, **options):
    if email is None:
        context = browser.new_context(locale=LANGUAGES[language], timezone_id="Europe/Madrid", **options)
        context.set_default_timeout(15000)
        page = context.new_page()
        visit(page, live_server, "/")
    else:
        page = sign_in(browser, live_server, email, DEMO_PASSWORDS[email], locale=LANGUAGES[language], **options)
    choose_language(page, language)
    return page


# -- the checks --------------------------------------------------------------------------------


def test_axe_finds_no_wcag_violation_on_each_roles_pages_in_each_language(demo, axe_source, live_server, browser):
    found = []
    checked = 0
    for email, find_pages in ROLES.items():
        pages = None
        for language in LANGUAGES:
            page = browser_for(browser, live_server, email, language)
            # axe in every page this browser opens, the way Playwright adds a script before the
            # page's own: sent once, and outside the page's Content-Security-Policy (script-src
            # 'self', which refuses the inline script of page.add_script_tag).
            page.context.add_init_script(path=axe_source)
            if pages is None:
                pages = find_pages(page, live_server)
            for path in pages:
                visit(page, live_server, path)
                assert page.locator("html").get_attribute("lang") == language, path
                for v in page.evaluate(RUN_AXE, WCAG_TAGS):
                    found.append(
                        f"{email or 'signed out'} [{language}] {path}: {v['id']} ({v['impact']}, "
                        f"{v['count']} element(s)): {v['help']}\n      " + "\n      ".join(v["targets"])
                    )
                checked += 1
            page.context.close()
    assert checked >= 80, checked
    assert not found, f"{len(found)} accessibility violation(s):\n  " + "\n  ".join(found)


SCROLLING_TABLES = """() => {
  const boxes = Array.from(document.querySelectorAll('.table-scroll, main table'))
    .filter((b) => b.scrollWidth - b.clientWidth > 2 && b.scrollLeft === 0);
  const marked = boxes.filter((b) => b.classList.contains('more-right')).length;
  return {marked: marked, unmarked: boxes.length - marked};
}"""


def test_the_city_and_reviewer_pages_fit_a_390_px_phone(demo, live_server, browser):
    too_wide, unmarked = [], []
    checked = marked = 0
    for email, find_pages in ((CITY, city_pages), (REVIEWER, reviewer_pages)):
        pages = None
        for language in ("en", "fr", "es"):
            page = browser_for(browser, live_server, email, language, viewport=PHONE)
            if pages is None:
                pages = find_pages(page, live_server)
            for path in pages:
                visit(page, live_server, path)
                measured = page.evaluate(OVERFLOW)
                # A table that scrolls inside its box says so: a shadow on the edge it goes on past.
                boxes = page.evaluate(SCROLLING_TABLES)
                marked += boxes["marked"]
                if boxes["unmarked"]:
                    unmarked.append(
                        f"{email} [{language}] {path}: {boxes['unmarked']} table(s) scroll without the sign"
                    )
                if measured["scrollWidth"] > measured["innerWidth"]:
                    too_wide.append(
                        f"{email} [{language}] {path}: {measured['scrollWidth']} px wide in "
                        f"{measured['innerWidth']} px; sticking out: {', '.join(measured['wide']) or '?'}"
                    )
                checked += 1
            page.context.close()
    assert checked >= 30, checked
    assert not too_wide, "pages wider than a 390 px phone:\n  " + "\n  ".join(too_wide)
    assert marked and not unmarked, (marked, unmarked)
