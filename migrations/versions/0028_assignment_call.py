"""reviews: each assignment keeps its application's call, indexed with its due date for review progress

Revision ID: 0028_assignment_call
Revises: 0027_publication_consent
"""

import sqlalchemy as sa
from alembic import op

revision = "0028_assignment_call"
down_revision = "0027_publication_consent"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("assignment") as batch:
        batch.add_column(sa.Column("call_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE assignment SET call_id = (SELECT application.call_id FROM application "
        "WHERE application.id = assignment.application_id)"
    )
    with op.batch_alter_table("assignment") as batch:
        batch.alter_column("call_id", existing_type=sa.Integer(), nullable=False)
        batch.create_foreign_key(op.f("fk_assignment_call_id_call"), "call", ["call_id"], ["id"])
        batch.create_index("ix_assignment_call_due", ["call_id", "due_at", "id"])


def downgrade():
    with op.batch_alter_table("assignment") as batch:
        batch.drop_index("ix_assignment_call_due")
        batch.drop_constraint(op.f("fk_assignment_call_id_call"), type_="foreignkey")
        batch.drop_column("call_id")
