"""Numbers, amounts and dates on the staff pages in the reader's language (issue 14): a French
reader sees "62,66", "25 %" and "100 000,00", and the amount the board pre-fills in French is
recorded to the cent when it is posted back as it is."""

import re

import sqlalchemy as sa

from fundapp.awards.models import Decision
from fundapp.calls.models import Call
from fundapp.extensions import db

from .. import factories as f


def _plain(text):
    return text.replace("\u202f", " ").replace("\xa0", " ")


def _call_with_two(app):
    with app.app_context():
        f.fund()
        staff = f.staff()
        the_call = f.call(actor=staff)
        reviewers = f.panel(3)
        dakar = f.reviewed("Dakar", the_call=the_call, reviewers=reviewers, by=staff, marks=[4, 3.5, 4.5, 4, 3])
        quito = f.reviewed("Quito", the_call=the_call, reviewers=reviewers, by=staff, marks=[4] * 5)
        return the_call.id, dakar.id, quito.id


def _french_staff(make_client):
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    client.post("/language", {"language": "fr"})  # saved on the account, as the switcher does
    return client


def test_a_french_reader_sees_criterion_weights_as_french_percentages(app, make_client):
    call_id, _dakar, _quito = _call_with_two(app)
    client = _french_staff(make_client)
    page = _plain(client.get(f"/staff/calls/{call_id}").get_data(as_text=True))
    assert '<html lang="fr">' in page
    with app.app_context():
        shares = [c.weight_share() for c in db.session.get(Call, call_id).criteria]
    assert shares
    for share in shares:
        whole, tenth = divmod(share * 10, 10)
        french = f"{int(whole)} %" if tenth == 0 else f"{int(whole)},{int(tenth)} %"
        assert f"({french})" in page, french
    assert not re.search(r"\(\d+\.\d %?\)", page) and not re.search(r"\(\d+(\.\d)?%\)", page)


def _mean_cell(page):
    """Dakar's mean on the ranking, as the page prints it (the sixth cell of its row)."""
    rows = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0].split("</tr>")
    row = next(r for r in rows if "<td>Dakar</td>" in r)
    return re.findall(r"<td>(.*?)</td>", row, re.S)[5]


def test_a_french_reader_sees_scores_on_the_ranking_with_a_decimal_comma(app, make_client):
    call_id, _dakar, _quito = _call_with_two(app)
    client = make_client()
    client.login("staff@fund.example", f.PASSWORD)
    english = _mean_cell(client.get(f"/staff/calls/{call_id}/ranking").get_data(as_text=True))
    assert re.fullmatch(r"\d+\.\d\d", english), english
    assert not english.endswith(".00")  # a score with decimals, so the separator shows

    client.post("/language", {"language": "fr"})
    page = client.get(f"/staff/calls/{call_id}/ranking").get_data(as_text=True)
    assert _mean_cell(page) == english.replace(".", ",")
    table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert not re.search(r"<td>\d+\.\d+</td>", table)  # no score, spread or mean with a point


def test_the_board_prefills_the_amount_in_french_and_records_it_to_the_cent(app, make_client):
    call_id, dakar, _quito = _call_with_two(app)
    client = _french_staff(make_client)
    board = client.get(f"/staff/calls/{call_id}/decisions").get_data(as_text=True)
    card = board.split(f'id="decide-{dakar}"', 1)[1].split("</section>", 1)[0]
    prefilled = re.search(r'<input name="amount" value="([^"]*)"', card).group(1)
    assert _plain(prefilled) == "100 000,00"  # Dakar asked for EUR 100,000, within the cap
    assert "100000.0" not in board
    # The scenario's own amount inputs are in French too.
    assert re.search(rf'name="amount_{dakar}" value="100\u202f000,00"', board)

    token = re.search(r'name="csrf_token" value="([^"]+)"', board).group(1)
    response = client.post(
        f"/staff/applications/{dakar}/decide", data={"csrf_token": token, "kind": "award", "amount": prefilled}
    )
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    with app.app_context():
        decision = db.session.scalar(sa.select(Decision).where(Decision.application_id == dakar))
        assert decision.kind == "award" and decision.amount_cents == 100_000_00
