"""Staff's list of a call's applications: filters, their counts, and the drafts kept apart."""

import re
from urllib.parse import quote

import pytest

from .. import factories as f


def _list_of_four(app):
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        f.submitted("Bogotá", the_call=the_call, requested=80_000_00)
        f.submitted("Dakar", the_call=the_call, language="fr", requested=45_000_00)
        f.submitted("Montréal", the_call=the_call, language="fr", requested=100_000_00)
        f.submitted("São Paulo", the_call=the_call, language="es", requested=60_000_00)
        f.draft("Quito", the_call=the_call)
        return the_call.id


def _cities(page):
    return re.findall(r"<td>([^<(]+) \([A-Z]{2}\)</td>", page)


def test_filters_narrow_the_list_and_its_count(app, make_client):
    call_id = _list_of_four(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/applications"

    everything = client.get(url).get_data(as_text=True)
    assert sorted(_cities(everything)) == ["Bogotá", "Dakar", "Montréal", "São Paulo"]
    assert "4 results" in everything and "1 draft in progress" in everything

    africa = client.get(url + "?region=africa").get_data(as_text=True)
    assert _cities(africa) == ["Dakar"] and "1 result" in africa
    searched = client.get(url + "?q=MONT").get_data(as_text=True)
    assert _cities(searched) == ["Montréal"] and "1 result" in searched
    by_amount = client.get(url + "?min=50.000,00&max=90000&sort=requested").get_data(as_text=True)
    assert _cities(by_amount) == ["Bogotá", "São Paulo"] and "2 results" in by_amount
    both = client.get(url + "?region=latin_america_caribbean&min=70000").get_data(as_text=True)
    assert _cities(both) == ["Bogotá"] and "1 result" in both


def test_the_sort_by_state_follows_the_workflow_not_the_codes(app, make_client):
    """Sent, then eligible, then ineligible (the screening's order), not "eligible" < "ineligible" <
    "submitted" as the codes would sort; the CSV follows the same order."""
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        f.s.screen(f.submitted("Bogotá", the_call=the_call), staff, "mark_ineligible", reason="Sin cofinanciación.")
        f.submitted("Dakar", the_call=the_call, language="fr")
        f.s.screen(f.submitted("Montréal", the_call=the_call, language="fr"), staff)
        call_id = the_call.id
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/applications?sort=state"
    assert _cities(client.get(url).get_data(as_text=True)) == ["Dakar", "Montréal", "Bogotá"]
    rows = client.get(url + "&format=csv").get_data(as_text=True).splitlines()[1:]
    assert [next(c for c in ("Dakar", "Montréal", "Bogotá") if c in row) for row in rows] == [
        "Dakar",
        "Montréal",
        "Bogotá",
    ]


def test_an_amount_that_is_not_one_is_named_and_ignored(app, make_client):
    call_id = _list_of_four(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    page = client.get(f"/staff/calls/{call_id}/applications?min=cien+mil").get_data(as_text=True)
    assert "Not an amount: cien mil" in page and "4 results" in page
    # The export does not pass everything off as the filtered list: the page says why instead.
    export = client.get(f"/staff/calls/{call_id}/applications?min=cien+mil&format=csv")
    assert export.status_code == 400 and export.mimetype == "text/html"
    assert "Not an amount: cien mil" in export.get_data(as_text=True)
    good = client.get(f"/staff/calls/{call_id}/applications?min=50000&format=csv")
    assert good.status_code == 200 and good.get_data(as_text=True).count("\n") == 1 + 3  # header, 3 rows


def test_each_row_reads_in_the_readers_language(app, make_client):
    """A row shows the reference linked to the application, the city and its country, the project,
    the state's label, the amount, the partners and the submission instant, in French for a French
    reader; the state filter names the states alike."""
    with app.app_context():
        f.fund()
        staff = f.user("claire@fund.example", "staff", name="Claire Dubois", language="fr")
        the_call = f.call(actor=staff)
        dakar = f.submitted("Dakar", the_call=the_call, language="fr", requested=45_000_00, partners=("Abidjan",))
        bogota = f.eligible("Bogotá", the_call=the_call, requested=80_000_00, by=staff)
        rows = {a.id: (a.reference, a.title) for a in (dakar, bogota)}
        call_id = the_call.id
    client = make_client()
    client.login("claire@fund.example", f.PASSWORD)
    page = client.get(f"/staff/calls/{call_id}/applications").get_data(as_text=True)
    for application_id, (reference, title) in rows.items():
        assert f'href="/staff/applications/{application_id}">{reference}</a>' in page
        assert title in page
    assert "<td>Dakar (SN)</td>" in page and "<td>Bogotá (CO)</td>" in page
    assert "<td>45\u202f000,00\xa0€</td><td>1</td>" in page  # Dakar's amount, and Abidjan as its partner
    assert "<td>80\u202f000,00\xa0€</td><td>0</td>" in page
    assert "<td>Soumise\xa0: examen de recevabilité en attente</td>" in page and "<td>Recevable</td>" in page
    assert ">Recevable</option>" in page  # the state filter
    assert "(Europe/Madrid)</td>" in page  # the submission instant, in the reader's time zone
    assert "2 résultats" in page


@pytest.mark.sqlite
def test_the_search_ignores_accents_and_case_and_reads_wildcards_as_typed(app, make_client):
    """Staff type names as a keyboard lets them: "montreal", "SAO PAULO" and "bogota" find the cities,
    "quartier a" and "CUIDADO EN SAO" the titles written with accents; a % or _ typed is a character,
    not "anything"."""
    call_id = _list_of_four(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    url = f"/staff/calls/{call_id}/applications?q="
    for typed, cities in [
        ("montreal", ["Montréal"]),
        ("MONTRÉAL", ["Montréal"]),
        ("SAO PAULO", ["São Paulo"]),
        ("bogota", ["Bogotá"]),
        ("maisons du soin de quartier a", ["Dakar", "Montréal"]),  # "… quartier à Dakar"
        ("MAISONS DU SOIN DE QUARTIER À MONTRÉAL", ["Montréal"]),
        ("CUIDADO EN SAO", ["São Paulo"]),
        ("%", []),  # no title, city or reference holds a per cent sign
        ("_", []),
        ("a%b", []),
    ]:
        page = client.get(url + quote(typed)).get_data(as_text=True)
        assert sorted(_cities(page)) == cities, typed
