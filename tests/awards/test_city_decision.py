"""The application follows the decision (awarded, reserve list, not funded), and the city finds its
way to its grant from its own pages, but only once the letter is sent."""

import re

import pytest
import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.awards.models import Decision, Grant
from fundapp.extensions import db

from .. import factories as f
from ..helpers import run_jobs, text
from .conftest import awards_call_with, get_call, ledger, reviewed

BOARD = "/staff/calls/{call}/decisions"


def _plain(page):
    """Page text with Babel's narrow and non-breaking spaces made plain."""
    return page.replace("\u202f", " ").replace("\xa0", " ")


def _city_pages(client, application_id):
    """The city's home page, its list of applications and the application's page."""
    return {url: _plain(text(client.get(url))) for url in ("/", "/applications/", f"/applications/{application_id}")}


def _decide(staff, call_id, application_id, kind, **fields):
    return text(
        staff.post(
            f"/staff/applications/{application_id}/decide",
            {"kind": kind, **fields},
            token_from=BOARD.format(call=call_id),
            follow_redirects=True,
        )
    )


def _decision_id(application_id):
    return db.session.scalar(
        sa.select(Decision.id).where(Decision.application_id == application_id, Decision.revised_at.is_(None))
    )


def _send_letter(app, staff, call_id, application_id):
    with app.app_context():
        decision_id = _decision_id(application_id)
    page = text(
        staff.post(
            f"/staff/decisions/{decision_id}/send", {}, token_from=BOARD.format(call=call_id), follow_redirects=True
        )
    )
    assert "is being sent" in page
    run_jobs(app)


def _state(app, application_id):
    with app.app_context():
        return db.session.get(Application, application_id).state


@pytest.mark.parametrize(
    "language, city, focal, under_review, amount",
    [
        ("en", "Bogotá", "camila@bogota.example", "Under review", "€100,000.00"),
        ("fr", "Montréal", "elise@montreal.example", "En cours d’évaluation", "100 000,00 €"),
    ],
)
def test_an_award_reads_under_review_until_the_letter_then_leads_the_city_to_its_grant(
    app, awards_call, staff, make_client, smtp_server, language, city, focal, under_review, amount
):
    with app.app_context():
        application_id = reviewed(awards_call, city, language=language, focal=focal, requested=100_000_00)
    page = _decide(staff, awards_call, application_id, "award", amount="100000", conditions="Gender in both reports")
    assert "Award recorded." in page
    assert _state(app, application_id) == "awarded"

    city_client = make_client()
    city_client.login(focal)
    # Decided, letter not sent: the city reads "under review" everywhere and finds no grant.
    for url, page in _city_pages(city_client, application_id).items():
        assert under_review in page, url
        assert "Awarded" not in page and "data-decision" not in page and 'data-link="grant"' not in page, url
    assert city_client.get(f"/applications/{application_id}/grant").status_code == 404
    with app.app_context():
        grant_id = db.session.scalar(sa.select(Grant.id).where(Grant.application_id == application_id))
    assert city_client.get(f"/grants/{grant_id}").status_code == 404

    _send_letter(app, staff, awards_call, application_id)

    grant_link = f'href="/applications/{application_id}/grant"'
    for url, page in _city_pages(city_client, application_id).items():
        assert under_review not in page, url
        assert 'data-decision="awarded"' in page and amount in page and grant_link in page, url
    page = _city_pages(city_client, application_id)[f"/applications/{application_id}"]
    assert "Gender in both reports" in page and "/letters/" in page
    # What the reviewers wrote for the city, without their names, as the review form promised.
    assert page.count("data-reviewer-comment") == 3 and "Clear plan, real partners." in page
    # The link reaches the grant page: accept, tranches, the letter.
    response = city_client.get(f"/applications/{application_id}/grant")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant_id}")
    page = _plain(text(city_client.get(f"/grants/{grant_id}")))
    assert 'id="accept-grant"' in page and 'data-tranche="1"' in page and "/letters/" in page and amount in page
    # The letter downloads under a name in the reader's language.
    letter_url = re.search(r'href="(/letters/\d+\.pdf)"', page).group(1)
    word = {"en": "award-letter", "fr": "lettre-d-attribution"}[language]
    disposition = city_client.get(letter_url).headers["Content-Disposition"]
    assert re.search(rf"filename=IFM-[A-Z0-9-]+-{word}\.pdf", disposition), disposition


def test_reserve_and_not_funded_show_their_label_and_reason_once_the_letter_is_sent(
    app, awards_call, staff, make_client, smtp_server
):
    with app.app_context():
        quito = reviewed(awards_call, "Quito", focal="focal@quito.example", language="en")
        montevideo = reviewed(awards_call, "Montevideo", focal="focal@montevideo.example", language="es")
    reason = "The budget does not reach carers directly; 60% goes to equipment."
    _decide(staff, awards_call, quito, "reserve")
    _decide(staff, awards_call, montevideo, "reject", reason=reason)
    assert (_state(app, quito), _state(app, montevideo)) == ("reserved", "not_funded")

    quito_client, montevideo_client = make_client(), make_client()
    quito_client.login("focal@quito.example")
    montevideo_client.login("focal@montevideo.example")
    for page in _city_pages(quito_client, quito).values():
        assert "Under review" in page and "Reserve list" not in page
    for page in _city_pages(montevideo_client, montevideo).values():
        assert reason not in page and "data-decision" not in page

    _send_letter(app, staff, awards_call, quito)
    _send_letter(app, staff, awards_call, montevideo)

    for url, page in _city_pages(quito_client, quito).items():
        assert "Reserve list" in page and 'data-decision="reserved"' in page and "Under review" not in page, url
        assert 'data-link="grant"' not in page, url
    for url, page in _city_pages(montevideo_client, montevideo).items():
        assert 'data-decision="not_funded"' in page and reason in page, url
    # There is no grant to go to: a clear "not found", never an error.
    assert quito_client.get(f"/applications/{quito}/grant").status_code == 404
    assert montevideo_client.get(f"/applications/{montevideo}/grant").status_code == 404


def test_a_revision_returns_the_application_to_reviewed_and_a_reserve_can_then_be_funded(
    app, awards_call, staff, make_client
):
    with app.app_context():
        application_id = reviewed(awards_call, "São Paulo", focal="focal@saopaulo.example")
    _decide(staff, awards_call, application_id, "reserve")
    assert _state(app, application_id) == "reserved"
    with app.app_context():
        decision_id = _decision_id(application_id)
    page = text(
        staff.post(
            f"/staff/decisions/{decision_id}/revise",
            {"reason": "Montréal declined: money is free again."},
            token_from=BOARD.format(call=awards_call),
            follow_redirects=True,
        )
    )
    assert "Decision revised" in page
    assert _state(app, application_id) == "reviewed"
    page = _decide(staff, awards_call, application_id, "award", amount="90000")
    assert "Award recorded." in page and _state(app, application_id) == "awarded"
    with app.app_context():
        assert sum(v[1] for v in ledger(awards_call).values()) == 90_000_00
        history = [
            d.kind for d in db.session.scalars(sa.select(Decision).where(Decision.application_id == application_id))
        ]
        assert sorted(history) == ["award", "reserve"]
    # A second decision on a decided application is refused and changes nothing.
    page = _decide(staff, awards_call, application_id, "reject", reason="Second thoughts")
    assert "is already decided; revise that decision first." in page
    assert _state(app, application_id) == "awarded"


def test_the_city_cannot_withdraw_after_a_decision(app, awards_call, staff, make_client, smtp_server):
    with app.app_context():
        application_id = reviewed(awards_call, "Bogotá", focal="camila@bogota.example", language="en")
    _decide(staff, awards_call, application_id, "award", amount="100000")
    city_client = make_client()
    city_client.login("camila@bogota.example")
    url = f"/applications/{application_id}"
    assert 'action="/applications/' + str(application_id) + '/withdraw"' not in text(city_client.get(url))

    def try_withdraw():
        return text(
            city_client.post(
                f"{url}/withdraw", {"reason": "The council changed its plans."}, token_from=url, follow_redirects=True
            )
        )

    # Before the letter the refusal does not tell the decision.
    page = try_withdraw()
    assert "This application can no longer be withdrawn: it is “Under review”." in page
    assert "Awarded" not in page
    _send_letter(app, staff, awards_call, application_id)
    assert "This application can no longer be withdrawn: it is “Awarded”." in try_withdraw()
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.state == "awarded" and application.withdrawn_reason is None
        assert db.session.scalar(sa.select(Grant.state).where(Grant.application_id == application_id)) == "offered"
        assert sum(v[1] for v in ledger(awards_call).values()) == 100_000_00


def test_grant_links_for_a_stage_not_reached_answer_clearly(app, awards_call, staff, make_client, smtp_server):
    with app.app_context():
        bogota = reviewed(awards_call, "Bogotá", focal="camila@bogota.example")
        quito = reviewed(awards_call, "Quito", focal="focal@quito.example")
        f.focal_point("Medellín", "ana@medellin.example", name="Ana María Ruiz")
    camila = make_client()
    camila.login("camila@bogota.example")
    # No decision yet: the city finds nothing; staff are told there is no grant.
    assert camila.get(f"/applications/{bogota}/grant").status_code == 404
    response = staff.get(f"/applications/{quito}/grant", follow_redirects=True)
    assert response.status_code == 200 and "has no grant: it is “Reviewed”." in text(response)

    _decide(staff, awards_call, bogota, "award", amount="100000")
    _send_letter(app, staff, awards_call, bogota)
    with app.app_context():
        grant_id = db.session.scalar(sa.select(Grant.id).where(Grant.application_id == bogota))
    assert camila.get(f"/applications/{bogota}/grant").status_code == 302
    # Another city: the application and its grant do not exist for it.
    other = make_client()
    other.login("ana@medellin.example")
    assert other.get(f"/applications/{bogota}/grant").status_code == 404
    assert other.get(f"/grants/{grant_id}").status_code == 404
    assert other.get(f"/applications/{bogota}").status_code == 404
    # Staff reach the grant through the same link.
    response = staff.get(f"/applications/{bogota}/grant")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/grants/{grant_id}")


def test_the_board_lists_applications_with_missing_reviews_apart_and_never_above_the_cut_line(app, awards_call, staff):
    with app.app_context():
        complete = [reviewed(awards_call, "Bogotá", [4] * 5), reviewed(awards_call, "Quito", [3.5] * 5)]
        # Dakar scores best but has 1 of its 3 reviews in; Accra's panel is not even assigned.
        dakar = f.assigned("Dakar", the_call=get_call(awards_call))
        f.s.review(f.s.assignments_of(dakar)[0], [5] * 5)
        partial = dakar.id
        waiting = f.eligible("Accra", the_call=get_call(awards_call)).id
        references = {i: db.session.get(Application, i).reference for i in complete + [partial, waiting]}
    assert _state(app, partial) == "in_review"
    url = BOARD.format(call=awards_call)
    page = text(staff.get(url))
    incomplete = page[page.index('id="incomplete"') :]
    assert f'data-reference="{references[partial]}"' in incomplete and "1 of 3 reviews in" in incomplete
    assert f'data-reference="{references[waiting]}"' in incomplete and "0 of 3 reviews in" in incomplete
    scenario = page[: page.index('id="incomplete"')]
    for application_id in (partial, waiting):
        assert f'<tr data-reference="{references[application_id]}"' not in scenario
        assert f'id="decide-{application_id}"' not in page
    assert scenario.count('class="fits"') == 2
    assert "Award the 2 applications above the cut line" in page
    # Forcing a decision on it is refused and commits nothing.
    page = _decide(staff, awards_call, partial, "award", amount="80000")
    assert "has not been reviewed: it cannot be decided yet." in page
    page = text(
        staff.post(
            f"/staff/calls/{awards_call}/decide-batch",
            {"award": [f"{partial}:8000000"]},
            token_from=url,
            follow_redirects=True,
        )
    )
    assert "has not been reviewed: it cannot be decided yet. Nothing was recorded." in page
    with app.app_context():
        assert sum(v[1] for v in ledger(awards_call).values()) == 0
        assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 0
    # A decided application stays in the scenario and the ranking, with its decision.
    _decide(staff, awards_call, complete[0], "award", amount="100000")
    page = text(staff.get(url))
    assert f'<tr data-reference="{references[complete[0]]}"' in page and 'data-figure="committed">€100,000.00' in page
    assert references[complete[0]] in text(staff.get(f"/staff/calls/{awards_call}/ranking"))


def test_a_review_of_a_decided_application_cannot_be_reopened(app, awards_call, staff):
    from fundapp.reviews.models import Assignment

    with app.app_context():
        application_id = reviewed(awards_call, "Bogotá", [4] * 5)
    _decide(staff, awards_call, application_id, "award", amount="100000")
    with app.app_context():
        assignment = db.session.scalar(sa.select(Assignment).where(Assignment.application_id == application_id))
        assignment_id, before = assignment.id, assignment.state
    page = text(
        staff.post(
            f"/staff/assignments/{assignment_id}/reopen",
            {"reason": "Score 3 looks mistyped."},
            token_from=f"/staff/applications/{application_id}/reviews",
            follow_redirects=True,
        )
    )
    assert "revise the decision before reopening a review." in page
    with app.app_context():
        assert db.session.get(Assignment, assignment_id).state == before
        assert db.session.get(Application, application_id).state == "awarded"


def test_the_city_pages_cost_the_same_queries_for_one_decision_or_three(app, fund, staff, make_client, smtp_server):
    from sqlalchemy import event

    # A call that takes more than one application from the same city.
    awards_call = awards_call_with(app, one_application_per_lead=False)
    with app.app_context():
        first = reviewed(awards_call, "Bogotá", focal="camila@bogota.example", requested=50_000_00)
    _decide(staff, awards_call, first, "award", amount="50000")
    _send_letter(app, staff, awards_call, first)
    camila = make_client()
    camila.login("camila@bogota.example")
    with app.app_context():
        engine = db.engine
    statements = []

    def count(*args):
        statements.append(1)

    def cost(url):
        statements.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            page = text(camila.get(url))
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(statements), page

    urls = ("/", "/applications/")
    before = {url: cost(url)[0] for url in urls}
    with app.app_context():
        more = [reviewed(awards_call, "Bogotá", focal="camila@bogota.example", requested=40_000_00) for _ in range(2)]
    _decide(staff, awards_call, more[0], "award", amount="40000")
    _decide(staff, awards_call, more[1], "reject", reason="A second application of the same city.")
    for application_id in more:
        _send_letter(app, staff, awards_call, application_id)
    for url in urls:
        queries, page = cost(url)
        assert page.count('data-link="grant"') == 2 and page.count('data-decision="not_funded"') == 1, url
        assert queries == before[url], url
