from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..applications.models import APPLICATION_WORKFLOW, Application
from ..core.timeutil import utcnow
from ..extensions import db
from .models import ASSIGNMENT_WORKFLOW, Assignment, CriterionScore, PanelConsensus, Review
from .scoring import aggregate, normalise, q2, ranking_key


def submitted_reviews(application_ids):
    """{application id: [(assignment, review)]} of the submitted reviews, scores loaded, in one query."""
    rows = db.session.execute(
        sa.select(Assignment, Review)
        .join(Review, Review.assignment_id == Assignment.id)
        .options(selectinload(Review.scores))
        .where(Assignment.application_id.in_(application_ids or [-1]), Review.submitted_at.is_not(None))
        .order_by(Assignment.id)
    ).all()
    result = {}
    for assignment, review in rows:
        result.setdefault(assignment.application_id, []).append((assignment, review))
    return result


def ranking_applications(call):
    """The applications the ranking shows: those the panel reviews or has reviewed, decided ones included."""
    states = set(APPLICATION_WORKFLOW.states_with("reviewable")) | set(APPLICATION_WORKFLOW.states_with("ranked"))
    return db.session.scalars(
        sa.select(Application)
        .where(Application.call_id == call.id, Application.state.in_(sorted(states)))
        .order_by(Application.number)
    ).all()


def call_results(call):
    """(ranked passing aggregates, failing aggregates, not yet scored applications).

    The reviews are read as plain rows (application, reviewer, review, score) and the criterion
    scores as (review, criterion, score): three light queries whatever the number of reviews,
    never the review objects with their relations.
    """
    applications = ranking_applications(call)
    shown = _ranking_ids(call)
    review_rows = db.session.execute(
        sa.select(Assignment.application_id, Assignment.reviewer_id, Review.id, Review.score)
        .join(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(shown), Review.submitted_at.is_not(None))
        .order_by(Assignment.id)
    ).all()
    criterion_scores = {}
    for review_id, criterion_id, score in db.session.execute(
        sa.select(CriterionScore.review_id, CriterionScore.criterion_id, CriterionScore.score)
        .join(Review, Review.id == CriterionScore.review_id)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(
            Assignment.application_id.in_(shown), Review.submitted_at.is_not(None), CriterionScore.score.is_not(None)
        )
    ):
        criterion_scores.setdefault(review_id, {})[criterion_id] = score
    consensus = {
        c.application_id: c
        for c in db.session.scalars(sa.select(PanelConsensus).where(PanelConsensus.application_id.in_(shown)))
    }
    by_application, per_reviewer = {}, {}
    for application_id, reviewer_id, review_id, score in review_rows:
        by_application.setdefault(application_id, []).append((score, criterion_scores.get(review_id, {})))
        per_reviewer.setdefault(reviewer_id, []).append((application_id, score))
    results = [
        aggregate(application, call, by_application.get(application.id, []), consensus.get(application.id))
        for application in applications
    ]
    normalised = normalise(per_reviewer)
    for result in results:
        values = normalised.get(result.application.id)
        if values:
            result.normalised = q2(sum(values) / len(values))
    scored = [r for r in results if r.mean is not None]
    unscored = [r.application for r in results if r.mean is None]
    passing = sorted([r for r in scored if r.passes], key=lambda r: ranking_key(r, call.criteria))
    failing = sorted([r for r in scored if not r.passes], key=lambda r: ranking_key(r, call.criteria))
    return passing, failing, unscored


def _ranking_ids(call):
    """The ids of ranking_applications(call), as a subquery."""
    states = set(APPLICATION_WORKFLOW.states_with("reviewable")) | set(APPLICATION_WORKFLOW.states_with("ranked"))
    return (
        sa.select(Application.id)
        .where(Application.call_id == call.id, Application.state.in_(sorted(states)))
        .scalar_subquery()
    )


def progress(call):
    """Counts of assignments per state, overdue ones, and each reviewer's load, for a call."""
    assignments = (
        db.session.scalars(
            sa.select(Assignment)
            .join(Application)
            .where(Application.call_id == call.id)
            .options(selectinload(Assignment.review))
        )
        .unique()
        .all()
    )
    now = utcnow()
    by_state = Counter(a.state for a in assignments)
    drafted = sum(1 for a in assignments if a.is_scoring and a.review is not None)
    overdue = [a for a in assignments if a.is_overdue(now)]
    load = Counter()
    for a in assignments:
        if ASSIGNMENT_WORKFLOW.has(a.state, "counts"):
            load[a.reviewer] += 1
    return {
        "assignments": assignments,
        "by_state": by_state,
        "drafted": drafted,
        "overdue": overdue,
        "load": sorted(load.items(), key=lambda kv: (-kv[1], kv[0].name)),
    }


def my_assignments(user):
    return (
        db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.reviewer_id == user.id)
            .options(selectinload(Assignment.review))
            .order_by(Assignment.due_at, Assignment.id)
        )
        .unique()
        .all()
    )
