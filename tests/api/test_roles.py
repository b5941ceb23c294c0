"""Each role sees through the API exactly what it sees on the pages (the same objects), and the
API's refusals: 401 for a missing, wrong, revoked or expired token, 400 naming the parameter, 429."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from fundapp.accounts import operations as accounts
from fundapp.accounts.models import AccessToken
from fundapp.applications.models import Application
from fundapp.awards.models import Grant
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db
from fundapp.reviews.models import Assignment
from tests import factories as f
from tests.api import fund as fx
from tests.helpers import Client, make_user, text, translated

VISIBLE = (200, 302)  # staff opening a city's page are sent on to the staff page of it


@pytest.fixture
def fund(app):
    with app.app_context():
        built = fx.build()
        ids = {
            "applications": set(db.session.scalars(sa.select(Application.id))),
            "grants": set(db.session.scalars(sa.select(Grant.id))),
        }
        people = {
            "staff": built.staff,
            "lead": f.focal_point("Bogotá"),
            "partner": f.focal_point("Medellín"),
            "untold": f.focal_point("Lisbon"),
            "reviewer": built.reviewer,
            "donor": built.donor_officer,
            # Lisbon's focal point who is also an officer of the Swiss donor: as a city not yet told
            # of its award, as the donor's officer shown the grants the donor pays.
            "untold_donor": make_user(
                "financas.doadora@lisboa.example",
                "applicant",
                "donor",
                member=built.lisbon.member,
                donor=f.fund()["SDC"].donor,
                name="Inês Conceição",
            ),
        }
        tokens = {role: fx.token(user) for role, user in people.items()}
        emails = {role: user.email for role, user in people.items()}
        reviews = {
            a.id: a.application_id
            for a in db.session.scalars(sa.select(Assignment).where(Assignment.reviewer_id == built.reviewer.id))
        }
        n = {
            "bogota": built.bogota.id,
            "quito": built.quito.id,
            "dakar": built.dakar.id,
            "lisbon": built.lisbon.id,
            "montreal": built.montreal.id,
            "call": built.call.id,
            "bogota_grant": built.grants["Bogotá"].id,
            "lisbon_grant": built.grants["Lisbon"].id,
        }
    return {"n": n, "ids": ids, "tokens": tokens, "emails": emails, "reviews": reviews}


def _api_ids(client, url, raw):
    response = client.get(url, headers=fx.bearer(raw))
    assert response.status_code == 200, text(response)
    body = response.get_json()
    assert body["total"] == len(body["items"])
    return {item["id"] for item in body["items"]}


def _signed_in(app, email):
    client = Client(app)
    client.login(email)
    return client


@pytest.mark.parametrize("role", ["staff", "lead", "partner", "untold", "untold_donor", "reviewer", "donor"])
def test_each_role_opens_through_the_api_exactly_what_it_opens_on_the_pages(app, fund, role):
    raw = fund["tokens"][role]
    pages = _signed_in(app, fund["emails"][role])
    api = app.test_client()

    for kind, page_url in (("applications", "/applications/{}"), ("grants", "/grants/{}")):
        listed = _api_ids(api, f"/api/v1/{kind}", raw)
        opened_by_api, opened_on_pages = set(), set()
        for ident in sorted(fund["ids"][kind]):
            answer = api.get(f"/api/v1/{kind}/{ident}", headers=fx.bearer(raw))
            assert answer.status_code in (200, 404), (kind, ident)
            if answer.status_code == 200:
                opened_by_api.add(ident)
                assert answer.get_json()["id"] == ident
            else:
                assert answer.get_json()["error"]["status"] == 404
            if pages.get(page_url.format(ident)).status_code in VISIBLE:
                opened_on_pages.add(ident)
        if role == "reviewer" and kind == "applications":
            # A reviewer reads applications on their review pages, never on the city's page.
            assert opened_on_pages == set()
            opened_on_pages = {
                application_id
                for assignment_id, application_id in fund["reviews"].items()
                if "/declare" not in text(pages.get(f"/reviews/{assignment_id}"))
            }
        assert listed == opened_by_api == opened_on_pages, (role, kind)


def test_the_lists_hold_what_each_role_is_expected_to_see(app, fund):
    n, tokens = fund["n"], fund["tokens"]
    api = app.test_client()
    submitted = {n["bogota"], n["quito"], n["dakar"], n["lisbon"]}
    assert _api_ids(api, "/api/v1/applications", tokens["staff"]) == submitted
    assert n["montreal"] not in submitted  # a draft stays the city's own
    assert _api_ids(api, "/api/v1/applications", tokens["lead"]) == {n["bogota"]}
    assert _api_ids(api, "/api/v1/applications", tokens["partner"]) == {n["bogota"]}
    assert _api_ids(api, "/api/v1/applications", tokens["donor"]) == set()
    assert _api_ids(api, "/api/v1/applications", tokens["reviewer"]) == {
        n["bogota"],
        n["quito"],
        n["lisbon"],
    }
    bogota_grant, lisbon_grant = n["bogota_grant"], n["lisbon_grant"]
    assert _api_ids(api, "/api/v1/grants", tokens["staff"]) == {bogota_grant, lisbon_grant}
    assert _api_ids(api, "/api/v1/grants", tokens["lead"]) == {bogota_grant}
    assert _api_ids(api, "/api/v1/grants", tokens["untold"]) == set()  # the letter is not sent
    assert _api_ids(api, "/api/v1/grants", tokens["donor"]) == {bogota_grant, lisbon_grant}
    # Untold as Lisbon's city, the same person sees Lisbon's grant as the Swiss donor's officer,
    # through the API as on the grant's page (both read the one rule).
    assert _api_ids(api, "/api/v1/grants", tokens["untold_donor"]) == {bogota_grant, lisbon_grant}
    assert _signed_in(app, fund["emails"]["untold_donor"]).get(f"/grants/{lisbon_grant}").status_code == 200
    # The lead city reads the state it is told; staff the workflow's.
    lisbon = api.get(f"/api/v1/applications/{n['lisbon']}", headers=fx.bearer(tokens["staff"])).get_json()
    assert lisbon["state"] == "awarded"
    mine = api.get("/api/v1/applications?state=awarded", headers=fx.bearer(tokens["untold"])).get_json()
    assert mine["items"] == []  # Lisbon's decision is not told yet
    told = api.get("/api/v1/applications?state=reviewed", headers=fx.bearer(tokens["untold"])).get_json()
    assert [(item["id"], item["state"]) for item in told["items"]] == [(n["lisbon"], "reviewed")]
    assert told["total"] == 1
    theirs = api.get("/api/v1/applications?state=awarded", headers=fx.bearer(tokens["lead"])).get_json()
    assert [(item["id"], item["state"]) for item in theirs["items"]] == [(n["bogota"], "awarded")]


def test_the_city_list_page_and_the_api_list_the_same_applications(app, fund):
    pages = _signed_in(app, fund["emails"]["lead"])
    page = text(pages.get("/applications/"))
    on_page = {int(n) for n in re.findall(r'href="/applications/(\d+)(?:/edit)?"', page)}
    assert on_page == _api_ids(app.test_client(), "/api/v1/applications", fund["tokens"]["lead"])
    # The Spanish focal point's API errors are in Spanish.
    answer = app.test_client().get("/api/v1/grants/999999", headers=fx.bearer(fund["tokens"]["lead"]))
    assert answer.get_json()["error"]["message"] == translated(app, "es", "Not found.")


def test_review_summary_and_donor_figures_follow_the_pages_rules(app, fund):
    n, tokens = fund["n"], fund["tokens"]
    api = app.test_client()
    url = f"/api/v1/calls/{n['call']}/review-summary"
    summary = api.get(url, headers=fx.bearer(tokens["staff"])).get_json()
    assert [row["application_id"] for row in summary["ranked"]][:1] in ([n["bogota"]], [n["lisbon"]])
    assert all(row["reviews_scored"] == 3 for row in summary["ranked"])
    for role in ("lead", "partner", "reviewer", "donor"):
        assert api.get(url, headers=fx.bearer(tokens[role])).status_code == 404
    with app.app_context():
        sdc = f.fund()["SDC"].donor.id
        osf = f.fund()["OSF"].donor.id
    mine = api.get(f"/api/v1/donor-figures?donor_id={sdc}", headers=fx.bearer(tokens["donor"]))
    assert mine.status_code == 200 and mine.get_json()["contributed_cents"] == 700_000_00
    assert api.get(f"/api/v1/donor-figures?donor_id={osf}", headers=fx.bearer(tokens["donor"])).status_code == 404
    assert api.get(f"/api/v1/donor-figures?donor_id={sdc}", headers=fx.bearer(tokens["lead"])).status_code == 404
    backwards = api.get(
        f"/api/v1/donor-figures?donor_id={sdc}&start=2025-06-01&end=2025-01-01", headers=fx.bearer(tokens["staff"])
    )
    assert backwards.status_code == 400 and backwards.get_json()["error"]["field"] == "end"
    too_wide = api.get(f"/api/v1/donor-figures?donor_id={sdc}&start=1900-01-01", headers=fx.bearer(tokens["staff"]))
    assert too_wide.status_code == 400 and too_wide.get_json()["error"] == {
        "status": 400,
        "message": "“start” is not accepted: Give a date between 2000 and 2100.",
        "field": "start",
    }
    too_late = api.get(f"/api/v1/donor-figures?donor_id={sdc}&end=2101-01-01", headers=fx.bearer(tokens["staff"]))
    assert too_late.status_code == 400 and too_late.get_json()["error"]["field"] == "end"


def test_anonymous_sees_public_calls_and_nothing_else(app, fund):
    api = app.test_client()
    calls = api.get("/api/v1/calls").get_json()
    assert [c["code"] for c in calls["items"]] == ["LCS-2025"]
    for url in ("/api/v1/applications", "/api/v1/grants", f"/api/v1/applications/{fund['n']['bogota']}"):
        answer = api.get(url)
        assert answer.status_code == 401
        assert answer.get_json()["error"]["status"] == 401
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_session_cookie_is_not_a_token(app, fund):
    pages = _signed_in(app, fund["emails"]["staff"])
    assert pages.get("/api/v1/applications").status_code == 401


def test_wrong_revoked_and_expired_tokens_are_401_with_a_json_body(app, fund):
    api = app.test_client()
    raw = fund["tokens"]["lead"]
    with app.app_context():
        lead = accounts.find_user_by_email(fund["emails"]["lead"])
        revoked_raw = fx.token(lead, name="revoked")
        with clock_at(utcnow() - timedelta(days=31)):  # made 31 days ago for 30 days: it has expired
            expired_raw = fx.token(lead, days=30, name="expired")
        revoked = db.session.scalar(sa.select(AccessToken).where(AccessToken.name == "revoked"))
        accounts.revoke_access_token(revoked, actor=lead)
    for bad in ("fa_" + "x" * 43, "nonsense", revoked_raw, expired_raw, raw[:-1] + ("A" if raw[-1] != "A" else "B")):
        answer = api.get("/api/v1/calls", headers=fx.bearer(bad))
        assert answer.status_code == 401, bad
        assert answer.mimetype == "application/json"
        assert answer.get_json()["error"]["message"]
    assert api.get("/api/v1/calls", headers={"Authorization": "Basic abc"}).status_code == 401
    assert api.get("/api/v1/calls", headers=fx.bearer(raw)).status_code == 200


@pytest.mark.parametrize(
    "query, field",
    [("page=0", "page"), ("per_page=1000", "per_page"), ("state=bogus", "state"), ("call_id=abc", "call_id")],
)
def test_bad_parameters_are_400_naming_the_field(app, fund, query, field):
    answer = app.test_client().get(f"/api/v1/applications?{query}", headers=fx.bearer(fund["tokens"]["staff"]))
    assert answer.status_code == 400
    assert answer.get_json()["error"] == {
        "status": 400,
        "message": answer.get_json()["error"]["message"],
        "field": field,
    }


def test_a_page_beyond_the_last_is_empty_not_an_error(app, fund):
    answer = app.test_client().get(
        "/api/v1/applications?page=99&per_page=2", headers=fx.bearer(fund["tokens"]["staff"])
    )
    assert answer.status_code == 200
    assert answer.get_json() == {"items": [], "page": 99, "per_page": 2, "total": 4}


def test_anonymous_requests_are_throttled_with_a_json_429(app, fund):
    app.config["API_RATE_LIMIT"] = "3/minute"
    api = app.test_client()
    statuses = [api.get("/api/v1/calls").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    answer = api.get("/api/v1/calls")
    assert answer.status_code == 429
    assert answer.get_json()["error"]["status"] == 429


def test_anyone_sees_through_the_api_the_funded_projects_the_public_page_shows(app):
    """The public page and the API list the same published projects, with the same reports; a grant
    not published (no consent, consent withdrawn, not accepted) is a 404 on both."""
    with app.app_context():
        the_call = f.call()
        staff = f.staff()
        published = {}
        for city, reports in (("Bogotá", True), ("Dakar", False), ("São Paulo", True)):
            focal = f.focal_point(city)
            grant = f.s.accept(
                f.awarded(city, focal=focal, the_call=the_call),
                focal,
                publish_project=True,
                publish_reports=reports,
            )
            published[city] = grant.id
        interim = f.s.report(
            db.session.get(Grant, published["Bogotá"]),
            f.focal_point("Bogotá"),
            "interim",
            progress="Tres manzanas del cuidado abiertas en Bogotá, con lavanderías comunitarias.",
            results="410 cuidadoras formadas en Ciudad Bolívar y Kennedy.",
            reached=(1450, 410, 25),
        )
        f.s.approve(interim, staff)
        interim_id = interim.id
        # São Paulo withdraws its consent; Quito accepts without it; Lisbon is only offered.
        sao_paulo = published.pop("São Paulo")
        f.s.set_publication(db.session.get(Grant, sao_paulo), f.focal_point("São Paulo"), publish_project=False)
        quito_focal = f.focal_point("Quito")
        quito = f.s.accept(f.awarded("Quito", focal=quito_focal, the_call=the_call), quito_focal).id
        lisbon = f.awarded("Lisbon", the_call=the_call).grant.id
        every_grant = set(db.session.scalars(sa.select(Grant.id)))
    assert {sao_paulo, quito, lisbon} <= every_grant

    visitor = app.test_client()
    page = text(visitor.get("/funded-projects"))
    on_page = {int(g) for g in re.findall(r'href="/funded-projects/(\d+)"', page)}
    listed = visitor.get("/api/v1/funded-projects?per_page=100").get_json()
    assert on_page == {item["grant_id"] for item in listed["items"]} == set(published.values())
    assert listed["total"] == 2
    for grant_id in every_grant:
        page_status = visitor.get(f"/funded-projects/{grant_id}").status_code
        api = visitor.get(f"/api/v1/funded-projects/{grant_id}")
        assert page_status == api.status_code, grant_id
        assert page_status == (200 if grant_id in published.values() else 404)
    bogota = visitor.get(f"/api/v1/funded-projects/{published['Bogotá']}").get_json()
    assert [r["id"] for r in bogota["reports"]] == [interim_id]
    assert "410 cuidadoras formadas" in text(visitor.get(f"/funded-projects/{published['Bogotá']}"))
    assert visitor.get(f"/api/v1/funded-projects/{published['Dakar']}").get_json()["reports"] == []
