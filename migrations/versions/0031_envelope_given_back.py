"""envelope lines given back: a settled call's line may hold nothing

Once a call is decided, staff give back to the donors' contributions what no grant holds of its
envelope: each line is lowered to what grants hold of it, which may be nothing (every grant on it
declined or cancelled), so a line may now be 0.

Revision ID: 0031_envelope_given_back
Revises: 0030_application_counts
"""

from alembic import op

revision = "0031_envelope_given_back"
down_revision = "0030_application_counts"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("call_funding", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_call_funding_amount_positive"), type_="check")
        batch_op.create_check_constraint(op.f("ck_call_funding_amount_not_negative"), "amount_cents >= 0")


def downgrade():
    with op.batch_alter_table("call_funding", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_call_funding_amount_not_negative"), type_="check")
        batch_op.create_check_constraint(op.f("ck_call_funding_amount_positive"), "amount_cents > 0")
