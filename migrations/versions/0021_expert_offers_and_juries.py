"""reviews: experts' offers to review; a jury per call with its balance rule, jurors' load and unavailability

Revision ID: 0021_expert_offers_and_juries
Revises: 0020_content_per_language
"""

import sqlalchemy as sa
from alembic import op

from fundapp.core.timeutil import UTCDateTime

revision = "0021_expert_offers_and_juries"
down_revision = "0020_content_per_language"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "expert_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("gender", sa.String(20), nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        sa.Column("region", sa.String(40), nullable=False),
        sa.Column("languages", sa.String(20), nullable=False),
        sa.Column("expertise", sa.Text(), nullable=False),
        sa.Column("affiliation", sa.String(200), nullable=False),
        sa.Column("cv_document_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.CheckConstraint("state IN ('new', 'accepted', 'declined')", name="ck_expert_offer_state_known"),
        sa.CheckConstraint("email = lower(email)", name="ck_expert_offer_email_lowercase"),
        sa.CheckConstraint(
            "state != 'declined' OR decline_reason IS NOT NULL", name="ck_expert_offer_declined_has_reason"
        ),
        sa.ForeignKeyConstraint(["cv_document_id"], ["document.id"], name="fk_expert_offer_cv_document_id_document"),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["user_account.id"], name="fk_expert_offer_decided_by_id_user_account"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], name="fk_expert_offer_user_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_expert_offer"),
        sa.UniqueConstraint("email", name="uq_expert_offer_email"),
    )
    op.create_index("ix_expert_offer_user_id", "expert_offer", ["user_id"])
    op.create_table(
        "jury",
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("min_women_percent", sa.Integer(), nullable=False),
        sa.Column("min_men_percent", sa.Integer(), nullable=False),
        sa.Column("min_regions", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", UTCDateTime(), nullable=True),
        sa.Column("confirmed_by_id", sa.Integer(), nullable=True),
        sa.Column("confirm_reason", sa.Text(), nullable=True),
        sa.CheckConstraint("min_women_percent BETWEEN 0 AND 100", name="ck_jury_women_percent_range"),
        sa.CheckConstraint("min_men_percent BETWEEN 0 AND 100", name="ck_jury_men_percent_range"),
        sa.CheckConstraint("min_regions BETWEEN 0 AND 6", name="ck_jury_regions_range"),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name="fk_jury_call_id_call", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["confirmed_by_id"], ["user_account.id"], name="fk_jury_confirmed_by_id_user_account"),
        sa.PrimaryKeyConstraint("call_id", name="pk_jury"),
    )
    op.create_table(
        "juror",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("max_load", sa.Integer(), nullable=False),
        sa.Column("unavailable_from", sa.Date(), nullable=True),
        sa.Column("unavailable_until", sa.Date(), nullable=True),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("added_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("max_load >= 1", name="ck_juror_max_load_positive"),
        sa.CheckConstraint(
            "unavailable_from IS NULL OR unavailable_until IS NULL OR unavailable_from <= unavailable_until",
            name="ck_juror_unavailable_in_order",
        ),
        sa.CheckConstraint(
            "(unavailable_from IS NULL) = (unavailable_until IS NULL)", name="ck_juror_unavailable_both_ends"
        ),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name="fk_juror_call_id_call", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reviewer_id"], ["user_account.id"], name="fk_juror_reviewer_id_user_account"),
        sa.ForeignKeyConstraint(["added_by_id"], ["user_account.id"], name="fk_juror_added_by_id_user_account"),
        sa.PrimaryKeyConstraint("id", name="pk_juror"),
        sa.UniqueConstraint("call_id", "reviewer_id", name="uq_juror_call_reviewer"),
    )
    op.create_index("ix_juror_call_id", "juror", ["call_id"])
    op.create_index("ix_juror_reviewer_id", "juror", ["reviewer_id"])


def downgrade():
    op.drop_index("ix_juror_reviewer_id", table_name="juror")
    op.drop_index("ix_juror_call_id", table_name="juror")
    op.drop_table("juror")
    op.drop_table("jury")
    op.drop_index("ix_expert_offer_user_id", table_name="expert_offer")
    op.drop_table("expert_offer")
