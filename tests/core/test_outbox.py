"""The outbox: with no SMTP an administrator reads each message and follows its links; nobody
else opens a body, since bodies hold sign-in links."""

import re
from datetime import datetime, timezone
from html import unescape

import pytest
import sqlalchemy as sa

from fundapp.accounts.models import User
from fundapp.core.mail import body_as_html, queue_mail
from fundapp.core.models import Document, OutboxMessage
from fundapp.extensions import db

from ..helpers import PASSWORD, make_member, make_user, run_jobs, text

pytestmark = pytest.mark.sqlite

MESSAGE_LINK_RE = re.compile(r'href="(/outbox/(\d+))"')
INVITATION_LINK_RE = re.compile(r'<a href="(http://fundapp\.test(/invitation/[^"]+))">')


def _queue(app, to="ana@quito.example", to_name="Ana Quispe", attachment_ids=(), language="es"):
    with app.app_context():
        message = queue_mail(
            to,
            "invitation",
            language=language,
            to_name=to_name,
            inviter="Sofía Martín",
            member="Quito",
            role="applicant",
            link="http://fundapp.test/invitation/abc",
            expires_at=datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc),
            attachments=[db.session.get(Document, i) for i in attachment_ids],
        )
        db.session.commit()
        return message.id


def test_an_admin_reads_an_invitation_in_the_outbox_and_the_invited_person_follows_it(app, make_client):
    app.config["SMTP_HOST"] = None  # the embedded default
    with app.app_context():
        bogota_id = make_member("Bogotá", "CO", "latin_america_caribbean").id
        make_user("admin@fund.example", "admin", name="Ada Admin")
    admin = make_client()
    admin.login("admin@fund.example")
    response = admin.post(
        "/users/invite",
        {
            "name": "María Rojas",
            "email": "maria@bogota.test",
            "role": "applicant",
            "member": bogota_id,
            "donor": 0,
            "language": "es",
        },
        token_from="/users/invite",
    )
    assert response.status_code == 302
    run_jobs(app)

    outbox = text(admin.get("/outbox"))
    assert "maria@bogota.test" in outbox
    (row_link, message_id), *_ = MESSAGE_LINK_RE.findall(outbox)
    page = admin.get(row_link)
    assert page.status_code == 200
    body = text(page)
    for expected in ("maria@bogota.test", "María Rojas", "Fondo Internacional para las Metrópolis", "logged", "es"):
        assert expected in body
    assert "Bogotá" in body
    url, path = INVITATION_LINK_RE.search(body).groups()
    with app.app_context():
        message = db.session.get(OutboxMessage, int(message_id))
        assert url in message.body and message.status == "logged"

    invitee = make_client()
    path = unescape(path)
    assert invitee.get(path).status_code == 200
    response = invitee.post(path, {"name": "María Rojas", "password": PASSWORD, "confirm": PASSWORD}, token_from=path)
    assert response.status_code == 302
    assert "Bogotá" in text(invitee.get("/"))
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == "maria@bogota.test"))
        assert user.member_ids() == [bogota_id]


def test_staff_see_the_list_but_only_an_admin_opens_a_body(app, make_client):
    message_id = _queue(app)
    with app.app_context():
        make_user("admin@fund.example", "admin")
        make_user("staff@fund.example", "staff")
        make_user("focal@quito.example", "applicant", member=make_member("Quito", "EC", "latin_america_caribbean"))
        make_user("rev@montreal.example", "reviewer")
    staff = make_client()
    staff.login("staff@fund.example")
    listing = text(staff.get("/outbox"))
    assert "ana@quito.example" in listing
    assert f"/outbox/{message_id}" not in listing and "/invitation/abc" not in listing
    assert staff.get(f"/outbox/{message_id}").status_code == 403

    for address in ("focal@quito.example", "rev@montreal.example"):
        other = make_client()
        other.login(address)
        assert other.get("/outbox").status_code == 403
        response = other.get(f"/outbox/{message_id}")
        assert response.status_code == 403 and "/invitation/abc" not in text(response)

    anonymous = make_client().get(f"/outbox/{message_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]

    admin = make_client()
    admin.login("admin@fund.example")
    assert f'href="/outbox/{message_id}"' in text(admin.get("/outbox"))
    assert "/invitation/abc" in text(admin.get(f"/outbox/{message_id}"))
    assert admin.get(f"/outbox/{message_id + 1}").status_code == 404
    assert admin.get("/outbox/2147483648").status_code == 404


def test_the_body_is_escaped_before_its_links_are_made(app, make_client):
    message_id = _queue(app, to_name='Ana <script>alert("x")</script> & Co')
    with app.app_context():
        make_user("admin@fund.example", "admin")
    admin = make_client()
    admin.login("admin@fund.example")
    page = text(admin.get(f"/outbox/{message_id}"))
    assert "<script>alert" not in page
    assert "Ana &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Co" in page
    assert '<a href="http://fundapp.test/invitation/abc">http://fundapp.test/invitation/abc</a>' in page


def test_body_as_html_links_only_http_urls_and_keeps_punctuation_out():
    html = str(
        body_as_html(
            "Ver http://fundapp.test/invitation/x1. Y (https://www.metropolis.org/fondo?a=1&b=2), "
            'javascript:alert(1) <a href="http://evil.example">x</a>',
            "http://fundapp.test/",
        )
    )
    assert '<a href="http://fundapp.test/invitation/x1">http://fundapp.test/invitation/x1</a>.' in html
    assert (
        '(<a href="https://www.metropolis.org/fondo?a=1&amp;b=2" rel="noopener noreferrer nofollow">'
        "https://www.metropolis.org/fondo?a=1&amp;b=2</a>),"
    ) in html
    assert "javascript:alert(1)" in html and 'href="javascript' not in html
    assert '&lt;a href=&#34;<a href="http://evil.example"' in html  # the typed tag stays text


def test_attachments_names_language_and_status_are_shown(app, make_client):
    with app.app_context():
        doc = Document(
            filename="carta-de-adjudicación-quito.pdf",
            content_type="application/pdf",
            size=8,
            sha256="0" * 64,
            data=b"%PDF-1.4",
        )
        db.session.add(doc)
        db.session.commit()
        doc_id = doc.id
        make_user("admin@fund.example", "admin")
    message_id = _queue(app, attachment_ids=[doc_id], language="fr")
    admin = make_client()
    admin.login("admin@fund.example")
    page = text(admin.get(f"/outbox/{message_id}"))
    assert "carta-de-adjudicación-quito.pdf" in page
    assert "Fonds international pour les métropoles" in page
    with app.app_context():
        status = db.session.get(OutboxMessage, message_id).status
    assert f'class="status-{status}"' in page


def test_an_empty_outbox_says_so_and_the_list_pages(app, make_client):
    with app.app_context():
        make_user("admin@fund.example", "admin")
    admin = make_client()
    admin.login("admin@fund.example")
    assert "No e-mail has been sent yet." in text(admin.get("/outbox"))

    app.config["PAGE_SIZE"] = 2
    ids = [_queue(app, to=f"{name}@quito.example") for name in ("ana", "bruno", "carla")]
    first = text(admin.get("/outbox"))
    second = text(admin.get("/outbox?page=2"))
    assert len(MESSAGE_LINK_RE.findall(first)) == 2 and len(MESSAGE_LINK_RE.findall(second)) == 1
    assert f'href="/outbox/{ids[0]}"' in second  # the oldest comes last
    assert 'rel="next"' in first
