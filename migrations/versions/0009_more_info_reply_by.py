"""applications: a reply date for "more information"

Revision ID: 0009_more_info_reply_by
Revises: 0008_outbox_claim_time
"""

from alembic import op
import sqlalchemy as sa
import fundapp.core.timeutil  # noqa: F401

revision = "0009_more_info_reply_by"
down_revision = "0008_outbox_claim_time"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("more_info_reply_by", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_column("more_info_reply_by")
