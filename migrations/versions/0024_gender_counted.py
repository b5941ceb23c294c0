"""accounts: a person's gender, optional; applications: the project lead and their gender

Revision ID: 0024_gender_counted
Revises: 0023_partners_take_part
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_gender_counted"
down_revision = "0023_partners_take_part"
branch_labels = None
depends_on = None

GENDERS = ("woman", "man", "other", "undisclosed")


def upgrade():
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("gender", sa.String(20), nullable=True))
        batch.create_check_constraint("gender_known", f"gender IS NULL OR gender IN {GENDERS!r}")
    with op.batch_alter_table("application") as batch:
        batch.add_column(sa.Column("lead_name", sa.String(200), nullable=False, server_default=""))
        batch.add_column(sa.Column("lead_gender", sa.String(20), nullable=True))
        batch.create_check_constraint("lead_gender_known", f"lead_gender IS NULL OR lead_gender IN {GENDERS!r}")


def downgrade():
    with op.batch_alter_table("application") as batch:
        batch.drop_constraint("lead_gender_known", type_="check")
        batch.drop_column("lead_gender")
        batch.drop_column("lead_name")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_constraint("gender_known", type_="check")
        batch.drop_column("gender")
