"""Letters are rendered by a real RQ worker in the city's language and e-mailed once."""

import email
import io
from email import policy

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import Letter
from fundapp.core.jobs import run_job
from fundapp.extensions import db

from .. import factories as f
from ..helpers import run_jobs
from .conftest import reviewed, staff_user


def _pdf_text(data):
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.mark.parametrize(
    "language, city, amount_text, words",
    [
        ("fr", "Yaoundé", "100 000,00", "Montant"),
        ("es", "Medellín", "100.000,00", "Importe"),
    ],
)
def test_award_letters_in_french_and_spanish_are_sent_once(
    app, awards_call, smtp_server, language, city, amount_text, words
):
    with app.app_context():
        application_id = reviewed(awards_call, city, language=language, focal=f"focal@{language}.example")
        decision = operations.decide(
            db.session.get(Application, application_id), "award", actor=staff_user(), amount_cents=100_000_00
        )
        letter = operations.send_letter(decision, actor=staff_user())
        assert operations.send_letter(decision, actor=staff_user()).id == letter.id  # a second click: the same letter
        letter_id, job_id = letter.id, letter.job_id
    run_jobs(app)
    with app.app_context():
        letter = db.session.get(Letter, letter_id)
        assert letter.status == "sent" and letter.document is not None
        text = _pdf_text(letter.document.data).replace("\u202f", " ").replace("\xa0", " ")
        assert city in text and amount_text in text and words in text
        # The job run again (a retry, a restart): no second e-mail.
        from fundapp.core.models import JobRecord

        db.session.execute(sa.update(JobRecord).where(JobRecord.id == job_id).values(status="queued"))
        db.session.commit()
        run_job(job_id)
    run_jobs(app)
    to_city = [
        email.message_from_bytes(e.content, policy=policy.default)
        for e in smtp_server.messages
        if e.rcpt_tos == [f"focal@{language}.example"]
    ]
    # (The submission receipt also carries a PDF, the application; the call's opening notice none.)
    letters = [m for m in to_city if any(a.get_filename().endswith("-letter.pdf") for a in m.iter_attachments())]
    assert len(letters) == 1
    (attachment,) = list(letters[0].iter_attachments())
    assert city in _pdf_text(attachment.get_content())


def test_a_rejection_letter_carries_the_reviewers_comments_without_names_or_confidential_notes(app, awards_call):
    with app.app_context():
        application_id = reviewed(
            awards_call, "Quito", [2, 2, 2, 2, 2], comment="Strong on care services.", staff_comment="(private)"
        )
        jury = [
            (a.reviewer.name, a.reviewer.email) for a in f.s.assignments_of(db.session.get(Application, application_id))
        ]
        decision = operations.decide(
            db.session.get(Application, application_id),
            "reject",
            actor=staff_user(),
            reason="The project is outside the call's scope.",
        )
        text = _pdf_text(operations.render_letter(decision))
        assert "Strong on care services." in text and "outside the call's scope" in text
        assert "(private)" not in text and len(jury) == 3
        for name, address in jury:
            assert name not in text and address not in text
