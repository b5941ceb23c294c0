"""funding: the ledger is closed through the last day a donor report covers

Revision ID: 0016_ledger_closing
Revises: 0015_links_replaced
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0016_ledger_closing"
down_revision = "0015_links_replaced"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ledger_closing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("through", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("closed_at", fundapp.core.timeutil.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_ledger_closing_actor_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_closing")),
    )
    op.create_index(op.f("ix_ledger_closing_through"), "ledger_closing", ["through"])
    # Reports built before this migration closed their periods too.
    op.execute(
        "INSERT INTO ledger_closing (through, reason, closed_at, actor_id) "
        "SELECT period_end, 'donor report ' || id, created_at, requested_by_id FROM donor_report "
        "WHERE period_end < CURRENT_DATE"
    )


def downgrade():
    op.drop_index(op.f("ix_ledger_closing_through"), table_name="ledger_closing")
    op.drop_table("ledger_closing")
