"""accounts: personal access tokens for the API

Revision ID: 0026_access_tokens
Revises: 0025_reporting_per_call
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0026_access_tokens"
down_revision = "0025_reporting_per_call"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "access_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=12), nullable=False),
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("created_at", fundapp.core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("expires_at", fundapp.core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("last_used_at", fundapp.core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", fundapp.core.timeutil.UTCDateTime(), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("scope IN ('read')", name=op.f("ck_access_token_scope_known")),
        sa.CheckConstraint(
            "revoked_by_id IS NULL OR revoked_at IS NOT NULL", name=op.f("ck_access_token_revoker_only_when_revoked")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_access_token_user_id_user_account"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"],
            ["user_account.id"],
            name=op.f("fk_access_token_revoked_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_access_token")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_access_token_token_digest")),
    )
    op.create_index(op.f("ix_access_token_user_id"), "access_token", ["user_id"])


def downgrade():
    op.drop_index(op.f("ix_access_token_user_id"), table_name="access_token")
    op.drop_table("access_token")
