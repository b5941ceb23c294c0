"""
applications and grants: messages between a city and the programme team

Revision ID: 0022_messages
Revises: 0021_expert_offers_and_juries
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0022_messages"
down_revision = "0021_expert_offers_and_juries"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "application_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("from_staff", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", fundapp.core.timeutil.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "length(body) >= 1 AND length(body) <= 4000", name=op.f("ck_application_message_body_length")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["application.id"],
            name=op.f("fk_application_message_application_id_application"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user_account.id"], name=op.f("fk_application_message_author_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_application_message")),
    )
    op.create_index(
        op.f("ix_application_message_application_id"), "application_message", ["application_id"], unique=False
    )


def downgrade():
    op.drop_index(op.f("ix_application_message_application_id"), table_name="application_message")
    op.drop_table("application_message")
