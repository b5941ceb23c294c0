"""calls: the fund maximum bounds the cap; awards: the approved budget

Revision ID: 0011_fund_max_approved_budget
Revises: 0010_application_decision_states
"""

from fractions import Fraction

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil  # noqa: F401

revision = "0011_fund_max_approved_budget"
down_revision = "0010_application_decision_states"
branch_labels = None
depends_on = None

FUND_MAX_GRANT_CENTS = 100_000_00  # the fund's largest grant, EUR 100,000 (calls.models)
REQUESTED_BEFORE = "requested_cents <= cap_cents"
REQUESTED_AFTER = "requested_cents <= cap_cents OR first_submitted_at IS NULL"


def _scaled(total, lines):
    """{line id: cents}: `total` split over [(id, requested)] in proportion, largest remainder, exact."""
    weight = sum(requested for _id, requested in lines)
    if not weight:
        return {line_id: 0 for line_id, _r in lines}
    exact = {line_id: Fraction(total * requested, weight) for line_id, requested in lines}
    parts = {line_id: int(value) for line_id, value in exact.items()}
    left = total - sum(parts.values())
    for line_id, _r in sorted(lines, key=lambda ln: (-(exact[ln[0]] - int(exact[ln[0]])), str(ln[0])))[:left]:
        parts[line_id] += 1
    return parts


def upgrade():
    bind = op.get_bind()

    # A draft checks its budget against its call's current cap: a draft may stand above a cap
    # lowered after it was written (it cannot be submitted so); a sent application never.
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_application_requested_within_cap"), type_="check")
        batch_op.create_check_constraint(op.f("ck_application_requested_within_cap"), REQUESTED_AFTER)

    # Calls above the fund's maximum: one nobody has applied to yet takes the maximum (its drafts
    # follow); one with submitted applications needs a decision by staff first.
    locked = bind.execute(
        sa.text('SELECT code FROM "call" WHERE cap_cents > :max AND locked_at IS NOT NULL'),
        {"max": FUND_MAX_GRANT_CENTS},
    ).scalars()
    locked = list(locked)
    if locked:
        raise RuntimeError(
            f"Calls {', '.join(locked)} have a cap above the fund's maximum of EUR 100,000 and submitted "
            "applications: decide their cap before upgrading."
        )
    bind.execute(
        sa.text(
            "UPDATE application SET cap_cents = :max WHERE first_submitted_at IS NULL AND call_id IN ("
            ' SELECT id FROM "call" WHERE cap_cents > :max)'
        ),
        {"max": FUND_MAX_GRANT_CENTS},
    )
    bind.execute(
        sa.text(
            'UPDATE "call" SET cap_cents = :max, min_grant_cents = CASE WHEN min_grant_cents > :max THEN NULL'
            " ELSE min_grant_cents END WHERE cap_cents > :max"
        ),
        {"max": FUND_MAX_GRANT_CENTS},
    )
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_call_cap_within_fund_maximum"), f"cap_cents <= {FUND_MAX_GRANT_CENTS}"
        )

    op.create_table(
        "approved_budget_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("grant_id", sa.Integer(), nullable=False),
        sa.Column("budget_line_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_cents >= 0", name=op.f("ck_approved_budget_line_amount_not_negative")),
        sa.ForeignKeyConstraint(
            ["budget_line_id"], ["budget_line.id"], name=op.f("fk_approved_budget_line_budget_line_id_budget_line")
        ),
        sa.ForeignKeyConstraint(
            ["grant_id"],
            ["grant_award.id"],
            name=op.f("fk_approved_budget_line_grant_id_grant_award"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approved_budget_line")),
        sa.UniqueConstraint("grant_id", "budget_line_id", name="uq_approved_budget_line_grant_line"),
    )
    with op.batch_alter_table("approved_budget_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approved_budget_line_budget_line_id"), ["budget_line_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_approved_budget_line_grant_id"), ["grant_id"], unique=False)

    # Grants awarded before: their approved budget is the request scaled to the award.
    table = sa.table(
        "approved_budget_line",
        sa.column("grant_id", sa.Integer),
        sa.column("budget_line_id", sa.Integer),
        sa.column("position", sa.Integer),
        sa.column("amount_cents", sa.BigInteger),
    )
    grants = bind.execute(sa.text("SELECT id, application_id, amount_cents FROM grant_award ORDER BY id")).all()
    rows = []
    for grant_id, application_id, amount in grants:
        lines = bind.execute(
            sa.text(
                "SELECT id, position, requested_cents FROM budget_line WHERE application_id = :a ORDER BY position, id"
            ),
            {"a": application_id},
        ).all()
        parts = _scaled(amount, [(line_id, requested) for line_id, _p, requested in lines])
        rows += [
            {"grant_id": grant_id, "budget_line_id": line_id, "position": position, "amount_cents": parts[line_id]}
            for line_id, position, _r in lines
        ]
    if rows:
        op.bulk_insert(table, rows)


def downgrade():
    with op.batch_alter_table("approved_budget_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approved_budget_line_grant_id"))
        batch_op.drop_index(batch_op.f("ix_approved_budget_line_budget_line_id"))
    op.drop_table("approved_budget_line")
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_call_cap_within_fund_maximum"), type_="check")
    # Drafts above their cap cannot stay under the stricter rule: they take their request as cap.
    op.execute(sa.text("UPDATE application SET cap_cents = requested_cents WHERE requested_cents > cap_cents"))
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_application_requested_within_cap"), type_="check")
        batch_op.create_check_constraint(op.f("ck_application_requested_within_cap"), REQUESTED_BEFORE)
