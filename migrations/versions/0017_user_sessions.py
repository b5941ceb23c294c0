"""accounts: one row per signed-in browser (absolute lifetime, inactivity timeout, listed and ended)

Revision ID: 0017_user_sessions
Revises: 0016_ledger_closing
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0017_user_sessions"
down_revision = "0016_ledger_closing"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.String(length=64), nullable=False),
        sa.Column("created_at", fundapp.core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", fundapp.core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("ended_at", fundapp.core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("ended_because", sa.String(length=20), nullable=True),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("address", sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_user_session_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_user_session_token_digest")),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
