import sqlalchemy as sa

from ..extensions import db
from .models import Contribution, Donor, LedgerClosing


def donor_choices():
    return [
        (d.id, f"{d.short_name} · {d.name}") for d in db.session.scalars(sa.select(Donor).order_by(Donor.short_name))
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
