import sqlalchemy as sa
from flask_babel import get_locale
from sqlalchemy.orm import selectinload

from ..extensions import db
from .models import CallFunding, Contribution, Donor, LedgerClosing


def donor_choices():
    """(id, "SDC · its name in the reader's language") of every donor, for a select."""
    language = str(get_locale() or "en")
    return [
        (d.id, f"{d.short_name} · {d.name_in(language)}")
        for d in db.session.scalars(sa.select(Donor).order_by(Donor.short_name))
    ]


def fund_totals():
    """(number of donors, EUR cents contributed) across all contributions."""
    row = db.session.execute(
        sa.select(
            sa.func.count(sa.distinct(Contribution.donor_id)), sa.func.coalesce(sa.func.sum(Contribution.eur_cents), 0)
        )
    ).one()
    return row[0], int(row[1])


def ledger_closed_through():
    """The last day a donor report has closed (None while no report was built)."""
    return db.session.scalar(sa.select(sa.func.max(LedgerClosing.through)))


def contribution_allocated_cents(contribution_ids, *, except_call_id=None, lock=False):
    """EUR cents of each contribution already set aside for calls (other than except_call_id).

    With lock=True the contribution rows are locked first (PostgreSQL), so two staff funding calls
    from the same contribution at the same moment cannot both take its last euros.
    """
    if not contribution_ids:
        return {}
    if lock:
        db.session.execute(sa.select(Contribution.id).where(Contribution.id.in_(contribution_ids)).with_for_update())
    stmt = (
        sa.select(CallFunding.contribution_id, sa.func.sum(CallFunding.amount_cents))
        .where(CallFunding.contribution_id.in_(contribution_ids))
        .group_by(CallFunding.contribution_id)
    )
    if except_call_id is not None:
        stmt = stmt.where(CallFunding.call_id != except_call_id)
    return {cid: int(total) for cid, total in db.session.execute(stmt)}


def contribution_in_use(contribution_id):
    """Whether a call's envelope has (or had) a line from this contribution."""
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(CallFunding.id)).where(CallFunding.contribution_id == contribution_id)
        )
    )


def contributions_with_allocation():
    """Every contribution with what calls have set aside from it, in one query."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(CallFunding.amount_cents), 0))
        .where(CallFunding.contribution_id == Contribution.id)
        .correlate(Contribution)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(Contribution, allocated.label("allocated"))
        .options(selectinload(Contribution.donor))
        .order_by(Contribution.donor_id, Contribution.id)
    ).all()
    return [(c, int(a)) for c, a in rows]
