"""reviews: each review counts its submissions, so a call's kept criterion means tell a review
submitted again apart from its earlier submission without relying on the clock

Revision ID: 0029_review_submissions
Revises: 0028_assignment_call
"""

import sqlalchemy as sa
from alembic import op

revision = "0029_review_submissions"
down_revision = "0028_assignment_call"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("review") as batch:
        batch.add_column(sa.Column("submissions", sa.Integer(), nullable=False, server_default="0"))
    # A review submitted before this migration counts one submission (its earlier ones are not known).
    op.execute("UPDATE review SET submissions = 1 WHERE submitted_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table("review") as batch:
        batch.drop_column("submissions")
