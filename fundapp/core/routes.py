"""Pages every role shares: home, and the staff views of the audit log, jobs and outbox."""

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..extensions import db
from . import audit, operations
from .forms import act
from .inputs import page_number
from .jobs import job_label
from .mail import RESENDABLE, body_as_html
from .models import (
    JOB_STATE_LABELS,
    JOB_STATES,
    MAIL_STATE_LABELS,
    MAIL_STATES,
    AuditEntry,
    JobRecord,
    Notice,
    OutboxMessage,
)
from .pagination import paginate
from .permissions import admin_required, get_visible_or_404, staff_required

bp = Blueprint("core", __name__)

MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns


@bp.route("/notices/<int:notice_id>/dismiss", methods=["POST"])
@login_required
def dismiss_notice(notice_id):
    notice = get_visible_or_404(Notice, notice_id)
    operations.dismiss_notice(notice)
    return redirect(url_for("home.index"))


@bp.route("/healthz")
def healthz():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


@bp.route("/audit")
@staff_required
def audit_log():
    object_type = request.args.get("object_type", "").strip()
    object_id = request.args.get("object_id", "").strip()
    action = request.args.get("action", "").strip()
    stmt = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    if object_id:
        stmt = stmt.where(AuditEntry.object_id == object_id)
    if action:
        stmt = stmt.where(AuditEntry.action.like(f"{action}%"))
    page = paginate(stmt, page=request.args.get("page", 1, type=page_number), per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "core/audit.html",
        page=page,
        object_type=object_type,
        object_id=object_id,
        action=action,
        object_types=audit.named_object_types(),
        links=audit.object_links(page.items),
    )


@bp.route("/jobs")
@staff_required
def jobs():
    status = request.args.get("status", "")
    stmt = sa.select(JobRecord).order_by(JobRecord.created_at.desc(), JobRecord.id.desc())
    if status:
        stmt = stmt.where(JobRecord.status == status)
    page = paginate(stmt, page=request.args.get("page", 1, type=page_number), per_page=current_app.config["PAGE_SIZE"])
    undelivered = db.session.execute(
        sa.select(OutboxMessage.status, sa.func.count(OutboxMessage.id))
        .where(OutboxMessage.status.in_(RESENDABLE))
        .group_by(OutboxMessage.status)
    ).all()
    return render_template(
        "core/jobs.html",
        page=page,
        status=status,
        states=JOB_STATES,
        state_labels=JOB_STATE_LABELS,
        job_label=job_label,
        undelivered=dict(undelivered),
    )


@bp.route("/outbox")
@staff_required
def outbox():
    status = request.args.get("status", "")
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc())
    if status in MAIL_STATES:
        stmt = stmt.where(OutboxMessage.status == status)
    page = paginate(stmt, page=request.args.get("page", 1, type=page_number), per_page=current_app.config["PAGE_SIZE"])
    return render_template(
        "core/outbox.html",
        page=page,
        can_read=current_user.has_role("admin"),
        status=status if status in MAIL_STATES else "",
        states=MAIL_STATES,
        state_labels=MAIL_STATE_LABELS,
        resendable=RESENDABLE,
    )


@bp.route("/outbox/resend/<int:message_id>", methods=["POST"])
@staff_required
def resend_message(message_id):
    """Staff send again a message that failed or was given up (the list shows no body: any staff)."""
    if message_id > MAX_ROW_ID:
        abort(404)
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    to_email = message.to_email
    act(
        _("The message to %(to)s is queued to be sent again.", to=to_email),
        operations.resend_message,
        message,
        actor=current_user._get_current_object(),
    )
    status = request.form.get("status", "")
    return redirect(url_for("core.outbox", status=status if status in MAIL_STATES else None))


@bp.route("/outbox/<int:message_id>")
@admin_required
def outbox_message(message_id):
    # Bodies hold invitation and reset links that sign a person in: administrators only.
    if message_id > MAX_ROW_ID:  # beyond the id column: no such message, not a database error
        abort(404)
    message = db.session.get(OutboxMessage, message_id) or abort(404)
    body = body_as_html(message.body, current_app.config["BASE_URL"])
    return render_template("core/outbox_message.html", message=message, body=body)
