"""members: each member city has a timezone, the default of its focal points' clocks

Revision ID: 0019_member_timezone
Revises: 0018_mfa
"""

import sqlalchemy as sa
from alembic import op

from fundapp.members.timezones import zone_for

revision = "0019_member_timezone"
down_revision = "0018_mfa"
branch_labels = None
depends_on = None

FUND_TIMEZONE = "Europe/Madrid"


def upgrade():
    with op.batch_alter_table("member") as batch:
        batch.add_column(sa.Column("timezone", sa.String(length=64), nullable=False, server_default="UTC"))
    member = sa.table("member", sa.column("id"), sa.column("name"), sa.column("country"), sa.column("timezone"))
    user = sa.table("user_account", sa.column("id"), sa.column("timezone"))
    grant = sa.table("role_grant", sa.column("user_id"), sa.column("member_id"), sa.column("role"))
    bind = op.get_bind()
    for member_id, name, country in bind.execute(sa.select(member.c.id, member.c.name, member.c.country)).all():
        zone = zone_for(country, name) or FUND_TIMEZONE
        bind.execute(sa.update(member).where(member.c.id == member_id).values(timezone=zone))
        # Focal points still on the fund's default clock move to their city's.
        focal_points = sa.select(grant.c.user_id).where(grant.c.member_id == member_id, grant.c.role == "applicant")
        bind.execute(
            sa.update(user)
            .where(user.c.id.in_(focal_points), user.c.timezone == FUND_TIMEZONE)
            .values(timezone=zone)
        )


def downgrade():
    with op.batch_alter_table("member") as batch:
        batch.drop_column("timezone")
