"""The jobs page and the outbox name each status in the reader's language, never by its code; the
code stays in data attributes and CSS classes."""

import re
from datetime import datetime, timedelta, timezone
from html import unescape

import pytest
from flask_babel import force_locale

from fundapp.core.i18n import format_instant
from fundapp.core.jobs import enqueue
from fundapp.core.mail import queue_mail
from fundapp.core.models import JOB_STATE_LABELS, JOB_STATES, MAIL_STATE_LABELS, MAIL_STATES
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db

from ..helpers import make_user, run_jobs, text

pytestmark = pytest.mark.sqlite

CODED = re.compile(r'<td data-status="([a-z_]+)">(.*?)</td>', re.S)
OPTION = re.compile(r'<option value="([a-z_]+)"[^>]*>(.*?)</option>', re.S)


def _labels(app, language, table):
    with app.test_request_context(), force_locale(language):
        return {code: str(label) for code, label in table.items()}


def _status_options(page):
    """The status filter's options (the header's language menu left out)."""
    return {code: unescape(shown) for code, shown in OPTION.findall(page) if code not in ("en", "fr", "es")}


def _queue_two(app):
    with app.app_context():
        for to, language in (("ana@quito.example", "es"), ("claire@montreal.example", "fr")):
            queue_mail(
                to,
                "invitation",
                language=language,
                to_name=to.split("@")[0].title(),
                inviter="Sofía Martín",
                member="Quito",
                role="applicant",
                link="http://fundapp.test/invitation/abc",
                expires_at=datetime(2026, 12, 5, 17, 0, tzinfo=timezone.utc),
            )
        db.session.commit()
    run_jobs(app)


def test_every_status_has_a_label_in_french_and_spanish(app):
    assert set(JOB_STATE_LABELS) == set(JOB_STATES) and set(MAIL_STATE_LABELS) == set(MAIL_STATES)
    for table in (JOB_STATE_LABELS, MAIL_STATE_LABELS):
        english = _labels(app, "en", table)
        for language in ("fr", "es"):
            translated = _labels(app, language, table)
            for code in table:
                assert translated[code] != english[code], (language, code, translated[code])
                assert translated[code] != code


@pytest.mark.parametrize("language", ["fr", "es"])
def test_the_jobs_page_and_the_outbox_say_each_status_in_words(app, make_client, language):
    app.config["SMTP_HOST"] = None  # the embedded default: messages are written to the log
    with app.app_context():
        make_user("staff@fund.example", "staff", language=language)
    _queue_two(app)
    staff = make_client()
    staff.login("staff@fund.example")
    job_labels = _labels(app, language, JOB_STATE_LABELS)
    mail_labels = _labels(app, language, MAIL_STATE_LABELS)
    languages = {"es": "Español", "fr": "Français"}

    jobs = text(staff.get("/jobs"))
    cells = [(code, unescape(shown).strip()) for code, shown in CODED.findall(jobs)]
    assert len(cells) == 2 and all(shown == job_labels[code] for code, shown in cells), cells
    assert _status_options(jobs) == job_labels
    # What each job does, in words ("mail.send" stays beside it, as a code).
    said = {"fr": "Envoyer un courriel", "es": "Enviar un correo electrónico"}[language]
    assert jobs.count(said) == 2 and '<code class="muted">mail.send</code>' in jobs

    outbox = text(staff.get("/outbox"))
    cells = [(code, unescape(shown).strip()) for code, shown in CODED.findall(outbox)]
    assert len(cells) == 2 and all(shown == mail_labels[code] for code, shown in cells), cells
    assert _status_options(outbox) == mail_labels
    # The messages' languages by name, not by code; the status code still in the row's class.
    shown_languages = re.findall(r'<td lang="([a-z]{2})">([^<]*)</td>', outbox)
    assert sorted(shown_languages) == sorted(languages.items())
    assert re.search(r'<tr class="status-(logged|sent)">', outbox)
    for code in MAIL_STATES:
        assert f">{code}<" not in outbox


def test_a_status_filter_still_takes_the_code(app, make_client):
    app.config["SMTP_HOST"] = None
    with app.app_context():
        make_user("staff@fund.example", "staff", language="fr")
    _queue_two(app)
    staff = make_client()
    staff.login("staff@fund.example")
    page = text(staff.get("/outbox?status=dead"))
    assert '<option value="dead" selected>Abandonné</option>' in page
    assert "<td data-status=" not in page  # no message was given up


def test_a_job_scheduled_for_later_says_when_it_runs(app, make_client):
    """A reminder queued for a later day is waiting, not stuck: the page says when it runs."""
    when = utcnow().replace(microsecond=0) + timedelta(days=3)
    with app.app_context():
        make_user("staff@fund.example", "staff", language="fr")
        enqueue("mail.send", message_id=0, run_at=when, dedupe_key="later")
        db.session.commit()
    staff = make_client()
    staff.login("staff@fund.example")
    jobs = text(staff.get("/jobs"))
    with app.test_request_context(), force_locale("fr"):
        shown = format_instant(when, "Europe/Madrid")
    runs = re.findall(r"<td data-runs-at>([^<]*)</td>", jobs)
    assert runs and unescape(runs[0]).split(" (")[0] == shown.split(" (")[0], (runs, shown)
