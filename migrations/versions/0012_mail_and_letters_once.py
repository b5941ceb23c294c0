"""jobs and mail: the sweep that loses no mail; letters sent once

Outbox messages that failed after their job's retries are sent again by the sweep after a
growing back-off (`next_attempt_at`, counted by `sweeps`), and given up as "dead" after the last
one. A letter keeps the reason it was not sent.

Revision ID: 0012_mail_and_letters_once
Revises: 0011_fund_max_approved_budget
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0012_mail_and_letters_once"
down_revision = "0011_fund_max_approved_budget"
branch_labels = None
depends_on = None

MAIL_BEFORE = "status IN ('queued', 'sending', 'sent', 'logged', 'failed')"
MAIL_AFTER = "status IN ('queued', 'sending', 'sent', 'logged', 'failed', 'dead')"


def upgrade():
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("next_attempt_at", fundapp.core.timeutil.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("sweeps", sa.Integer(), server_default=sa.text("0"), nullable=False))
        batch_op.create_index(batch_op.f("ix_outbox_message_next_attempt_at"), ["next_attempt_at"], unique=False)
        batch_op.drop_constraint(op.f("ck_outbox_message_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_message_status_known"), MAIL_AFTER)
        batch_op.create_check_constraint(op.f("ck_outbox_message_sweeps_not_negative"), "sweeps >= 0")

    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.add_column(sa.Column("error", sa.Text(), nullable=True))

    # Messages that failed before this revision were lost: the first sweep sends them again.
    op.execute(sa.text("UPDATE outbox_message SET next_attempt_at = CURRENT_TIMESTAMP WHERE status = 'failed'"))


def downgrade():
    op.execute(sa.text("UPDATE outbox_message SET status = 'failed' WHERE status = 'dead'"))
    with op.batch_alter_table("letter", schema=None) as batch_op:
        batch_op.drop_column("error")

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_outbox_message_sweeps_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("ck_outbox_message_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_outbox_message_status_known"), MAIL_BEFORE)
        batch_op.drop_index(batch_op.f("ix_outbox_message_next_attempt_at"))
        batch_op.drop_column("sweeps")
        batch_op.drop_column("next_attempt_at")
