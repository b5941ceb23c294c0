"""calls: the report schedule and the indicators each call sets; applications: a target per indicator; reporting: values per indicator

Revision ID: 0025_reporting_per_call
Revises: 0024_gender_counted
"""

import sqlalchemy as sa
from alembic import op

revision = "0025_reporting_per_call"
down_revision = "0024_gender_counted"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "report_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("due_month", sa.Integer(), nullable=True),
        sa.Column("months_after_end", sa.Integer(), nullable=True),
        sa.CheckConstraint("kind IN ('interim', 'final')", name=op.f("ck_report_step_kind_known")),
        sa.CheckConstraint(
            "(kind = 'interim' AND months_after_end IS NULL AND (due_on IS NULL OR due_month IS NULL)) OR "
            "(kind = 'final' AND due_on IS NULL AND due_month IS NULL AND months_after_end BETWEEN 0 AND 24)",
            name=op.f("ck_report_step_due_fits_kind"),
        ),
        sa.CheckConstraint("due_month IS NULL OR due_month > 0", name=op.f("ck_report_step_month_positive")),
        sa.ForeignKeyConstraint(["call_id"], ["call.id"], name=op.f("fk_report_step_call_id_call"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_step")),
    )
    op.create_index(op.f("ix_report_step_call_id"), "report_step", ["call_id"], unique=False)
    op.create_table(
        "call_indicator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.JSON(), nullable=False),
        sa.Column("unit", sa.JSON(), nullable=False),
        sa.Column("by_gender", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_id"], ["call.id"], name=op.f("fk_call_indicator_call_id_call"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_indicator")),
    )
    op.create_index(op.f("ix_call_indicator_call_id"), "call_indicator", ["call_id"], unique=False)
    # Every existing call keeps the schedule it had: an interim report halfway, the final two months
    # after the project's end.
    op.execute("INSERT INTO report_step (call_id, kind) SELECT id, 'interim' FROM call")
    op.execute("INSERT INTO report_step (call_id, kind, months_after_end) SELECT id, 'final', 2 FROM call")

    with op.batch_alter_table("application") as batch:
        batch.add_column(sa.Column("indicator_targets", sa.JSON(), nullable=False, server_default="{}"))

    with op.batch_alter_table("grant_report") as batch:
        batch.add_column(sa.Column("position", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("number", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("indicator_values", sa.JSON(), nullable=False, server_default="{}"))
    op.execute("UPDATE grant_report SET position = 2 WHERE kind = 'final'")
    with op.batch_alter_table("grant_report") as batch:
        batch.drop_constraint("uq_grant_report_grant_kind", type_="unique")
        batch.create_unique_constraint("uq_grant_report_grant_position", ["grant_id", "position"])


def downgrade():
    # Back to one report of each kind per grant: the later interim reports are dropped.
    op.execute(
        "DELETE FROM grant_report WHERE kind = 'interim' AND position <> "
        "(SELECT MIN(r.position) FROM grant_report r WHERE r.grant_id = grant_report.grant_id AND r.kind = 'interim')"
    )
    with op.batch_alter_table("grant_report") as batch:
        batch.drop_constraint("uq_grant_report_grant_position", type_="unique")
        batch.create_unique_constraint("uq_grant_report_grant_kind", ["grant_id", "kind"])
    with op.batch_alter_table("grant_report") as batch:
        batch.drop_column("indicator_values")
        batch.drop_column("number")
        batch.drop_column("position")
    with op.batch_alter_table("application") as batch:
        batch.drop_column("indicator_targets")
    op.drop_index(op.f("ix_call_indicator_call_id"), table_name="call_indicator")
    op.drop_table("call_indicator")
    op.drop_index(op.f("ix_report_step_call_id"), table_name="report_step")
    op.drop_table("report_step")
