"""Writes on what core owns that users start themselves."""

import sqlalchemy as sa

from ..extensions import db
from . import audit
from .catalogue import lazy_gettext as _l
from .errors import Refused
from .mail import RESENDABLE, requeue
from .models import OutboxMessage
from .timeutil import utcnow
from .transactions import done


def dismiss_notice(notice):
    notice.dismissed_at = utcnow()
    done()


def resend_message(message, *, actor):
    """Staff send again an e-mail that failed or was given up (after fixing an address, a server):
    a new send job, with the sweep's back-off started afresh should it fail again."""
    # Under a row lock: a double click, or the sweep at the same moment, queues it once.
    db.session.execute(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if message.status not in RESENDABLE:
        raise Refused(
            _l("This message is “%(status)s”: only a message that failed can be sent again.", status=message.status)
        )
    before = {"status": message.status, "attempts": message.attempts, "sweeps": message.sweeps}
    message.sweeps = 0
    record = requeue(message)
    audit.record(
        "mail.resend",
        message,
        before=before,
        after={"status": message.status, "job": record.id},
        actor=actor,
        summary=f"Message to {message.to_email} sent again by staff",
    )
    done()
    return record
