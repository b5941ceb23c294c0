"""calls: the theme and required documents in French and Spanish; donors: their name in each

Revision ID: 0020_content_per_language
Revises: 0019_member_timezone
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_content_per_language"
down_revision = "0019_member_timezone"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call") as batch:
        batch.add_column(sa.Column("theme_translations", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("document_translations", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("donor") as batch:
        batch.add_column(sa.Column("name_translations", sa.JSON(), nullable=False, server_default="{}"))


def downgrade():
    with op.batch_alter_table("donor") as batch:
        batch.drop_column("name_translations")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("document_translations")
        batch.drop_column("theme_translations")
