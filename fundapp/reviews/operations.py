"""Every change to the panel: assignments, declarations, reviews, reopening, the consensus."""

from datetime import timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..accounts.models import RoleGrant, User
from ..applications.models import APPLICATION_WORKFLOW, Application
from ..core import audit
from ..core.errors import Refused
from ..core.jobs import enqueue, job
from ..core.mail import queue_mail
from ..core.states import TransitionError
from ..core.timeutil import utcnow
from ..core.transactions import done
from ..core.urls import external_url
from ..extensions import db
from .assignment import propose
from .models import ASSIGNMENT_WORKFLOW, RECOMMENDATIONS, Assignment, CriterionScore, PanelConsensus, Review
from .scoring import check_score, conflict_reasons, review_score

REMIND_BEFORE = timedelta(days=3)


def _apply(workflow, obj, action, actor, **kwargs):
    try:
        return workflow.apply(obj, action, actor, **kwargs)
    except TransitionError as error:
        raise Refused(str(error), field="reason") from None


def reviewer_pool():
    """Active users holding the reviewer role, with their profiles."""
    return (
        db.session.scalars(
            sa.select(User).join(RoleGrant).where(RoleGrant.role == "reviewer", User.active.is_(True)).order_by(User.id)
        )
        .unique()
        .all()
    )


def counted_panels(application_ids):
    """{application id: [reviewer ids]} of the assignments that count towards the panel."""
    rows = db.session.execute(
        sa.select(Assignment.application_id, Assignment.reviewer_id).where(
            Assignment.application_id.in_(application_ids or [-1]),
            Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("counts")),
        )
    ).all()
    panels = {}
    for application_id, reviewer_id in rows:
        panels.setdefault(application_id, []).append(reviewer_id)
    return panels


def reviewable_applications(call):
    return db.session.scalars(
        sa.select(Application)
        .where(Application.call_id == call.id, Application.state.in_(APPLICATION_WORKFLOW.states_with("reviewable")))
        .order_by(Application.number)
    ).all()


def _check_pair(application, reviewer, panels):
    call = application.call
    if not APPLICATION_WORKFLOW.has(application.state, "reviewable"):
        raise Refused(_l("Only applications that passed screening are reviewed."))
    if reviewer is None or not reviewer.active or not reviewer.has_role("reviewer"):
        raise Refused(_l("Choose an active reviewer."), field="reviewer")
    reasons = conflict_reasons(reviewer.reviewer_profile, application, call.conflict_same_country)
    if reasons:
        raise Refused(reasons[0], field="reviewer")
    existing = db.session.scalar(
        sa.select(Assignment).where(Assignment.application_id == application.id, Assignment.reviewer_id == reviewer.id)
    )
    if existing is not None:
        raise Refused(
            _l(
                "%(name)s is already on this application's panel (%(state)s).",
                name=reviewer.name,
                state=existing.staff_label,
            ),
            field="reviewer",
        )
    if len(panels.get(application.id, [])) >= call.reviewers_per_application:
        raise Refused(_l("The panel already has %(n)d reviewers.", n=call.reviewers_per_application), field="reviewer")


def _create(application, reviewer, actor):
    due = application.call.review_due_at
    assignment = Assignment(
        application=application,
        reviewer=reviewer,
        assigned_by_id=actor.id,
        due_at=due,
        state=ASSIGNMENT_WORKFLOW.initial,
    )
    db.session.add(assignment)
    db.session.flush()
    audit.record(
        "assignment.create",
        assignment,
        after={"application": application.reference, "reviewer": reviewer.email},
        actor=actor,
        summary=f"{reviewer.email} assigned to {application.reference}",
    )
    if due is not None and due - REMIND_BEFORE > utcnow():
        enqueue(
            "reviews.remind",
            assignment_id=assignment.id,
            run_at=due - REMIND_BEFORE,
            dedupe_key=f"review-reminder:{assignment.id}",
        )
    return assignment


def _notify_assigned(reviewer, assignments):
    call = assignments[0].application.call
    queue_mail(
        reviewer.email,
        "review_assigned",
        language=reviewer.language,
        reader_timezone=reviewer.timezone,
        to_name=reviewer.name,
        references=[a.application.reference for a in assignments],
        call_title=call.title_in(reviewer.language),
        due_at=call.review_due_at,
        timezone=call.timezone,
        link=external_url("reviews.index"),
    )


def assign(application, reviewer, *, actor):
    """Staff put one reviewer on one application's panel."""
    _check_pair(application, reviewer, counted_panels([application.id]))
    assignment = _create(application, reviewer, actor)
    _notify_assigned(reviewer, [assignment])
    done()
    return assignment


def proposal_for(call):
    applications = reviewable_applications(call)
    return propose(call, applications, reviewer_pool(), counted_panels([a.id for a in applications]))


def confirm_proposal(call, pairs, *, actor):
    """Create the proposed assignments [(application id, reviewer id)], all or none."""
    proposal = proposal_for(call)
    if not proposal.complete:
        application, missing, available = proposal.shortfalls[0]
        raise Refused(
            _l(
                "%(reference)s cannot get %(n)d more reviewers: only %(available)d reviewers of the pool "
                "have no conflict with it. Nothing was assigned.",
                reference=application.reference,
                n=missing,
                available=available,
            )
        )
    expected = {(a.id, r.id) for a, r in proposal.pairs}
    if set(pairs) != expected:
        raise Refused(
            _l(
                "The applications or the pool changed since the proposal was made: review the new "
                "proposal. Nothing was assigned."
            )
        )
    panels = counted_panels([a.id for a, _r in proposal.pairs])
    created = {}
    for application, reviewer in proposal.pairs:
        _check_pair(application, reviewer, panels)
        created.setdefault(reviewer, []).append(_create(application, reviewer, actor))
        panels.setdefault(application.id, []).append(reviewer.id)
    for reviewer, assignments in created.items():
        _notify_assigned(reviewer, assignments)
    audit.record(
        "call.assign_reviewers",
        call,
        after={"assignments": len(proposal.pairs)},
        actor=actor,
        summary=f"{len(proposal.pairs)} assignments made for {call.code}",
    )
    done()
    return len(proposal.pairs)


def declare(assignment, action, *, actor, reason=None):
    """The reviewer's declaration: no conflict (then sees the application), a conflict, or declines."""
    if assignment.reviewer_id != actor.id or action not in ("accept", "declare_conflict", "decline"):
        raise Refused(_l("This is not your assignment."))
    application = assignment.application
    if action == "accept":
        reasons = conflict_reasons(actor.reviewer_profile, application, application.call.conflict_same_country)
        if reasons:
            raise Refused(reasons[0])
    _apply(ASSIGNMENT_WORKFLOW, assignment, action, actor, reason=reason)
    assignment.declared_at = utcnow()
    assignment.declaration_reason = (reason or "").strip() or None
    if action == "accept" and APPLICATION_WORKFLOW.can(application.state, "start_review", {"system"}):
        _apply(APPLICATION_WORKFLOW, application, "start_review", None, summary=f"{application}: review started")
    done()


def _review_of(assignment):
    if assignment.review is None:
        assignment.review = Review()
    return assignment.review


def save_review(assignment, *, actor, scores, comment_applicant, comment_staff, recommendation, submit=False):
    """scores: {criterion id: (Decimal or None, cannot judge, comment)}. Returns {field: message}.

    A draft keeps every valid entry; submitting needs every criterion scored or marked "cannot
    judge", at least one judged, and a recommendation, and then locks the review.
    """
    if assignment.reviewer_id != actor.id:
        raise Refused(_l("This is not your assignment."))
    if not assignment.is_scoring:
        raise Refused(_l("This review cannot be changed now."))
    criteria = assignment.application.call.criteria
    review = _review_of(assignment)
    existing = {s.criterion_id: s for s in review.scores}
    errors = {}
    for criterion in criteria:
        value, cannot_judge, comment = scores.get(criterion.id, (None, False, ""))
        if value is not None and not cannot_judge:
            problem = check_score(criterion, value)
            if problem:
                errors[f"score_{criterion.id}"] = str(problem)
                continue
        entry = existing.get(criterion.id)
        if entry is None:
            entry = CriterionScore(criterion_id=criterion.id, criterion=criterion)
            review.scores.append(entry)
        entry.score = None if cannot_judge else value
        entry.cannot_judge = bool(cannot_judge)
        entry.comment = (comment or "").strip()
    if recommendation and recommendation not in RECOMMENDATIONS:
        errors["recommendation"] = str(_l("Choose a recommendation."))
    else:
        review.recommendation = recommendation or None
    review.comment_applicant = (comment_applicant or "").strip()
    review.comment_staff = (comment_staff or "").strip()
    review.updated_at = utcnow()
    if submit:
        if errors:
            db.session.rollback()
            return errors
        by_criterion = {s.criterion_id: s for s in review.scores}
        for criterion in criteria:
            entry = by_criterion.get(criterion.id)
            if entry is None or (entry.score is None and not entry.cannot_judge):
                errors[f"score_{criterion.id}"] = str(_l("Score this criterion or mark it “cannot judge”."))
        if not review.recommendation:
            errors["recommendation"] = str(_l("Choose a recommendation."))
        pairs = [(c, by_criterion[c.id].score) for c in criteria if c.id in by_criterion]
        score = review_score(pairs)
        if not errors and score is None:
            errors["scores"] = str(_l("Judge at least one criterion."))
        if errors:
            db.session.rollback()
            return errors
        review.score = score
        review.submitted_at = utcnow()
        _apply(ASSIGNMENT_WORKFLOW, assignment, "submit", actor)
        _complete_if_all_in(assignment.application)
    audit.record(
        "review.save" if not submit else "review.submit",
        review,
        object_id=assignment.id,
        after={"score": review.score},
        actor=actor,
    )
    done()
    return errors


def _complete_if_all_in(application):
    """Complete the application's review when this was the last one in. Two last reviews submitted
    at once take turns on the application's row lock: the second sees the first (committed) and
    completes the application, exactly once, instead of each seeing the other as missing."""
    db.session.execute(
        sa.select(Application)
        .where(Application.id == application.id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    ).scalar_one()
    counted = [
        a
        for a in db.session.scalars(
            sa.select(Assignment)
            .where(Assignment.application_id == application.id)
            .execution_options(populate_existing=True)
        )
        if ASSIGNMENT_WORKFLOW.has(a.state, "counts")
    ]
    enough = len(counted) >= application.call.reviewers_per_application
    if (
        enough
        and all(a.is_done for a in counted)
        and APPLICATION_WORKFLOW.can(application.state, "complete_review", {"system"})
    ):
        _apply(APPLICATION_WORKFLOW, application, "complete_review", None, summary=f"{application}: all reviews in")


def reopen(assignment, *, actor, reason):
    """Staff reopen a submitted review (the reviewer can change and submit it again)."""
    application = assignment.application
    if APPLICATION_WORKFLOW.has(application.state, "decided"):
        raise Refused(
            _l(
                "%(reference)s is decided (“%(state)s”): revise the decision before reopening a review.",
                reference=application.reference,
                state=application.staff_label,
            ),
            field="reason",
        )
    _apply(ASSIGNMENT_WORKFLOW, assignment, "reopen", actor, reason=reason)
    assignment.review.submitted_at = None
    assignment.review.score = None
    if APPLICATION_WORKFLOW.can(application.state, "reopen_review", {"staff"}):
        _apply(APPLICATION_WORKFLOW, application, "reopen_review", actor, reason=reason)
    done()


def record_consensus(application, *, actor, score, note):
    if score is None or not (0 <= score <= 100):
        raise Refused(_l("The consensus score is a number from 0 to 100."), field="score")
    consensus = db.session.get(PanelConsensus, application.id) or PanelConsensus(application_id=application.id)
    before = {"score": consensus.score, "note": consensus.note}
    consensus.score, consensus.note = score, (note or "").strip()
    consensus.recorded_by_id, consensus.recorded_at = actor.id, utcnow()
    db.session.add(consensus)
    audit.record(
        "application.consensus", application, before=before, after={"score": score, "note": consensus.note}, actor=actor
    )
    done()


@job("reviews.remind", label=_l("Remind reviewers of the reviews due"))
def remind(assignment_id):
    """A reminder before the due date, only if the review is still not in."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or not ASSIGNMENT_WORKFLOW.has(assignment.state, "open"):
        return "nothing to remind"
    reviewer, call = assignment.reviewer, assignment.application.call
    queue_mail(
        reviewer.email,
        "review_reminder",
        language=reviewer.language,
        reader_timezone=reviewer.timezone,
        to_name=reviewer.name,
        dedupe_key=f"review-reminder:{assignment.id}",
        reference=assignment.application.reference,
        due_at=assignment.due_at,
        timezone=call.timezone,
        link=external_url("reviews.detail", assignment_id=assignment.id),
    )
    done()
    return "reminded"
