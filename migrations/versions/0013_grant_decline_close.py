"""grants: declined and closed, what is due

A city may decline an offered grant; staff close a grant and what was not paid returns; an ended
grant has nothing due (its open report duties become "cancelled"); a reserve decision may be
superseded by an award when money comes back.

Revision ID: 0013_grant_decline_close
Revises: 0012_mail_and_letters_once
"""

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0013_grant_decline_close"
down_revision = "0012_mail_and_letters_once"
branch_labels = None
depends_on = None

GRANT_STATES_BEFORE = "state IN ('offered', 'accepted', 'active', 'closed', 'cancelled')"
GRANT_STATES_AFTER = "state IN ('offered', 'accepted', 'active', 'closed', 'cancelled', 'declined')"
ENDED = "('closed', 'cancelled', 'declined')"
REPORT_STATES_BEFORE = "state IN ('due', 'submitted', 'changes_requested', 'approved')"
REPORT_STATES_AFTER = "state IN ('due', 'submitted', 'changes_requested', 'approved', 'cancelled')"
CURRENT_BEFORE = "revised_at IS NULL"
CURRENT_AFTER = "revised_at IS NULL AND superseded_at IS NULL"


def upgrade():
    with op.batch_alter_table("grant_award", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declined_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("closed_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("ended_at", fundapp.core.timeutil.UTCDateTime(timezone=True), nullable=True))

    # Grants cancelled before this revision ended when their cancellation was recorded.
    op.execute(
        sa.text(
            "UPDATE grant_award SET ended_at = COALESCE(("
            " SELECT MAX(e.at) FROM audit_entry e WHERE e.object_type = 'Grant'"
            " AND e.object_id = CAST(grant_award.id AS VARCHAR(40)) AND e.action IN ('grant.cancel', 'grant.close')"
            "), created_at) WHERE state IN ('closed', 'cancelled')"
        )
    )

    with op.batch_alter_table("grant_award", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_grant_award_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_grant_award_state_known"), GRANT_STATES_AFTER)
        batch_op.create_check_constraint(
            op.f("ck_grant_award_ended_when_final"), f"(state IN {ENDED}) = (ended_at IS NOT NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_grant_award_ended_returns_unpaid"),
            f"state NOT IN {ENDED} OR paid_cents + returned_cents = amount_cents",
        )
        batch_op.create_check_constraint(
            op.f("ck_grant_award_declined_has_reason"), "state <> 'declined' OR declined_reason IS NOT NULL"
        )

    # The report duties of grants that ended before this revision are no longer due.
    with op.batch_alter_table("grant_report", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_grant_report_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_grant_report_state_known"), REPORT_STATES_AFTER)
    op.execute(
        sa.text(
            "UPDATE grant_report SET state = 'cancelled' WHERE state IN ('due', 'submitted', 'changes_requested')"
            f" AND grant_id IN (SELECT id FROM grant_award WHERE state IN {ENDED})"
        )
    )

    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(sa.Column("superseded_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("superseded_at", fundapp.core.timeutil.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_decision_superseded_by_id_decision"), "decision", ["superseded_by_id"], ["id"]
        )
        batch_op.create_check_constraint(
            op.f("ck_decision_superseded_has_date"), "superseded_by_id IS NULL OR superseded_at IS NOT NULL"
        )
        batch_op.create_check_constraint(
            op.f("ck_decision_only_reserve_superseded"), "superseded_at IS NULL OR kind = 'reserve'"
        )
        batch_op.drop_index(
            "uq_decision_current", postgresql_where=sa.text(CURRENT_BEFORE), sqlite_where=sa.text(CURRENT_BEFORE)
        )
        batch_op.create_index(
            "uq_decision_current",
            ["application_id"],
            unique=True,
            postgresql_where=sa.text(CURRENT_AFTER),
            sqlite_where=sa.text(CURRENT_AFTER),
        )


def downgrade():
    # A superseded reserve decision has no place in the older schema: the award that replaced it stays.
    op.execute(
        sa.text("DELETE FROM letter WHERE decision_id IN (SELECT id FROM decision WHERE superseded_at IS NOT NULL)")
    )
    op.execute(sa.text("DELETE FROM decision WHERE superseded_at IS NOT NULL"))
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_decision_current", postgresql_where=sa.text(CURRENT_AFTER), sqlite_where=sa.text(CURRENT_AFTER)
        )
        batch_op.create_index(
            "uq_decision_current",
            ["application_id"],
            unique=True,
            postgresql_where=sa.text(CURRENT_BEFORE),
            sqlite_where=sa.text(CURRENT_BEFORE),
        )
        batch_op.drop_constraint(op.f("ck_decision_only_reserve_superseded"), type_="check")
        batch_op.drop_constraint(op.f("ck_decision_superseded_has_date"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_decision_superseded_by_id_decision"), type_="foreignkey")
        batch_op.drop_column("superseded_at")
        batch_op.drop_column("superseded_by_id")

    # Report duties of ended grants were "due" before (the grant's state kept them from being written).
    op.execute(sa.text("UPDATE grant_report SET state = 'due' WHERE state = 'cancelled'"))
    with op.batch_alter_table("grant_report", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_grant_report_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_grant_report_state_known"), REPORT_STATES_BEFORE)

    # A declined grant was, in the older schema, a grant cancelled with the city's reason.
    op.execute(
        sa.text(
            "UPDATE grant_award SET state = 'cancelled', cancelled_reason = declined_reason WHERE state = 'declined'"
        )
    )
    with op.batch_alter_table("grant_award", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_grant_award_declined_has_reason"), type_="check")
        batch_op.drop_constraint(op.f("ck_grant_award_ended_returns_unpaid"), type_="check")
        batch_op.drop_constraint(op.f("ck_grant_award_ended_when_final"), type_="check")
        batch_op.drop_constraint(op.f("ck_grant_award_state_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_grant_award_state_known"), GRANT_STATES_BEFORE)
        batch_op.drop_column("ended_at")
        batch_op.drop_column("closed_reason")
        batch_op.drop_column("declined_reason")
