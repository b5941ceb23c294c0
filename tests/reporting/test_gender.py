"""Gender counted everywhere (issue 16, item 4): people record theirs if they wish, and the staff
dashboard, the donor report and the applications CSV count, per call, the applications by their
project lead's gender, the jury, and the people reached, with shares."""

import csv
import io
from decimal import Decimal

import pytest
import sqlalchemy as sa
from flask_babel import force_locale
from openpyxl import load_workbook
from pypdf import PdfReader

from fundapp.accounts.models import User
from fundapp.applications.models import SECTION_FIELDS, Application
from fundapp.calls.models import Call
from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.reporting import gender
from fundapp.reporting.queries import Figures, figures

from .. import factories as f
from ..factories import PASSWORD
from ..helpers import count, text


@pytest.fixture
def gendered(app):
    """Bogotá's project led by a woman and Montréal's by a man, both funded, Bogotá's interim report
    approved (1,450 women, 410 men, 25 others reached); Dakar's sent without a lead's gender; the
    panel is two women and a man. Returns the call's id."""
    with app.app_context():
        f.fund()
        f.staff()
        the_call = f.call()
        f.interim_approved("Bogotá", lead_name="Natalia Moreno Rojas", lead_gender="woman")
        f.accepted("Montréal", marks=f.GOOD, lead_name="Jean-François Roy", lead_gender="man")
        f.submitted("Dakar", lead_name="Aminata Diop")
        call_id = the_call.id
        db.session.remove()
    return call_id


def test_figures_per_call_count_leads_jury_and_people_reached_with_shares(app, gendered):
    with app.app_context():
        (row,) = gender.by_call()
        assert row["call"] == "LCS-2025"
        assert row["leads"] == {"woman": 1, "man": 1, "other": 0, "undisclosed": 0, "not_given": 1}
        assert row["jury"] == {"woman": 2, "man": 1, "other": 0, "undisclosed": 0, "not_given": 0}
        assert row["reached"] == {"women": 1450, "men": 410, "other": 25}
        leads = gender.shares(row["leads"])
        assert leads[0] == ("woman", 1, Decimal("33.3")) and leads[4] == ("not_given", 1, Decimal("33.3"))
        assert [share for _g, _n, share in gender.shares(row["reached"])] == [
            Decimal("76.9"),
            Decimal("21.8"),
            Decimal("1.3"),
        ]
        # Nothing counted: no share is invented.
        assert gender.shares({"women": 0, "men": 0}) == [("women", 0, Decimal(0)), ("men", 0, Decimal(0))]


def test_the_staff_dashboard_shows_the_figures_in_the_readers_language(app, gendered, make_client):
    with app.app_context():
        f.user("programa@fund.example", "staff", name="Núria Puig", language="es")
    staff = make_client()
    staff.login("programa@fund.example", PASSWORD)
    # Babel writes Spanish shares with a no-break space before the sign ("33,3 %").
    page = text(staff.get("/dashboard")).replace("\u00a0", " ").replace("\u202f", " ")
    assert "Participación por género" in page
    assert '<td data-figure="leads">1 (33,3 %)</td>' in page  # Bogotá's lead, of three applications
    assert '<td data-figure="jury">2 (66,7 %)</td>' in page  # two women on the jury of three
    assert "Mujeres 1.450 (76,9 %) · Hombres 410 (21,8 %)" in page


def test_the_donor_report_keeps_the_gender_section_with_its_figures(app, gendered):
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        start, end = call.opens_at.date().replace(month=1, day=1), call.opens_at.date().replace(month=12, day=31)
        data = figures(None, start, end)
        assert [row["call"] for row in data.by_gender] == ["LCS-2025"]
        assert data.by_gender[0]["reached"] == data.reached == {"women": 1450, "men": 410, "other": 25}
        kept = Figures.from_snapshot(data.snapshot())
        assert kept.by_gender == data.by_gender
        # A report built before gender was counted still opens, without the section.
        old = data.snapshot()
        del old["by_gender"]
        assert Figures.from_snapshot(old).by_gender == []
        from fundapp.reporting.exports import to_pdf, to_xlsx

        with force_locale("fr"):  # as the report's job builds it, in the report's language
            pages = "".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(data, "fr"))).pages)
        assert "Participation par genre" in pages and "Jury" in pages
        sheet = load_workbook(io.BytesIO(to_xlsx(data)))["Gender"]
        rows = list(sheet.iter_rows(values_only=True))
        assert ("LCS-2025", "Jury", "Woman", 2, Decimal("66.7")) in [
            (a, b, c, d, Decimal(str(e))) for a, b, c, d, e in rows[1:]
        ]


def test_a_focal_point_records_a_gender_or_prefers_not_to(app, make_client):
    with app.app_context():
        f.focal_point("Montréal", "focal@montreal.example", language="fr", name="Élodie Gagnon")
    city = make_client()
    city.login("focal@montreal.example", PASSWORD)
    form = {
        "profile-name": "Élodie Gagnon",
        "profile-language": "fr",
        "profile-timezone": "America/Toronto",
        "profile-gender": "woman",
    }
    assert city.post("/account", form, token_from="/account").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(User.gender).where(User.email == "focal@montreal.example")) == "woman"
        audits = count(AuditEntry, AuditEntry.action == "user.update")
    refused = city.post("/account", {**form, "profile-gender": "robot"}, token_from="/account")
    assert "Choisissez l’un des genres proposés ou laissez le champ vide." in text(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(User.gender).where(User.email == "focal@montreal.example")) == "woman"
        assert count(AuditEntry, AuditEntry.action == "user.update") == audits
    city.post("/account", {**form, "profile-gender": ""}, token_from="/account")  # taken back: not given
    with app.app_context():
        assert db.session.scalar(sa.select(User.gender).where(User.email == "focal@montreal.example")) is None


def test_the_project_lead_is_typed_on_the_form_and_carried_by_the_csv(app, make_client):
    with app.app_context():
        application = f.draft("Bogotá")
        application_id, call_id = application.id, application.call_id
        f.focal_point("Bogotá")
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)
    url = f"/applications/{application_id}/edit"
    page = text(city.get(url))
    assert 'name="lead_gender"' in page and 'name="lead_name"' in page
    with app.app_context():
        # The project part as the page posts it: every field of the section, as typed so far.
        application = db.session.get(Application, application_id)
        section = {name: getattr(application, name) for name in SECTION_FIELDS["project"]}
        section = {k: ("" if v is None else v if isinstance(v, list) else str(v)) for k, v in section.items()}
        version = application.version
    refused = city.post(
        f"/applications/{application_id}/autosave",
        {
            **section,
            "version": version,
            "present": "project",
            "lead_name": "Natalia Moreno Rojas",
            "lead_gender": "robot",
        },
        token_from=url,
    )
    assert refused.get_json()["errors"]["lead_gender"]
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.lead_gender is None
        version = application.version
    saved = city.post(
        f"/applications/{application_id}/autosave",
        {
            **section,
            "version": version,
            "present": "project",
            "lead_name": "Natalia Moreno Rojas",
            "lead_gender": "woman",
        },
        token_from=url,
    )
    assert saved.get_json()["status"] == "saved"
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert (application.lead_name, application.lead_gender) == ("Natalia Moreno Rojas", "woman")
        f.s.submit(application, f.focal_point("Bogotá"))
        f.staff()
    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    rows = list(
        csv.DictReader(io.StringIO(text(staff.get(f"/staff/calls/{call_id}/applications?format=csv")).lstrip("\ufeff")))
    )
    assert [(r["lead_name"], r["lead_gender"]) for r in rows] == [("Natalia Moreno Rojas", "woman")]
