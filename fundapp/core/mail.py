"""E-mail: rendered in the recipient's language into the outbox, sent by a job with retries.

queue_mail() is called from operations, inside their transaction; the message row and its send
job commit together. The job sends through SMTP when FUNDAPP_SMTP_HOST is set, otherwise it
writes the message to the log and marks it "logged" (the embedded default).

No message is lost: when the job's own retries are used up, the message waits for the sweep
(sweep_outbox), which queues it again after each wait of MAIL_RESEND_BACKOFF (1 h, 6 h, 24 h,
72 h) and then gives it up as "dead", in sight on the outbox page, where staff can send it again
(requeue). The sweep also takes back a message whose sending worker died (its claim expired).
Every send claims the message first, so none is sent twice.
"""

import logging
import re
import smtplib
import ssl
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from markupsafe import Markup, escape

from ..extensions import db
from . import audit
from .catalogue import lazy_gettext as _l
from .i18n import reader_zone
from .jobs import current_job_gives_up, enqueue, job, sweeper
from .models import OutboxMessage
from .timeutil import utcnow

log = logging.getLogger(__name__)


def render_mail(template, language, reader_timezone=None, **context):
    """(subject, body) of templates/email/<template>.txt in `language`.

    The template's first line is "Subject: ..."; the rest is the body. Instants are shown in the
    reader's timezone (the fund's when it is not known), never in that of whoever acted.
    """
    with force_locale(language), reader_zone(reader_timezone or current_app.config["FUND_TIMEZONE"]):
        text = render_template(f"email/{template}.txt", language=language, **context)
    first, _, body = text.lstrip().partition("\n")
    if not first.startswith("Subject:"):
        raise ValueError(f"email/{template}.txt must start with a 'Subject:' line")
    return first[len("Subject:") :].strip(), body.strip() + "\n"


def queue_mail(
    to_email,
    template,
    *,
    language="en",
    reader_timezone=None,
    to_name=None,
    attachments=(),
    dedupe_key=None,
    **context,
):
    """Record a message in the outbox and queue its send job; both commit with the caller."""
    if dedupe_key is not None:
        existing = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    subject, body = render_mail(template, language, reader_timezone, to_name=to_name, **context)
    message = OutboxMessage(
        to_email=to_email,
        to_name=to_name,
        subject=subject,
        body=body,
        language=language,
        template=template,
        status="queued",
        dedupe_key=dedupe_key,
    )
    message.attachments = list(attachments)
    db.session.add(message)
    db.session.flush()
    enqueue("mail.send", message_id=message.id, dedupe_key=f"mail.send:{message.id}")
    return message


# A send that has not finished after this long was abandoned (its worker died): it may be retried.
CLAIM_EXPIRES = timedelta(minutes=10)


def _claim(message_id):
    """Move the message to sending in one conditional UPDATE.

    Two runs of the same job cannot both claim it, so a message is never sent twice; a claim left
    behind by a worker that died mid-send expires, so the message is not lost either.
    """
    now = utcnow()
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            sa.or_(
                OutboxMessage.status.in_(("queued", "failed")),
                sa.and_(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - CLAIM_EXPIRES),
            ),
        )
        .values(status="sending", attempts=OutboxMessage.attempts + 1, claimed_at=now)
    )
    db.session.commit()
    return result.rowcount == 1


def build_email(message, config):
    email = EmailMessage()
    email["From"] = config["MAIL_FROM"]
    email["To"] = formataddr((message.to_name or "", message.to_email))
    email["Subject"] = message.subject
    email["Message-ID"] = make_msgid(idstring=f"outbox-{message.id}", domain="fundapp")
    email["Content-Language"] = message.language
    email.set_content(message.body)
    for document in message.attachments:
        maintype, _, subtype = document.content_type.partition("/")
        email.add_attachment(
            document.data, maintype=maintype, subtype=subtype or "octet-stream", filename=document.filename
        )
    return email


def _smtp_send(email, config):
    host, port, timeout = config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_TIMEOUT"]
    if config["SMTP_SSL"]:
        client = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(host, port, timeout=timeout)
    with client:
        if config["SMTP_STARTTLS"] and not config["SMTP_SSL"]:
            client.starttls(context=ssl.create_default_context())
        if config["SMTP_USERNAME"]:
            client.login(config["SMTP_USERNAME"], config["SMTP_PASSWORD"] or "")
        client.send_message(email)


@job("mail.send", label=_l("Send an e-mail"), timeout=120)
def send_message(message_id):
    if not _claim(message_id):
        return "already handled"
    message = db.session.get(OutboxMessage, message_id)
    config = current_app.config
    try:
        if config.get("SMTP_HOST"):
            _smtp_send(build_email(message, config), config)
            message.status = "sent"
        else:
            log.info("mail (no SMTP configured) to %s: %s\n%s", message.to_email, message.subject, message.body)
            message.status = "logged"
    except Exception as exc:
        db.session.rollback()
        message = db.session.get(OutboxMessage, message_id)
        message.status = "failed"
        message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        if current_job_gives_up():
            _wait_for_the_sweep(message)
        db.session.commit()
        raise
    message.sent_at = utcnow()
    message.last_error = None
    message.next_attempt_at = None
    db.session.commit()
    return message.status


def _wait_for_the_sweep(message):
    """The job has no retry left: the sweep sends the message again after the next wait, or, after
    the last one, it is given up as dead."""
    backoff = current_app.config["MAIL_RESEND_BACKOFF"]
    if message.sweeps < len(backoff):
        message.next_attempt_at = utcnow() + timedelta(seconds=backoff[message.sweeps])
    else:
        message.status = "dead"
        message.next_attempt_at = None
        audit.record(
            "mail.dead",
            message,
            after={"status": "dead", "attempts": message.attempts, "error": message.last_error},
            summary=f"Message to {message.to_email} given up after {message.attempts} attempts",
        )


# A failed message with no wait set (its job's retries never came: the worker died) is the
# sweep's after this long without a send.
RETRIES_ABANDONED = timedelta(hours=1)
RESENDABLE = ("failed", "dead")


def requeue(message):
    """Queue a new send of the message (status queued); its job claims it. The caller holds the
    message (a conditional UPDATE, a row lock), so it is queued once."""
    message.status = "queued"
    message.next_attempt_at = None
    db.session.flush()
    return enqueue("mail.send", message_id=message.id)


@sweeper
def sweep_outbox(now):
    """Failed messages whose wait is over go out again; a send abandoned by a dead worker (its
    claim expired) is taken again. Each is moved by a conditional UPDATE, so two sweeps at once
    queue it once, and each send claims the message, so it is never sent twice."""
    due = sa.and_(
        OutboxMessage.status == "failed",
        sa.or_(
            OutboxMessage.next_attempt_at <= now,
            sa.and_(
                OutboxMessage.next_attempt_at.is_(None),
                sa.or_(OutboxMessage.claimed_at.is_(None), OutboxMessage.claimed_at < now - RETRIES_ABANDONED),
            ),
        ),
    )
    requeued = 0
    for message_id in db.session.scalars(sa.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id)).all():
        taken = db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id == message_id, due)
            .values(sweeps=OutboxMessage.sweeps + 1, next_attempt_at=None, status="queued")
        )
        if taken.rowcount != 1:
            continue
        message = db.session.get(OutboxMessage, message_id)
        db.session.refresh(message)
        requeue(message)
        audit.record(
            "mail.sweep",
            message,
            after={"status": "queued", "sweeps": message.sweeps},
            summary=f"Message to {message.to_email} queued again by the sweep ({message.sweeps})",
        )
        requeued += 1
    abandoned = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == "sending", OutboxMessage.claimed_at < now - CLAIM_EXPIRES)
        .order_by(OutboxMessage.id)
    ).all()
    for message in abandoned:
        # Left "sending": the new job's claim takes the expired one over (the same key each sweep
        # until it does, so the sweep queues it once).
        enqueue("mail.send", message_id=message.id, dedupe_key=f"mail.send:{message.id}:reclaim:{message.attempts}")
    db.session.commit()
    return {"mail_requeued": requeued, "mail_reclaimed": len(abandoned)}


# An http(s) link in a body already escaped for HTML: it ends at a space or an escaped quote or
# angle bracket; sentence punctuation after it is not part of it.
_ESCAPED_LINK = re.compile(r"https?://(?:(?!&(?:lt|gt|quot|#34|#39);)\S)+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}"
_ENTITY_END = re.compile(r"&#?\w+;$")


def body_as_html(body, base_url=None):
    """A message body as HTML: every character escaped first, then each http(s) link made a link.

    Links into fundapp (starting with `base_url`) open in place; any other opens without sending
    the outbox's address along.
    """
    escaped = str(escape(body or ""))
    base = str(escape(base_url.rstrip("/"))) if base_url else None

    def link(match):
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING and not (url[-1] == ";" and _ENTITY_END.search(url)):
            url, tail = url[:-1], url[-1] + tail
        if base and (url == base or url.startswith(base + "/")):
            return f'<a href="{url}">{url}</a>{tail}'
        return f'<a href="{url}" rel="noopener noreferrer nofollow">{url}</a>{tail}'

    return Markup(_ESCAPED_LINK.sub(link, escaped))


# What the audit log calls the outbox's actions, in the reader's language.
audit.name_actions(
    {
        "mail.dead": _l("E-mail given up after its attempts"),
        "mail.resend": _l("E-mail sent again"),
        "mail.sweep": _l("Undelivered e-mails tried again"),
    }
)
