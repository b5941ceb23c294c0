"""The criterion means a ranking keeps between pages (reviews.queries.call_criterion_means): kept
while the call's submitted reviews are the same, computed again after every submission, reopening
and resubmission, never kept while the demo or a factory replays the past."""

import csv
import io
from datetime import timedelta

import pytest

from fundapp.calls.models import Call
from fundapp.core.timeutil import clock_at, utcnow
from fundapp.extensions import db
from fundapp.reviews import operations, queries
from fundapp.reviews.models import Assignment

from .conftest import eligible, user_by_email
from .test_panel import _accept, _assign, _pool, _submit


@pytest.fixture
def computed(monkeypatch):
    """How many times the means were computed from the criterion scores (not taken as kept)."""
    counter = {"n": 0}
    compute = queries._criterion_means_with_fingerprint

    def counting(call_id):
        counter["n"] += 1
        return compute(call_id)

    monkeypatch.setattr(queries, "_criterion_means_with_fingerprint", counting)
    return counter


def _shown(call_id):
    """{application id: [criterion means as text]} as the ranking shows them, and the same figures
    computed afresh from the scores (queries._criterion_means, which keeps nothing)."""
    call = db.session.get(Call, call_id)
    passing, failing, _unscored = queries.call_results(call)
    shown = {r.application.id: [str(r.criterion_means.get(c.id)) for c in call.criteria] for r in passing + failing}
    fresh = queries._criterion_means(list(shown))
    return shown, {a: [str(fresh.get(a, {}).get(c.id)) for c in call.criteria] for a in shown}


def _panel(app, call_id, city, size):
    """(application id, assignment ids) of `city`'s application and a panel of `size` who accepted."""
    with app.app_context():
        application_id = eligible(call_id, city)
    assignments = [_assign(app, application_id, email) for email in _pool(app, size)]
    for assignment_id in assignments:
        _accept(app, assignment_id)
    return application_id, assignments


def _ranking_csv(staff, call_id):
    rows = list(
        csv.DictReader(
            io.StringIO(staff.get(f"/staff/calls/{call_id}/ranking?format=csv").get_data(as_text=True).lstrip("\ufeff"))
        )
    )
    return {row["reference"]: row["criterion_1_mean"] for row in rows}


@pytest.mark.sqlite
def test_the_ranking_keeps_a_call_s_criterion_means_only_while_its_submitted_reviews_stay_the_same(
    app, review_call, staff, computed
):
    jury = _pool(app, 3)
    with app.app_context():
        accra, guadalajara = eligible(review_call, "Accra"), eligible(review_call, "Guadalajara")
    first, second = _assign(app, accra, jury[0]), _assign(app, accra, jury[1])
    other = _assign(app, guadalajara, jury[2])
    for assignment_id in (first, second, other):
        _accept(app, assignment_id)
    _submit(app, first, [4, 3.5, None, 5, 2])
    _submit(app, other, [3, 3, 3, 3, 3])

    with app.app_context():
        shown, fresh = _shown(review_call)
        assert shown == fresh and shown[accra] == ["4.00", "3.50", "None", "5.00", "2.00"]
        assert computed["n"] == 1
        assert _shown(review_call)[0] == shown and computed["n"] == 1  # kept: nothing changed
        reference = db.session.get(Assignment, first).application.reference
    assert _ranking_csv(staff, review_call)[reference] == "4.00" and computed["n"] == 1  # the page too

    _submit(app, second, [2, 4.5, 3, 4, 2])  # a second review of Accra's application
    with app.app_context():
        shown, fresh = _shown(review_call)
        assert computed["n"] == 2 and shown == fresh
        assert shown[accra] == ["3.00", "4.00", "3.00", "4.50", "2.00"]
    assert _ranking_csv(staff, review_call)[reference] == "3.00" and computed["n"] == 2

    with app.app_context():  # staff reopen it: its scores leave the means until it is submitted again
        assignment = db.session.get(Assignment, second)
        operations.reopen(assignment, actor=user_by_email("staff@fund.example"), reason="Criterion 3 is misread")
        shown, fresh = _shown(review_call)
        assert computed["n"] == 3 and shown == fresh and shown[accra][0] == "4.00"
    _submit(app, second, [5, 5, 5, 5, 5])  # the same review, other scores, submitted again
    with app.app_context():
        shown, fresh = _shown(review_call)
        assert computed["n"] == 4 and shown == fresh
        assert shown[accra] == ["4.50", "4.25", "5.00", "5.00", "3.50"]
        assert _shown(review_call)[0] == shown and computed["n"] == 4
    assert _ranking_csv(staff, review_call)[reference] == "4.50"


@pytest.mark.sqlite
def test_nothing_is_kept_while_the_past_is_replayed_nor_across_a_replay(app, review_call, computed):
    accra, (assignment_id,) = _panel(app, review_call, "Accra", 1)
    _submit(app, assignment_id, [4, 4, 4, 4, 4])
    with app.app_context():
        _shown(review_call)
        assert computed["n"] == 1
        with clock_at(utcnow() - timedelta(minutes=5)):
            # a replay may write past instants: the kept means are not trusted, nor new ones kept
            assert _shown(review_call)[0][accra][0] == "4.00"
            _shown(review_call)
            assert computed["n"] == 3
        _shown(review_call)  # the first page after it computes them again, then keeps them
        _shown(review_call)
        assert computed["n"] == 4


@pytest.mark.sqlite
def test_a_review_submitted_again_at_its_former_instant_with_the_same_score_is_not_taken_for_the_first(
    app, review_call, computed, monkeypatch
):
    """A server whose clock was set back could give a resubmission the instant of the submission it
    replaces, and marks swapped between two criteria of equal weight keep the review's score: the
    review's count of submissions still tells them apart."""
    accra, (first, second) = _panel(app, review_call, "Accra", 2)
    _submit(app, first, [5, 5, 5, 5, 5])
    score = _submit(app, second, [3, 5, 3, 3, 3])  # the first two criteria weigh 25 each
    # Replays are how a test sets the clock; taken here for a real server's clock set back.
    monkeypatch.setattr(queries, "replays", lambda: (False, 0))
    with app.app_context():
        assert _shown(review_call)[0][accra][:2] == ["4.00", "5.00"] and computed["n"] == 1
        assignment = db.session.get(Assignment, second)
        instant = assignment.review.submitted_at
        # No page is shown in between: the means kept are those of the first submission.
        operations.reopen(assignment, actor=user_by_email("staff@fund.example"), reason="Marks swapped")
    with app.app_context(), clock_at(instant):
        assert _submit(app, second, [5, 3, 3, 3, 3]) == score
    with app.app_context():
        review = db.session.get(Assignment, second).review
        assert (review.submitted_at, review.submissions) == (instant, 2)
        shown, fresh = _shown(review_call)
        assert shown == fresh and shown[accra][:2] == ["5.00", "4.00"] and computed["n"] == 2


@pytest.mark.sqlite
def test_means_read_while_a_replay_ran_are_not_kept(app, review_call, computed, monkeypatch):
    """A replay (in another thread of the process) that begins and ends while the means are read."""
    accra, (assignment_id,) = _panel(app, review_call, "Accra", 1)
    _submit(app, assignment_id, [4, 4, 4, 4, 4])
    compute = queries._criterion_means_with_fingerprint
    replay = clock_at(utcnow() - timedelta(minutes=5))

    def while_a_replay_ends(call_id):
        result = compute(call_id)
        replay.__exit__(None, None, None)
        return result

    with app.app_context():
        replay.__enter__()
        monkeypatch.setattr(queries, "_criterion_means_with_fingerprint", while_a_replay_ends)
        assert queries.call_criterion_means(review_call)[accra]
        monkeypatch.setattr(queries, "_criterion_means_with_fingerprint", compute)
        assert review_call not in queries._means_cache
        queries.call_criterion_means(review_call)  # no replay now: kept
        assert review_call in queries._means_cache
