"""Partner cities take part (issue 16, item 3): asked when the lead saves them, they confirm (with a
letter of commitment) or decline (with a reason), see the application read-only, and the call may
make their confirmation and their dues a condition of submitting."""

import io
import re

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from fundapp.applications.models import Application, Partner, Submission
from fundapp.applications.queries import viewable_applications
from fundapp.awards.models import Grant
from fundapp.core.i18n import format_deadline, reader_zone
from fundapp.core.models import AuditEntry, Document, OutboxMessage
from fundapp.extensions import db

from .. import factories as f
from ..helpers import count, run_jobs, translated
from .conftest import page_text, pdf_bytes

PASSWORD = f.PASSWORD


@pytest.fixture
def people(app):
    """Bogotá leads (Camila, in Spanish); Medellín's focal point reads French, Quito's Spanish;
    Montréal is a city with nothing to do with the project."""
    with app.app_context():
        the_call = f.call()
        f.focal_point("Bogotá", "camila@bogota.example", language="es", name="Camila Rodríguez")
        f.focal_point("Medellín", "elise@medellin.example", language="fr", name="Élise Marchand")
        f.focal_point("Quito", "andrea@quito.example", language="es", name="Andrea Paredes")
        f.focal_point("Montréal", "genevieve@montreal.example")
        db.session.commit()
        return {"call": the_call.id, "medellin": f.member("Medellín").id, "quito": f.member("Quito").id}


def _client(make_client, email):
    client = make_client()
    client.login(email, PASSWORD)
    return client


def _draft_with_partners(app, make_client, people, partners=("medellin", "quito")):
    """Camila starts Bogotá's application and names its partners through the edit page."""
    lead = _client(make_client, "camila@bogota.example")
    response = lead.post("/calls/LCS-2025/apply", {}, token_from="/calls/LCS-2025")
    application_id = int(re.search(r"/applications/(\d+)/edit", response.headers["Location"]).group(1))
    with app.app_context():
        values = f.proposal("Bogotá")
        earliest, _ = db.session.get(Application, application_id).call.start_window()
    data = {
        "version": "1",
        "present": ["project", "plan", "partners", "budget"],
        "language": "es",
        "title": values.title,
        "summary": values.summary,
        "problem": values.problem,
        "objectives": values.objectives,
        "activities": values.activities,
        "target_groups": values.target_groups,
        "dimensions": ["recognise", "redistribute"],
        "beneficiaries_women": "1200",
        "start_date": earliest.isoformat(),
        "duration_months": "18",
        "budget-0-category": "personnel",
        "budget-0-description": "Coordinadoras",
        "budget-0-requested": "60000",
        "budget-0-cofunding": "12000",
    }
    roles = {"medellin": "Adapta el modelo de manzanas", "quito": "Comparte su mapa de cuidados"}
    for i, key in enumerate(partners):
        data[f"partners-{i}-member"] = str(people[key])
        data[f"partners-{i}-role"] = roles[key]
    url = f"/applications/{application_id}/edit"
    response = lead.post(url, data, token_from=url)
    assert response.status_code == 302, page_text(response)
    with app.app_context():
        for requirement in db.session.get(Application, application_id).call.required_documents:
            upload = lead.post(
                f"/applications/{application_id}/documents",
                {"requirement": requirement, "file": (io.BytesIO(pdf_bytes(requirement)), "doc.pdf")},
                token_from=url,
                content_type="multipart/form-data",
            )
            assert upload.status_code == 302
    return lead, application_id


def _partner_id(app, application_id, member_id):
    with app.app_context():
        return db.session.scalar(
            sa.select(Partner.id).where(Partner.application_id == application_id, Partner.member_id == member_id)
        )


def _confirm(client, application_id, partner_id, letter=b"", filename="lettre-engagement.pdf"):
    data = {"letter": (io.BytesIO(letter), filename)} if letter else {}
    return client.post(
        f"/applications/{application_id}/partners/{partner_id}/confirm",
        data,
        token_from=f"/applications/{application_id}",
        content_type="multipart/form-data",
    )


def _decline(client, application_id, partner_id, reason):
    return client.post(
        f"/applications/{application_id}/partners/{partner_id}/decline",
        {"reason": reason},
        token_from=f"/applications/{application_id}",
    )


def _mails(template, to=None):
    stmt = sa.select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id)
    if to:
        stmt = stmt.where(OutboxMessage.to_email == to)
    return db.session.scalars(stmt).all()


def test_partners_are_asked_answer_and_the_lead_sees_each_answer(app, make_client, people):
    lead, application_id = _draft_with_partners(app, make_client, people)
    run_jobs(app)
    medellin_id = _partner_id(app, application_id, people["medellin"])
    quito_id = _partner_id(app, application_id, people["quito"])

    # Each partner's focal point is asked by e-mail, in their language and timezone.
    with app.app_context():
        call = db.session.get(Application, application_id).call
        for email, language, hello in (
            ("elise@medellin.example", "fr", "Bonjour Élise Marchand,"),
            ("andrea@quito.example", "es", "Hola, Andrea Paredes:"),
        ):
            (mail,) = _mails("partner_request", email)
            assert mail.language == language
            assert hello in mail.body
            assert "Bogotá" in mail.subject and "Manzanas del Cuidado en Bogotá" in mail.body
            user = f.user(email)
            with force_locale(language), reader_zone(user.timezone):
                assert format_deadline(call.closes_at, call.timezone) in mail.body
            assert f"/applications/{application_id}" in mail.body
        assert {e.action for e in db.session.scalars(sa.select(AuditEntry))} >= {"partner.ask"}
        assert count(AuditEntry, AuditEntry.action == "partner.ask") == 2
        # Saving again asks nobody twice.
        assert count(OutboxMessage, OutboxMessage.template == "partner_request") == 2

    # ... and finds the request on their home page.
    medellin = _client(make_client, "elise@medellin.example")
    quito = _client(make_client, "andrea@quito.example")
    for client, language in ((medellin, "fr"), (quito, "es")):
        home = page_text(client.get("/"))
        assert 'id="partner-requests"' in home
        assert "Manzanas del Cuidado en Bogotá" in home and translated(app, language, "confirm or decline") in home

    # Medellín confirms with its letter of commitment; Quito declines with its reason.
    letter = pdf_bytes("Lettre d'engagement de Medellín")
    response = _confirm(medellin, application_id, medellin_id, letter)
    assert response.status_code == 302
    reason = "El concejo de Quito no aprobó la participación este año."
    assert _decline(quito, application_id, quito_id, reason).status_code == 302
    run_jobs(app)

    with app.app_context():
        medellin_row, quito_row = db.session.get(Partner, medellin_id), db.session.get(Partner, quito_id)
        assert medellin_row.is_confirmed and medellin_row.letter.data == letter
        assert medellin_row.letter.filename.endswith("-commitment-medellin.pdf")
        assert quito_row.is_declined and quito_row.decline_reason == reason
        assert count(AuditEntry, AuditEntry.action == "partner.confirm") == 1
        assert count(AuditEntry, AuditEntry.action == "partner.decline") == 1
        # The lead city's focal point is told of each answer, in Spanish.
        told = _mails("partner_answered", "camila@bogota.example")
        assert len(told) == 2 and {m.language for m in told} == {"es"}
        assert any("Medellín" in m.subject for m in told) and any(reason in m.body for m in told)

    # The lead sees both states on its application page, with the letter and the reason.
    page = page_text(lead.get(f"/applications/{application_id}"))
    assert 'data-partner="Medellín" data-partner-state="confirmed"' in page
    assert 'data-partner="Quito" data-partner-state="declined"' in page
    assert reason in page
    letter_url = f"/applications/{application_id}/partners/{medellin_id}/letter"
    assert letter_url in page
    download = lead.get(letter_url)
    assert download.status_code == 200 and download.data == letter
    assert "attachment" in download.headers["Content-Disposition"]
    # Named for Camila, who reads Spanish: the draft and the commitment in her words.
    assert f"filename=borrador-{application_id}-compromiso-medellin.pdf" in download.headers["Content-Disposition"]
    # Quito, a partner too, does not get Medellín's letter.
    assert quito.get(letter_url).status_code == 404

    # Once answered, the request is no longer waiting on the partner's home page.
    home = page_text(medellin.get("/"))
    assert translated(app, "fr", "confirm or decline") not in home and "Confirmée" in home  # "Confirmed"


def test_a_partner_reads_the_application_and_can_change_nothing(app, make_client, people):
    lead, application_id = _draft_with_partners(app, make_client, people)
    medellin = _client(make_client, "elise@medellin.example")
    page = medellin.get(f"/applications/{application_id}")
    assert page.status_code == 200
    body = page_text(page)
    assert "Manzanas del Cuidado en Bogotá" in body and 'id="partner-view"' in body
    assert "/edit" not in body and "/withdraw" not in body and "/submit" not in body
    base = f"/applications/{application_id}"
    for url in (f"{base}/edit", f"{base}/check"):
        assert medellin.get(url).status_code == 404
    for url in (f"{base}/edit", f"{base}/autosave", f"{base}/submit", f"{base}/withdraw"):
        assert medellin.post(url, {"reason": "x", "title": "Hijacked"}, token_from=base).status_code == 404
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.title == "Manzanas del Cuidado en Bogotá" and application.state == "draft"
    # The partner sees this application among the projects it is asked to join, not among its own
    # city's applications.
    listing = page_text(medellin.get("/applications/"))
    own, _sep, joined = listing.partition('id="as-partner"')
    assert "Manzanas del Cuidado" not in own and "Manzanas del Cuidado en Bogotá" in joined


def test_a_partner_that_declined_sees_its_answer_and_nothing_more_of_the_application(app, make_client, people):
    """Quito declines: from then on its focal point reads its own request and answer, not the
    application's contents, documents or receipts; the API lists it no more. Medellín, which has
    not answered, still reads everything."""
    lead, application_id = _draft_with_partners(app, make_client, people)
    assert (
        lead.post(
            f"/applications/{application_id}/submit", {}, token_from=f"/applications/{application_id}/check"
        ).status_code
        == 302
    )
    run_jobs(app)  # the receipt of version 1
    quito_id = _partner_id(app, application_id, people["quito"])
    quito, medellin = _client(make_client, "andrea@quito.example"), _client(make_client, "elise@medellin.example")
    base = f"/applications/{application_id}"
    with app.app_context():
        document_id = db.session.scalar(
            sa.select(Document.id).join(Application.documents).where(Application.id == application_id)
        )
    private = [f"{base}/documents/{document_id}", f"{base}/versions/1/receipt.pdf"]
    assert [quito.get(url).status_code for url in private] == [200, 200]  # asked: it reads them
    reason = "El concejo municipal no aprobó la participación este año."
    assert _decline(quito, application_id, quito_id, reason).status_code == 302
    page = quito.get(base)
    assert page.status_code == 200
    body = page_text(page)
    assert "Declinó" in body or reason in body  # its answer, in Spanish
    assert reason in body and "ya no se comparte" in body
    assert "Coordinadoras" not in body and "/documents/" not in body and "receipt.pdf" not in body
    assert [quito.get(url).status_code for url in private] == [404, 404]
    # Answering again (the back button) is told it has answered, and sees no more.
    again = _decline(quito, application_id, quito_id, "Otra vez")
    assert again.status_code == 302 and "Coordinadoras" not in page_text(quito.get(again.headers["Location"]))
    assert [medellin.get(url).status_code for url in private] == [200, 200]
    assert "Coordinadoras" in page_text(medellin.get(base))
    with app.app_context():
        row = db.session.get(Partner, quito_id)
        assert row.is_declined and row.decline_reason == reason
        # The JSON API lists what the pages show (applications.queries.viewable_applications).
        listed = {
            email: db.session.scalars(sa.select(Application.id).where(viewable_applications(f.user(email)))).all()
            for email in ("andrea@quito.example", "elise@medellin.example")
        }
        assert listed == {"andrea@quito.example": [], "elise@medellin.example": [application_id]}


def test_another_city_or_the_lead_cannot_answer_for_a_partner(app, make_client, people):
    lead, application_id = _draft_with_partners(app, make_client, people)
    medellin_id = _partner_id(app, application_id, people["medellin"])
    montreal = _client(make_client, "genevieve@montreal.example")
    assert montreal.get(f"/applications/{application_id}").status_code == 404
    home = f"/applications/{application_id}/partners/{medellin_id}/confirm"
    assert montreal.post(home, {}, token_from="/").status_code == 404
    assert lead.post(home, {}, token_from="/").status_code == 404
    # Quito's focal point cannot answer for Medellín either.
    quito = _client(make_client, "andrea@quito.example")
    assert _confirm(quito, application_id, medellin_id).status_code == 404
    with app.app_context():
        assert db.session.get(Partner, medellin_id).is_waiting
        assert count(AuditEntry, AuditEntry.action.in_(("partner.confirm", "partner.decline"))) == 0


def test_answering_twice_is_refused_and_changes_nothing(app, make_client, people):
    _lead, application_id = _draft_with_partners(app, make_client, people)
    medellin_id = _partner_id(app, application_id, people["medellin"])
    medellin = _client(make_client, "elise@medellin.example")
    first = pdf_bytes("Première lettre")
    assert _confirm(medellin, application_id, medellin_id, first).status_code == 302
    with app.app_context():
        answered_at = db.session.get(Partner, medellin_id).answered_at
        documents = count(Document)
    again = _decline(medellin, application_id, medellin_id, "Finalement non.")
    assert again.status_code == 302
    shown = page_text(medellin.get(again.headers["Location"]))
    # Élise reads French: "Medellín has already answered, on …: “…”. The answer stands."
    assert "Medellín a déjà répondu, le" in shown and "Cette réponse est définitive." in shown
    assert _confirm(medellin, application_id, medellin_id, pdf_bytes("Deuxième lettre")).status_code == 302
    with app.app_context():
        row = db.session.get(Partner, medellin_id)
        assert row.is_confirmed and row.answered_at == answered_at and row.letter.data == first
        assert row.decline_reason is None and count(Document) == documents
        assert count(AuditEntry, AuditEntry.action.like("partner.%"), AuditEntry.action != "partner.ask") == 1
        assert len(_mails("partner_answered")) == 1


def test_a_letter_that_is_not_a_pdf_or_a_decline_without_reason_is_refused(app, make_client, people):
    _lead, application_id = _draft_with_partners(app, make_client, people)
    medellin_id = _partner_id(app, application_id, people["medellin"])
    medellin = _client(make_client, "elise@medellin.example")
    response = _confirm(medellin, application_id, medellin_id, b"MZ not a pdf", filename="lettre.exe")
    assert response.status_code == 400
    assert translated(app, "fr", "Attach the letter of commitment as a PDF.") in page_text(response)
    forged = _confirm(medellin, application_id, medellin_id, b"plain text", filename="lettre.pdf")
    # Élise reads French: the shared upload check speaks her language, next to the field.
    assert forged.status_code == 400 and "Le contenu du fichier ne correspond pas" in page_text(forged)
    assert 'id="letter-error"' in page_text(forged)
    empty = _decline(medellin, application_id, medellin_id, "   ")
    assert empty.status_code == 400 and translated(app, "fr", "Say why your city declines.") in page_text(empty)
    # A reason past 4,000 characters is refused beside it in her language and kept: the browser
    # does not cut it (no maxlength), and the city does not decline with half its reason.
    long_reason = "Le conseil municipal n’a pas voté la contrepartie. " * 80  # 4,080 characters
    too_long = _decline(medellin, application_id, medellin_id, long_reason)
    shown = page_text(too_long).replace("\u202f", " ").replace("\xa0", " ")
    assert too_long.status_code == 400 and "maxlength" not in shown
    assert "Ce texte est trop long : 4 080 caractères, pour 4 000 au plus." in shown
    assert long_reason.strip()[:200] in shown.replace("&#39;", "’").replace("&#x27;", "’")
    with app.app_context():
        assert db.session.get(Partner, medellin_id).is_waiting
        assert count(Document, Document.filename.like("%commitment%")) == 0


def test_a_request_of_a_withdrawn_application_cannot_be_answered(app, make_client, people):
    lead, application_id = _draft_with_partners(app, make_client, people)
    medellin_id = _partner_id(app, application_id, people["medellin"])
    url = f"/applications/{application_id}"
    assert lead.post(f"{url}/withdraw", {"reason": "El concejo cambió de planes."}, token_from=url).status_code == 302
    medellin = _client(make_client, "elise@medellin.example")
    assert translated(app, "fr", "confirm or decline") not in page_text(medellin.get("/"))
    response = _confirm(medellin, application_id, medellin_id, pdf_bytes("Lettre"))
    shown = page_text(medellin.get(response.headers["Location"]))
    withdrawn = "%(lead)s has withdrawn this application: there is nothing to confirm or decline any more."
    assert translated(app, "fr", withdrawn, lead="Bogotá") in shown
    with app.app_context():
        assert db.session.get(Partner, medellin_id).is_waiting
        assert count(AuditEntry, AuditEntry.action == "partner.confirm") == 0


def _submit(lead, application_id):
    url = f"/applications/{application_id}"
    response = lead.post(f"{url}/submit", {}, token_from=f"{url}/check")
    return page_text(lead.get(response.headers["Location"]))


def test_when_every_partner_must_confirm_submission_waits_for_them(app, make_client, people):
    with app.app_context():
        f.edit_call(f.call(), partners_must_confirm=True)
        db.session.commit()
    public = page_text(make_client().get("/calls/LCS-2025"))
    assert "Every partner city must confirm its part before the application can be submitted." in public
    lead, application_id = _draft_with_partners(app, make_client, people)
    shown = _submit(lead, application_id)
    # Camila reads Spanish: "Still to confirm: Medellín, Quito."
    assert "Pendientes de confirmar: Medellín, Quito." in shown
    medellin_id = _partner_id(app, application_id, people["medellin"])
    quito_id = _partner_id(app, application_id, people["quito"])
    assert _confirm(_client(make_client, "elise@medellin.example"), application_id, medellin_id).status_code == 302
    quito = _client(make_client, "andrea@quito.example")
    assert _decline(quito, application_id, quito_id, "Sin presupuesto este año.").status_code == 302
    shown = _submit(lead, application_id)
    assert "Han rechazado participar: Quito" in shown and "Pendientes de confirmar" not in shown
    with app.app_context():
        application = db.session.get(Application, application_id)
        assert application.state == "draft" and application.reference is None
        assert count(Submission) == 0
    # Without Quito among the partners, Bogotá can submit.
    _submitted_with_medellin_alone(app, lead, application_id, people)


def _submitted_with_medellin_alone(app, lead, application_id, people):
    """Bogotá keeps Medellín alone among its partners, and then submits."""
    url = f"/applications/{application_id}/edit"
    data = {
        "version": str(_version(app, application_id)),
        "present": "partners",
        "partners-0-member": str(people["medellin"]),
        "partners-0-role": "Adapta el modelo de manzanas",
    }
    assert lead.post(url, data, token_from=url).status_code == 302
    _submit(lead, application_id)
    with app.app_context():
        assert db.session.get(Application, application_id).reference is not None


def _version(app, application_id):
    with app.app_context():
        return db.session.get(Application, application_id).version


def test_when_partners_dues_must_be_paid_an_unpaid_partner_blocks_submission(app, make_client, people):
    with app.app_context():
        from fundapp.members import operations as members

        quito = f.member("Quito")
        members.update_member(
            quito,
            actor=None,
            name=quito.name,
            country=quito.country,
            region=quito.region,
            membership=quito.membership,
            dues_paid_through=2020,
            timezone=quito.timezone,
        )
        f.edit_call(f.call(), partners_dues_required=True)
        db.session.commit()
        assert f.member("Quito").dues_paid_through == 2020
    public = page_text(make_client().get("/calls/LCS-2025"))
    assert "Partner cities’ membership dues paid through" in public
    lead, application_id = _draft_with_partners(app, make_client, people)
    shown = _submit(lead, application_id)
    # "Quito, a partner city, must have paid its membership dues through …", in Camila's Spanish.
    assert "La ciudad socia Quito debe tener pagadas sus cuotas de membresía hasta" in shown
    assert "La ciudad socia Medellín" not in shown
    with app.app_context():
        assert db.session.get(Application, application_id).state == "draft"
        assert count(Submission) == 0


def test_by_default_a_call_asks_neither_rule(app, make_client, people):
    """Existing calls keep their rules: partners that have not answered do not stop a submission."""
    lead, application_id = _draft_with_partners(app, make_client, people)
    shown = _submit(lead, application_id)
    with app.app_context():
        assert db.session.get(Application, application_id).reference is not None, shown


def test_a_partner_that_declined_stops_the_submission_even_when_the_call_does_not_wait_for_answers(
    app, make_client, people
):
    """The call asks no confirmation, but Quito said no: the check page says so in the lead's
    Spanish and the application is not sent (nothing written) until Quito is taken off."""
    lead, application_id = _draft_with_partners(app, make_client, people)
    quito_id = _partner_id(app, application_id, people["quito"])
    quito = _client(make_client, "andrea@quito.example")
    assert _decline(quito, application_id, quito_id, "Sin presupuesto este año.").status_code == 302
    check = page_text(lead.get(f"/applications/{application_id}/check"))
    assert "Quito rechazó participar: quítela de las socias o nombre otra ciudad." in check
    shown = _submit(lead, application_id)
    assert "Quito rechazó participar" in shown
    with app.app_context():
        assert db.session.get(Application, application_id).reference is None and count(Submission) == 0
    _submitted_with_medellin_alone(app, lead, application_id, people)


def test_staff_set_the_two_rules_on_the_call_form(app, make_client, people):
    with app.app_context():
        call_id = people["call"]
    staff = _client(make_client, "staff@fund.example")
    url = f"/staff/calls/{call_id}/edit"
    form = page_text(staff.get(url))
    assert 'name="partners_must_confirm"' in form and 'name="partners_dues_required"' in form
    with app.app_context():
        from fundapp.calls.models import Call

        call = db.session.get(Call, call_id)
        assert call.partners_must_confirm is False and call.partners_dues_required is False


def test_a_confirmed_partner_sees_the_decision_and_the_grant_but_cannot_act_on_it(app, make_client):
    with app.app_context():
        f.focal_point("Medellín", "elise@medellin.example", language="fr", name="Élise Marchand")
        decision = f.awarded("Bogotá", partners=("Medellín",))
        application = decision.application
        f.partner_confirmed(application, "Medellín")
        grant_id, application_id = decision.grant.id, application.id
        db.session.commit()
    medellin = _client(make_client, "elise@medellin.example")
    page = page_text(medellin.get(f"/applications/{application_id}"))
    assert 'id="decision"' in page and "€" in page and "/grant" in page
    redirect = medellin.get(f"/applications/{application_id}/grant")
    assert redirect.status_code == 302 and f"/grants/{grant_id}" in redirect.headers["Location"]
    grant_page = page_text(medellin.get(f"/grants/{grant_id}"))
    assert 'id="partner-view"' in grant_page
    assert "accept-grant" not in grant_page and "decline-grant" not in grant_page
    assert "Allocation by donor" not in grant_page
    url = f"/grants/{grant_id}"
    accept = medellin.post(f"{url}/accept", {"bank_details": "IBAN FR76 3000 6000 0112 3456 7890 189"}, token_from=url)
    assert accept.status_code == 404
    assert medellin.post(f"{url}/decline", {"reason": "Non."}, token_from=url).status_code == 404
    with app.app_context():
        grant = db.session.get(Grant, grant_id)
        assert grant.accepted_at is None and not grant.has_ended
        # The lead accepts: reports become due, and they are the lead's alone.
        f.s.accept(grant.decision, f.focal_point("Bogotá"))
        report_ids = [r.id for r in grant.reports]
        db.session.commit()
    assert report_ids
    grant_page = page_text(medellin.get(f"/grants/{grant_id}"))
    assert "/reports/" not in grant_page
    for report_id in report_ids:
        assert medellin.get(f"/reports/{report_id}").status_code == 404


def test_before_the_letter_a_partner_is_not_told_of_the_decision(app, make_client):
    with app.app_context():
        f.focal_point("Medellín", "elise@medellin.example", language="fr", name="Élise Marchand")
        decision = f.awarded("Bogotá", partners=("Medellín",), letter=False)
        grant_id, application_id = decision.grant.id, decision.application_id
        db.session.commit()
    medellin = _client(make_client, "elise@medellin.example")
    page = page_text(medellin.get(f"/applications/{application_id}"))
    assert 'id="decision"' not in page and "Awarded" not in page
    assert medellin.get(f"/grants/{grant_id}").status_code == 404
    assert medellin.get(f"/applications/{application_id}/grant").status_code == 404


def test_a_partner_declining_without_a_reason_is_told_why_in_its_language(app, make_client, people):
    """The pages rely on the server's refusals (the browser's own checks are turned off by app.js):
    each says why in the reader's language, and nothing is answered."""
    _lead, application_id = _draft_with_partners(app, make_client, people)
    medellin_id = _partner_id(app, application_id, people["medellin"])
    elise = _client(make_client, "elise@medellin.example")  # reads French
    declined = _decline(elise, application_id, medellin_id, "")
    assert declined.status_code == 400
    assert translated(app, "fr", "Say why your city declines.") in page_text(declined)
    with app.app_context():
        assert db.session.get(Partner, medellin_id).is_waiting
        assert count(AuditEntry, AuditEntry.action.in_(("partner.confirm", "partner.decline"))) == 0


def test_a_request_of_a_decided_application_no_longer_waits_at_home(app, make_client):
    """Bogotá named Medellín, which never answered; the application was sent and decided: Medellín's
    home page no longer asks it to confirm or decline."""
    with app.app_context():
        f.focal_point("Medellín", "elise@medellin.example", language="fr")
        f.awarded("Bogotá", partners=["Medellín"])
    medellin = _client(make_client, "elise@medellin.example")
    home = page_text(medellin.get("/"))
    assert translated(app, "fr", "confirm or decline") not in home
