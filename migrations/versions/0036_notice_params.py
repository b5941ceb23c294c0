"""notices: the values that fill them, so a notice is shown in the language its reader reads now

A notice was written once, in its reader's language of that day: a staff member who switched to
French still read "Montréal declined its grant…" in English. Each notice now keeps the values of
its text (a call's titles in every language, an amount in cents) and is written out when shown;
notices kept from before have none and show their text as written.

Revision ID: 0036_notice_params
Revises: 0035_application_title_folded
"""

import sqlalchemy as sa
from alembic import op

revision = "0036_notice_params"
down_revision = "0035_application_title_folded"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_column("params")
