"""The 360Giving open data (issue 17): the published projects as a 360Giving 1.4 package that
validates, offline, against the standard's schemas shipped in tests/data/360giving; the CSV with
the same grants; cheap polling with an ETag; never a grant whose city did not consent."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fundapp.api.threesixty import CSV_COLUMNS
from fundapp.awards.models import Grant
from fundapp.extensions import db

from .. import factories as f
from ..helpers import text

pytestmark = pytest.mark.sqlite

SCHEMAS = Path(__file__).resolve().parent.parent / "data" / "360giving"
PACKAGE = json.loads((SCHEMAS / "360-giving-package-schema.json").read_text(encoding="utf-8"))
GRANT = json.loads((SCHEMAS / "360-giving-schema.json").read_text(encoding="utf-8"))


def _validator():
    """The package schema, its `$ref` to the grant schema resolved to the local file (no network)."""
    grant = Resource.from_contents(GRANT, default_specification=DRAFT202012)
    # The package (1.4.3) refers to the grant schema by its 1.4.2 address; the file is 1.4.3's.
    referenced = PACKAGE["properties"]["grants"]["items"]["$ref"]

    def refuse_network(uri):
        raise AssertionError(f"the schema tried to fetch {uri}")

    registry = Registry(retrieve=refuse_network).with_resources([(GRANT["$id"], grant), (referenced, grant)])
    return Draft202012Validator(PACKAGE, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


def _valid(data):
    errors = sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def _published(city, *, reports=False, **kw):
    focal = f.focal_point(city)
    decision = f.awarded(city, focal=focal, **kw)
    return f.s.accept(decision, focal, publish_project=True, publish_reports=reports)


@pytest.fixture
def fund(app):
    """Bogotá (with Medellín, its interim report approved) and Dakar (EUR 87,654.32) published,
    Quito accepted without consent, Montréal declined: {city: grant id}."""
    with app.app_context():
        f.call()
        bogota = _published("Bogotá", reports=True, partners=["Medellín"])
        focal = f.focal_point("Bogotá")
        report = f.s.report(
            bogota,
            focal,
            "interim",
            progress="Dos manzanas del cuidado abiertas en Bosa y Kennedy.",
            results="410 cuidadoras formadas.",
            reached=(1450, 410, 25),
        )
        f.s.approve(report, f.staff())
        dakar = _published("Dakar", amount_cents=87_654_32)
        quito = f.accepted("Quito")
        montreal = f.declined("Montréal")
        return {"Bogotá": bogota.id, "Dakar": dakar.id, "Quito": quito.id, "Montréal": montreal.id}


def _json(client, **headers):
    response = client.get("/open-data/360giving.json", headers=headers)
    return response, (json.loads(response.get_data(as_text=True)) if response.status_code == 200 else None)


def test_the_package_validates_offline_and_holds_only_the_consented_grants(app, client, fund):
    response, data = _json(client)
    assert response.status_code == 200 and response.mimetype == "application/json"
    _valid(data)
    grants = {g["id"]: g for g in data["grants"]}
    assert list(grants) == [f"360G-metropolis-{fund['Bogotá']}", f"360G-metropolis-{fund['Dakar']}"]
    for absent in ("Quito", "Montréal"):
        assert f"360G-metropolis-{fund[absent]}" not in grants
    bogota = grants[f"360G-metropolis-{fund['Bogotá']}"]
    with app.app_context():
        grant = db.session.get(Grant, fund["Bogotá"])
        member_id, start = grant.application.member_id, grant.application.start_date
    assert bogota["title"] == "Manzanas del Cuidado en Bogotá"
    assert bogota["currency"] == "EUR" and bogota["amountAwarded"] == 100000
    assert bogota["recipientOrganization"] == [
        {"id": f"360G-metropolis-member-{member_id}", "name": "Bogotá", "addressCountry": "Colombia"}
    ]
    assert bogota["beneficiaryLocation"] == [{"name": "Bogotá", "countryCode": "CO"}]
    assert bogota["fundingOrganization"] == [
        {"id": "360G-metropolis-metropolis", "name": "Metropolis – World Association of the Major Metropolises"}
    ]
    assert bogota["grantProgramme"][0]["code"] == "LCS-2025" and bogota["grantProgramme"][0]["title"]
    assert bogota["plannedDates"][0]["startDate"] == start.isoformat() and bogota["plannedDates"][0]["duration"] == 18
    assert bogota["url"].endswith(f"/funded-projects/{fund['Bogotá']}")
    dakar = grants[f"360G-metropolis-{fund['Dakar']}"]
    # The exact amount, in euros, written as a JSON number.
    assert '"amountAwarded": 87654.32' in response.get_data(as_text=True)
    assert Decimal(str(dakar["amountAwarded"])) == Decimal("87654.32")


def test_the_csv_has_the_same_grants_under_the_standards_titles(app, client, fund):
    _response, data = _json(client)
    response = client.get("/open-data/360giving.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["Identifier"] for r in rows] == [g["id"] for g in data["grants"]]
    dakar = next(r for r in rows if r["Identifier"].endswith(f"-{fund['Dakar']}"))
    assert dakar["Amount Awarded"] == "87654.32" and dakar["Currency"] == "EUR"
    assert dakar["Recipient Org:Name"] == "Dakar" and dakar["Beneficiary Location:Country Code"] == "SN"
    # Every column title is the schema's: the field's "title", a sub-field's after its parent's.
    defs = GRANT["$defs"]
    for title, path in CSV_COLUMNS:
        names = [step for step in path if isinstance(step, str)]
        schema, expected = GRANT, []
        for name in names:
            field = schema["properties"][name]
            # "currency" alone has no title in the schema (a $ref): the standard's template says "Currency".
            expected.append(field.get("title", name.title()))
            ref = field.get("items", field).get("$ref")
            if ref:
                schema = defs[ref.split("/")[-1]]
        assert title == ":".join(expected), (title, expected)


def test_polling_with_the_etag_costs_a_304_until_something_changes(app, client, fund):
    first, _data = _json(client)
    etag = first.headers["ETag"]
    assert etag and first.headers["Last-Modified"]
    again = client.get("/open-data/360giving.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    csv_first = client.get("/open-data/360giving.csv")
    assert (
        client.get("/open-data/360giving.csv", headers={"If-None-Match": csv_first.headers["ETag"]}).status_code == 304
    )
    # Dakar withdraws its consent: the next poll gets the new package, without Dakar.
    with app.app_context():
        grant = db.session.get(Grant, fund["Dakar"])
        f.s.set_publication(grant, f.focal_point("Dakar"), publish_project=False)
    changed, data = _json(client, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert [g["id"] for g in data["grants"]] == [f"360G-metropolis-{fund['Bogotá']}"]
    _valid(data)


def test_the_identifiers_use_the_prefix_setting(app, client, fund):
    app.config.update(
        THREESIXTYGIVING_PREFIX="360G-ifm", FUNDER_ORG_ID="XI-METROPOLIS", FUNDER_NAME="Metropolis Secretariat"
    )
    _response, data = _json(client)
    _valid(data)
    bogota = data["grants"][0]
    assert bogota["id"] == f"360G-ifm-{fund['Bogotá']}"
    assert bogota["recipientOrganization"][0]["id"].startswith("360G-ifm-member-")
    assert bogota["fundingOrganization"] == [{"id": "XI-METROPOLIS", "name": "Metropolis Secretariat"}]
    rows = list(csv.DictReader(io.StringIO(text(client.get("/open-data/360giving.csv")))))
    assert {r["Identifier"] for r in rows} == {g["id"] for g in data["grants"]}
    assert all(r["Identifier"].startswith("360G-ifm-") for r in rows)


def test_nothing_published_is_an_empty_package(app, client):
    with app.app_context():
        f.call()
        f.accepted("Quito")  # accepted, no consent
    response, data = _json(client)
    assert response.status_code == 200 and data["grants"] == []
    assert text(client.get("/open-data/360giving.csv")).splitlines() == [",".join(t for t, _p in CSV_COLUMNS)]


def test_the_demo_funds_export_validates_offline(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output
    response, data = _json(client)
    assert response.status_code == 200
    _valid(data)
    names = [g["recipientOrganization"][0]["name"] for g in data["grants"]]
    # Bogotá and Dakar consented; São Paulo withdrew its consent; Montréal declined its grant.
    assert names == ["Bogotá", "Dakar"]
    rows = list(csv.DictReader(io.StringIO(text(client.get("/open-data/360giving.csv")))))
    assert [r["Identifier"] for r in rows] == [g["id"] for g in data["grants"]]
    with app.app_context():
        published = db.session.scalar(sa.select(sa.func.count()).select_from(Grant).where(Grant.publish_project))
    assert published == 2
