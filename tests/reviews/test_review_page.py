"""A reviewer opens a real application (care dimensions, partners, budget, documents) and scores it.

The application is built the way a city and staff build it: the focal point fills in the pages and
uploads the documents, submits through the operation, staff screen it eligible, staff assign the
reviewer, and the reviewer declares no conflict on the page. The scoring page shows the submitted
application with every label in the reviewer's language.
"""

import re

import sqlalchemy as sa

from fundapp.accounts.models import User
from fundapp.applications import operations as applications
from fundapp.applications.models import Application
from fundapp.extensions import db
from fundapp.reviews.models import Assignment

from .. import factories as f
from ..applications.conftest import (  # noqa: F401  (fixtures)
    as_user,
    cities,
    complete_fields,
    open_call,
    page_text,
    pdf_bytes,
    save,
    start,
    upload,
)

LETTER = "Letter of support from the mayor or city government"
BUDGET = "Detailed budget"


def _user(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def _reviewer(email, name, language, country, region):
    return f.reviewer(email, name, language=language, country=country, region=region, languages="en,fr,es")


def _real_application(app, make_client, call_id, partner_id):
    """Bogotá's application, typed and uploaded by Camila, submitted, screened eligible by staff."""
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    assert save(camila, application_id, complete_fields(app, call_id, partner_id=partner_id)).status_code == 302
    upload(camila, application_id, LETTER, pdf_bytes("Carta de apoyo de la alcaldía de Bogotá"), "carta.pdf")
    upload(camila, application_id, BUDGET, pdf_bytes("Presupuesto detallado"), "presupuesto.pdf")
    with app.app_context():
        application = db.session.get(Application, application_id)
        applications.submit(application, actor=_user("camila@bogota.example"))
        db.session.commit()
        applications.screen(application, "mark_eligible", actor=_user("staff@fund.example"))
        db.session.commit()
        assert application.reference and len(application.documents) == 2
    return application_id


def _assigned(app, application_id, email):
    with app.app_context():
        application = db.session.get(Application, application_id)
        return f.s.assign(application, _user(email), _user("staff@fund.example")).id


def _declare_no_conflict(client, assignment_id):
    response = client.post(
        f"/reviews/{assignment_id}/declare",
        {"action": "accept"},
        token_from=f"/reviews/{assignment_id}",
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/reviews/{assignment_id}")


def test_a_reviewer_opens_a_real_application_and_reads_its_dimensions_partners_budget_and_documents(
    app,
    cities,  # noqa: F811
    open_call,  # noqa: F811
    staff,
    make_client,
):
    application_id = _real_application(app, make_client, open_call, cities["medellin"])
    with app.app_context():
        _reviewer("ines@lisboa.example", "Inês Carvalho", "en", "PT", "europe")
        _reviewer("genevieve@montreal.example", "Geneviève Tremblay", "fr", "CA", "north_america")
    english = _assigned(app, application_id, "ines@lisboa.example")
    french = _assigned(app, application_id, "genevieve@montreal.example")

    ines = as_user(make_client, "ines@lisboa.example")
    before = ines.get(f"/reviews/{english}")
    assert before.status_code == 200
    assert "Recognise care work" not in page_text(before)  # nothing of the content before the declaration
    _declare_no_conflict(ines, english)

    response = ines.get(f"/reviews/{english}")
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    page = page_text(response)
    assert "Care blocks for Bogotá" in page
    assert "Recognise care work, Redistribute care work" in page
    assert "Medellín: Shares its care map" in page
    assert re.search(r"<td>Personnel</td><td>Coordinators</td>", page)
    assert re.search(r"<td>Equipment</td><td>Furniture</td>", page)
    assert "English" in page  # the application's language, by its name
    for requirement in (LETTER, BUDGET):
        assert f">{requirement}</a>" in page
    assert 'id="review-form"' in page

    # The documents, uploaded to the draft (stored as "draft-<id>-..."), download under the
    # application's reference, for the reviewer as for staff and the city.
    with app.app_context():
        application = db.session.get(Application, application_id)
        reference = application.reference
        documents = {d.requirement: d.id for d in application.documents}
        assert all(d.document.filename.startswith(f"draft-{application_id}-") for d in application.documents)
    expected = f"{reference}-detailed-budget.pdf"
    download = ines.get(f"/reviews/{english}/documents/{documents[BUDGET]}")
    assert download.status_code == 200 and download.headers["Content-Disposition"] == f"attachment; filename={expected}"
    staff_client = as_user(make_client, "staff@fund.example")
    staff_page = page_text(staff_client.get(f"/staff/applications/{application_id}"))
    assert f">{expected}</a>" in staff_page and "draft-" not in staff_page
    download = staff_client.get(f"/applications/{application_id}/documents/{documents[BUDGET]}")
    assert download.headers["Content-Disposition"] == f"attachment; filename={expected}"

    # A French reviewer reads the same labels in French.
    genevieve = as_user(make_client, "genevieve@montreal.example")
    _declare_no_conflict(genevieve, french)
    page = page_text(genevieve.get(f"/reviews/{french}"))
    assert "Reconnaître le travail de soin, Redistribuer le travail de soin" in page
    assert "<td>Équipement</td><td>Furniture</td>" in page
    # Her download is named as the call names the document in French.
    with app.app_context():
        from fundapp.core.documents import slug

        french_name = db.session.get(Application, application_id).call.document_name(BUDGET, "fr")
    download = genevieve.get(f"/reviews/{french}/documents/{documents[BUDGET]}")
    assert download.headers["Content-Disposition"] == f"attachment; filename={reference}-{slug(french_name)}.pdf"

    with app.app_context():
        states = {a.reviewer.email: a.state for a in db.session.scalars(sa.select(Assignment))}
        assert set(states) == {"ines@lisboa.example", "genevieve@montreal.example"}
        assert all(db.session.get(Assignment, i).sees_content for i in (english, french))
