"""A call's jury: who is on it, their load in the call, their availability, and its balance.

The balance rule (by default at least 40% women, 40% men and three regions) is read against the
jury's composition; a jury that does not meet it can still be confirmed, with a written reason.
"""

from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from flask import current_app

from ..applications.models import Application
from ..core.timeutil import in_zone, utcnow
from ..extensions import db
from .models import ASSIGNMENT_WORKFLOW, Assignment, Juror, Jury


def fund_today():
    """The day it is at the fund's secretariat: the day of an assignment."""
    return in_zone(utcnow(), current_app.config["FUND_TIMEZONE"]).date()


def jury_of(call):
    """The call's Jury row (its rule), a default one not yet saved when staff never set it."""
    return db.session.get(Jury, call.id) or Jury(
        call_id=call.id, min_women_percent=40, min_men_percent=40, min_regions=3
    )


def jurors_of(call):
    return db.session.scalars(sa.select(Juror).where(Juror.call_id == call.id).order_by(Juror.id)).unique().all()


def juror_of(call, reviewer):
    if reviewer is None:
        return None
    return db.session.scalar(sa.select(Juror).where(Juror.call_id == call.id, Juror.reviewer_id == reviewer.id))


def call_loads(call):
    """{reviewer id: assignments that count, on applications of this call}."""
    rows = db.session.execute(
        sa.select(Assignment.reviewer_id, sa.func.count(Assignment.id))
        .join(Application, Application.id == Assignment.application_id)
        .where(Application.call_id == call.id, Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("counts")))
        .group_by(Assignment.reviewer_id)
    ).all()
    return Counter(dict(rows))


def _share(part, whole):
    if not whole:
        return Decimal(0)
    return (Decimal(part) * 100 / whole).quantize(Decimal(1), rounding=ROUND_HALF_UP)


@dataclass
class Check:
    kind: str  # "women", "men" or "regions"
    count: int
    total: int
    share: Decimal  # percent of the jury (for regions: None)
    minimum: int
    met: bool


@dataclass
class Balance:
    size: int
    genders: Counter = field(default_factory=Counter)
    regions: Counter = field(default_factory=Counter)
    checks: list = field(default_factory=list)

    @property
    def met(self):
        return self.size > 0 and all(c.met for c in self.checks)

    def share(self, n):
        return _share(n, self.size)


def balance(rule, jurors):
    """The jury's composition by gender and region, against its rule."""
    profiles = [j.reviewer.reviewer_profile for j in jurors]
    genders = Counter(p.gender if p else "undisclosed" for p in profiles)
    regions = Counter(p.region for p in profiles if p and p.region)
    size = len(jurors)
    result = Balance(size=size, genders=genders, regions=regions)
    for kind, minimum in (("women", rule.min_women_percent), ("men", rule.min_men_percent)):
        n = genders["woman" if kind == "women" else "man"]
        share = _share(n, size)
        result.checks.append(Check(kind, n, size, share, minimum, size > 0 and n * 100 >= minimum * size))
    result.checks.append(Check("regions", len(regions), size, None, rule.min_regions, len(regions) >= rule.min_regions))
    return result
