"""
applications: partners confirm (or decline) with a letter of commitment; calls: whether partners must confirm and have paid their dues

Revision ID: 0023_partners_take_part
Revises: 0022_messages
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0023_partners_take_part"
down_revision = "0022_messages"
branch_labels = None
depends_on = None

PARTNER_STATES = ("asked", "confirmed", "declined")


def upgrade():
    with op.batch_alter_table("call") as batch:
        # Off for every call that exists: their rules stay as they were.
        batch.add_column(sa.Column("partners_must_confirm", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("partners_dues_required", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("application_partner") as batch:
        # NULL: named before partners were asked (never asked yet); asked on the draft's next save.
        batch.add_column(sa.Column("state", sa.String(20), nullable=True))
        batch.add_column(sa.Column("asked_at", fundapp.core.timeutil.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("answered_at", fundapp.core.timeutil.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("answered_by_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("decline_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("letter_document_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_application_partner_answered_by_id_user_account", "user_account", ["answered_by_id"], ["id"]
        )
        batch.create_foreign_key(
            "fk_application_partner_letter_document_id_document", "document", ["letter_document_id"], ["id"]
        )
        batch.create_check_constraint("partner_state_known", f"state IS NULL OR state IN {PARTNER_STATES!r}")
        batch.create_check_constraint("asked_has_time", "(state IS NULL) = (asked_at IS NULL)")
        batch.create_check_constraint(
            "answered_has_time", "(state IN ('confirmed', 'declined')) = (answered_at IS NOT NULL)"
        )


def downgrade():
    with op.batch_alter_table("application_partner") as batch:
        batch.drop_constraint("answered_has_time", type_="check")
        batch.drop_constraint("asked_has_time", type_="check")
        batch.drop_constraint("partner_state_known", type_="check")
        batch.drop_constraint("fk_application_partner_letter_document_id_document", type_="foreignkey")
        batch.drop_constraint("fk_application_partner_answered_by_id_user_account", type_="foreignkey")
        batch.drop_column("letter_document_id")
        batch.drop_column("decline_reason")
        batch.drop_column("answered_by_id")
        batch.drop_column("answered_at")
        batch.drop_column("asked_at")
        batch.drop_column("state")
    with op.batch_alter_table("call") as batch:
        batch.drop_column("partners_dues_required")
        batch.drop_column("partners_must_confirm")
