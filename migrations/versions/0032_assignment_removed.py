"""reviews: a reviewer taken off a panel by staff is "removed" (with staff's reason), not "declined"

Until now staff's removal put the assignment in "declined", which the reviewer and the panel read
as the reviewer's own refusal. Assignments removed before this revision (their audit entry says
"assignment.unassign") become "removed", with the reason the audit entry kept.

Revision ID: 0032_assignment_removed
Revises: 0031_envelope_given_back
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0032_assignment_removed"
down_revision = "0031_envelope_given_back"
branch_labels = None
depends_on = None

STATES_BEFORE = "state IN ('assigned', 'accepted', 'declined', 'conflict', 'submitted', 'reopened')"
STATES_AFTER = "state IN ('assigned', 'accepted', 'declined', 'removed', 'conflict', 'submitted', 'reopened')"


def upgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("removed_reason", sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f("ck_assignment_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_assignment_state_known"), STATES_AFTER)

    bind = op.get_bind()
    removals = bind.execute(
        sa.text("SELECT object_id, after FROM audit_entry WHERE action = 'assignment.unassign' ORDER BY id")
    ).all()
    for object_id, after in removals:
        if isinstance(after, str):
            after = json.loads(after)
        reason = (after or {}).get("reason")
        bind.execute(
            sa.text(
                "UPDATE assignment SET state = 'removed', removed_reason = :reason WHERE id = :id AND state = 'declined'"
            ),
            {"reason": reason, "id": int(object_id)},
        )


def downgrade():
    op.execute("UPDATE assignment SET state = 'declined', declaration_reason = removed_reason WHERE state = 'removed'")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_assignment_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_assignment_state_known"), STATES_BEFORE)
        batch_op.drop_column("removed_reason")
