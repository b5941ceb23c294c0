"""What the public sees: open and upcoming calls, in their language, with the deadline."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from icalendar import Calendar

from fundapp.accounts import operations as accounts
from fundapp.applications.models import Application
from fundapp.calls.models import Call
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db

from .. import factories as f
from ..helpers import text
from .conftest import make_call

pytestmark = pytest.mark.sqlite


@pytest.fixture
def published(app, fund, staff):
    return make_call(app, fund, publish=True)


def test_visitors_see_open_and_upcoming_calls_but_not_drafts(app, fund, staff, client):
    now = utcnow()
    make_call(app, fund, code="OPEN-1", publish=True, funding_cents={fund["SDC"]: 300_000_00})
    make_call(
        app,
        fund,
        code="SOON-1",
        opens_at=now + timedelta(days=10),
        closes_at=now + timedelta(days=40),
        publish=True,
        funding_cents={fund["SDC"]: 300_000_00},
    )
    make_call(app, fund, code="DRAFT-1", funding_cents={fund["SDC"]: 100_000_00})
    page = text(client.get("/calls/"))
    open_part, upcoming_part = page.split("Coming soon")
    assert "/calls/OPEN-1" in open_part and "/calls/SOON-1" not in open_part
    assert "/calls/SOON-1" in upcoming_part
    assert "DRAFT-1" not in page
    assert client.get("/calls/DRAFT-1").status_code == 404
    assert client.get("/calls/SOON-1").status_code == 200


def test_the_public_call_page_has_text_rules_criteria_cap_and_deadline(app, published, client):
    page = text(client.get("/calls/LCS-2025", headers={"Accept-Language": "en"}))
    for expected in [
        "Local Care Systems 2025",
        "up to €100,000.00",
        "Applications close on",
        "(Europe/Madrid)",
        "Closes in",
        "Relevance for the local care system",
        "25%",
        "Feasibility and budget",
        "Membership dues paid through",
        "One application per lead city.",
        "Detailed budget",
        "fund@metropolis.org",
        "How to apply",
        "0 to 5, in steps of 0.5",
        "deadline.ics",
    ]:
        assert expected in page, expected


def test_the_public_page_renders_in_french_and_spanish(app, published, client):
    french = text(client.get("/calls/LCS-2025", headers={"Accept-Language": "fr"})).replace("\u202f", " ")
    assert '<html lang="fr">' in french
    assert "Systèmes locaux de soins 2025" in french and "Pertinence pour le système local de soins" in french
    assert "100 000,00" in french and "Date limite" in french
    # The theme and the required documents are the call's own French ones.
    assert "Systèmes locaux de soins" in french and "Budget détaillé" in french
    assert "Lettre de soutien du maire ou du gouvernement de la ville" in french
    assert "Detailed budget" not in french and "Local care systems" not in french
    spanish = text(client.get("/calls/LCS-2025", headers={"Accept-Language": "es"})).replace("\xa0", " ")
    assert "Sistemas Locales de Cuidados 2025" in spanish and "Viabilidad y presupuesto" in spanish
    assert "100.000,00" in spanish and "Fecha límite" in spanish
    assert "Sistemas locales de cuidados" in spanish and "Presupuesto detallado" in spanish
    assert "Detailed budget" not in spanish


def test_a_language_the_call_is_not_written_in_falls_back_with_a_notice(app, fund, staff, client):
    call_id = make_call(app, fund, publish=True)
    with app.test_request_context():
        call = db.session.get(Call, call_id)
        # Staff take the French and Spanish texts out: the call is written in English only.
        f.edit_call(
            call, title={"en": call.title["en"]}, summary={"en": call.summary["en"]}, body={"en": call.body["en"]}
        )
        assert set(db.session.get(Call, call_id).title) == {"en"}
    page = text(client.get("/calls/LCS-2025", headers={"Accept-Language": "es"}))
    assert 'data-fallback="en"' in page and "Local Care Systems 2025" in page


def test_the_deadline_is_shown_in_the_signed_in_users_timezone_too(app, published, make_client):
    from ..helpers import make_user

    with app.app_context():
        user = make_user("tomas.herrera@experts.example", "reviewer", name="Tomás Herrera")
        accounts.update_profile(user, name=user.name, language=user.language, timezone="America/Bogota", actor=user)
        call = db.session.get(Call, published)
        expected = call.closes_at.astimezone(__import__("zoneinfo").ZoneInfo("America/Bogota"))
    reviewer = make_client()
    reviewer.login("tomas.herrera@experts.example")
    page = text(reviewer.get("/calls/LCS-2025"))
    # His clock first, the call's beside it.
    assert "(America/Bogota); call time: " in page and "(Europe/Madrid)" in page
    assert expected.strftime("%-I:%M") in page or expected.strftime("%H:%M") in page


def test_the_atom_feed_lists_published_calls(app, published, client):
    response = client.get("/calls/feed.atom")
    assert response.mimetype == "application/atom+xml"
    body = response.get_data(as_text=True)
    assert "<feed" in body and "Local Care Systems 2025" in body and "http://fundapp.test/calls/LCS-2025" in body


def test_the_icalendar_file_holds_the_exact_deadline(app, published, client):
    response = client.get("/calls/LCS-2025/deadline.ics")
    assert response.mimetype == "text/calendar"
    event = next(iter(Calendar.from_ical(response.data).walk("VEVENT")))
    with app.app_context():
        closes = db.session.get(Call, published).closes_at
    assert event.decoded("dtstart") == closes
    assert "Local Care Systems 2025" in str(event["summary"])


def test_staff_preview_a_draft_as_the_public_would_see_it(app, fund, staff, client):
    call_id = make_call(app, fund)
    page = text(staff.get(f"/staff/calls/{call_id}/preview?lang=fr"))
    assert "Preview: this is how the public sees the call" in page or "Aperçu" in page
    assert "Systèmes locaux de soins 2025" in page
    # The whole call in French, its theme and documents too, whatever the staff member reads in.
    assert "Systèmes locaux de soins ·" in page and "Budget détaillé" in page and "Detailed budget" not in page
    # Read as the call will be once published: not as a call that closed (on a day still to come).
    assert "Applications will close on" in page and "This call closed" not in page
    assert client.get("/calls/LCS-2025").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(Call.state)) == "draft"


def test_the_call_page_takes_a_city_to_its_own_application_instead_of_starting_another(app, published, make_client):
    """Camila (Bogotá, Spanish) is offered to start an application; once Bogotá has a draft, the
    page takes her to it ("Continuar el borrador"), once it is sent, to the application; another
    city is still offered to start its own."""
    with app.app_context():
        f.focal_point("Bogotá", "camila@bogota.example", language="es", name="Camila Rodríguez")
        f.focal_point("Dakar", "awa@dakar.example", language="fr", name="Awa Diop")
        db.session.commit()
    camila, awa = make_client(), make_client()
    camila.login("camila@bogota.example")
    awa.login("awa@dakar.example")
    page = text(camila.get("/calls/LCS-2025"))
    assert 'id="start-application"' in page and 'id="city-application"' not in page
    with app.app_context():
        draft_id = f.draft("Bogotá", focal=f.user("camila@bogota.example")).id
    page = text(camila.get("/calls/LCS-2025"))
    assert 'id="start-application"' not in page
    assert "Solicitud de Bogotá a esta convocatoria: " in page
    assert f'href="/applications/{draft_id}">Continuar el borrador</a>' in page
    with app.app_context():
        f.s.submit(db.session.get(Application, draft_id), f.user("camila@bogota.example"))
    page = text(camila.get("/calls/LCS-2025"))
    assert f'href="/applications/{draft_id}">Ver la solicitud</a>' in page and 'id="start-application"' not in page
    page = text(awa.get("/calls/LCS-2025"))  # Dakar has none: it may start its own
    assert 'id="start-application"' in page and 'id="city-application"' not in page
