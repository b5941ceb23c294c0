"""applications: the call-and-state index also holds the first submission, so a call's sent
applications and its drafts are counted from the index alone

Revision ID: 0030_application_counts
Revises: 0029_review_submissions
"""

from alembic import op

revision = "0030_application_counts"
down_revision = "0029_review_submissions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("application") as batch:
        batch.drop_index("ix_application_call_state")
        batch.create_index("ix_application_call_state_sent", ["call_id", "state", "first_submitted_at"])


def downgrade():
    with op.batch_alter_table("application") as batch:
        batch.drop_index("ix_application_call_state_sent")
        batch.create_index("ix_application_call_state", ["call_id", "state"])
