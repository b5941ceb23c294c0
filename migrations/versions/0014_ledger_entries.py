"""funding: every money move as a dated, append-only ledger entry

Each commit, release, return and payment on a line of a call's envelope is one `ledger_entry`,
dated on the day the money moved; PostgreSQL refuses to change or delete one. Grants awarded
before this revision get their entries from what the database already holds (allocations,
returns, payment shares), so every line's committed/paid columns equal the sum of its entries.
A donor report keeps the figures it was built with (`donor_report.figures`).

Revision ID: 0014_ledger_entries
Revises: 0013_grant_decline_close
"""

from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

import fundapp.core.timeutil

revision = "0014_ledger_entries"
down_revision = "0013_grant_decline_close"
branch_labels = None
depends_on = None

UTC_DATETIME = fundapp.core.timeutil.UTCDateTime(timezone=True)


def upgrade():
    op.create_table(
        "ledger_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_funding_id", sa.Integer(), nullable=False),
        sa.Column("contribution_id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("recorded_at", UTC_DATETIME, nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('commit', 'release', 'return', 'payment')", name=op.f("ck_ledger_entry_kind_known")
        ),
        sa.CheckConstraint("amount_cents > 0", name=op.f("ck_ledger_entry_amount_positive")),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user_account.id"], name=op.f("fk_ledger_entry_actor_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["application_id"], ["application.id"], name=op.f("fk_ledger_entry_application_id_application")
        ),
        sa.ForeignKeyConstraint(
            ["call_funding_id"], ["call_funding.id"], name=op.f("fk_ledger_entry_call_funding_id_call_funding")
        ),
        sa.ForeignKeyConstraint(
            ["contribution_id"], ["contribution.id"], name=op.f("fk_ledger_entry_contribution_id_contribution")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
    )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ledger_entry_application_id"), ["application_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_call_funding_id"), ["call_funding_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_contribution_id"), ["contribution_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_grant_id"), ["grant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_on"), ["on"], unique=False)

    with op.batch_alter_table("donor_report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("figures", sa.JSON(), nullable=True))

    backfill(op.get_bind())

    if op.get_bind().dialect.name == "postgresql":
        # Append-only even for someone with a SQL prompt and the app's role (as the audit log).
        op.execute(
            "CREATE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'ledger entries are never changed or deleted'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry "
            "FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only()"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry")
        op.execute("DROP FUNCTION IF EXISTS ledger_entry_append_only()")
    with op.batch_alter_table("donor_report", schema=None) as batch_op:
        batch_op.drop_column("figures")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_on"))
        batch_op.drop_index(batch_op.f("ix_ledger_entry_grant_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entry_contribution_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entry_call_funding_id"))
        batch_op.drop_index(batch_op.f("ix_ledger_entry_application_id"))
    op.drop_table("ledger_entry")


# -- the entries of the money moved before this revision -------------------------------------------

_allocation = sa.table(
    "allocation",
    sa.column("id", sa.Integer),
    sa.column("grant_id", sa.Integer),
    sa.column("call_funding_id", sa.Integer),
    sa.column("amount_cents", sa.BigInteger),
    sa.column("returned_cents", sa.BigInteger),
)
_grant = sa.table(
    "grant_award",
    sa.column("id", sa.Integer),
    sa.column("application_id", sa.Integer),
    sa.column("decision_id", sa.Integer),
    sa.column("created_at", UTC_DATETIME),
    sa.column("ended_at", UTC_DATETIME),
)
_decision = sa.table(
    "decision",
    sa.column("id", sa.Integer),
    sa.column("decided_at", UTC_DATETIME),
    sa.column("decided_by_id", sa.Integer),
)
_line = sa.table("call_funding", sa.column("id", sa.Integer), sa.column("contribution_id", sa.Integer))
_payment = sa.table(
    "payment",
    sa.column("id", sa.Integer),
    sa.column("paid_on", sa.Date),
    sa.column("recorded_at", UTC_DATETIME),
    sa.column("recorded_by_id", sa.Integer),
)
_share = sa.table(
    "payment_share",
    sa.column("payment_id", sa.Integer),
    sa.column("allocation_id", sa.Integer),
    sa.column("amount_cents", sa.BigInteger),
)
_entry = sa.table(
    "ledger_entry",
    sa.column("call_funding_id", sa.Integer),
    sa.column("contribution_id", sa.Integer),
    sa.column("application_id", sa.Integer),
    sa.column("grant_id", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("amount_cents", sa.BigInteger),
    sa.column("on", sa.Date),
    sa.column("recorded_at", UTC_DATETIME),
    sa.column("actor_id", sa.Integer),
)


def _fund_zone():
    try:
        from flask import current_app

        return ZoneInfo(current_app.config.get("FUND_TIMEZONE") or "Europe/Madrid")
    except RuntimeError:  # outside the app
        return ZoneInfo("Europe/Madrid")


def backfill(conn):
    """Entries for the grants the database holds: a commit on the day of the award, a return on the
    day the grant ended for what it gave back, a payment on each payment's paid_on. (A revised award's
    grant row is gone and its lines hold nothing of it: it needs no entry.)"""
    zone = _fund_zone()

    def day(instant):
        return instant.astimezone(zone).date()

    rows = []
    allocations = conn.execute(
        sa.select(
            _allocation.c.grant_id,
            _allocation.c.call_funding_id,
            _allocation.c.amount_cents,
            _allocation.c.returned_cents,
            _line.c.contribution_id,
            _grant.c.application_id,
            _grant.c.created_at,
            _grant.c.ended_at,
            _decision.c.decided_at,
            _decision.c.decided_by_id,
        )
        .join(_grant, _grant.c.id == _allocation.c.grant_id)
        .join(_decision, _decision.c.id == _grant.c.decision_id)
        .join(_line, _line.c.id == _allocation.c.call_funding_id)
        .order_by(_allocation.c.id)
    ).all()
    for a in allocations:
        common = dict(
            call_funding_id=a.call_funding_id,
            contribution_id=a.contribution_id,
            application_id=a.application_id,
            grant_id=a.grant_id,
        )
        rows.append(
            dict(
                common,
                kind="commit",
                amount_cents=a.amount_cents,
                on=day(a.decided_at),
                recorded_at=a.decided_at,
                actor_id=a.decided_by_id,
            )
        )
        if a.returned_cents:
            ended = a.ended_at or a.created_at
            rows.append(
                dict(
                    common,
                    kind="return",
                    amount_cents=a.returned_cents,
                    on=day(ended),
                    recorded_at=ended,
                    actor_id=None,
                )
            )
    shares = conn.execute(
        sa.select(
            _share.c.amount_cents,
            _allocation.c.grant_id,
            _allocation.c.call_funding_id,
            _line.c.contribution_id,
            _grant.c.application_id,
            _payment.c.paid_on,
            _payment.c.recorded_at,
            _payment.c.recorded_by_id,
        )
        .join(_payment, _payment.c.id == _share.c.payment_id)
        .join(_allocation, _allocation.c.id == _share.c.allocation_id)
        .join(_grant, _grant.c.id == _allocation.c.grant_id)
        .join(_line, _line.c.id == _allocation.c.call_funding_id)
        .order_by(_payment.c.id, _share.c.allocation_id)
    ).all()
    for s in shares:
        rows.append(
            dict(
                call_funding_id=s.call_funding_id,
                contribution_id=s.contribution_id,
                application_id=s.application_id,
                grant_id=s.grant_id,
                kind="payment",
                amount_cents=s.amount_cents,
                on=s.paid_on,
                recorded_at=s.recorded_at,
                actor_id=s.recorded_by_id,
            )
        )
    if rows:
        conn.execute(sa.insert(_entry), rows)
