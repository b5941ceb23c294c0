from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import lazyload, load_only, selectinload

from ..applications.models import APPLICATION_WORKFLOW, Application, Partner
from ..applications.queries import decisions_wanted
from ..core.catalogue import lazy_gettext as _l
from ..core.money import format_eur
from ..core.pagination import ListPage
from ..core.rows import plain_rows
from ..extensions import db
from ..funding.models import CallFunding, Contribution
from ..reviews.models import Assignment, Review
from ..reviews.queries import applications_of, call_results
from .models import ENDED_STATES, Allocation, Decision, Grant


@dataclass
class ScenarioRow:
    result: object
    amount_cents: int
    cumulative_cents: int
    fits: bool
    # The current decision's figures (DecisionFigures); the Decision itself on the rows a page shows.
    decision: object
    # Fits only because a higher-ranked application does not (or waits on the reserve list):
    # awarded only by staff's explicit choice.
    out_of_rank: bool = False
    # Why the amount staff set is not the one counted (above the cap, or above the request).
    problem: object = None


@dataclass
class IncompleteRow:
    """An application still waiting for reviews: listed apart, never in the scenario."""

    application: object
    reviews_in: int
    reviews_needed: int


@dataclass(frozen=True, slots=True)
class DecisionFigures:
    """What the funding scenario and the reserve list read of an application's current decision."""

    id: int
    kind: str
    amount_cents: int | None


def decision_figures(call):
    """{application id: DecisionFigures} of the call's current decisions, as plain rows: the
    scenario of a large call reads hundreds of them; a page loads the few it shows as objects
    (`shown_decisions`)."""
    rows = plain_rows(
        sa.select(Decision.application_id, Decision.id, Decision.kind, Decision.amount_cents)
        .join(Application, Application.id == Decision.application_id)
        .where(Application.call_id == call.id, Decision.current())
    )
    return {application_id: DecisionFigures(i, kind, amount) for application_id, i, kind, amount in rows}


def decisions_of(application_ids):
    """{application id: Decision}: the current decisions of `application_ids` with what the board
    shows of them (grant, letters, the reserve decision an award replaced), in a fixed number of
    queries."""
    if not application_ids:
        return {}
    rows = db.session.scalars(
        sa.select(Decision)
        .where(Decision.application_id.in_(application_ids), Decision.current())
        .options(
            # The board reads its applications from the ranking: not joined in again (with their
            # call) for every decision and grant.
            lazyload(Decision.application),
            selectinload(Decision.grant).lazyload(Grant.application),
            selectinload(Decision.letters),
            selectinload(Decision.supersedes).lazyload(Decision.application),
        )
    )
    return {d.application_id: d for d in rows}


@decisions_wanted.connect
def decisions_for_city(_sender, application_ids):
    """The decisions the city has been told, with their grants and letters: per application the
    latest whose letter is sent (the applications feature asks for those only). A reserve decision
    superseded by an award whose letter has not gone out yet is still the one the city knows."""
    rows = db.session.scalars(
        sa.select(Decision)
        .where(
            Decision.application_id.in_(application_ids or [-1]),
            Decision.revised_at.is_(None),
            Decision.letter_sent_at.is_not(None),
        )
        .order_by(Decision.decided_at, Decision.id)
        .options(selectinload(Decision.grant), selectinload(Decision.letters))
    )
    told = {d.application_id: d for d in rows}
    # What the reviewers wrote for the city (no names, nothing confidential): the review form
    # promises it is shared, whatever the decision. One query for all the applications.
    comments = {}
    for application_id, comment in db.session.execute(
        sa.select(Assignment.application_id, Review.comment_applicant)
        .join(Review, Review.assignment_id == Assignment.id)
        .where(
            Assignment.application_id.in_(list(told) or [-1]),
            Review.submitted_at.is_not(None),
            Review.comment_applicant != "",
        )
        .order_by(Assignment.id)
    ):
        comments.setdefault(application_id, []).append(comment)
    for application_id, decision in told.items():
        decision.reviewer_comments = comments.get(application_id, [])
    return told


def reserve_list(call, *, results=None, decisions=None):
    """[(result, decision)] of the call's reserve list (current decision: reserve), in rank order:
    those above the thresholds first, then any staff put on it from below. The board passes the
    ranking and decisions it has already read."""
    passing, failing, _unscored = results or call_results(call)
    decisions = decisions if decisions is not None else decision_figures(call)
    return [
        (r, decisions[r.application.id])
        for r in passing + failing
        if r.application.id in decisions and decisions[r.application.id].kind == "reserve"
    ]


def returned_grants(call):
    """The call's grants that have ended (declined, cancelled, closed) and gave money back, latest first."""
    return db.session.scalars(
        sa.select(Grant)
        .join(Application, Application.id == Grant.application_id)
        .where(Application.call_id == call.id, Grant.state.in_(ENDED_STATES), Grant.returned_cents > 0)
        .order_by(Grant.ended_at.desc(), Grant.id.desc())
    ).all()


def board(call, adjusted):
    """The funding scenario: passing applications whose reviews are complete, in rank order, at
    their requested (or adjusted) amounts, against what the envelope has left. Applications still
    waiting for reviews are listed apart, never above the cut line. Nothing here is committed."""
    passing, failing, unscored = call_results(call)
    ranked = set(APPLICATION_WORKFLOW.states_with("ranked"))  # its reviews are complete

    needed = call.reviewers_per_application
    incomplete = [
        IncompleteRow(r.application, len(r.scores), needed)
        for r in passing + failing
        if r.application.state not in ranked
    ]
    incomplete += [IncompleteRow(a, 0, needed) for a in unscored]
    incomplete.sort(key=lambda row: (row.application.number or 0, row.application.id))
    decisions = decision_figures(call)
    remaining = call.remaining_cents
    cumulative, rows = 0, []
    passed_over = False  # a higher-ranked application does not fit, or waits on the reserve list
    for result in passing:
        if result.application.state not in ranked:
            continue
        decision = decisions.get(result.application.id)
        proposed = min(result.application.requested_cents, call.cap_cents)
        amount, problem = adjusted.get(result.application.id, proposed), None
        if decision is None and amount <= 0:
            # An award of nothing is no award: the batch award would refuse it.
            problem = _l(
                "An award needs an amount above zero: the scenario counts %(proposed)s.", proposed=format_eur(proposed)
            )
            amount = proposed
            adjusted.pop(result.application.id, None)
        elif decision is None and amount > proposed:
            # No award can be above the cap or the request: the scenario counts the proposal, and
            # the amount set is dropped from the scenario (the page and the batch award agree).
            problem = _l(
                "%(amount)s is above %(limit)s: the scenario counts %(proposed)s.",
                amount=format_eur(amount),
                limit=_l("the call’s cap of %(cap)s", cap=format_eur(call.cap_cents))
                if amount > call.cap_cents
                else _l("the %(requested)s requested", requested=format_eur(result.application.requested_cents)),
                proposed=format_eur(proposed),
            )
            amount = proposed
            adjusted.pop(result.application.id, None)
        if decision is not None:
            rows.append(ScenarioRow(result, decision.amount_cents or 0, cumulative, decision.kind == "award", decision))
            passed_over = passed_over or decision.kind == "reserve"
            continue
        fits = cumulative + amount <= remaining
        if fits:
            cumulative += amount
        rows.append(
            ScenarioRow(result, amount, cumulative, fits, None, out_of_rank=fits and passed_over, problem=problem)
        )
        passed_over = passed_over or not fits
    return {
        "envelope": call.envelope_cents,
        "committed": call.committed_cents,
        "remaining": remaining,
        "rows": rows,
        # Those to award in one go (above the cut line, in rank order) and those that fit only
        # out of rank order, awarded only if staff tick them.
        "fitting": [row for row in rows if row.fits and row.decision is None and not row.out_of_rank],
        "jumping": [row for row in rows if row.out_of_rank],
        "failing": [r for r in failing if r.application.state in ranked],
        "unscored": unscored,
        "incomplete": incomplete,
        "proposed": cumulative,
        "reserve": reserve_offer(call, remaining, results=(passing, failing, unscored), decisions=decisions),
        "returned": returned_grants(call),
        "decisions": decisions,  # {application id: DecisionFigures}
    }


DECIDE_PAGE_SIZE = 20
SCENARIO_PAGE_SIZE = 100
# The board's lists of applications outside the scenario (below a threshold, reviews not complete)
# show this many; the ranking and review progress, paginated, list them all.
BOARD_LIST_SIZE = 50


def scenario_page(data, page):
    """One page of the funding scenario's rows (the cut line and running totals are the whole
    scenario's): the page (`listing`), its [(position, row)] and the ids of its applications."""
    listing = ListPage(data["rows"], page, SCENARIO_PAGE_SIZE)
    return {
        "listing": listing,
        "rows": list(enumerate(listing.items, start=listing.first)),
        "shown": {row.result.application.id for row in listing.items},
    }


def shown_decisions(scenario, decide):
    """The decisions the board's page shows (its scenario rows' and its decision cards'), loaded
    as objects in one go: the scenario's rows get theirs in place of their figures; returns
    {application id: Decision} for the cards."""
    wanted = [row.result.application.id for row in scenario["listing"].items if row.decision is not None]
    wanted += [a.id for a, _amount, _below in decide["listing"].items]
    loaded = decisions_of(wanted)
    for row in scenario["listing"].items:
        if row.decision is not None:
            # None if staff revised it between the two reads: the row then shows no decision.
            row.decision = loaded.get(row.result.application.id)
    return loaded


def decide_page(data, page, *, showing=None):
    """One page of the board's "decide one by one" cards: the scenario's rows in rank order, then
    those below a threshold, as (application, amount proposed in cents, below a threshold).

    A call of thousands of applications would otherwise render thousands of forms on one page.
    `showing`: an application whose card must be on the page (after a refused decision). The
    page's applications get their budget lines (offered as the approved budget) in one query.
    """
    entries = [(row.result.application, row.amount_cents, False) for row in data["rows"]]
    entries += [(r.application, r.application.requested_cents, True) for r in data["failing"]]
    page_of = {a.id: i // DECIDE_PAGE_SIZE + 1 for i, (a, _amount, _below) in enumerate(entries)}
    listing = ListPage(entries, page_of.get(showing, page), DECIDE_PAGE_SIZE)
    # The ranking's records become objects for the page's cards only, with their budget lines and
    # the columns a card shows (an application has forty, its texts and JSON among them).
    loaded = applications_of(
        [a.id for a, _amount, _below in listing.items],
        load_only(Application.id, Application.reference, Application.member_id, Application.call_id),
        selectinload(Application.budget_lines),
    )
    listing.items = [(loaded[a.id], amount, below) for a, amount, below in listing.items]
    return {"listing": listing, "page_of": page_of}


@dataclass
class ReserveRow:
    application: object
    decision: object
    amount_cents: int  # what it would be awarded: its request, within the cap
    fits: bool  # within what the envelope has left
    out_of_rank: bool  # a higher-ranked reserve is still waiting


def reserve_offer(call, remaining, *, results=None, decisions=None):
    """The reserve list as the board offers it when money is left: in rank order, the first one
    (the next to fund) and, if it does not fit, the first that does, marked out of rank order."""
    rows = []
    for position, (result, decision) in enumerate(reserve_list(call, results=results, decisions=decisions)):
        amount = min(result.application.requested_cents, call.cap_cents)
        rows.append(ReserveRow(result.application, decision, amount, 0 < amount <= remaining, position > 0))
    following = next((r for r in rows if r.fits), None)
    return {
        "rows": rows,
        "next": rows[0] if rows else None,
        "first_fitting": following,
        "open": remaining > 0 and bool(rows),
    }


def viewable_grants(user):
    """The condition on Grant of what `user` may open (Grant.can_view as SQL): staff every grant;
    the lead city and a partner city asked to take part once the award letter is sent; a donor's
    officers the grants paid from its contributions. The JSON API lists through it."""
    if not user or not user.is_authenticated:
        return sa.false()
    if user.has_role("staff"):
        return sa.true()
    members = user.member_ids() or [-1]
    asked = sa.select(Partner.application_id).where(Partner.member_id.in_(members), Partner.state.is_not(None))
    told = sa.select(Application.id).where(
        sa.or_(Application.member_id.in_(members), Application.id.in_(asked)),
        Application.state.in_(APPLICATION_WORKFLOW.states_with("decided")),
        Application.decision_sent_at.is_not(None),
    )
    funded = (
        sa.select(Allocation.grant_id)
        .join(CallFunding, CallFunding.id == Allocation.call_funding_id)
        .join(Contribution, Contribution.id == CallFunding.contribution_id)
        .where(Contribution.donor_id.in_(user.donor_ids() or [-1]))
    )
    return sa.or_(Grant.application_id.in_(told), Grant.id.in_(funded))
