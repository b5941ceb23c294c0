from dataclasses import dataclass

import sqlalchemy as sa

from ..applications.models import Application
from ..extensions import db
from .models import Decision


@dataclass
class ScenarioRow:
    result: object
    amount_cents: int
    cumulative_cents: int
    fits: bool
    decision: object


def decisions_by_application(call):
    rows = db.session.scalars(
        sa.select(Decision).join(Application).where(Application.call_id == call.id, Decision.revised_at.is_(None))
    )
    return {d.application_id: d for d in rows}


def board(call, adjusted):
    """The funding scenario: passing applications in rank order, at their requested (or adjusted)
    amounts, against what the envelope has left. Nothing here is committed."""
    from ..reviews.queries import call_results

    passing, failing, unscored = call_results(call)
    decisions = decisions_by_application(call)
    remaining = call.remaining_cents
    cumulative, rows = 0, []
    for result in passing:
        decision = decisions.get(result.application.id)
        amount = adjusted.get(result.application.id, min(result.application.requested_cents, call.cap_cents))
        if decision is not None:
            rows.append(ScenarioRow(result, decision.amount_cents or 0, cumulative, decision.kind == "award", decision))
            continue
        fits = cumulative + amount <= remaining
        if fits:
            cumulative += amount
        rows.append(ScenarioRow(result, amount, cumulative, fits, None))
    return {
        "envelope": call.envelope_cents,
        "committed": call.committed_cents,
        "remaining": remaining,
        "rows": rows,
        "failing": failing,
        "unscored": unscored,
        "proposed": cumulative,
    }
