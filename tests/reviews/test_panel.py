"""Conflicts, declarations, scoring refusals, aggregation by hand, tie-breaks and ranking."""

from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.calls.models import Call
from fundapp.core.errors import Refused
from fundapp.extensions import db
from fundapp.reviews import operations
from fundapp.reviews.models import Assignment, PanelConsensus, Review
from fundapp.reviews.queries import call_results

from .. import factories as f
from ..helpers import text
from .conftest import eligible, make_reviewer, problem_of, scores_for, user_by_email


def _pool(app, size):
    """The e-mail addresses of a jury of `size` (balanced by gender and region)."""
    with app.app_context():
        return [reviewer.email for reviewer in f.panel(size)]


def _login(make_client, email):
    client = make_client()
    client.login(email)
    return client


def _assign(app, application_id, email):
    with app.app_context():
        staff = user_by_email("staff@fund.example")
        return f.s.assign(db.session.get(Application, application_id), user_by_email(email), staff).id


def _accept(app, assignment_id):
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        operations.declare(assignment, "accept", actor=assignment.reviewer)


def _submit(app, assignment_id, values, recommendation="fund"):
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        errors = operations.save_review(
            assignment,
            actor=assignment.reviewer,
            scores=scores_for(assignment.application.call_id, values),
            comment_applicant="Good",
            comment_staff="",
            recommendation=recommendation,
            submit=True,
        )
        assert errors == {}
        return db.session.get(Assignment, assignment_id).review.score


def test_a_reviewer_affiliated_with_a_partner_city_is_never_assigned_and_cannot_reach_it(
    app, review_call, make_client, staff
):
    with app.app_context():
        application_id = eligible(review_call, "Bogotá", partners=["Medellín"])
        make_reviewer(
            "tied@medellin.example",
            "Luisa Fernanda Gómez",
            affiliation=f.member("Medellín"),
            region="latin_america_caribbean",
            country="CO",
            languages="es,en",
        )
        call = db.session.get(Call, review_call)
        f.s.seat_jury(call, f.staff(), [*f.panel(3), user_by_email("tied@medellin.example")])
        proposal = operations.proposal_for(call)
        assert proposal.complete
        assert "tied@medellin.example" not in {r.email for _a, r in proposal.pairs}
        with pytest.raises(Refused, match="affiliated with Medellín"):
            operations.assign(
                db.session.get(Application, application_id),
                user_by_email("tied@medellin.example"),
                actor=user_by_email("staff@fund.example"),
            )
        db.session.rollback()
        # Even an assignment slipped in behind the rules gives the reviewer nothing (made directly on
        # purpose: no operation can make it, and the guard under test is the one behind the rules).
        slipped = Assignment(
            application_id=application_id,
            call_id=db.session.get(Application, application_id).call_id,
            reviewer_id=user_by_email("tied@medellin.example").id,
            state="accepted",
        )
        db.session.add(slipped)
        db.session.commit()
        slipped_id = slipped.id
    tied = _login(make_client, "tied@medellin.example")
    for url in (
        f"/reviews/{slipped_id}/review",
        f"/applications/{application_id}",
        f"/staff/applications/{application_id}/reviews",
    ):
        assert tied.get(url).status_code in (404, 403, 405), url
    page = text(tied.get(f"/reviews/{slipped_id}"))
    assert problem_of("Bogotá") not in page
    response = tied.post(f"/reviews/{slipped_id}/review", {"submit_review": "1"}, token_from="/")
    assert response.status_code == 404


def test_the_same_country_rule_applies_when_the_call_sets_it(app, review_call, staff):
    with app.app_context():
        application = db.session.get(Application, eligible(review_call, "Madrid"))
        spanish = make_reviewer("lucia.ortega@experts.example", "Lucía Ortega", country="ES", languages="es,en")
        f.edit_call(db.session.get(Call, review_call), conflict_same_country=True)
        with pytest.raises(Refused, match="same country"):
            operations.assign(application, spanish, actor=user_by_email("staff@fund.example"))
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 0


@pytest.mark.sqlite
def test_a_reviewer_sees_the_content_only_after_declaring_no_conflict(app, review_call, make_client, staff):
    first, second = _pool(app, 2)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    problem = problem_of("Accra")
    assignment_id = _assign(app, application_id, first)
    reviewer = _login(make_client, first)
    page = text(reviewer.get(f"/reviews/{assignment_id}"))
    assert "Declare any conflict of interest" in page and problem not in page and "Accra" in page
    response = reviewer.post(
        f"/reviews/{assignment_id}/declare",
        {"action": "accept"},
        token_from=f"/reviews/{assignment_id}",
        follow_redirects=True,
    )
    assert problem in text(response)
    with app.app_context():
        assert db.session.get(Application, application_id).state == "in_review"

    # A conflict declared with a reason removes the reviewer from the panel and from the content.
    other_id = _assign(app, application_id, second)
    other = _login(make_client, second)
    # A reason past 2,000 characters is refused beside it, kept, and nothing is declared.
    long_reason = "I advised Accra on its care census. " * 60  # 2,160 characters
    refused = other.post(
        f"/reviews/{other_id}/declare",
        {"action": "declare_conflict", "reason": long_reason},
        token_from=f"/reviews/{other_id}",
    )
    assert refused.status_code == 400
    assert "This text is too long: 2,160 characters, for at most 2,000." in text(refused)
    assert long_reason.strip() in text(refused) and "maxlength" not in text(refused)
    with app.app_context():
        assert db.session.get(Assignment, other_id).state == "assigned"
    response = other.post(
        f"/reviews/{other_id}/declare",
        {"action": "declare_conflict", "reason": "I advised Accra."},
        token_from=f"/reviews/{other_id}",
        follow_redirects=True,
    )
    assert "Your declaration is recorded" in text(response)
    assert problem not in text(other.get(f"/reviews/{other_id}"))
    assert other.post(f"/reviews/{other_id}/review", {"save_draft": "1"}, token_from="/").status_code == 404
    page = text(staff.get(f"/staff/applications/{application_id}/reviews"))
    assert "I advised Accra." in page and "Conflict declared" in page
    # Another reviewer's assignment is a 404, whatever the URL.
    assert reviewer.get(f"/reviews/{other_id}").status_code == 404


@pytest.mark.parametrize(
    "typed, message",
    [
        ({"score_0": "6"}, "Scores for this criterion go from 0 to 5."),
        ({"score_0": "-1"}, "Scores for this criterion go from 0 to 5."),
        ({"score_0": "2.3"}, "Scores for this criterion go in steps of 0.5."),
        ({"score_0": "lots"}, "Enter a number, such as 3.5."),
    ],
)
def test_scores_off_the_scale_or_grid_are_refused_and_nothing_is_submitted(
    app, review_call, make_client, staff, typed, message
):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
        criteria = [c.id for c in db.session.get(Call, review_call).criteria]
    assignment_id = _assign(app, application_id, email)
    _accept(app, assignment_id)
    reviewer = _login(make_client, email)
    data = {f"score_{cid}": "3" for cid in criteria}
    data.update(
        {
            "recommendation": "fund",
            "submit_review": "1",
            f"score_{criteria[0]}": typed["score_0"],
            "comment_applicant": "Clear plan.",
        }
    )
    response = reviewer.post(f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}")
    assert response.status_code == 400 and message in text(response)
    assert "Clear plan." in text(response)  # what was typed is kept
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment.state == "accepted" and (assignment.review is None or assignment.review.submitted_at is None)


def test_submitting_with_an_unscored_criterion_is_refused_but_cannot_judge_is_fine(
    app, review_call, make_client, staff
):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
        criteria = [c.id for c in db.session.get(Call, review_call).criteria]
    assignment_id = _assign(app, application_id, email)
    _accept(app, assignment_id)
    reviewer = _login(make_client, email)
    data = {f"score_{cid}": "4" for cid in criteria[:-1]}
    data.update({"recommendation": "fund", "submit_review": "1"})
    response = reviewer.post(f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}")
    assert response.status_code == 400 and "Score this criterion or mark it “cannot judge”." in text(response)
    data[f"cannot_judge_{criteria[-1]}"] = "y"
    response = reviewer.post(f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}")
    import re

    assert response.status_code == 302, re.findall(r'<li><a href="#([^"]+)">(.*?)</a>', text(response))
    with app.app_context():
        review = db.session.get(Assignment, assignment_id).review
        assert review.score == Decimal("80.00") and review.submitted_at is not None
    # Submitted means locked: a second submission is refused.
    again = reviewer.post(
        f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}", follow_redirects=True
    )
    assert "This review is already submitted (perhaps from another window)" in text(again)


def test_a_second_review_by_the_same_reviewer_is_refused(app, review_call, staff):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    _assign(app, application_id, email)
    with app.app_context():
        with pytest.raises(Refused, match="already on this application's panel"):
            operations.assign(
                db.session.get(Application, application_id),
                user_by_email(email),
                actor=user_by_email("staff@fund.example"),
            )
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count(Assignment.id))) == 1


@pytest.mark.sqlite
def test_aggregation_matches_hand_computed_numbers(app, review_call, staff):
    jury = _pool(app, 3)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    ids = [_assign(app, application_id, e) for e in jury]
    for assignment_id in ids:
        _accept(app, assignment_id)
    # weights 25, 25, 20, 15, 15 on 0-5; None is "cannot judge"
    assert _submit(app, ids[0], [4, 3.5, None, 5, 2]) == Decimal("73.13")  # 5850 / 80 = 73.125
    assert _submit(app, ids[1], [3, 3, 3, 3, 3]) == Decimal("60.00")
    assert _submit(app, ids[2], [5, 4, 4, 4.5, 3]) == Decimal("83.50")
    with app.app_context():
        call = db.session.get(Call, review_call)
        passing, failing, unscored = call_results(call)
        (result,) = passing + failing
        assert result.mean == Decimal("72.21")  # (73.13 + 60 + 83.50) / 3 = 72.21
        assert result.spread == Decimal("23.50") and result.disagreement  # threshold 20
        c = call.criteria
        assert result.criterion_means[c[0].id] == Decimal("4.00")
        assert result.criterion_means[c[2].id] == Decimal("3.50")  # "cannot judge" is left out, not zero
        # (5 + 3 + 4.5) / 3 = 4.1666… and (2 + 3 + 3) / 3 = 2.6666…: rounded to the hundredth.
        assert [str(result.criterion_means[c[i].id]) for i in (1, 3, 4)] == ["3.50", "4.17", "2.67"]
        assert result.passes  # overall threshold 60
        assert db.session.get(Application, application_id).state == "reviewed"


def _score(app, application_id, values_per_reviewer):
    """Each reviewer of the jury (one per list of marks) declares no conflict and submits its marks."""
    for email, values in zip(_pool(app, len(values_per_reviewer)), values_per_reviewer):
        assignment_id = _assign(app, application_id, email)
        _accept(app, assignment_id)
        _submit(app, assignment_id, values)
    return application_id


def _scored(app, call_id, city, values_per_reviewer):
    with app.app_context():
        application_id = eligible(call_id, city)
    return _score(app, application_id, values_per_reviewer)


def test_ties_are_broken_by_the_criteria_in_order_then_by_earlier_submission(app, review_call, staff):
    # Same overall score (weights 25, 25, 20, 15, 15): A leads on the first criterion.
    a = _scored(app, review_call, "Accra", [[5, 3, 4, 4, 4]])
    b = _scored(app, review_call, "Madrid", [[3, 5, 4, 4, 4]])
    # C and D are equal on every criterion: the earlier submission (D) goes first, although C's
    # draft was started first.
    with app.app_context():
        c = f.draft("Bogotá", the_call=db.session.get(Call, review_call)).id
    d = _scored(app, review_call, "Medellín", [[2, 2, 2, 2, 2]])
    with app.app_context():
        f.s.submit(db.session.get(Application, c), f.focal_point("Bogotá"))
        f.s.screen(db.session.get(Application, c), f.staff())
    _score(app, c, [[2, 2, 2, 2, 2]])
    with app.app_context():
        call = db.session.get(Call, review_call)
        f.edit_call(call, overall_threshold=None)
        passing, _failing, _unscored = call_results(call)
        assert [r.application.id for r in passing] == [a, b, d, c]


def test_failing_applications_are_listed_apart_and_a_consensus_moves_the_ranking(app, review_call, staff):
    low = _scored(app, review_call, "Accra", [[2, 2, 2, 2, 2]])  # 40 < 60
    high = _scored(app, review_call, "Madrid", [[4, 4, 4, 4, 4]])  # 80
    mid = _scored(app, review_call, "Bogotá", [[3.5, 3.5, 3.5, 3.5, 3.5]])  # 70
    with app.app_context():
        passing, failing, _ = call_results(db.session.get(Call, review_call))
        assert [r.application.id for r in passing] == [high, mid] and [r.application.id for r in failing] == [low]
    response = staff.post(
        f"/staff/applications/{mid}/consensus",
        {"score": "85", "note": "Panel agreed"},
        token_from=f"/staff/applications/{mid}/reviews",
    )
    assert response.status_code == 302
    with app.app_context():
        passing, _failing, _ = call_results(db.session.get(Call, review_call))
        assert [r.application.id for r in passing] == [mid, high]
        assert passing[0].mean == Decimal("70.00") and passing[0].consensus.score == Decimal("85.00")
    page = text(staff.get(f"/staff/calls/{review_call}/ranking"))
    assert page.index("IFM-LCS-2025-003") < page.index("IFM-LCS-2025-002")
    export = staff.get(f"/staff/calls/{review_call}/ranking?format=csv").get_data(as_text=True)
    lines = export.lstrip("\ufeff").splitlines()
    assert lines[1].startswith("1,IFM-LCS-2025-003,Bogotá") and "85.00" in lines[1]
    assert lines[3].startswith(",IFM-LCS-2025-001,Accra") and lines[3].split(",")[12] == "no"
    summary = staff.get(f"/staff/applications/{low}/reviews?format=csv").get_data(as_text=True)
    assert "IFM-LCS-2025-001" in summary and "40.00" in summary


def test_normalisation_puts_a_harsh_and_a_lenient_reviewer_side_by_side(app):
    from fundapp.reviews.scoring import Normalisation

    # Reviewer 1 gave x 40 and y 60; reviewer 2 gave x 70 and y 90: the panel's mean is 65 and its
    # spread √325 (18.03), each reviewer's z-scores are -1 and +1.
    normalisation = Normalisation({1: [40.0, 60.0], 2: [70.0, 90.0]})
    assert normalisation.rescaled(1, 40.0) == normalisation.rescaled(2, 70.0) < normalisation.rescaled(1, 60.0)
    assert normalisation.score_of("x", [(1, 4000), (2, 7000)]) == Decimal("46.97")
    assert normalisation.score_of("y", [(1, 6000), (2, 9000), (2, None)]) == Decimal("83.03")
    assert normalisation.score_of("z", [(1, None)]) is None  # no score to normalise
    # Fewer than two scores in the whole call: nothing to normalise against.
    assert Normalisation({1: [55.0]}).score_of("x", [(1, 5500)]) is None


def test_the_rank_order_is_score_then_criteria_in_order_then_earlier_submission():
    """in_rank_order (two stable sorts) against the order as the rules state it, one sort on negated
    figures, on a large set full of ties: equal scores, equal criterion means, unjudged criteria,
    a consensus, zero scores and equal submission instants."""
    import random
    from datetime import UTC, datetime, timedelta
    from types import SimpleNamespace

    from fundapp.reviews.scoring import in_rank_order

    rng = random.Random(2025)
    criteria = (11, 12, 13)
    results = []
    for n in range(2000):
        means = {c: Decimal(rng.choice([0, 250, 300, 450, 500])).scaleb(-2) for c in criteria if rng.random() < 0.85}
        mean = Decimal(rng.choice([0, 5000, 6250, 7000, 7000, 8125])).scaleb(-2)
        consensus = SimpleNamespace(score=Decimal("72.50")) if rng.random() < 0.05 else None
        submitted = datetime(2025, 3, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(40))
        application = SimpleNamespace(id=n + 1, first_submitted_at=submitted)
        results.append(SimpleNamespace(application=application, criterion_means=means, mean=mean, consensus=consensus))
    for result in results:
        result.ranking_score = result.consensus.score if result.consensus else result.mean
    rng.shuffle(results)

    def as_stated(r):
        return (
            -(r.ranking_score or Decimal(-1)),
            *(-(r.criterion_means.get(c, Decimal(-1))) for c in criteria),
            r.application.first_submitted_at,
            r.application.id,
        )

    ordered = in_rank_order(results, criteria)
    assert [r.application.id for r in ordered] == [r.application.id for r in sorted(results, key=as_stated)]
    assert ordered[0].ranking_score == Decimal("81.25") and ordered[-1].ranking_score == 0


def test_an_aggregate_from_scores_in_hundredths_is_the_decimal_mean_and_spread():
    """The ranking reads review scores as whole hundredths; its mean and spread are those of the
    Decimal scores, rounded half up (checked on many random panels, and on a tie at half)."""
    import random
    from decimal import ROUND_HALF_UP

    from fundapp.reviews.scoring import Rules, aggregate

    rules = Rules(thresholds=(), disagreement=Decimal(20), overall=Decimal(60), criterion_ids=())
    rng = random.Random(7)
    panels = [[rng.randint(0, 100_00) for _ in range(rng.randint(1, 5))] for _ in range(5000)]
    panels += [[7313, 7312], [6000, 6001, 6002, 6003], [0], [100_00, 0]]
    for hundredths in panels:
        scores = [Decimal(h).scaleb(-2) for h in hundredths]
        mean = (sum(scores, Decimal(0)) / len(scores)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        result = aggregate(None, rules, hundredths + [None], {})
        assert (result.mean, result.spread) == (mean, max(scores) - min(scores))
        assert str(result.mean) == str(mean) and result.passes == (mean >= 60)
    assert str(aggregate(None, rules, [7313, 7312], {}).mean) == "73.13"  # 73.125 rounds up


def test_criterion_means_are_rounded_half_up_from_their_sum_in_hundredths():
    from decimal import ROUND_HALF_UP

    from fundapp.reviews.scoring import mean_of_hundredths

    for total, count in [(1001, 2), (1000, 3), (1, 2), (0, 4), (1500, 3), (1249, 2), (99_999, 1), (20_001, 2)]:
        exact = (Decimal(total) / (100 * count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        assert mean_of_hundredths(total, count) == exact
        assert str(mean_of_hundredths(total, count)) == str(exact)
    assert str(mean_of_hundredths(1001, 2)) == "5.01"  # 5.005 rounds up


def test_others_scores_show_only_after_submitting_and_only_if_the_call_allows(app, review_call, make_client, staff):
    a, b_email = _pool(app, 2)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    first, second = _assign(app, application_id, a), _assign(app, application_id, b_email)
    _accept(app, first)
    _accept(app, second)
    _submit(app, first, [4, 4, 4, 4, 4])
    b = _login(make_client, b_email)
    assert "other-reviews" not in text(b.get(f"/reviews/{second}"))
    _submit(app, second, [3, 3, 3, 3, 3])
    page = text(b.get(f"/reviews/{second}"))
    assert 'id="other-reviews"' in page and "80.00" in page
    with app.app_context():
        f.edit_call(db.session.get(Call, review_call), reviewers_see_others=False)
    assert "other-reviews" not in text(b.get(f"/reviews/{second}"))


def test_staff_reopen_a_review_with_a_reason(app, review_call, make_client, staff):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    assignment_id = _assign(app, application_id, email)
    _accept(app, assignment_id)
    _submit(app, assignment_id, [4, 4, 4, 4, 4])
    page = text(
        staff.post(
            f"/staff/assignments/{assignment_id}/reopen",
            {"reason": ""},
            token_from=f"/staff/applications/{application_id}/reviews",
            follow_redirects=True,
        )
    )
    assert "Give the reason for reopening." in page
    staff.post(
        f"/staff/assignments/{assignment_id}/reopen",
        {"reason": "Score 1 contradicts the comment."},
        token_from=f"/staff/applications/{application_id}/reviews",
    )
    with app.app_context():
        assignment = db.session.get(Assignment, assignment_id)
        assert assignment.state == "reopened" and assignment.review.score is None
    assert _submit(app, assignment_id, [5, 5, 5, 5, 5]) == Decimal("100.00")


def test_progress_shows_assigned_declared_drafted_submitted_and_load(app, review_call, staff):
    jury = _pool(app, 3)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    a, b, _c = (_assign(app, application_id, e) for e in jury)
    _accept(app, a)
    _accept(app, b)
    _submit(app, a, [4, 4, 4, 4, 4])
    with app.app_context():
        assignment = db.session.get(Assignment, b)
        operations.save_review(
            assignment,
            actor=assignment.reviewer,
            scores={},
            comment_applicant="",
            comment_staff="",
            recommendation=None,
        )
    page = text(staff.get(f"/staff/calls/{review_call}/reviews"))
    for figure, value in [("assigned", 1), ("declared", 2), ("drafted", 1), ("submitted", 1), ("overdue", 0)]:
        assert f'data-figure="{figure}">{value}</dd>' in page, figure


def test_a_reminder_goes_only_to_unfinished_reviews(app, review_call, staff):
    from fundapp.core.models import JobRecord, OutboxMessage
    from fundapp.reviews.operations import remind

    jury = _pool(app, 2)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    a, b = (_assign(app, application_id, e) for e in jury)
    with app.app_context():
        jobs = db.session.scalars(sa.select(JobRecord).where(JobRecord.name == "reviews.remind")).all()
        due = db.session.get(Call, review_call).review_due_at
        assert len(jobs) == 2 and all(j.run_at == due - operations.REMIND_BEFORE for j in jobs)
    _accept(app, a)
    _submit(app, a, [4, 4, 4, 4, 4])
    with app.app_context():
        assert remind(a) == "nothing to remind"
        assert remind(b) == "reminded"
        reminders = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "review_reminder")
        ).all()
        assert [m.to_email for m in reminders] == [jury[1]]


def test_reviewers_cannot_reach_staff_pages_or_unassigned_applications(app, review_call, make_client, staff):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    reviewer = _login(make_client, email)
    assert reviewer.get(f"/applications/{application_id}").status_code == 404
    assert reviewer.get(f"/staff/calls/{review_call}/ranking").status_code == 403
    assert reviewer.get(f"/staff/applications/{application_id}/reviews").status_code == 403
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Review.id))) == 0


def test_a_reviewer_whose_role_is_removed_loses_access(app, review_call, make_client, staff):
    from fundapp.accounts import operations as accounts

    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    assignment_id = _assign(app, application_id, email)
    _accept(app, assignment_id)
    reviewer = _login(make_client, email)
    assert reviewer.get(f"/reviews/{assignment_id}").status_code == 200
    with app.app_context():
        user = user_by_email(email)
        accounts.set_roles(user, [], actor=user_by_email("staff@fund.example"))
    assert reviewer.get(f"/reviews/{assignment_id}").status_code == 404


def test_a_refused_consensus_says_why_beside_the_score_and_keeps_what_was_typed(app, review_call, staff):
    mid = _scored(app, review_call, "Bogotá", [[3.5, 3.5, 3.5, 3.5, 3.5]])
    note = "Le jury s’accorde: proyecto muy sólido, à suivre."
    for score, why in (("150", "The consensus score is a number from 0 to 100."), ("", "Give the score.")):
        response = staff.post(
            f"/staff/applications/{mid}/consensus",
            {"score": score, "note": note},
            token_from=f"/staff/applications/{mid}/reviews",
        )
        assert response.status_code == 400
        page = text(response)
        assert why in page and "what you entered is kept" in page
        assert f'value="{score}"' in page and "Le jury s’accorde: proyecto muy sólido, à suivre.</textarea>" in page
        with app.app_context():
            assert db.session.get(PanelConsensus, mid) is None


def test_no_consensus_is_recorded_before_a_review_is_in(app, review_call, staff):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
    _assign(app, application_id, email)
    response = staff.post(
        f"/staff/applications/{application_id}/consensus",
        {"score": "85", "note": "Acuerdo del panel en la reunión de Barcelona."},
        token_from=f"/staff/applications/{application_id}/reviews",
    )
    assert response.status_code == 400
    page = text(response)
    assert "No review of this application is in yet" in page
    assert "Acuerdo del panel en la reunión de Barcelona.</textarea>" in page
    with app.app_context():
        assert db.session.get(PanelConsensus, application_id) is None


def test_a_reviewer_reading_french_is_told_which_criterion_is_off_and_reads_back_their_comments(
    app, review_call, make_client, staff
):
    (email,) = _pool(app, 1)
    with app.app_context():
        application_id = eligible(review_call, "Accra")
        criteria = db.session.get(Call, review_call).criteria
        ids, names = [c.id for c in criteria], [c.name_in("fr") for c in criteria]
    assignment_id = _assign(app, application_id, email)
    _accept(app, assignment_id)
    reviewer = _login(make_client, email)
    reviewer.post("/language", {"language": "fr"}, token_from="/")
    data = {f"score_{cid}": "3" for cid in ids}
    data.update({f"score_{ids[0]}": "2.3", f"score_{ids[1]}": "9", "recommendation": "fund", "save_draft": "1"})
    data[f"comment_{ids[1]}"] = "Cuatro barrios piloto, bien elegidos."
    page = text(reviewer.post(f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}"))
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    # A draft: the valid marks are kept, the two listed are not (nothing says "submitted").
    assert "Brouillon enregistré, sauf ce qui est indiqué ici." in summary and "soumis" not in summary.lower()
    assert summary.index(names[0]) < summary.index(names[1])  # in the form's order
    with app.app_context():
        entries = {s.criterion_id: s for s in db.session.get(Assignment, assignment_id).review.scores}
        assert {cid: e.score for cid, e in entries.items() if e.score is not None} == {
            cid: Decimal("3") for cid in ids[2:]
        }
        # The refused marks are not kept; the comment typed beside one of them is.
        assert entries[ids[1]].score is None and entries[ids[1]].comment == "Cuatro barrios piloto, bien elegidos."
    # A mark and "cannot judge" on the same criterion: which one was meant is the reviewer's to say.
    both = dict(data, **{f"cannot_judge_{ids[2]}": "y"})
    page = text(reviewer.post(f"/reviews/{assignment_id}/review", both, token_from=f"/reviews/{assignment_id}"))
    assert f"{names[2]}\u00a0: Donnez une note ou cochez « ne peut pas juger », pas les deux." in page
    with app.app_context():
        entry = next(s for s in db.session.get(Assignment, assignment_id).review.scores if s.criterion_id == ids[2])
        assert (entry.score, entry.cannot_judge) == (Decimal("3"), False)
    assert f"{names[0]}\u00a0: Les notes de ce critère progressent par pas de 0,5." in summary
    assert f"{names[1]}\u00a0: Les notes de ce critère vont de 0 à 5." in summary

    data.update(
        {f"score_{ids[0]}": "2.5", f"score_{ids[1]}": "4", f"comment_{ids[0]}": "Diagnóstico sólido, 12 barrios."}
    )
    data.update(
        {"comment_applicant": "Plan clair — à suivre.", "comment_staff": "Budget prudent.", "submit_review": "1"}
    )
    del data["save_draft"]
    assert (
        reviewer.post(f"/reviews/{assignment_id}/review", data, token_from=f"/reviews/{assignment_id}").status_code
        == 302
    )
    page = text(reviewer.get(f"/reviews/{assignment_id}"))
    for said in ("Diagnóstico sólido, 12 barrios.", "Plan clair — à suivre.", "Budget prudent."):
        assert said in page, said
