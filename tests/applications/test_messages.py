"""Messages on an application (issue 16, item 6): the lead city's focal points and the programme
team write to each other in one thread, on the application's pages and on its grant's page; the
other side is told by e-mail in their own language and on their own clock. Reviewers, donors and
other cities never see it, nor reach any of its routes."""

from html import unescape

import sqlalchemy as sa

from fundapp.applications.models import MESSAGE_MAX_LENGTH, Application, ApplicationMessage
from fundapp.core.models import AuditEntry, OutboxMessage
from fundapp.extensions import db
from fundapp.reviews.models import Assignment

from .. import factories as f
from ..calls.conftest import fund, staff  # noqa: F401
from ..helpers import count, text, translated

CAMILA = "focal@bogota.example"  # Camila Rodríguez, Bogotá's focal point, reads Spanish (America/Bogota)
CLAIRE = "claire.dubois@metropolis.example"  # the programme team, reads French (Europe/Madrid)


def _people(app):
    with app.app_context():
        f.user(CLAIRE, "staff", name="Claire Dubois", language="fr")
        f.focal_point("Quito")  # another city


def _login(make_client, email):
    client = make_client()
    client.login(email)
    return client


def _mails(template="application_message"):
    db.session.expire_all()
    return {
        m.to_email: m for m in db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template))
    }


def db_reference(app, application_id):
    with app.app_context():
        return db.session.get(Application, application_id).reference


def _post(client, url, page, body):
    return client.post(url, {"message-body": body}, token_from=page)


def test_city_and_staff_exchange_messages_each_told_in_their_language(app, fund, staff, make_client):  # noqa: F811
    _people(app)
    with app.app_context():
        application_id = f.submitted("Bogotá").id
    city_page, staff_page = f"/applications/{application_id}", f"/staff/applications/{application_id}"
    url = f"/applications/{application_id}/messages"
    camila, claire = _login(make_client, CAMILA), _login(make_client, CLAIRE)

    # Nothing written yet: each side reads an empty state and a form to write.
    empty_for_camila = "No messages yet. Write here to the programme team: they are told by e-mail."
    assert translated(app, "es", empty_for_camila) in unescape(text(camila.get(city_page)))
    empty_for_claire = "No messages yet. Write here to the city’s focal points: they are told by e-mail."
    assert translated(app, "fr", empty_for_claire) in unescape(text(claire.get(staff_page)))

    question = "Buenos días:\n¿Podemos cambiar la fecha de inicio?\n<b>Gracias</b> & saludos"
    response = _post(camila, url, city_page, question)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{city_page}#messages")
    with app.app_context():
        stored = db.session.scalar(sa.select(ApplicationMessage))
        assert stored.body == question  # kept as typed
        assert stored.from_staff is False
        # The programme team is told, each in their own language and timezone: Claire in French.
        mails = _mails()
        assert CAMILA not in mails
        to_claire = mails[CLAIRE]
        assert to_claire.language == "fr"
        assert "Bonjour Claire Dubois," in to_claire.body
        assert "(Europe/Madrid)" in to_claire.body and "America/Bogota" not in to_claire.body
        assert question in to_claire.body
        assert f"/staff/applications/{application_id}#messages" in to_claire.body
        assert "staff@fund.example" in mails  # every staff user, as other staff notices
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "application.message"))
        assert entry.object_id == str(application_id) and entry.after["body"] == question

    # Staff read it, escaped, with its line breaks kept, on their page; and reply.
    page = text(claire.get(staff_page))
    assert "¿Podemos cambiar la fecha de inicio?" in page
    assert "&lt;b&gt;Gracias&lt;/b&gt; &amp; saludos" in page and "<b>Gracias</b>" not in page
    assert 'class="message-body">Buenos días:\n¿Podemos' in page
    answer = "Oui, tant que le projet commence avant la fin de l'année."
    response = _post(claire, url, staff_page, answer)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"{staff_page}#messages")
    with app.app_context():
        to_camila = _mails()[CAMILA]
        assert to_camila.language == "es"
        assert "Hola, Camila Rodríguez:" in to_camila.body
        assert "(America/Bogota)" in to_camila.body
        assert answer in to_camila.body and f"/applications/{application_id}#messages" in to_camila.body
        assert count(AuditEntry, AuditEntry.action == "application.message") == 2

    # The city reads both, newest last, with who wrote them.
    page = text(camila.get(city_page))
    assert page.index("¿Podemos cambiar") < page.index("tant que le projet commence")
    assert "Claire Dubois" in page and translated(app, "es", "programme team") in page
    assert (
        translated(app, "es", "No messages yet. Write here to the programme team: they are told by e-mail.") not in page
    )


def test_the_grant_page_shows_and_posts_to_the_same_thread(app, fund, staff, make_client):  # noqa: F811
    _people(app)
    with app.app_context():
        decision = f.awarded("Bogotá")
        application_id, grant_id = decision.application_id, decision.grant.id
        sdc = f.fund()["SDC"].donor
        f.user("officer@sdc.example", "donor", name="Ursula Keller", language="fr", donor=sdc)
    grant_page = f"/grants/{grant_id}"
    camila, claire = _login(make_client, CAMILA), _login(make_client, CLAIRE)
    assert _post(camila, f"/grants/{grant_id}/messages", grant_page, "¿Cuándo llega el primer pago?").status_code == 302
    assert _post(claire, f"/grants/{grant_id}/messages", grant_page, "Dès l'acceptation.").status_code == 302
    with app.app_context():
        messages = db.session.scalars(sa.select(ApplicationMessage).order_by(ApplicationMessage.id)).all()
        assert [(m.application_id, m.from_staff) for m in messages] == [(application_id, False), (application_id, True)]
        mails = _mails()
        assert mails[CLAIRE].language == "fr" and mails[CAMILA].language == "es"
    # Refused on the grant page: said next to the field there, what was typed kept, nothing written.
    response = _post(camila, f"/grants/{grant_id}/messages", grant_page, "Pago " + "x" * MESSAGE_MAX_LENGTH)
    assert response.status_code == 400
    assert 'id="message-body-error"' in text(response) and "Pago xxxx" in text(response)
    assert db_reference(app, application_id) in text(response) and 'data-figure="amount"' in text(response)
    for client, page in ((camila, grant_page), (claire, grant_page), (camila, f"/applications/{application_id}")):
        shown = text(client.get(page))
        assert "¿Cuándo llega el primer pago?" in shown and "Dès l&#39;acceptation." in shown

    # A donor who may read the grant sees no thread and cannot post to it.
    donor = _login(make_client, "officer@sdc.example")
    page = donor.get(grant_page)
    assert page.status_code == 200 and "primer pago" not in text(page) and 'id="messages"' not in text(page)
    assert _post(donor, f"/grants/{grant_id}/messages", grant_page, "Bonjour").status_code == 404
    assert _post(donor, f"/applications/{application_id}/messages", grant_page, "Bonjour").status_code == 404
    with app.app_context():
        assert count(ApplicationMessage) == 2


def test_reviewers_and_other_cities_never_reach_the_thread(app, fund, staff, make_client):  # noqa: F811
    _people(app)
    with app.app_context():
        application = f.assigned("Bogotá")
        application_id = application.id
        assignment_id = db.session.scalar(
            sa.select(Assignment.id).where(
                Assignment.application_id == application_id,
                Assignment.reviewer_id == f.user("aissatou@experts.example").id,
            )
        )
    url = f"/applications/{application_id}/messages"
    camila = _login(make_client, CAMILA)
    assert _post(camila, url, f"/applications/{application_id}", "Mensaje privado para el equipo.").status_code == 302

    reviewer = _login(make_client, "aissatou@experts.example")
    # The reviewer declares, then reads the application on the review pages: no thread there.
    reviewer.post(f"/reviews/{assignment_id}/declare", {"action": "accept"}, token_from=f"/reviews/{assignment_id}")
    review_page = reviewer.get(f"/reviews/{assignment_id}")
    assert review_page.status_code == 200
    assert f.proposal("Bogotá").problem in text(review_page)  # the reviewer does read the application
    assert "Mensaje privado" not in text(review_page) and 'id="messages"' not in text(review_page)
    assert "Mensaje privado" not in text(reviewer.get("/reviews/"))
    assert reviewer.get(f"/applications/{application_id}").status_code == 404
    assert _post(reviewer, url, "/reviews/", "Una pregunta").status_code == 404

    quito = _login(make_client, "focal@quito.example")
    assert quito.get(f"/applications/{application_id}").status_code == 404
    assert _post(quito, url, "/applications/", "Hola").status_code == 404
    with app.app_context():
        assert count(ApplicationMessage) == 1
        assert count(AuditEntry, AuditEntry.action == "application.message") == 1


def test_an_empty_or_too_long_message_is_refused_and_changes_nothing(app, fund, staff, make_client):  # noqa: F811
    _people(app)
    with app.app_context():
        application_id = f.submitted("Bogotá").id
    city_page = f"/applications/{application_id}"
    url = f"/applications/{application_id}/messages"
    camila, claire = _login(make_client, CAMILA), _login(make_client, CLAIRE)

    response = _post(camila, url, city_page, "  \r\n  ")
    assert response.status_code == 400
    page = text(response)
    assert 'id="message-body-error"' in page and translated(app, "es", "Write your message.") in page
    assert translated(app, "es", "No messages yet. Write here to the programme team: they are told by e-mail.") in page

    too_long = "Señores: " + "á" * MESSAGE_MAX_LENGTH
    response = _post(claire, url, f"/staff/applications/{application_id}", too_long)
    assert response.status_code == 400
    page = text(response)
    too_long_message = "A message has at most %(max)s characters; this one has %(n)s."
    # Claire reads French: the numbers as she writes them ("4 000", "4 009").
    shown = unescape(page).replace("\u202f", " ").replace("\xa0", " ")
    expected = translated(app, "fr", too_long_message, max="4 000", n=f"4 {len(too_long) - 4000:03d}")
    assert expected.replace("\u202f", " ").replace("\xa0", " ") in shown
    assert too_long in page  # what was typed is kept in the field
    with app.app_context():
        assert count(ApplicationMessage) == 0
        assert count(OutboxMessage, OutboxMessage.template == "application_message") == 0
        assert count(AuditEntry, AuditEntry.action == "application.message") == 0
        assert db.session.get(Application, application_id).state == "submitted"


def test_a_draft_has_no_thread(app, fund, staff, make_client):  # noqa: F811
    _people(app)
    with app.app_context():
        application_id = f.draft("Bogotá").id
    camila = _login(make_client, CAMILA)
    assert 'id="messages"' not in text(camila.get(f"/applications/{application_id}"))
    response = _post(camila, f"/applications/{application_id}/messages", "/applications/", "Hola")
    assert response.status_code == 404
