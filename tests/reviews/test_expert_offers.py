"""Experts offer to review from a public page; staff accept (an invitation follows, and the reviewer's
profile is what the expert offered) or decline (with a reason kept, the expert told politely)."""

import io
import re

import sqlalchemy as sa

from fundapp.accounts.models import Invitation, User
from fundapp.core import pdf
from fundapp.core.models import AuditEntry, Document, OutboxMessage
from fundapp.extensions import db
from fundapp.reviews.models import ExpertOffer

from ..helpers import count, make_user, text

CV = pdf.render([pdf.para("Aïssatou Ndiaye — économie du soin, protection sociale, Dakar")], title="CV")


def _offer(client, language="fr", **changes):
    data = {
        "name": "Aïssatou Ndiaye",
        "email": "aissatou.ndiaye@ucad.example",
        "gender": "woman",
        "country": "SN",
        "region": "africa",
        "languages": ["fr", "en"],
        "expertise": "Économie du soin, protection sociale des aidantes, budgets sensibles au genre.",
        "affiliation": "Université Cheikh Anta Diop",
        "cv": (io.BytesIO(CV), "cv-ndiaye.pdf"),
    }
    data.update(changes)
    return client.post(
        "/experts/offer",
        data,
        token_from="/experts/offer",
        content_type="multipart/form-data",
        headers={"Accept-Language": language},
    )


def _outbox(template):
    return db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.template == template)).all()


def test_the_public_pages_link_to_the_offer_and_the_form_needs_no_sign_in(client):
    home = text(client.get("/calls/", headers={"Accept-Language": "es"}))
    assert 'href="/experts/offer"' in home
    page = client.get("/experts/offer", headers={"Accept-Language": "es"})
    assert page.status_code == 200
    body = text(page)
    for name in ("name", "email", "gender", "country", "region", "languages", "expertise", "affiliation", "cv"):
        assert f'name="{name}"' in body, name
    assert 'lang="es"' in body and "Senegal" in body  # countries named in the visitor's language


def test_an_expert_offers_in_french_with_a_cv_and_a_second_offer_is_refused(app, client):
    response = _offer(client)
    assert response.status_code == 200, text(response)
    assert "aissatou.ndiaye@ucad.example" in text(response)
    with app.app_context():
        offer = db.session.scalar(sa.select(ExpertOffer))
        assert (offer.name, offer.gender, offer.country, offer.region) == ("Aïssatou Ndiaye", "woman", "SN", "africa")
        assert offer.languages == "en,fr" and offer.language == "fr" and offer.state == "new"
        assert offer.cv.content_type == "application/pdf" and offer.cv.data == CV
        (ack,) = _outbox("expert_offer_received")
        assert ack.to_email == "aissatou.ndiaye@ucad.example" and ack.language == "fr"

    # The same address again, even typed differently: still one offer, and a message that says no more.
    again = _offer(client, "en", email=" Aissatou.Ndiaye@UCAD.example ", name="A. Ndiaye")
    assert again.status_code == 400
    assert "Your offer is already with the programme team" in text(again)
    assert 'value="A. Ndiaye"' in text(again)  # what was typed is kept
    with app.app_context():
        assert count(ExpertOffer) == 1 and count(Document) == 1
        assert len(_outbox("expert_offer_received")) == 1


def test_a_cv_that_is_not_a_pdf_or_a_missing_field_is_refused_and_nothing_is_kept(app, client):
    response = _offer(client, "en", cv=(io.BytesIO(b"PK\x03\x04 not really"), "cv.docx"))
    assert response.status_code == 400 and "Upload your CV as a PDF." in text(response)
    response = _offer(client, "en", cv=(io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(64)), "cv.pdf"))
    assert response.status_code == 400 and "does not match" in text(response)
    response = _offer(client, "en", languages=[], region="")
    assert response.status_code == 400
    assert "Choose at least one language you review in." in text(response) and "Choose your region." in text(response)
    # The CV they had chosen cannot come back with the page: they are asked to choose it again.
    assert "please choose your CV again" in text(response)
    with app.app_context():
        assert count(ExpertOffer) == 0 and count(Document) == 0 and count(OutboxMessage) == 0


def _staff(make_client):
    client = make_client()
    client.login("staff@fund.example")
    return client


def test_staff_accept_an_offer_and_the_expert_becomes_a_reviewer_with_the_offered_profile(app, client, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff", name="Sofía Martínez")
    _offer(
        client,
        language="es",
        name="Tomás Herrera",
        email="tomas.herrera@uba.example",
        gender="man",
        country="AR",
        region="latin_america_caribbean",
        languages=["es"],
        expertise="Sistemas de cuidado",
        affiliation="Universidad de Buenos Aires",
    )
    staff = _staff(make_client)
    listing = text(staff.get("/staff/reviewers/offers"))
    assert "Tomás Herrera" in listing and 'data-state="new"' in listing
    with app.app_context():
        offer_id = db.session.scalar(sa.select(ExpertOffer.id))
    detail = f"/staff/reviewers/offers/{offer_id}"
    cv = staff.get(f"{detail}/cv")
    assert cv.status_code == 200 and cv.data == CV and "attachment" in cv.headers["Content-Disposition"]
    assert client.get(f"{detail}/cv").status_code in (302, 404)  # not for visitors

    response = staff.post(f"{detail}/accept", {}, token_from=detail, follow_redirects=True)
    assert "is invited to join the reviewer pool" in text(response)
    with app.app_context():
        offer = db.session.get(ExpertOffer, offer_id)
        assert offer.state == "accepted" and offer.decided_by.name == "Sofía Martínez"
        invitation = db.session.scalar(sa.select(Invitation))
        assert (invitation.email, invitation.role, invitation.language) == (
            "tomas.herrera@uba.example",
            "reviewer",
            "es",
        )
        (mail,) = _outbox("invitation")
        link = re.search(r"/invitation/[\w-]+", mail.body).group(0)
    # Accepting twice does not invite twice.
    again = staff.post(f"{detail}/accept", {}, token_from=detail, follow_redirects=True)
    assert "already answered" in text(again)

    expert = make_client()
    response = expert.post(
        link,
        {"name": "Tomás Herrera", "password": "cuidados en la ciudad 2026", "confirm": "cuidados en la ciudad 2026"},
        token_from=link,
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "tomas.herrera@uba.example"))
        profile = user.reviewer_profile
        assert user.has_role("reviewer") and user.language == "es"
        assert (profile.gender, profile.region, profile.country, profile.languages) == (
            "man",
            "latin_america_caribbean",
            "AR",
            "es",
        )
        assert profile.expertise == "Sistemas de cuidado" and profile.affiliation == "Universidad de Buenos Aires"
        assert db.session.get(ExpertOffer, offer_id).user_id == user.id
    pool = text(staff.get("/staff/reviewers"))
    row = pool[pool.index("Tomás Herrera") :]
    assert 'data-origin="offer"' in row[: row.index("</tr>")] and "Offered to review on" in row[: row.index("</tr>")]


def test_staff_decline_an_offer_with_a_reason_and_the_expert_is_told(app, client, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff", name="Sofía Martínez")
        make_user("rania@experts.example", "reviewer", name="Rania Haddad")
    _offer(client)
    staff = _staff(make_client)
    with app.app_context():
        offer_id = db.session.scalar(sa.select(ExpertOffer.id))
    detail = f"/staff/reviewers/offers/{offer_id}"
    refused = staff.post(f"{detail}/decline", {"reason": "  "}, token_from=detail)
    assert refused.status_code == 400 and "Give the reason." in text(refused)
    with app.app_context():
        assert db.session.get(ExpertOffer, offer_id).state == "new" and not _outbox("expert_offer_declined")

    reason = "Le pool couvre déjà l'Afrique de l'Ouest pour cet appel."
    response = staff.post(f"{detail}/decline", {"reason": reason}, token_from=detail, follow_redirects=True)
    assert "The offer is declined" in text(response) and reason.replace("'", "&#39;") in text(response)
    with app.app_context():
        offer = db.session.get(ExpertOffer, offer_id)
        assert offer.state == "declined" and offer.decline_reason == reason
        (mail,) = _outbox("expert_offer_declined")
        assert mail.to_email == "aissatou.ndiaye@ucad.example" and mail.language == "fr"
        assert reason not in mail.body  # the reason stays with the programme team
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "expert_offer.decline"))
        assert entry is not None
        assert count(Invitation) == 0
    assert 'data-state="declined"' in text(staff.get("/staff/reviewers/offers?state=declined"))
    assert "Aïssatou" not in text(staff.get("/staff/reviewers/offers?state=new"))
    # The pool says where the reviewers came from: Rania was added by staff.
    pool = text(staff.get("/staff/reviewers"))
    assert 'data-origin="staff"' in pool and "Invited by staff" in pool
    # The offers list is paginated.
    visitor = make_client()
    _offer(visitor, email="mei.lin@nus.example", name="Mei Lin", country="SG", region="asia_pacific")
    app.config["PAGE_SIZE"] = 1
    first = text(staff.get("/staff/reviewers/offers"))
    assert "Page 1 of 2" in first
