"""Tables every feature shares: the audit log, job records, the mail outbox, stored documents."""

from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .catalogue import lazy_pgettext
from .timeutil import UTCDateTime, utcnow


class AuditEntry(db.Model):
    """One change: who, when, what, to which object, and the values before and after.

    Append-only: written in the same transaction as the change it records, never updated or
    deleted (the ORM refuses, and on PostgreSQL a trigger refuses too).
    """

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(80), nullable=False, index=True)
    object_type: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    object_id: Mapped[str | None] = mapped_column(sa.String(60))
    summary: Mapped[str] = mapped_column(sa.String(300), nullable=False, default="")
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    remote_addr: Mapped[str | None] = mapped_column(sa.String(64))

    actor = relationship("User", lazy="joined")

    __table_args__ = (sa.Index("ix_audit_entry_object", "object_type", "object_id"),)

    def changed_fields(self):
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]


JOB_STATES = ("queued", "running", "retrying", "done", "failed")

# What people read for each job status (the code stays in the database, CSS classes and URLs).
# A context on each: "Done" or "Failed" mean other things elsewhere on the same pages.
JOB_STATE_LABELS = {
    "queued": lazy_pgettext("job status", "Waiting"),
    "running": lazy_pgettext("job status", "Running"),
    "retrying": lazy_pgettext("job status", "To be tried again"),
    "done": lazy_pgettext("job status", "Done"),
    "failed": lazy_pgettext("job status", "Failed"),
}


class JobRecord(db.Model):
    """A background job as the UI sees it: queued, running, done, or failed with the reason."""

    __tablename__ = "job_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), nullable=False, index=True)
    args: Mapped[dict] = mapped_column(sa.JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="queued", index=True)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(nullable=False, default=1)
    error: Mapped[str | None] = mapped_column(sa.Text)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    run_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    started_at: Mapped[object | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    __table_args__ = (
        sa.CheckConstraint(f"status IN {JOB_STATES!r}", name="status_known"),
        sa.CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    )

    @property
    def status_label(self):
        return JOB_STATE_LABELS.get(self.status, self.status)


class Document(db.Model):
    """A file kept in the database (uploads and generated PDFs), so any machine can serve it."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    content_type: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    size: Mapped[int] = mapped_column(nullable=False)
    sha256: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary, nullable=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))

    __table_args__ = (sa.CheckConstraint("size >= 0", name="size_not_negative"),)


# failed: a send failed; the job retries it, then the sweep after a growing back-off (next_attempt_at).
# dead: the sweep gave up after its last back-off; staff may still send it again from the outbox.
MAIL_STATES = ("queued", "sending", "sent", "logged", "failed", "dead")

# What people read for each delivery state. "Sent" is also the outbox's column of send times,
# "Queued" the column of queueing times: the context keeps the state's word apart from them.
MAIL_STATE_LABELS = {
    "queued": lazy_pgettext("mail status", "Waiting to be sent"),
    "sending": lazy_pgettext("mail status", "Being sent"),
    "sent": lazy_pgettext("mail status", "Sent"),
    "logged": lazy_pgettext("mail status", "Written to the log (no mail server)"),
    "failed": lazy_pgettext("mail status", "Failed: will be tried again"),
    "dead": lazy_pgettext("mail status", "Given up"),
}

outbox_attachment = sa.Table(
    "outbox_attachment",
    db.metadata,
    sa.Column("message_id", sa.ForeignKey("outbox_message.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("document_id", sa.ForeignKey("document.id"), primary_key=True),
)


class OutboxMessage(db.Model):
    """Every e-mail fundapp sends, rendered in the recipient's language, with its delivery state."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    to_email: Mapped[str] = mapped_column(sa.String(254), nullable=False, index=True)
    to_name: Mapped[str | None] = mapped_column(sa.String(200))
    subject: Mapped[str] = mapped_column(sa.String(300), nullable=False)
    body: Mapped[str] = mapped_column(sa.Text, nullable=False)
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    template: Mapped[str] = mapped_column(sa.String(80), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(16), nullable=False, default="queued", index=True)
    attempts: Mapped[int] = mapped_column(nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False, index=True)
    sent_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # When a send job took the message; a claim older than the send timeout was abandoned.
    claimed_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # A message that failed after its job's retries is sent again by the sweep from this instant.
    next_attempt_at: Mapped[object | None] = mapped_column(UTCDateTime, index=True)
    # How many times the sweep has queued it again (the back-off grows with it).
    sweeps: Mapped[int] = mapped_column(nullable=False, default=0, server_default=sa.text("0"))

    attachments = relationship("Document", secondary=outbox_attachment, lazy="selectin")

    __table_args__ = (
        sa.CheckConstraint(f"status IN {MAIL_STATES!r}", name="status_known"),
        sa.CheckConstraint("(status IN ('sent', 'logged')) = (sent_at IS NOT NULL)", name="delivered_has_time"),
        sa.CheckConstraint("sweeps >= 0", name="sweeps_not_negative"),
    )

    @property
    def status_label(self):
        return MAIL_STATE_LABELS.get(self.status, self.status)


class Notice(db.Model):
    """A message on a user's home page (a call opened, a decision arrived), until dismissed."""

    __tablename__ = "notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(60), nullable=False)
    message: Mapped[str] = mapped_column(sa.String(500), nullable=False)
    # The values that fill its kind's text, shown in the reader's language (core.notices).
    params: Mapped[dict | None] = mapped_column(sa.JSON)
    link: Mapped[str | None] = mapped_column(sa.String(300))
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    dismissed_at: Mapped[object | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_notice_user_open", "user_id", "dismissed_at"),)

    @property
    def href(self):
        """The notice's link on this site. It is stored as the e-mail sent with it has it (on the
        fund's public address, FUNDAPP_BASE_URL); a page follows its path, on whatever host the
        reader reached."""
        if not self.link:
            return None
        parts = urlsplit(self.link)
        return (
            (parts.path or "/")
            + (f"?{parts.query}" if parts.query else "")
            + (f"#{parts.fragment}" if parts.fragment else "")
        )

    def can_view(self, user):
        return bool(user and user.is_authenticated and user.id == self.user_id)
