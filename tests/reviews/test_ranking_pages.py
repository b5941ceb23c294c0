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
