from collections import Counter

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from ..accounts.models import User
from ..applications.models import APPLICATION_WORKFLOW, Application
from ..core.pagination import paginate
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


def progress(call, *, state="", overdue=False, page=1, per_page=50):
    """Review progress of a call, computed in SQL: assignments per state, drafted and overdue
    counts, each reviewer's load, and one page of the assignments (filtered by state or overdue)."""
    now = utcnow()
    of_call = sa.select(Assignment.id).join(Application).where(Application.call_id == call.id).scalar_subquery()
    by_state = Counter(
        dict(
            db.session.execute(
                sa.select(Assignment.state, sa.func.count(Assignment.id))
                .where(Assignment.id.in_(of_call))
                .group_by(Assignment.state)
            ).all()
        )
    )
    drafted = db.session.scalar(
        sa.select(sa.func.count(Assignment.id))
        .join(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.id.in_(of_call), Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("scoring")))
    )
    is_overdue = sa.and_(
        Assignment.due_at.is_not(None),
        Assignment.due_at < now,
        Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("open")),
    )
    overdue_count = db.session.scalar(
        sa.select(sa.func.count(Assignment.id)).where(Assignment.id.in_(of_call), is_overdue)
    )
    load = db.session.execute(
        sa.select(User, sa.func.count(Assignment.id).label("n"))
        .join(Assignment, Assignment.reviewer_id == User.id)
        .where(Assignment.id.in_(of_call), Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("counts")))
        .group_by(User.id)
        .order_by(sa.desc("n"), User.name)
    ).all()
    listed = (
        sa.select(Assignment)
        .where(Assignment.id.in_(of_call))
        .options(joinedload(Assignment.application), joinedload(Assignment.reviewer))
        .order_by(Assignment.due_at.is_(None), Assignment.due_at, Assignment.id)
    )
    if state in {s.name for s in ASSIGNMENT_WORKFLOW.states}:
        listed = listed.where(Assignment.state == state)
    if overdue:
        listed = listed.where(is_overdue)
    return {
        "assignments": paginate(listed, page=page, per_page=per_page),
        "by_state": by_state,
        "drafted": drafted,
        "overdue": overdue_count,
        "load": [(user, n) for user, n in load],
        "states": ASSIGNMENT_WORKFLOW.states,
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
