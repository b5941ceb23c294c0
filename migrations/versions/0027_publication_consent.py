"""awards: the city's consent to publish its funded project and reports

Revision ID: 0027_publication_consent
Revises: 0026_access_tokens
"""

import sqlalchemy as sa
from alembic import op

from fundapp.core.timeutil import UTCDateTime

revision = "0027_publication_consent"
down_revision = "0026_access_tokens"
branch_labels = None
depends_on = None


def upgrade():
    # Grants accepted before the city was asked stay unpublished: nobody consented for them.
    with op.batch_alter_table("grant_award") as batch:
        batch.add_column(sa.Column("publish_project", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("publish_reports", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("publication_changed_at", UTCDateTime(), nullable=True))
        batch.create_check_constraint(
            op.f("ck_grant_award_reports_need_project"), "publish_project OR NOT publish_reports"
        )


def downgrade():
    with op.batch_alter_table("grant_award") as batch:
        batch.drop_constraint(op.f("ck_grant_award_reports_need_project"), type_="check")
        batch.drop_column("publication_changed_at")
        batch.drop_column("publish_reports")
        batch.drop_column("publish_project")
