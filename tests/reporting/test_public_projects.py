"""The public page of funded projects (issue 17): only the projects whose lead city consented to
publication, when it accepted its grant or since on its grant page; their reports only with that
consent too and once staff approved them; withdrawn, a project leaves the page at once."""

import html
import re

import pytest
import sqlalchemy as sa

from fundapp.awards.models import Grant
from fundapp.core.errors import Refused
from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.reporting import public

from .. import factories as f
from ..helpers import fewest_statements, text, translated

pytestmark = pytest.mark.sqlite

PUBLISH_PROJECT = (
    "Publish our project on the fund's public page and in its open data: our city, the partner cities, "
    "the title, the summary, the amount, the dates and the status."
)
REPORTS_ONLY_WITH_PROJECT = (
    "The reports can be published only with the project: tick “Publish our project” too, or leave both unticked."
)
CONSENT_AT_ACCEPTANCE = "Your city says whether its project is published when it accepts the grant."
BANK = "Titular: Alcaldía Mayor de Bogotá · IBAN CO12 0123 4567 8901 2345 6789 · Banco de Bogotá · BOGOCOBB"


def _plain(page):
    return page.replace("\u202f", " ").replace("\xa0", " ")


def _offered(app, city="Bogotá", **kw):
    """An award to `city` whose letter went out: the grant is offered. (grant id, focal point's e-mail)."""
    with app.app_context():
        focal = f.focal_point(city)
        decision = f.awarded(city, focal=focal, **kw)
        return decision.grant.id, focal.email


def _published(city, *, reports=False, the_call=None, **kw):
    """`city`'s grant, accepted with its consent to publish the project (and the reports if told)."""
    focal = f.focal_point(city)
    decision = f.awarded(city, focal=focal, the_call=the_call, **kw)
    return f.s.accept(decision, focal, publish_project=True, publish_reports=reports)


def _with_approved_interim(grant, city):
    focal = f.focal_point(city)
    report = f.s.report(
        grant,
        focal,
        "interim",
        progress=f"Dos manzanas del cuidado abiertas en {city}; la tercera abre el próximo trimestre.",
        results="410 cuidadoras formadas; 1.900 personas atendidas en lavanderías comunitarias.",
        reached=(1450, 410, 25),
    )
    f.s.approve(report, f.staff())
    return report


def _listed(page):
    return [int(g) for g in re.findall(r'data-grant="(\d+)"', page)]


def _consent(app, grant_id):
    with app.app_context():
        grant = db.session.get(Grant, grant_id)
        return grant.state, grant.publish_project, grant.publish_reports


# -- consent at acceptance -------------------------------------------------------------------------


def test_the_city_consents_when_it_accepts_and_the_project_is_public(app, make_client):
    grant_id, email = _offered(app, "Bogotá", partners=["Medellín"])
    focal = make_client()
    focal.login(email)
    url = f"/grants/{grant_id}"
    page = text(focal.get(url))
    boxes = re.findall(r'<input type="checkbox" name="publish_(?:project|reports)"[^>]*>', page)
    assert len(boxes) == 2 and not any("checked" in box for box in boxes)  # unticked unless chosen
    consent = translated(app, "es", PUBLISH_PROJECT)  # Bogotá's focal point reads Spanish
    assert consent != PUBLISH_PROJECT and html.escape(consent) in page

    # Before it accepts, the project is nowhere public.
    visitor = make_client()
    assert grant_id not in _listed(text(visitor.get("/funded-projects")))
    assert visitor.get(f"/funded-projects/{grant_id}").status_code == 404

    response = focal.post(
        f"{url}/accept", {"bank_details": BANK, "publish_project": "y", "publish_reports": "y"}, token_from=url
    )
    assert response.status_code == 302
    assert _consent(app, grant_id) == ("accepted", True, True)
    with app.app_context():
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "grant.accept", AuditEntry.object_id == str(grant_id))
        )
        assert entry.after == {"state": "accepted", "publish_project": True, "publish_reports": True}

    listing = _plain(text(visitor.get("/funded-projects")))
    assert _listed(listing) == [grant_id]
    assert "Manzanas del Cuidado en Bogotá" in listing and "Medellín" in listing
    assert 'data-figure="amount">€100,000.00' in listing and 'data-state="accepted">Accepted' in listing
    detail = visitor.get(f"/funded-projects/{grant_id}")
    assert detail.status_code == 200
    assert "Servicios de cuidado cerca de casa" in text(detail) and 'id="no-reports"' in text(detail)


def test_accepting_without_ticking_publishes_nothing(app, make_client):
    grant_id, email = _offered(app, "Dakar")
    focal = make_client()
    focal.login(email)
    url = f"/grants/{grant_id}"
    assert focal.post(f"{url}/accept", {"bank_details": BANK}, token_from=url).status_code == 302
    assert _consent(app, grant_id) == ("accepted", False, False)
    visitor = make_client()
    page = text(visitor.get("/funded-projects"))
    assert _listed(page) == [] and 'id="no-projects"' in page
    assert visitor.get(f"/funded-projects/{grant_id}").status_code == 404
    with app.app_context():
        assert public.funded_projects() == ([], 0) and public.funded_project(grant_id) is None


def test_reports_without_the_project_are_refused_and_nothing_changes(app, make_client):
    grant_id, email = _offered(app, "Quito")
    focal = make_client()
    focal.login(email)
    url = f"/grants/{grant_id}"
    response = focal.post(f"{url}/accept", {"bank_details": BANK, "publish_reports": "y"}, token_from=url)
    assert response.status_code == 400
    page = text(response)
    assert html.escape(translated(app, "es", REPORTS_ONLY_WITH_PROJECT)) in page  # Quito reads Spanish
    assert BANK in page  # what was typed is kept
    assert re.search(r'name="publish_reports" value="y" id="accept-publish-reports" checked', page)
    assert _consent(app, grant_id) == ("offered", False, False)
    with app.app_context():
        assert db.session.get(Grant, grant_id).accepted_at is None
        assert not db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "grant.accept", AuditEntry.object_id == str(grant_id))
        )


def test_the_operation_refuses_reports_without_the_project(app):
    with app.app_context():
        focal = f.focal_point("Montréal")
        decision = f.awarded("Montréal", focal=focal)
        with pytest.raises(Refused, match="only with the project") as refused:
            f.s.accept(decision, focal, publish_reports=True)
        assert refused.value.field == "publish_reports"
        db.session.rollback()
        grant = db.session.get(Grant, decision.grant.id)
        assert (grant.state, grant.publish_project, grant.publish_reports) == ("offered", False, False)
        f.s.accept(decision, focal, publish_project=True)
        with pytest.raises(Refused, match="only with the project"):
            f.s.set_publication(grant, focal, publish_project=False, publish_reports=True)
        db.session.rollback()
        grant = db.session.get(Grant, grant.id)
        assert (grant.publish_project, grant.publish_reports) == (True, False)
        assert [p.grant_id for p in public.funded_projects()[0]] == [grant.id]


# -- changing the consent later ----------------------------------------------------------------------


def test_withdrawing_consent_removes_the_project_at_once(app, make_client):
    with app.app_context():
        f.call()
        grant = _published("Bogotá", reports=True)
        _with_approved_interim(grant, "Bogotá")
        other = _published("Dakar")
        grant_id, other_id = grant.id, other.id
    visitor = make_client()
    assert _listed(text(visitor.get("/funded-projects"))) == [grant_id, other_id]
    detail = text(visitor.get(f"/funded-projects/{grant_id}"))
    assert "410 cuidadoras formadas" in detail and "Dos manzanas del cuidado abiertas en Bogotá" in detail

    focal = make_client()
    focal.login("focal@bogota.example")
    url = f"/grants/{grant_id}"
    page = text(focal.get(url))
    assert 'id="publication"' in page and re.search(r'id="publication-publish-project" checked', page)
    # Reports no more: the project stays, its reports leave the page.
    focal.post(f"{url}/publication", {"publish_project": "y"}, token_from=url)
    assert _consent(app, grant_id) == ("accepted", True, False)
    detail = text(visitor.get(f"/funded-projects/{grant_id}"))
    assert "410 cuidadoras formadas" not in detail and 'id="no-reports"' in detail
    # Withdrawn: gone from the list, the page and the open data.
    response = focal.post(f"{url}/publication", {}, token_from=url, follow_redirects=True)
    assert html.escape(translated(app, "es", "Your choice is saved: the project is not published.")) in text(response)
    assert _consent(app, grant_id) == ("accepted", False, False)
    assert _listed(text(visitor.get("/funded-projects"))) == [other_id]
    assert visitor.get(f"/funded-projects/{grant_id}").status_code == 404
    assert f"/funded-projects/{grant_id}" not in text(visitor.get("/open-data/360giving.json"))
    with app.app_context():
        entries = db.session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.action == "grant.publication", AuditEntry.object_id == str(grant_id))
            .order_by(AuditEntry.id)
        ).all()
        assert [e.after for e in entries] == [
            {"publish_project": True, "publish_reports": False},
            {"publish_project": False, "publish_reports": False},
        ]
    # Given again: back on the page.
    focal.post(f"{url}/publication", {"publish_project": "y", "publish_reports": "y"}, token_from=url)
    assert _listed(text(visitor.get("/funded-projects"))) == [grant_id, other_id]


def test_another_city_or_a_partner_cannot_change_the_consent(app, make_client):
    with app.app_context():
        f.call()
        grant = _published("Bogotá", partners=["Medellín"])
        grant_id = grant.id
        f.focal_point("Montevideo")
        f.focal_point("Medellín")
    for email in ("focal@montevideo.example", "focal@medellin.example"):
        someone = make_client()
        someone.login(email)
        response = someone.post(f"/grants/{grant_id}/publication", {}, token_from="/")
        assert response.status_code == 404, email
    assert make_client().post(f"/grants/{grant_id}/publication", {}, token_from="/").status_code in (302, 401)
    assert _consent(app, grant_id) == ("accepted", True, False)
    with app.app_context():
        grant = db.session.get(Grant, grant_id)
        for email in ("focal@montevideo.example", "focal@medellin.example", "staff@fund.example"):
            actor = f.accounts.find_user_by_email(email)
            with pytest.raises(Refused, match="Only the lead city"):
                f.s.set_publication(grant, actor, publish_project=False)
            db.session.rollback()
            grant = db.session.get(Grant, grant_id)
        assert grant.publish_project is True
        assert not db.session.scalar(
            sa.select(sa.func.count()).select_from(AuditEntry).where(AuditEntry.action == "grant.publication")
        )


def test_consent_is_changed_only_on_an_accepted_grant(app, make_client):
    grant_id, email = _offered(app, "Quito")
    focal = make_client()
    focal.login(email)
    url = f"/grants/{grant_id}"
    assert 'id="publication"' not in text(focal.get(url))
    response = focal.post(f"{url}/publication", {"publish_project": "y"}, token_from=url)
    assert response.status_code == 400
    assert html.escape(translated(app, "es", CONSENT_AT_ACCEPTANCE)) in text(response)
    assert _consent(app, grant_id) == ("offered", False, False)


# -- which grants are real ---------------------------------------------------------------------------


def test_offered_declined_and_cancelled_grants_are_never_listed_but_closed_ones_are(app, make_client):
    with app.app_context():
        f.call()
        offered = f.awarded("Quito").grant
        declined = f.declined("Montréal")
        cancelled = _published("Dakar")
        f.s.awards.cancel_grant(cancelled, actor=f.staff(), reason="La ville a renoncé au projet.")
        closed = _published("Bogotá")
        f.s.awards.close_grant(closed, actor=f.staff(), reason="Project finished early with its own funds.")
        ids = {"offered": offered.id, "declined": declined.id, "cancelled": cancelled.id, "closed": closed.id}
    visitor = make_client()
    page = text(visitor.get("/funded-projects"))
    assert _listed(page) == [ids["closed"]] and 'data-state="closed">Closed' in page
    for name in ("offered", "declined", "cancelled"):
        assert visitor.get(f"/funded-projects/{ids[name]}").status_code == 404, name


# -- the page in three languages, its filter and its pages ---------------------------------------


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_page_reads_in_french_and_spanish(app, make_client, language):
    with app.app_context():
        f.call()
        grant_id = _published("Dakar").id
    visitor = make_client()
    visitor.post("/language", {"language": language})
    page = _plain(text(visitor.get("/funded-projects")))
    assert f'<html lang="{language}">' in page
    for message in ("Funded projects", "Amount awarded", "Status", "All calls", "Call for proposals"):
        assert translated(app, language, message) in page, message
    amount = "100 000,00 €" if language == "fr" else "100.000,00 €"
    assert f'data-figure="amount">{amount}' in page
    detail = _plain(text(visitor.get(f"/funded-projects/{grant_id}")))
    for message in ("Lead city", "Partner cities", "Amount awarded", "Reports"):
        assert translated(app, language, message) in detail, message
    assert translated(app, language, "No report of this project is published.") in detail


def test_the_call_filter_and_the_pages(app, make_client):
    app.config["PAGE_SIZE"] = 2
    with app.app_context():
        first = f.call("LCS-2025", envelope={"SDC": 400_000_00, "OSF": 100_000_00})
        second = f.call(
            "UCO-2026",
            envelope={"SDC": 300_000_00},
            title={
                "en": "Urban care for older people 2026",
                "fr": "Soins urbains aux personnes âgées 2026",
                "es": "Cuidados urbanos para personas mayores 2026",
            },
        )
        a = _published("Bogotá", the_call=first).id
        b = _published("Dakar", the_call=first).id
        c = _published("São Paulo", the_call=second).id
        first_id, second_id = first.id, second.id
    visitor = make_client()
    page = text(visitor.get("/funded-projects"))
    assert _listed(page) == [a, b] and "Page 1 of 2" in page and "3 results" in page
    assert f'<option value="{first_id}">' in page and f'<option value="{second_id}">UCO-2026' in page
    assert _listed(text(visitor.get("/funded-projects?page=2"))) == [c]
    assert _listed(text(visitor.get("/funded-projects?page=99"))) == [c]  # beyond the last: the last
    only = text(visitor.get(f"/funded-projects?call={second_id}"))
    assert _listed(only) == [c] and f'<option value="{second_id}" selected>' in only
    assert "Urban care for older people 2026" in only
    assert _listed(text(visitor.get(f"/funded-projects?call={first_id}"))) == [a, b]
    empty = text(visitor.get("/funded-projects?call=999999"))
    assert _listed(empty) == [] and "No project of this call is published yet." in empty
    assert visitor.get("/funded-projects?call=mucho").status_code == 200  # unreadable: every call


def _statements(app, client, url):
    return fewest_statements(app, client, url)


CITIES = ["Bogotá", "Dakar", "Montréal", "São Paulo", "Quito"]


def test_the_page_costs_the_same_queries_for_one_project_or_five(app, make_client):
    with app.app_context():
        f.call()
        grant = _published(CITIES[0], reports=True, partners=["Medellín"])
        _with_approved_interim(grant, CITIES[0])
    visitor = make_client()
    visitor.get("/funded-projects")  # the session's first request
    one, page = _statements(app, visitor, "/funded-projects")
    assert len(_listed(page)) == 1 and "1 report published" in page
    with app.app_context():
        for city in CITIES[1:]:
            grant = _published(city, reports=True, partners=["Abidjan", "Lisbon"])
            _with_approved_interim(grant, city)
    five, page = _statements(app, visitor, "/funded-projects")
    assert len(_listed(page)) == 5 and page.count("1 report published") == 5 and "Abidjan, Lisbon" in page
    assert five == one
    detail_one, _ = _statements(app, visitor, f"/funded-projects/{_listed(page)[0]}")
    detail_five, _ = _statements(app, visitor, f"/funded-projects/{_listed(page)[-1]}")
    assert detail_one == detail_five


def test_the_public_calls_page_and_the_footer_link_to_the_projects(app, make_client):
    visitor = make_client()
    page = text(visitor.get("/calls/"))
    assert 'id="funded-projects-link"' in page and page.count('href="/funded-projects"') == 2
