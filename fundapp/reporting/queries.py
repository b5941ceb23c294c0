"""The figures of a donor report (or of the whole fund), as at the end of a period.

Every amount comes from the ledger rows: allocations (what each contribution gives each grant),
payment shares (what each payment took from each allocation). A donor's figures are the fund's
restricted to that donor's contributions, so the donors' figures add up to the fund's exactly.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timezone

import sqlalchemy as sa

from ..applications.models import Application
from ..awards.models import Allocation, Decision, Grant, Payment, PaymentShare
from ..calls.models import CallFunding
from ..extensions import db
from ..funding.models import Contribution, Donor
from ..members.models import Member
from .models import REPORT_WORKFLOW, GrantReport


@dataclass
class GrantLine:
    grant: object
    city: str
    region: str
    title: str
    reference: str
    state: str
    amount_cents: int = 0
    paid_cents: int = 0
    dimensions: list = field(default_factory=list)
    summary: str = ""


@dataclass
class Figures:
    donor: object
    start: object
    end: object
    contributions: list = field(default_factory=list)
    contributed_cents: int = 0
    received_cents: int = 0
    allocated_cents: int = 0
    paid_in_period_cents: int = 0
    paid_to_date_cents: int = 0
    grants: list = field(default_factory=list)
    by_region: dict = field(default_factory=dict)
    by_dimension: dict = field(default_factory=dict)
    payments_by_month: dict = field(default_factory=dict)
    reached: dict = field(default_factory=lambda: {"women": 0, "men": 0, "other": 0})

    @property
    def committed_cents(self):
        """Allocated to grants and not yet paid."""
        return self.allocated_cents - self.paid_to_date_cents

    @property
    def unallocated_cents(self):
        return self.contributed_cents - self.allocated_cents


def _end_instant(day):
    return datetime.combine(day, time.max, tzinfo=timezone.utc)


def figures(donor, start, end):
    """Figures for `donor` (None: the whole fund) over [start, end] (dates)."""
    result = Figures(donor=donor, start=start, end=end)
    contributions = sa.select(Contribution).where(
        sa.or_(Contribution.pledged_on.is_(None), Contribution.pledged_on <= end)
    )
    if donor is not None:
        contributions = contributions.where(Contribution.donor_id == donor.id)
    result.contributions = db.session.scalars(contributions.order_by(Contribution.donor_id, Contribution.id)).all()
    result.contributed_cents = sum(c.eur_cents for c in result.contributions)
    result.received_cents = sum(c.eur_cents for c in result.contributions if c.received_on and c.received_on <= end)

    rows = db.session.execute(
        sa.select(Allocation, Grant, Application, Member)
        .join(Grant, Grant.id == Allocation.grant_id)
        .join(Decision, Decision.id == Grant.decision_id)
        .join(Application, Application.id == Grant.application_id)
        .join(Member, Member.id == Application.member_id)
        .join(CallFunding, CallFunding.id == Allocation.call_funding_id)
        .join(Contribution, Contribution.id == CallFunding.contribution_id)
        .where(
            Decision.decided_at <= _end_instant(end),
            *([Contribution.donor_id == donor.id] if donor is not None else []),
        )
        .order_by(Application.reference)
    ).all()
    lines = {}
    for allocation, grant, application, member in rows:
        amount = allocation.amount_cents - allocation.returned_cents
        line = lines.get(grant.id)
        if line is None:
            line = lines[grant.id] = GrantLine(
                grant=grant,
                city=member.name,
                region=member.region,
                title=application.title,
                reference=application.reference,
                state=grant.state,
                dimensions=list(application.dimensions or []),
            )
        line.amount_cents += amount
        result.allocated_cents += amount
        result.by_region[member.region] = result.by_region.get(member.region, 0) + amount
    allocation_ids = [a.id for a, _g, _ap, _m in rows]

    shares = db.session.execute(
        sa.select(PaymentShare.allocation_id, PaymentShare.amount_cents, Payment.paid_on, Allocation.grant_id)
        .join(Payment, Payment.id == PaymentShare.payment_id)
        .join(Allocation, Allocation.id == PaymentShare.allocation_id)
        .where(PaymentShare.allocation_id.in_(allocation_ids or [-1]), Payment.paid_on <= end)
    ).all()
    for _allocation_id, cents, paid_on, grant_id in shares:
        result.paid_to_date_cents += cents
        lines[grant_id].paid_cents += cents
        if paid_on >= start:
            result.paid_in_period_cents += cents
            month = paid_on.strftime("%Y-%m")
            result.payments_by_month[month] = result.payments_by_month.get(month, 0) + cents

    reports = defaultdict(list)
    for report in db.session.scalars(sa.select(GrantReport).where(GrantReport.grant_id.in_(list(lines) or [-1]))):
        reports[report.grant_id].append(report)
    for grant_id, line in lines.items():
        for dimension in line.dimensions:
            count, cents = result.by_dimension.get(dimension, (0, 0))
            result.by_dimension[dimension] = (count + 1, cents + line.amount_cents)
        counted = [
            r
            for r in reports[grant_id]
            if REPORT_WORKFLOW.has(r.state, "counted") and r.approved_at and r.approved_at <= _end_instant(end)
        ]
        latest = max(counted, key=lambda r: (r.kind == "final", r.approved_at), default=None)
        if latest is not None:
            result.reached["women"] += latest.reached_women
            result.reached["men"] += latest.reached_men
            result.reached["other"] += latest.reached_other
            line.summary = (latest.progress or "")[:300]
    result.grants = sorted(lines.values(), key=lambda g: g.reference)
    return result


def donors():
    return db.session.scalars(sa.select(Donor).order_by(Donor.short_name)).all()
