"""funding: a contribution's exchange rate to ten decimals

A dong or a rupiah is worth a few hundred-thousandths of a euro (0.0000354): six decimals could
not hold the rate a donor's contribution was converted at.

Revision ID: 0033_contribution_rate_places
Revises: 0032_assignment_removed
"""

import sqlalchemy as sa
from alembic import op

revision = "0033_contribution_rate_places"
down_revision = "0032_assignment_removed"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.alter_column(
            "rate_to_eur", existing_type=sa.Numeric(14, 6), type_=sa.Numeric(18, 10), existing_nullable=False
        )


def downgrade():
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.alter_column(
            "rate_to_eur", existing_type=sa.Numeric(18, 10), type_=sa.Numeric(14, 6), existing_nullable=False
        )
