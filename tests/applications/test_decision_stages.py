"""The staff list of applications and its state filter show the stage after the decision."""

import csv
import io

from fundapp.applications.models import APPLICATION_WORKFLOW, Application
from fundapp.awards import operations as awards
from fundapp.extensions import db

from .. import factories as f
from ..awards.conftest import awards_call, get_call, reviewed, staff_user  # noqa: F401
from ..helpers import text


def _decided_call(app, call_id, make_client):
    """Bogotá awarded, Quito on the reserve list, Montevideo not funded, Dakar withdrawn, Montréal still reviewed."""
    with app.app_context():
        ids = {
            "Bogotá": reviewed(call_id, "Bogotá"),
            "Quito": reviewed(call_id, "Quito"),
            "Montevideo": reviewed(call_id, "Montevideo", language="es"),
            "Montréal": reviewed(call_id, "Montréal", language="fr"),
        }
        ids["Dakar"] = f.eligible(
            "Dakar", the_call=get_call(call_id), focal=f.focal_point("Dakar", "awa@dakar.example")
        ).id
        staff = staff_user()
        awards.decide(db.session.get(Application, ids["Bogotá"]), "award", actor=staff, amount_cents=100_000_00)
        awards.decide(db.session.get(Application, ids["Quito"]), "reserve", actor=staff)
        awards.decide(
            db.session.get(Application, ids["Montevideo"]),
            "reject",
            actor=staff,
            reason="The project does not redistribute care work.",
        )
    dakar_client = make_client()
    dakar_client.login("awa@dakar.example")
    url = f"/applications/{ids['Dakar']}"
    dakar_client.post(f"{url}/withdraw", {"reason": "Le conseil a changé ses plans."}, token_from=url)
    with app.app_context():
        references = {name: db.session.get(Application, i).reference for name, i in ids.items()}
    return ids, references


def _rows(page):
    """{reference: state label} of the list's rows."""
    if "<tbody>" not in page:
        return {}
    body = page[page.index("<tbody>") : page.index("</tbody>")]
    rows = {}
    for row in body.split("<tr>")[1:]:
        cells = [c.split("</td>")[0] for c in row.split("<td>")[1:]]
        reference = cells[0].split(">")[1].split("<")[0]
        rows[reference] = cells[3].strip()
    return rows


def test_the_staff_list_shows_the_stage_and_filters_on_each_new_state(app, awards_call, staff, make_client):  # noqa: F811
    ids, refs = _decided_call(app, awards_call, make_client)
    base = f"/staff/calls/{awards_call}/applications"
    rows = _rows(text(staff.get(base)))
    assert rows == {
        refs["Bogotá"]: "Awarded",
        refs["Quito"]: "Reserve list",
        refs["Montevideo"]: "Not funded",
        refs["Montréal"]: "Reviewed",
        refs["Dakar"]: "Withdrawn",
    }
    page = text(staff.get(base))
    for state in ("awarded", "reserved", "not_funded", "withdrawn"):
        assert f'<option value="{state}" >{APPLICATION_WORKFLOW.staff_label(state)}</option>' in page
    expected = {
        "awarded": ("Bogotá", "Awarded"),
        "reserved": ("Quito", "Reserve list"),
        "not_funded": ("Montevideo", "Not funded"),
        "withdrawn": ("Dakar", "Withdrawn"),
        "reviewed": ("Montréal", "Reviewed"),
    }
    for state, (city, label) in expected.items():
        page = text(staff.get(f"{base}?state={state}"))
        assert _rows(page) == {refs[city]: label}, state
        assert f'<option value="{state}" selected>' in page
    # The export says the stage too.
    data = text(staff.get(f"{base}?format=csv")).lstrip("\ufeff")
    states = {row["reference"]: row["state"] for row in csv.DictReader(io.StringIO(data))}
    assert states == {
        refs["Bogotá"]: "awarded",
        refs["Quito"]: "reserved",
        refs["Montevideo"]: "not_funded",
        refs["Montréal"]: "reviewed",
        refs["Dakar"]: "withdrawn",
    }
    # Revised, the application is back among the reviewed ones.
    with app.app_context():
        awards.revise(
            awards.current_decision(db.session.get(Application, ids["Quito"])),
            actor=staff_user(),
            reason="Reserve list closed early.",
        )
    assert _rows(text(staff.get(f"{base}?state=reviewed"))) == {refs["Montréal"]: "Reviewed", refs["Quito"]: "Reviewed"}
    assert _rows(text(staff.get(f"{base}?state=reserved"))) == {}
