"""applications: states after the decision (awarded, reserve list, not funded) and when the city is told

Revision ID: 0010_application_decision_states
Revises: 0009_more_info_reply_by
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0010_application_decision_states"
down_revision = "0009_more_info_reply_by"
branch_labels = None
depends_on = None

BEFORE = "state IN ('draft', 'submitted', 'more_info', 'eligible', 'ineligible', 'in_review', 'reviewed', 'withdrawn')"
AFTER = (
    "state IN ('draft', 'submitted', 'more_info', 'eligible', 'ineligible', 'in_review', 'reviewed', "
    "'awarded', 'reserved', 'not_funded', 'withdrawn')"
)
# Decision kind -> the application's state after it.
STATES = {"award": "awarded", "reserve": "reserved", "reject": "not_funded"}


def upgrade():
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("decision_sent_at", fundapp.core.timeutil.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.drop_constraint(op.f("ck_application_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_application_state_known"), AFTER)

    # Applications decided before this revision stayed "reviewed": move them to their decision.
    for kind, state in STATES.items():
        op.execute(
            sa.text(
                "UPDATE application SET state = :state, decision_sent_at = ("
                " SELECT d.letter_sent_at FROM decision d"
                " WHERE d.application_id = application.id AND d.revised_at IS NULL)"
                " WHERE state = 'reviewed' AND EXISTS ("
                " SELECT 1 FROM decision d WHERE d.application_id = application.id"
                " AND d.revised_at IS NULL AND d.kind = :kind)"
            ).bindparams(state=state, kind=kind)
        )


def downgrade():
    op.execute(
        sa.text("UPDATE application SET state = 'reviewed' WHERE state IN ('awarded', 'reserved', 'not_funded')")
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_application_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_application_state_known"), BEFORE)
        batch_op.drop_column("decision_sent_at")
