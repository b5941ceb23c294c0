"""accounts: a reset or invitation link dies when a newer one is sent or the password changes

Revision ID: 0015_links_replaced
Revises: 0014_ledger_entries
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0015_links_replaced"
down_revision = "0014_ledger_entries"
branch_labels = None
depends_on = None


def upgrade():
    for table in ("password_reset", "invitation"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("replaced_at", fundapp.core.timeutil.UTCDateTime(), nullable=True))
    # Links already out: every open one but the newest of each account (or address) is replaced.
    op.execute(
        "UPDATE password_reset SET replaced_at = created_at WHERE used_at IS NULL AND id NOT IN "
        "(SELECT max(id) FROM password_reset GROUP BY user_id)"
    )
    op.execute(
        "UPDATE invitation SET replaced_at = created_at WHERE accepted_at IS NULL AND revoked_at IS NULL "
        "AND id NOT IN (SELECT max(id) FROM invitation GROUP BY email)"
    )


def downgrade():
    for table in ("invitation", "password_reset"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("replaced_at")
