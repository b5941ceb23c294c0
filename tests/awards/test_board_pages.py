"""The board's "decide one by one" cards come a page at a time, in rank order: a call of thousands
of applications is not thousands of forms on one page. A refused decision shows the page that
holds its form, with the message and what staff typed."""

import re

import sqlalchemy as sa

from fundapp.awards import queries
from fundapp.awards.models import Decision
from fundapp.extensions import db

from .. import factories as f

CITIES = ["Bogotá", "Dakar", "Montréal", "São Paulo", "Quito", "Abidjan", "Lisboa"]


def _reviewed_call(app, marks):
    """A call whose applications ({city: mark}) are each scored `mark` on every criterion by a
    panel of three: (call id, {city: (application id, reference)})."""
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        reviewers = f.panel(3)
        built = {}
        for city, mark in marks.items():
            application = f.reviewed(city, the_call=the_call, reviewers=reviewers, by=staff, marks=[mark] * 5)
            built[city] = (application.id, application.reference)
        return the_call.id, built


def _call_of_seven(app):
    # Bogotá scores highest, Lisboa lowest: the rank order is the list's.
    call_id, built = _reviewed_call(app, {city: 5 - n * 0.5 for n, city in enumerate(CITIES)})
    return call_id, {city: application_id for city, (application_id, _reference) in built.items()}


def _cards(page):
    return [int(i) for i in re.findall(r'<section class="card[^"]*" id="decide-(\d+)"', page)]


def test_the_cards_to_decide_come_three_to_a_page_in_rank_order(app, make_client, monkeypatch):
    monkeypatch.setattr(queries, "DECIDE_PAGE_SIZE", 3)
    call_id, ids = _call_of_seven(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/decisions"

    first = client.get(url).get_data(as_text=True)
    assert _cards(first) == [ids[c] for c in CITIES[:3]]
    assert "Page 1 of 3" in first
    # Every row of the scenario is on the page and links to the page of its form.
    assert f"decide_page=2#decide-{ids['Quito']}" in first
    lisboa = ids["Lisboa"]  # below the overall threshold: decided on the last page
    last = client.get(url + "?decide_page=3").get_data(as_text=True)
    assert _cards(last) == [lisboa] and "Page 3 of 3" in last
    # A page number out of range shows the last page; a word shows the first.
    assert _cards(client.get(url + "?decide_page=99").get_data(as_text=True)) == [lisboa]
    assert _cards(client.get(url + "?decide_page=deux").get_data(as_text=True)) == _cards(first)


def test_a_refused_decision_shows_the_page_of_its_form_with_what_was_typed(app, make_client, monkeypatch):
    monkeypatch.setattr(queries, "DECIDE_PAGE_SIZE", 3)
    call_id, ids = _call_of_seven(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    quito = ids["Quito"]
    board = client.get(f"/staff/calls/{call_id}/decisions?decide_page=2").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', board).group(1)

    response = client.post(
        f"/staff/applications/{quito}/decide",
        data={"csrf_token": token, "kind": "award", "amount": "", "conditions": "Rapport trimestriel à la mairie"},
    )

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert quito in _cards(page) and "Page 2 of 3" in page
    assert "Give the amount to award, in euros." in page
    assert "Rapport trimestriel à la mairie" in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Decision.id))) == 0


def test_the_scenario_comes_a_page_at_a_time_and_keeps_amounts_set_on_other_pages(app, make_client, monkeypatch):
    monkeypatch.setattr(queries, "SCENARIO_PAGE_SIZE", 3)
    call_id, ids = _call_of_seven(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/decisions"

    def scenario_rows(page):
        table = page.split('id="scenario"', 1)[1].split("</table>", 1)[0]
        return re.findall(r'<tr data-reference="[^"]+" class="[^"]+">\s*<td>(\d+)</td>', table)

    # Bogotá's amount is set to EUR 60,000 on the first page, then staff go to the second.
    bogota = ids["Bogotá"]
    second = client.get(f"{url}?amount_{bogota}=60000&page=2").get_data(as_text=True)
    assert scenario_rows(second) == ["4", "5"]  # the five passing applications, three a page
    assert "Page 2 of 2" in second
    assert f'<input type="hidden" name="amount_{bogota}" value="60000.00">' in second
    # The running total counts the amount set on the other page: 60,000 + 100,000 + 100,000 + 100,000.
    assert "fits (total €360,000.00)" in second
    assert f"amount_{ids['Quito']}" in second  # its own input, on this page


def test_the_board_lists_a_few_applications_below_a_threshold_and_links_to_the_ranking(app, make_client, monkeypatch):
    from fundapp.awards import routes

    monkeypatch.setattr(routes, "BOARD_LIST_SIZE", 1)
    call_id, built = _reviewed_call(app, {"Bogotá": 5, "Dakar": 2, "Montréal": 1.5, "Quito": 1})
    below = {city: reference for city, (_id, reference) in built.items() if city != "Bogotá"}
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)

    board = client.get(f"/staff/calls/{call_id}/decisions").get_data(as_text=True)
    listed = board[board.index("Below a threshold</h2>") :]
    # The highest of the three below a threshold is listed; the two others are counted, with the way to them.
    assert f'data-reference="{below["Dakar"]}"' in listed
    assert below["Montréal"] not in listed and below["Quito"] not in listed
    assert f'href="/staff/calls/{call_id}/ranking">2 more: the ranking lists them all.' in listed
    ranking = client.get(f"/staff/calls/{call_id}/ranking").get_data(as_text=True)
    assert all(f'data-reference="{reference}"' in ranking for reference in below.values())


def test_an_amount_above_the_cap_or_the_request_is_not_counted_as_fitting(app, make_client):
    """Staff set EUR 150,000 for Bogotá (the cap is EUR 100,000) and EUR 80,000.01 for Dakar, which
    asked for EUR 80,000: the scenario says why beside each, counts the proposals, and the batch
    award offers those."""
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        reviewers = f.panel(3)
        bogota = f.reviewed("Bogotá", the_call=the_call, reviewers=reviewers, by=staff, marks=[5] * 5).id
        dakar = f.reviewed(
            "Dakar", the_call=the_call, reviewers=reviewers, by=staff, marks=[4.5] * 5, requested=80_000_00
        ).id
        call_id = the_call.id
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/decisions"
    page = client.get(f"{url}?amount_{bogota}=150.000&amount_{dakar}=80000.01").get_data(as_text=True)
    said = re.sub(r"\s+", " ", page)
    assert "€150,000.00 is above the call’s cap of €100,000.00: the scenario counts €100,000.00." in said
    assert "€80,000.01 is above the €80,000.00 requested: the scenario counts €80,000.00." in said
    assert "fits (total €180,000.00)" in said
    assert f'name="award" value="{bogota}:10000000"' in page and f'name="award" value="{dakar}:8000000"' in page
    assert f'name="amount_{bogota}" value="150000.00"' not in page  # the batch award does not carry it
