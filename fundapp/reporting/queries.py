"""The figures of a donor report (or of the whole fund), as at the end of a period.

Every amount comes from the ledger entries (funding.models.LedgerEntry) dated up to the end of
the period: commitments net of the releases and returns dated by then, payments by their paid_on.
Entries are never changed, so a report of a period gives the same figures whether it is built on
its last day or years later, after cancellations and payments. A donor's figures are the fund's
restricted to that donor's contributions, so the donors' figures add up to the fund's exactly.
"""

from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..applications.models import Application
from ..awards.models import GRANT_WORKFLOW, Grant
from ..core.models import AuditEntry
from ..extensions import db
from ..funding.models import Contribution, Donor, LedgerEntry
from ..members.models import Member
from . import gender
from .models import REPORT_WORKFLOW, DonorReport, GrantReport


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
    grant_id: int | None = None

    @property
    def state_label(self):
        return grant_state_label(self.state)


GRANT_LINE_FIELDS = [f.name for f in fields(GrantLine) if f.name != "grant"]


def grant_state_label(state):
    """The grant's state as people read it in the reader's language (the code if it is unknown)."""
    try:
        return GRANT_WORKFLOW.staff_label(state)
    except KeyError:
        return state


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
    by_gender: list = field(default_factory=list)  # reporting/gender.by_call, for the calls of the grants

    @property
    def committed_cents(self):
        """Allocated to grants and not yet paid."""
        return self.allocated_cents - self.paid_to_date_cents

    @property
    def unallocated_cents(self):
        return self.contributed_cents - self.allocated_cents

    def snapshot(self):
        """The figures as JSON-ready data, kept with a donor report (`from_snapshot` reads it back)."""
        return {
            "donor": self.donor.short_name if self.donor is not None else None,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "contributions": [
                {
                    "donor": c.donor.short_name,
                    "donor_name": c.donor.name,
                    "amount_original_cents": c.amount_original_cents,
                    "currency": c.currency,
                    "rate_to_eur": str(c.rate_to_eur),
                    "eur_cents": c.eur_cents,
                    "pledged_on": c.pledged_on.isoformat() if c.pledged_on else None,
                    "received_on": c.received_on.isoformat() if c.received_on else None,
                }
                for c in self.contributions
            ],
            "contributed_cents": self.contributed_cents,
            "received_cents": self.received_cents,
            "allocated_cents": self.allocated_cents,
            "paid_in_period_cents": self.paid_in_period_cents,
            "paid_to_date_cents": self.paid_to_date_cents,
            "grants": [{name: getattr(g, name) for name in GRANT_LINE_FIELDS} for g in self.grants],
            "by_region": dict(sorted(self.by_region.items())),
            "by_dimension": {d: list(pair) for d, pair in sorted(self.by_dimension.items())},
            "payments_by_month": dict(sorted(self.payments_by_month.items())),
            "reached": dict(self.reached),
            "by_gender": self.by_gender,
        }

    @classmethod
    def from_snapshot(cls, data, donor=None):
        """The figures a report was built with, for its page and its files: nothing is recomputed."""

        def day(value):
            return date.fromisoformat(value) if value else None

        contributions = [
            SimpleNamespace(
                donor=SimpleNamespace(short_name=c["donor"], name=c["donor_name"]),
                amount_original_cents=c["amount_original_cents"],
                currency=c["currency"],
                rate_to_eur=Decimal(c["rate_to_eur"]),
                eur_cents=c["eur_cents"],
                pledged_on=day(c["pledged_on"]),
                received_on=day(c["received_on"]),
            )
            for c in data["contributions"]
        ]
        return cls(
            donor=donor,
            start=day(data["start"]),
            end=day(data["end"]),
            contributions=contributions,
            contributed_cents=data["contributed_cents"],
            received_cents=data["received_cents"],
            allocated_cents=data["allocated_cents"],
            paid_in_period_cents=data["paid_in_period_cents"],
            paid_to_date_cents=data["paid_to_date_cents"],
            grants=[GrantLine(grant=None, **g) for g in data["grants"]],
            by_region=dict(data["by_region"]),
            by_dimension={d: tuple(pair) for d, pair in data["by_dimension"].items()},
            payments_by_month=dict(data["payments_by_month"]),
            reached=dict(data["reached"]),
            by_gender=list(data.get("by_gender", [])),  # reports built before it was counted have none
        )


def _end_instant(day):
    """The first instant after `day` ends in the fund's timezone (the day of the ledger's dates)."""
    zone = ZoneInfo(current_app.config["FUND_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(0), zone)


def _states_at(grant_ids, before):
    """{grant id: its state at the instant `before`}, from the audit entries of its transitions."""
    states = {grant_id: GRANT_WORKFLOW.initial for grant_id in grant_ids}
    if not grant_ids:
        return states
    moves = db.session.execute(
        sa.select(AuditEntry.object_id, AuditEntry.after)
        .where(
            AuditEntry.object_type == "Grant",
            AuditEntry.action.like(f"{GRANT_WORKFLOW.name}.%"),
            AuditEntry.object_id.in_([str(i) for i in grant_ids]),
            AuditEntry.at < before,
        )
        .order_by(AuditEntry.at, AuditEntry.id)
    ).all()
    for object_id, after in moves:
        if after and after.get("state"):
            states[int(object_id)] = after["state"]
    return states


def figures(donor, start, end):
    """Figures for `donor` (None: the whole fund) over [start, end] (dates), from the ledger entries."""
    result = Figures(donor=donor, start=start, end=end)
    contributions = sa.select(Contribution).where(
        sa.or_(Contribution.pledged_on.is_(None), Contribution.pledged_on <= end)
    )
    if donor is not None:
        contributions = contributions.where(Contribution.donor_id == donor.id)
    result.contributions = db.session.scalars(contributions.order_by(Contribution.donor_id, Contribution.id)).all()
    result.contributed_cents = sum(c.eur_cents for c in result.contributions)
    result.received_cents = sum(c.eur_cents for c in result.contributions if c.received_on and c.received_on <= end)

    entries = db.session.execute(
        sa.select(
            LedgerEntry.grant_id, LedgerEntry.application_id, LedgerEntry.kind, LedgerEntry.amount_cents, LedgerEntry.on
        )
        .join(Contribution, Contribution.id == LedgerEntry.contribution_id)
        .where(LedgerEntry.on <= end, *([Contribution.donor_id == donor.id] if donor is not None else []))
        .order_by(LedgerEntry.on, LedgerEntry.id)
    ).all()
    awarded, held, paid, applications = {}, {}, {}, {}
    for grant_id, application_id, kind, cents, on in entries:
        applications[grant_id] = application_id
        if kind == "commit":
            awarded[grant_id] = awarded.get(grant_id, 0) + cents
            held[grant_id] = held.get(grant_id, 0) + cents
        elif kind == "release":  # a revised award: as if it had never been made
            awarded[grant_id] = awarded.get(grant_id, 0) - cents
            held[grant_id] = held.get(grant_id, 0) - cents
        elif kind == "return":
            held[grant_id] = held.get(grant_id, 0) - cents
        elif kind == "payment":
            paid[grant_id] = paid.get(grant_id, 0) + cents
            result.paid_to_date_cents += cents
            if on >= start:
                result.paid_in_period_cents += cents
                month = on.strftime("%Y-%m")
                result.payments_by_month[month] = result.payments_by_month.get(month, 0) + cents
    result.allocated_cents = sum(held.values())

    # One line per grant the donor's money stood behind at the end of the period (a revised award
    # is gone; a declined, cancelled or closed grant stays, with what it kept).
    listed = [g for g in awarded if g is not None and awarded[g] > 0]
    details = {
        application.id: (application, member)
        for application, member in db.session.execute(
            sa.select(Application, Member)
            .join(Member, Member.id == Application.member_id)
            .where(Application.id.in_([applications[g] for g in listed if applications[g]] or [-1]))
        ).all()
    }
    grants = {g.id: g for g in db.session.scalars(sa.select(Grant).where(Grant.id.in_(listed or [-1])))}
    states = _states_at(listed, _end_instant(end))
    lines = {}
    for grant_id in listed:
        application, member = details[applications[grant_id]]
        amount = held.get(grant_id, 0)
        lines[grant_id] = GrantLine(
            grant=grants.get(grant_id),
            grant_id=grant_id,
            city=member.name,
            region=member.region,
            title=application.title,
            reference=application.reference,
            state=states[grant_id],
            amount_cents=amount,
            paid_cents=paid.get(grant_id, 0),
            dimensions=list(application.dimensions or []),
        )
        result.by_region[member.region] = result.by_region.get(member.region, 0) + amount

    reports = {}
    for report in db.session.scalars(sa.select(GrantReport).where(GrantReport.grant_id.in_(list(lines) or [-1]))):
        reports.setdefault(report.grant_id, []).append(report)
    for grant_id, line in lines.items():
        # A grant that kept nothing (declined before any payment) funded no dimension.
        for dimension in line.dimensions if line.amount_cents > 0 else ():
            count, cents = result.by_dimension.get(dimension, (0, 0))
            result.by_dimension[dimension] = (count + 1, cents + line.amount_cents)
        counted = [
            r
            for r in reports.get(grant_id, [])
            if REPORT_WORKFLOW.has(r.state, "counted") and r.approved_at and r.approved_at < _end_instant(end)
        ]
        latest = max(counted, key=lambda r: (r.kind == "final", r.approved_at), default=None)
        if latest is not None:
            result.reached["women"] += latest.reached_women
            result.reached["men"] += latest.reached_men
            result.reached["other"] += latest.reached_other
            line.summary = (latest.progress or "")[:300]
    result.grants = sorted(lines.values(), key=lambda g: g.reference)
    result.by_gender = gender.by_call(
        {application.call_id for application, _member in details.values()},
        grant_ids=list(lines),
        before=_end_instant(end),
    )
    return result


def donors():
    return db.session.scalars(sa.select(Donor).order_by(Donor.short_name)).all()


def same_donor_report(donor, start, end, language):
    """The report already asked for on the same donor (None: the whole fund), period and language,
    being built or built, or None: its figures are those a new one would have (a period's money is
    fixed once its days are closed), so staff and donors are taken to it rather than given a copy."""
    return db.session.scalar(
        sa.select(DonorReport)
        .where(
            DonorReport.donor_id.is_(None) if donor is None else DonorReport.donor_id == donor.id,
            DonorReport.period_start == start,
            DonorReport.period_end == end,
            DonorReport.language == language,
            DonorReport.status != "failed",
        )
        .order_by(DonorReport.id)
        .limit(1)
    )
