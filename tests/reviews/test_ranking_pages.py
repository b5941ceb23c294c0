"""The ranking is computed whole and shown a page at a time, ranks running on across pages; the
CSV has every row."""

import re

from .. import factories as f

CITIES = ["Bogotá", "Dakar", "Montréal", "São Paulo", "Quito"]


def test_the_ranking_shows_two_rows_a_page_with_ranks_running_on(app, make_client):
    app.config["RANKING_PAGE_SIZE"] = 2
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        reviewers = f.panel(3)
        refs = []
        for n, city in enumerate(CITIES):
            # Bogotá first, Quito last; Quito's 1 out of 5 is below the criteria's thresholds.
            marks = [5 - n * 0.5] * 5 if n < 4 else [1] * 5
            refs.append(f.reviewed(city, the_call=the_call, reviewers=reviewers, by=staff, marks=marks).reference)
        call_id = the_call.id
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/ranking"

    def rows(page):
        return re.findall(r'<tr data-reference="([^"]+)">(?:<td>(\d+)</td>)?', page)

    first = client.get(url).get_data(as_text=True)
    assert rows(first) == [(refs[0], "1"), (refs[1], "2")]
    assert "Page 1 of 3" in first and "5 applications ranked; the CSV has them all." in first
    second = client.get(url + "?page=2").get_data(as_text=True)
    assert rows(second) == [(refs[2], "3"), (refs[3], "4")]
    # The last page: no one left passing on it, Quito below a threshold, unranked.
    third = client.get(url + "?page=3").get_data(as_text=True)
    assert rows(third) == [(refs[4], "")]
    assert "Below a threshold" in third and "No application has passed yet." not in third
    assert rows(client.get(url + "?page=40").get_data(as_text=True)) == rows(third)
    csv = client.get(url + "?format=csv").get_data(as_text=True)
    assert all(ref in csv for ref in refs)


def test_an_applications_own_result_is_the_one_the_ranking_shows(app, make_client):
    """The application's reviews page computes its aggregate alone (its reviews, criterion means,
    consensus, and its score normalised against all the call's reviewers): the same figures as the
    whole ranking gives it, for a harsh and a lenient reviewer, a criterion left unjudged, a
    consensus, a panel still reviewing and an application not scored yet."""
    from decimal import Decimal

    from fundapp.applications.models import Application
    from fundapp.extensions import db
    from fundapp.reviews import operations
    from fundapp.reviews.queries import application_result, call_results

    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        harsh, lenient, middle = f.panel(3)
        ids = {}
        for city, (a, b, c) in {
            "Bogotá": ([4, 4, 5, 4, 4], [5, 5, 5, 5, 5], [4, 5, 4, 5, 4]),
            "Dakar": ([2, 3, 2, 3, 2], [4, 4, 5, 4, 4], [3, None, 3, 4, 3]),
            "Montréal": ([1, 1, 1, 2, 1], [3, 3, 2, 3, 3], [2, 2, 1, 2, 2]),
            "São Paulo": ([3, 3, 3, 3, 3], [5, 4, 5, 4, 5], [4, 4, 4, 4, 4]),
        }.items():
            application = f.assigned(city, the_call=the_call, reviewers=[harsh, lenient, middle], by=staff)
            for assignment, marks in zip(f.s.assignments_of(application), (a, b, c), strict=True):
                f.s.review(assignment, marks, comment="Plan claro; faltan datos de género.")
            ids[city] = application.id
        operations.record_consensus(
            db.session.get(Application, ids["São Paulo"]), actor=staff, score=Decimal("71.5"), note="Acordado en panel."
        )
        # Quito: one review in of three; Lisboa: screened, no review yet.
        quito = f.assigned("Quito", the_call=the_call, reviewers=[harsh, lenient, middle], by=staff)
        f.s.review(f.s.assignments_of(quito)[0], [3, 4, 3, 4, 3])
        ids["Quito"] = quito.id
        ids["Lisboa"] = f.eligible("Lisboa", the_call=the_call, by=staff).id

        passing, failing, unscored = call_results(the_call)
        ranked = {r.application.id: r for r in passing + failing}
        assert set(ranked) == {ids[c] for c in ("Bogotá", "Dakar", "Montréal", "São Paulo", "Quito")}
        assert [a.id for a in unscored] == [ids["Lisboa"]]
        assert any(r.normalised not in (None, r.mean) for r in ranked.values())  # the reviewers differ
        for application_id, whole in ranked.items():
            alone = application_result(db.session.get(Application, application_id))
            assert (alone.scores, alone.mean, alone.spread, alone.disagreement) == (
                whole.scores,
                whole.mean,
                whole.spread,
                whole.disagreement,
            )
            assert (alone.criterion_means, alone.normalised, alone.consensus) == (
                whole.criterion_means,
                whole.normalised,
                whole.consensus,
            )
            assert [str(x) for x in alone.failures] == [str(x) for x in whole.failures]
        assert application_result(db.session.get(Application, ids["Lisboa"])) is None
        dakar_normalised = ranked[ids["Dakar"]].normalised
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    page = client.get(f"/staff/applications/{ids['Dakar']}/reviews").get_data(as_text=True)
    assert f"{dakar_normalised:.2f}" in page
