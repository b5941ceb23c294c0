import io
import re
from html import unescape

import pytest
import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.core import pdf
from fundapp.extensions import db

from ..calls.conftest import fund, make_call, staff  # noqa: F401  (fixtures and helper reused)
from ..helpers import make_member, make_user

VERSION_RE = re.compile(r'name="version" type="hidden" value="(\d+)"')


@pytest.fixture
def cities(app):
    """Bogotá leads (two focal points), Medellín can be its partner, Quito is another city."""
    with app.app_context():
        bogota = make_member("Bogotá", "CO", "latin_america_caribbean", dues=2026)
        medellin = make_member("Medellín", "CO", "latin_america_caribbean", dues=2026)
        quito = make_member("Quito", "EC", "latin_america_caribbean", dues=2026)
        make_user("camila@bogota.example", "applicant", member=bogota, name="Camila")
        make_user("andres@bogota.example", "applicant", member=bogota, name="Andrés")
        make_user("focal@quito.example", "applicant", member=quito)
        make_user("rev@x.example", "reviewer")
        return {"bogota": bogota.id, "medellin": medellin.id, "quito": quito.id}


@pytest.fixture
def open_call(app, fund, staff):  # noqa: F811
    return make_call(app, fund, publish=True)


def as_user(make_client, email):
    client = make_client()
    client.login(email)
    return client


def start(client, code="LCS-2025"):
    response = client.post(f"/calls/{code}/apply", {}, token_from=f"/calls/{code}")
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(re.search(r"/applications/(\d+)/edit", response.headers["Location"]).group(1))


def version_of(client, application_id):
    page = client.get(f"/applications/{application_id}/edit").get_data(as_text=True)
    return VERSION_RE.search(page).group(1)


def complete_fields(app, call_id, partner_id=None):
    """A complete application as a focal point would type it."""
    from fundapp.calls.models import Call

    with app.app_context():
        earliest, _latest = db.session.get(Call, call_id).start_window()
    data = {
        "language": "en",
        "title": "Care blocks for Bogotá",
        "summary": "Neighbourhood care blocks.",
        "problem": "Unpaid care falls on women.",
        "objectives": "Free time for carers.",
        "activities": "Open three care blocks.",
        "dimensions": ["recognise", "redistribute"],
        "target_groups": "Women carers",
        "beneficiaries_women": "1200",
        "beneficiaries_men": "300",
        "beneficiaries_other": "20",
        "lead_name": "María Fernanda Rojas",
        "start_date": earliest.isoformat(),
        "duration_months": "18",
        "milestones": "Month 6: first block open.",
        "risks": "Staffing; mitigated by training.",
        "budget-0-category": "personnel",
        "budget-0-description": "Coordinators",
        "budget-0-requested": "60,000",
        "budget-0-cofunding": "10,000",
        "budget-1-category": "equipment",
        "budget-1-description": "Furniture",
        "budget-1-requested": "40000.00",
        "budget-1-cofunding": "5000",
    }
    if partner_id:
        data.update({"partners-0-member": str(partner_id), "partners-0-role": "Shares its care map"})
    return data


def save(client, application_id, data, *, version=None, autosave=False):
    data = dict(data)
    data["version"] = version or version_of(client, application_id)
    url = f"/applications/{application_id}/{'autosave' if autosave else 'edit'}"
    return client.post(url, data, token_from=f"/applications/{application_id}/edit")


def pdf_bytes(text="Letter"):
    return pdf.render([pdf.para(text)], title=text)


def upload(client, application_id, requirement, data, filename):
    return client.post(
        f"/applications/{application_id}/documents",
        {"requirement": requirement, "file": (io.BytesIO(data), filename)},
        token_from=f"/applications/{application_id}/edit",
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def get_application(application_id):
    return db.session.get(Application, application_id)


def page_text(response):
    return unescape(response.get_data(as_text=True))


def count_apps():
    return db.session.scalar(sa.select(sa.func.count(Application.id)))
