import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload, load_only, selectinload

from ..accounts.models import User
from ..applications.models import APPLICATION_WORKFLOW, Application
from ..core.pagination import paginate
from ..core.rows import plain_rows
from ..core.timeutil import replays, utcnow
from ..extensions import db
from ..members.models import Member
from .models import ASSIGNMENT_WORKFLOW, Assignment, CriterionScore, PanelConsensus, Review
from .scoring import Normalisation, Rules, aggregate, conflict_reasons, in_rank_order, mean_of_hundredths


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


# The applications a ranking lists: those the panel reviews or has reviewed, decided ones included.
RANKING_STATES = sorted(
    set(APPLICATION_WORKFLOW.states_with("reviewable")) | set(APPLICATION_WORKFLOW.states_with("ranked"))
)


@dataclass(slots=True, repr=False)
class RankedApplication:
    """What the ranking, the decision board and their CSVs read of an application of a large call,
    as a plain record: a call has thousands of them, and an ORM object costs ten times as much to
    load. Pages that need more of a few of them (the board's decision forms) load those few as
    objects (`applications_of`). Never written through: writes load the row under its lock."""

    id: int
    state: str
    number: int | None
    reference: str
    title: str
    requested_cents: int
    first_submitted_at: object
    member: "RankedCity"

    @property
    def staff_label(self):
        return APPLICATION_WORKFLOW.staff_label(self.state)

    def __repr__(self):
        return f"<RankedApplication {self.reference}>"


@dataclass(frozen=True, slots=True)
class RankedCity:
    """The lead city of a RankedApplication: what the ranking shows of it."""

    id: int
    name: str
    country: str


def ranking_applications(call):
    """The applications the ranking shows (those the panel reviews or has reviewed, decided ones
    included), as RankedApplication records in one query; a city leading several is one record."""
    cities = {}
    rows = plain_rows(
        sa.select(
            Application.id,
            Application.state,
            Application.number,
            Application.reference,
            Application.title,
            Application.requested_cents,
            Application.first_submitted_at,
            Member.id,
            Member.name,
            Member.country,
        )
        .join(Member, Member.id == Application.member_id)
        .where(Application.call_id == call.id, Application.state.in_(RANKING_STATES))
        .order_by(Application.number)
    )
    applications = []
    for application_id, state, number, reference, title, requested, submitted, member_id, name, country in rows:
        city = cities.get(member_id)
        if city is None:
            city = cities[member_id] = RankedCity(member_id, name, country)
        applications.append(
            RankedApplication(application_id, state, number, reference, title, requested, submitted, city)
        )
    return applications


def applications_of(ids, *options):
    """{id: Application} of `ids`, loaded as objects with their city in one query (plus `options`):
    the few of a ranking that a page acts on."""
    if not ids:
        return {}
    return {
        application.id: application
        for application in db.session.scalars(
            sa.select(Application)
            .where(Application.id.in_(ids))
            .options(lazyload(Application.call), joinedload(Application.member), *options)
        ).unique()
    }


def call_results(call):
    """(ranked passing aggregates, failing aggregates, not yet scored applications).

    The reviews are read as plain rows (application, reviewer, review, score) and the criterion
    scores as (review, criterion, score): three light queries whatever the number of reviews,
    never the review objects with their relations.
    """
    applications = ranking_applications(call)
    shown = _ranking_ids(call)
    by_application, per_reviewer = _review_scores(shown)
    criterion_means = call_criterion_means(call.id)
    consensus = {
        c.application_id: c
        for c in db.session.scalars(sa.select(PanelConsensus).where(PanelConsensus.application_id.in_(shown)))
    }
    rules = Rules.of(call)
    normalisation = Normalisation(per_reviewer)
    results = [
        _aggregate(application, rules, by_application, criterion_means, consensus, normalisation)
        for application in applications
    ]
    scored = [r for r in results if r.mean is not None]
    unscored = [r.application for r in results if r.mean is None]
    passing = in_rank_order([r for r in scored if r.passes], rules.criterion_ids)
    failing = in_rank_order([r for r in scored if not r.passes], rules.criterion_ids)
    return passing, failing, unscored


def application_result(application):
    """The aggregate of one application exactly as the ranking of its call shows it (its reviews,
    criterion means, consensus and its score normalised against every reviewer's scores in the
    call), without ranking the whole call; None when the ranking does not list it as scored."""
    call = application.call
    if application.state not in RANKING_STATES:
        return None
    # Normalisation reads every reviewer's scores of the call; the rest is this application's alone.
    by_application, per_reviewer = _review_scores(_ranking_ids(call))
    if not any(score is not None for _reviewer, score in by_application.get(application.id, [])):
        return None
    consensus = db.session.scalar(sa.select(PanelConsensus).where(PanelConsensus.application_id == application.id))
    return _aggregate(
        application,
        Rules.of(call),
        by_application,
        _criterion_means([application.id]),
        {application.id: consensus} if consensus is not None else {},
        Normalisation(per_reviewer),
    )


def _aggregate(application, rules, by_application, criterion_means, consensus, normalisation):
    reviews = by_application.get(application.id, [])
    result = aggregate(
        application,
        rules,
        [hundredths for _reviewer, hundredths in reviews],
        criterion_means.get(application.id, {}),
        consensus.get(application.id),
    )
    result.normalisation, result.reviews = normalisation, reviews
    return result


def _review_scores(application_ids):
    """The submitted reviews' scores of `application_ids` (a subquery or a list), as plain rows:
    ({application id: [(reviewer id, score in whole hundredths)]}, {reviewer id: [scores]}).

    Scores have two decimals: read as integers (exact on both databases, and cheaper than
    thousands of Decimals); the reviewers' scores for normalisation as the floats it computes with."""
    by_application, per_reviewer = {}, {}
    for application_id, reviewer_id, hundredths in plain_rows(
        sa.select(
            Assignment.application_id,
            Assignment.reviewer_id,
            sa.cast(sa.func.round(Review.score * 100), sa.Integer),
        )
        .join(Review, Review.assignment_id == Assignment.id)
        .where(Assignment.application_id.in_(application_ids), Review.submitted_at.is_not(None))
        .order_by(Assignment.id)
    ):
        by_application.setdefault(application_id, []).append((reviewer_id, hundredths))
        if hundredths is not None:
            # hundredths / 100 is the double nearest the score, as float(Decimal(score)) is.
            per_reviewer.setdefault(reviewer_id, []).append(hundredths / 100)
    return by_application, per_reviewer


def _criterion_means(application_ids):
    """{application id: {criterion id: mean}} over the submitted reviews that judged the criterion.

    In SQL: one row per (application, criterion), not one per criterion score. Scores have two
    decimals, so their sum in hundredths is a whole number: exact in PostgreSQL's numeric, and
    rounded to it from SQLite's floating-point sum (off by far less than half a hundredth)."""
    return _means_of(plain_rows(_criterion_sums(Assignment.application_id.in_(application_ids))))


def _means_of(rows):
    """{application id: {criterion id: mean}} of (application, criterion, hundredths, count) rows."""
    means = {}
    for application_id, criterion_id, hundredths, count in rows:
        means.setdefault(application_id, {})[criterion_id] = mean_of_hundredths(hundredths, count)
    return means


def _criterion_sums(which):
    """(application, criterion, sum of its scores in hundredths, how many) over the submitted
    reviews of the assignments `which` selects, one row per application and criterion."""
    return (
        sa.select(
            Assignment.application_id,
            CriterionScore.criterion_id,
            # Converted once per group, not per score; rows bring plain ints, not Decimals.
            sa.cast(sa.func.round(sa.func.sum(CriterionScore.score) * 100), sa.BigInteger).label("hundredths"),
            sa.func.count(CriterionScore.score).label("scores"),
        )
        .join(Review, Review.id == CriterionScore.review_id)
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(which, Review.submitted_at.is_not(None), CriterionScore.score.is_not(None))
        .group_by(Assignment.application_id, CriterionScore.criterion_id)
    )


# -- the criterion means of a call, kept between pages --------------------------------------------
#
# The criterion means are the costliest part of a ranking (a call of 3,000 applications has 45,000
# criterion scores: about 40 ms of PostgreSQL on each ranking and decision board page) and change
# only when a review is submitted or reopened (no operation deletes a review): the scores of a
# submitted review cannot be changed (`operations.save_review` refuses), and a reopened review
# leaves the means until it is submitted again, which adds one to its `submissions`. So the set of
# a call's submitted reviews with their submission counts, and so its means, is told apart by
# (how many, the sum of their ids, the sum of their submission counts): from a state read, the
# reviews submitted since either are new to the set, or came back with a count one higher; the
# three sums come back to the same only if every review submitted since has been reopened again,
# which brings back that very set (or, with several reviews at once, by ids and counts that
# compensate each other exactly). The latest submission and the sum of the review scores are read
# too: such a coincidence would also need the same instant and the same scores.
#
# Each process keeps the means of its last few calls with that fingerprint, read in the same
# statement as the means; every page reads the fingerprint (one aggregate over the call's reviews,
# a few milliseconds) and computes again on any difference. Replays (`timeutil.clock_at`: the demo
# loader, the test factories) write past instants in this process: nothing is kept that was read
# while one ran, nor used across one.

_MEANS_KEPT = 4  # calls per process: the ones staff have open; a call's means take about 2 MB
_means_cache = OrderedDict()  # call id -> (fingerprint, replays begun, means)
_means_lock = threading.Lock()


def call_criterion_means(call_id):
    """{application id: {criterion id: mean}} of every application of the call with submitted
    reviews: the same figures as `_criterion_means` of those applications, computed once for each
    set of submitted reviews (see above)."""
    replaying, begun = replays()
    if not replaying:
        fingerprint = tuple(plain_rows(_submitted_fingerprint(call_id))[0])
        if replays() == (False, begun):  # no replay began while the fingerprint was read
            with _means_lock:
                kept = _means_cache.get(call_id)
                if kept is not None and kept[:2] == (fingerprint, begun):
                    _means_cache.move_to_end(call_id)
                    return kept[2]
    means, fingerprint = _criterion_means_with_fingerprint(call_id)
    if not replaying and replays() == (False, begun):  # none ran at any time while they were read
        with _means_lock:
            _means_cache[call_id] = (fingerprint, begun, means)
            _means_cache.move_to_end(call_id)
            while len(_means_cache) > _MEANS_KEPT:
                _means_cache.popitem(last=False)
    return means


def forget_criterion_means():
    """Empty this process's kept criterion means (tests: every test starts from empty tables)."""
    with _means_lock:
        _means_cache.clear()


def _submitted_fingerprint(call_id):
    """(how many, the sum of their ids, the sum of their submission counts, the latest submission,
    the sum of their scores in whole hundredths) of the call's submitted reviews: whole numbers
    and an instant, exact on both databases."""
    return (
        sa.select(
            sa.func.count(Review.id),
            sa.func.coalesce(sa.func.sum(Review.id), 0),
            sa.func.coalesce(sa.func.sum(Review.submissions), 0),
            sa.func.max(Review.submitted_at),
            sa.func.coalesce(sa.func.sum(sa.cast(sa.func.round(Review.score * 100), sa.BigInteger)), 0),
        )
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.call_id == call_id, Review.submitted_at.is_not(None))
    )


def _criterion_means_with_fingerprint(call_id):
    """(the call's criterion means, the fingerprint of the reviews they were computed from), read
    in one statement, so both come from the same state of the database."""
    sums = _criterion_sums(Assignment.call_id == call_id).subquery()
    summary = _submitted_fingerprint(call_id).subquery()
    rows = plain_rows(sa.select(summary, sums).select_from(summary.outerjoin(sums, sa.true())))
    # Every row repeats the fingerprint (its first columns); with no submitted review, the one row
    # has no application.
    width = len(summary.columns)
    return _means_of(row[width:] for row in rows if row[width] is not None), tuple(rows[0][:width])


def _ranking_ids(call):
    """The ids of ranking_applications(call), as a subquery."""
    return (
        sa.select(Application.id)
        .where(Application.call_id == call.id, Application.state.in_(RANKING_STATES))
        .scalar_subquery()
    )


def progress(call, *, state="", overdue=False, page=1, per_page=50):
    """Review progress of a call, computed in SQL: assignments per state, drafted and overdue
    counts, each reviewer's load, and one page of the assignments (filtered by state or overdue)."""
    now = utcnow()

    def of_call(stmt):
        # By the call kept on each assignment (ix_assignment_call_due): neither a join on the
        # call's applications nor "assignment.id IN (a subquery of every assignment)".
        return stmt.where(Assignment.call_id == call.id)

    is_overdue = sa.and_(
        Assignment.due_at.is_not(None),
        Assignment.due_at < now,
        Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("open")),
    )
    # Every figure of the page from one pass over the call's assignments, grouped by reviewer and
    # state: assignments, those being scored with a draft review, those overdue. The draft is
    # looked up (by its unique assignment) only for assignments being scored: joining every review
    # of the call, nearly all of them submitted, cost PostgreSQL as much as the rest of the pass.
    scoring = ASSIGNMENT_WORKFLOW.states_with("scoring")
    counted = set(ASSIGNMENT_WORKFLOW.states_with("counts"))
    has_draft = sa.exists().where(Review.assignment_id == Assignment.id)
    groups = db.session.execute(
        of_call(
            sa.select(
                Assignment.reviewer_id,
                Assignment.state,
                sa.func.count(Assignment.id),
                # Nested, so that the lookup is made only when the state says scoring.
                sa.func.sum(sa.case((Assignment.state.in_(scoring), sa.case((has_draft, 1), else_=0)), else_=0)),
                sa.func.sum(sa.case((is_overdue, 1), else_=0)),
            )
        ).group_by(Assignment.reviewer_id, Assignment.state)
    ).all()
    by_state, per_reviewer, overdue_by_state = Counter(), Counter(), Counter()
    drafted = overdue_count = 0
    for reviewer_id, assignment_state, n, with_draft, n_overdue in groups:
        by_state[assignment_state] += n
        overdue_by_state[assignment_state] += n_overdue or 0
        overdue_count += n_overdue or 0
        drafted += with_draft or 0
        if assignment_state in counted:
            per_reviewer[reviewer_id] += n
    # Reviewers by name only: their role grants (loaded with every user by default) are not shown.
    reviewers = {
        u.id: u
        for u in db.session.scalars(
            sa.select(User)
            .where(User.id.in_(list(per_reviewer) or [-1]))
            .options(load_only(User.id, User.name), lazyload(User.grants))
        ).all()
    }
    load = sorted(((reviewers[r], n) for r, n in per_reviewer.items()), key=lambda pair: (-pair[1], pair[0].name))
    # The page is chosen on narrow rows (id and due date), in the order of ix_assignment_call_due
    # (the undated last, as PostgreSQL puts NULLs in an ascending index), then its 50 assignments
    # are read with their application and reviewer.
    listed = of_call(sa.select(Assignment.id)).order_by(Assignment.due_at.asc().nulls_last(), Assignment.id)
    # How many rows the filters leave, from the same grouped figures: no second pass to count.
    counts = overdue_by_state if overdue else by_state
    if state in {s.name for s in ASSIGNMENT_WORKFLOW.states}:
        listed = listed.where(Assignment.state == state)
        total = counts[state]
    else:
        total = sum(counts.values())
    if overdue:
        listed = listed.where(is_overdue)
    assignments = paginate(listed, page=page, per_page=per_page, total=total)
    loaded = {
        a.id: a
        for a in db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.id.in_(list(assignments.items) or [-1]))
            .options(
                # The page shows the application's reference and the reviewer's name: the rest of
                # their columns (an application has forty, some of them JSON) are not read.
                joinedload(Assignment.application).options(
                    load_only(Application.id, Application.reference),
                    lazyload(Application.call),
                    lazyload(Application.member),
                ),
                joinedload(Assignment.reviewer).options(load_only(User.id, User.name), lazyload(User.grants)),
            )
        ).unique()
    }
    assignments.items = [loaded[i] for i in assignments.items]
    return {
        "assignments": assignments,
        "by_state": by_state,
        "drafted": drafted,
        "overdue": overdue_count,
        "load": load,
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


def shows_content(assignment, user):
    """Whether the reviewer `user` reads the application of their `assignment` (its review page
    shows the proposal): the assignment has reached the content and no conflict stands."""
    application = assignment.application
    return (
        assignment.reviewer_id == user.id
        and user.has_role("reviewer")
        and assignment.sees_content
        and not conflict_reasons(user.reviewer_profile, application, application.call.conflict_same_country)
    )


def reviewed_application_ids(user):
    """The ids of the applications whose content the reviewer `user` reads through their
    assignments (the review pages, and the JSON API)."""
    if not user or not user.is_authenticated or not user.has_role("reviewer"):
        return set()
    return {a.application_id for a in my_assignments(user) if shows_content(a, user)}
