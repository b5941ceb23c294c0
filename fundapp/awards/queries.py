from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..applications.models import APPLICATION_WORKFLOW, Application
from ..applications.queries import decisions_wanted
from ..extensions import db
from .models import Decision


@dataclass
class ScenarioRow:
    result: object
    amount_cents: int
    cumulative_cents: int
    fits: bool
    decision: object


@dataclass
class IncompleteRow:
    """An application still waiting for reviews: listed apart, never in the scenario."""

    application: object
    reviews_in: int
    reviews_needed: int


def decisions_by_application(call):
    rows = db.session.scalars(
        sa.select(Decision).join(Application).where(Application.call_id == call.id, Decision.revised_at.is_(None))
    )
    return {d.application_id: d for d in rows}


@decisions_wanted.connect
def decisions_for_city(_sender, application_ids):
    """The current decisions, with their grants and letters, of applications whose letter is sent
    (the applications feature asks for those only; the letter date is checked here again)."""
    rows = db.session.scalars(
        sa.select(Decision)
        .where(
            Decision.application_id.in_(application_ids or [-1]),
            Decision.revised_at.is_(None),
            Decision.letter_sent_at.is_not(None),
        )
        .options(selectinload(Decision.grant), selectinload(Decision.letters))
    )
    return {d.application_id: d for d in rows}


def board(call, adjusted):
    """The funding scenario: passing applications whose reviews are complete, in rank order, at
    their requested (or adjusted) amounts, against what the envelope has left. Applications still
    waiting for reviews are listed apart, never above the cut line. Nothing here is committed."""
    from ..reviews.queries import call_results

    passing, failing, unscored = call_results(call)

    def complete(application):
        return APPLICATION_WORKFLOW.has(application.state, "ranked")

    needed = call.reviewers_per_application
    incomplete = [
        IncompleteRow(r.application, len(r.scores), needed) for r in passing + failing if not complete(r.application)
    ]
    incomplete += [IncompleteRow(a, 0, needed) for a in unscored]
    incomplete.sort(key=lambda row: (row.application.number or 0, row.application.id))
    decisions = decisions_by_application(call)
    remaining = call.remaining_cents
    cumulative, rows = 0, []
    for result in passing:
        if not complete(result.application):
            continue
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
        "failing": [r for r in failing if complete(r.application)],
        "unscored": unscored,
        "incomplete": incomplete,
        "proposed": cumulative,
    }
