"""Every change to the panel: assignments, declarations, reviews, reopening, the consensus."""

from datetime import timedelta

import sqlalchemy as sa

from ..accounts import operations as accounts
from ..accounts.models import GENDERS, RoleGrant, User
from ..applications.models import APPLICATION_WORKFLOW, Application
from ..calls.models import LANGUAGES
from ..core import audit
from ..core.addresses import check_email_address
from ..core.catalogue import lazy_gettext as _l
from ..core.catalogue import lazy_ngettext
from ..core.documents import make_document, slug
from ..core.errors import Refused
from ..core.i18n import lazy_day, valid_country
from ..core.jobs import enqueue, job
from ..core.mail import queue_mail
from ..core.states import TransitionError
from ..core.timeutil import utcnow
from ..core.transactions import boundary, done
from ..core.urls import external_url
from ..extensions import db
from ..members.models import REGIONS
from .assignment import propose
from .jury import balance, call_loads, fund_today, juror_of, jurors_of, jury_of
from .models import (
    ASSIGNMENT_WORKFLOW,
    RECOMMENDATIONS,
    Assignment,
    CriterionScore,
    ExpertOffer,
    Juror,
    Jury,
    PanelConsensus,
    Review,
)
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


def past_panels(application_ids):
    """{application id: {reviewer id: state}} of the assignments that no longer count towards the
    panel (a declared conflict, a declined review, a reviewer taken off): none of them is asked again."""
    rows = db.session.execute(
        sa.select(Assignment.application_id, Assignment.reviewer_id, Assignment.state).where(
            Assignment.application_id.in_(application_ids or [-1]),
            Assignment.state.not_in(ASSIGNMENT_WORKFLOW.states_with("counts")),
        )
    ).all()
    past = {}
    for application_id, reviewer_id, state in rows:
        past.setdefault(application_id, {})[reviewer_id] = state
    return past


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
    juror = juror_of(call, reviewer)
    if juror is None:
        raise Refused(
            _l(
                "%(name)s is not on the jury of %(call)s: put them on the call's jury first.",
                name=reviewer.name,
                call=call.code,
            ),
            field="reviewer",
        )
    if juror.unavailable_on(fund_today()):
        raise Refused(
            _l(
                "%(name)s is unavailable from %(start)s to %(end)s.",
                name=reviewer.name,
                start=lazy_day(juror.unavailable_from),
                end=lazy_day(juror.unavailable_until),
            ),
            field="reviewer",
        )
    load = call_loads(call)[reviewer.id]
    if load >= juror.max_load:
        raise Refused(
            _l(
                "%(name)s is at their maximum load in this call: applications to review, %(n)d.",
                name=reviewer.name,
                n=load,
            ),
            field="reviewer",
        )
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
        call_id=application.call_id,
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


def proposal_for(call, applications=None):
    """The balanced proposal for the applications still short of a panel, drawn from the call's jury
    only: jurors unavailable today or at their maximum load are not proposed. `applications`: only
    these (staff's selection on the list of applications), else every reviewable one of the call."""
    applications = reviewable_applications(call) if applications is None else list(applications)
    jurors = [j for j in jurors_of(call) if j.reviewer.active and j.reviewer.has_role("reviewer")]
    today = fund_today()
    return propose(
        call,
        applications,
        [j.reviewer for j in jurors],
        counted_panels([a.id for a in applications]),
        max_load={j.reviewer_id: j.max_load for j in jurors},
        unavailable={j.reviewer_id for j in jurors if j.unavailable_on(today)},
        load=call_loads(call),
        past=past_panels([a.id for a in applications]),
    )


def shortfall_text(shortfall):
    """Why an application cannot get its panel: how many reviewers it lacks, and what stops the others."""
    return _l(
        "%(reference)s: reviewers missing: %(n)d. Of the %(jury)d on the jury: proposed for it, %(proposed)d; "
        "already on its panel, %(on_panel)d; in conflict with it, %(conflicts)d; declined it or taken off "
        "its panel, %(off)d; unavailable today, %(unavailable)d; at their maximum load, %(full)d.",
        reference=shortfall.application.reference,
        n=shortfall.missing,
        jury=shortfall.jury,
        conflicts=shortfall.conflicts,
        unavailable=shortfall.unavailable,
        full=shortfall.full,
        on_panel=shortfall.on_panel,
        proposed=shortfall.proposed,
        off=shortfall.off,
    )


def confirm_proposal(call, pairs, *, actor, applications=None):
    """Create the proposed assignments [(application id, reviewer id)], all or none (`applications`:
    the proposal for only these, as proposal_for)."""
    proposal = proposal_for(call, applications)
    if not proposal.complete:
        raise Refused(
            _l(
                "%(why)s Applications short of reviewers: %(count)d. Nothing was assigned.",
                why=shortfall_text(proposal.shortfalls[0]),
                count=len(proposal.shortfalls),
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


def assign_selected(call, applications, *, actor):
    """The automatic assignment for the applications staff selected on the list, in one transaction:
    each gets its full panel, or none does (the refusal names the application it stopped at).
    Returns the number of assignments made."""
    if not applications:
        raise Refused(_l("Tick the applications to act on."), field="application")
    with boundary():  # one transaction, also when called outside a request
        panels = counted_panels([a.id for a in applications])
        for application in applications:
            if application.call_id != call.id:
                raise Refused(
                    _l(
                        "%(reference)s is not an application of this call. Nothing was assigned.",
                        reference=application.reference,
                    )
                )
            if not APPLICATION_WORKFLOW.has(application.state, "reviewable"):
                raise Refused(
                    _l(
                        "%(reference)s is “%(state)s”: only applications that passed screening are reviewed. "
                        "Nothing was assigned.",
                        reference=application.reference,
                        state=application.staff_label,
                    )
                )
            if len(panels.get(application.id, [])) >= call.reviewers_per_application:
                raise Refused(
                    _l(
                        "%(reference)s already has its %(n)d reviewers. Nothing was assigned.",
                        reference=application.reference,
                        n=call.reviewers_per_application,
                    )
                )
        # The existing choice, for these applications only; confirmed as proposed, all or none.
        proposal = proposal_for(call, applications)
        count = confirm_proposal(
            call, {(a.id, r.id) for a, r in proposal.pairs}, actor=actor, applications=applications
        )
        done()
    return count


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


def save_review(
    assignment, *, actor, scores, comment_applicant, comment_staff, recommendation, submit=False, marks_unread=()
):
    """scores: {criterion id: (Decimal or None, cannot judge, comment)}. Returns {field: message}.

    A draft keeps every valid entry; submitting needs every criterion scored or marked "cannot
    judge", at least one judged, and a recommendation, and then locks the review. A refused
    submission is kept as a draft (every valid entry), so nothing typed is lost: a refused mark
    (or one the page could not read: the criteria in `marks_unread`) stays as it was, its comment
    is saved.
    """
    if assignment.reviewer_id != actor.id:
        raise Refused(_l("This is not your assignment."))
    if not assignment.is_scoring:
        if assignment.is_done:  # submitted meanwhile, from another window or device
            raise Refused(
                _l("This review is already submitted (perhaps from another window): it can no longer be changed.")
            )
        raise Refused(_l("This review cannot be changed now."))
    criteria = assignment.application.call.criteria
    review = _review_of(assignment)
    existing = {s.criterion_id: s for s in review.scores}
    errors = {}
    for criterion in criteria:
        value, cannot_judge, comment = scores.get(criterion.id, (None, False, ""))
        problem = None
        typed_mark = value is not None or criterion.id in marks_unread
        if typed_mark and cannot_judge:
            # Which one was meant is the reviewer's to say: neither is kept over the other.
            problem = _l("Give a score or mark it “cannot judge”, not both.")
        elif criterion.id in marks_unread:
            problem = _l("Enter a number, such as 3.5.")
        elif value is not None:
            problem = check_score(criterion, value)
        if problem:
            errors[f"score_{criterion.id}"] = str(problem)
        entry = existing.get(criterion.id)
        if entry is None:
            entry = CriterionScore(criterion_id=criterion.id, criterion=criterion, score=None, cannot_judge=False)
            review.scores.append(entry)
        if not problem:
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
    submitted = False
    if submit and not errors:
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
        if not errors:
            review.score = score
            review.submitted_at = utcnow()
            # Counted in SQL once the review is stored: two tabs submitting at once count twice.
            review.submissions = Review.submissions + 1 if sa.inspect(review).persistent else 1
            _apply(ASSIGNMENT_WORKFLOW, assignment, "submit", actor)
            _complete_if_all_in(assignment.application)
            submitted = True
    audit.record(
        "review.submit" if submitted else "review.save",
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


def remove_from_panel(assignment, *, actor, reason):
    """Staff take a reviewer off an application's panel before they have declared (a wrong
    assignment, or to take them off the jury); once they have read it, their review stands."""
    _apply(ASSIGNMENT_WORKFLOW, assignment, "unassign", actor, reason=reason)
    assignment.removed_reason = reason.strip()
    reviewer = assignment.reviewer
    # They were told the application was theirs to review: they are told it no longer is.
    queue_mail(
        reviewer.email,
        "review_removed",
        language=reviewer.language,
        reader_timezone=reviewer.timezone,
        to_name=reviewer.name,
        dedupe_key=f"review-removed:{assignment.id}",
        reference=assignment.application.reference,
        link=external_url("reviews.index"),
    )
    done()


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
    """The score the panel agrees on after reading its reviews (shown beside their mean)."""
    if score is None or not (0 <= score <= 100):
        raise Refused(_l("The consensus score is a number from 0 to 100."), field="score")
    reviews_in = db.session.scalar(
        sa.select(sa.func.count(Review.id))
        .join(Assignment, Assignment.id == Review.assignment_id)
        .where(Assignment.application_id == application.id, Review.submitted_at.is_not(None))
    )
    if not reviews_in:
        raise Refused(
            _l("No review of this application is in yet: the panel agrees on a score once it has read them."),
            field="score",
        )
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


# -- experts' offers to review ------------------------------------------------------------------

OFFER_FIELDS = ["name", "email", "gender", "country", "region", "languages", "affiliation", "state"]


def offer_to_review(*, name, email, gender, country, region, languages, expertise, affiliation, cv, language="en"):
    """An expert offers to review, from the public page; `cv`: (filename, bytes) of a PDF.

    One offer per e-mail address: a second one is refused, saying only that the offer is already
    with the programme team."""
    email = accounts.normalize_email(email)
    check_email_address(email, deliverable=False)
    name, expertise, affiliation = (name or "").strip(), (expertise or "").strip(), (affiliation or "").strip()
    if not name:
        raise Refused(_l("Give your name."), field="name")
    if gender not in GENDERS:
        raise Refused(_l("Choose one of the answers."), field="gender")
    country = (country or "").strip().upper()
    if not valid_country(country):
        raise Refused(_l("Choose your country."), field="country")
    if region not in REGIONS:
        raise Refused(_l("Choose your region."), field="region")
    chosen = [code for code in LANGUAGES if code in set(languages or ())]
    if not chosen:
        raise Refused(_l("Choose at least one language you review in."), field="languages")
    if not expertise:
        raise Refused(_l("Describe your expertise."), field="expertise")
    filename, data = cv
    if not (filename or "").lower().endswith(".pdf"):
        raise Refused(_l("Upload your CV as a PDF."), field="cv")
    if db.session.scalar(sa.select(ExpertOffer.id).where(ExpertOffer.email == email)) is not None:
        raise Refused(
            _l("Your offer is already with the programme team: they will write to you. Thank you."), field="email"
        )
    try:
        document = make_document(filename=filename, data=data, stored_name=f"cv-{slug(name)}")
    except Refused as refusal:
        raise Refused(refusal.message, field="cv") from None
    offer = ExpertOffer(
        name=name,
        email=email,
        language=language if language in LANGUAGES else "en",
        gender=gender,
        country=country,
        region=region,
        languages=",".join(chosen),
        expertise=expertise,
        affiliation=affiliation,
        cv=document,
        state="new",
    )
    db.session.add(offer)
    db.session.flush()
    audit.record(
        "expert_offer.create", offer, after=audit.snapshot(offer, OFFER_FIELDS), summary=f"{email} offered to review"
    )
    queue_mail(email, "expert_offer_received", language=offer.language, to_name=offer.name)
    done()
    return offer


def _undecided(offer):
    if not offer.is_new:
        raise Refused(_l("This offer was already answered (%(state)s).", state=offer.state_label), field="reason")


def accept_offer(offer, *, actor):
    """Staff accept an offer: the expert is invited to become a reviewer; once they accept the
    invitation, their reviewer profile is what they offered (fill_profile_from_offer)."""
    _undecided(offer)
    invitation, _token = accounts.invite(
        actor=actor, email=offer.email, name=offer.name, role="reviewer", language=offer.language
    )
    offer.state, offer.decided_at, offer.decided_by_id = "accepted", utcnow(), actor.id
    audit.record(
        "expert_offer.accept",
        offer,
        after={"state": "accepted", "invitation": invitation.id},
        actor=actor,
        summary=f"offer of {offer.email} accepted: invited as reviewer",
    )
    done()
    return invitation


def decline_offer(offer, *, actor, reason):
    """Staff decline an offer with a reason (kept); the expert is told politely."""
    _undecided(offer)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Give the reason."), field="reason")
    offer.state, offer.decline_reason = "declined", reason
    offer.decided_at, offer.decided_by_id = utcnow(), actor.id
    audit.record(
        "expert_offer.decline",
        offer,
        after={"state": "declined", "reason": reason},
        actor=actor,
        summary=f"offer of {offer.email} declined",
    )
    queue_mail(offer.email, "expert_offer_declined", language=offer.language, to_name=offer.name)
    done()
    return offer


@accounts.invitation_accepted.connect
def fill_profile_from_offer(invitation, user=None, **_kwargs):
    """A reviewer who offered to review gets the profile they offered, when they accept the invitation."""
    if invitation.role != "reviewer" or user is None:
        return
    offer = db.session.scalar(
        sa.select(ExpertOffer).where(
            ExpertOffer.email == invitation.email, ExpertOffer.state == "accepted", ExpertOffer.user_id.is_(None)
        )
    )
    if offer is None or user.reviewer_profile is None:
        return
    profile = user.reviewer_profile
    before = audit.snapshot(profile)
    profile.gender, profile.region, profile.country = offer.gender, offer.region, offer.country
    profile.languages, profile.expertise, profile.affiliation = offer.languages, offer.expertise, offer.affiliation
    offer.user_id = user.id
    audit.record(
        "reviewer_profile.from_offer",
        profile,
        object_id=user.id,
        before=before,
        after=audit.snapshot(profile),
        actor=user,
        summary=f"profile of {user.email} filled from the offer of {offer.created_at:%Y-%m-%d}",
    )


# -- a jury per call --------------------------------------------------------------------------

JUROR_FIELDS = ["reviewer_id", "max_load", "unavailable_from", "unavailable_until"]
DEFAULT_MAX_LOAD = 10


def _check_juror_terms(max_load, unavailable_from, unavailable_until):
    if max_load is None or max_load < 1:
        raise Refused(_l("The maximum load is at least one application."), field="max_load")
    if (unavailable_from is None) != (unavailable_until is None):
        raise Refused(_l("Give both days of the unavailability, or neither."), field="unavailable_until")
    if unavailable_from is not None and unavailable_from > unavailable_until:
        raise Refused(_l("The unavailability ends after it starts."), field="unavailable_until")


def _jury_changed(call):
    """A change to the jury undoes its confirmation: staff confirm the new composition."""
    jury = db.session.get(Jury, call.id)
    if jury is not None and jury.confirmed_at is not None:
        jury.confirmed_at = jury.confirmed_by_id = jury.confirm_reason = None


def add_juror(call, reviewer, *, actor, max_load=DEFAULT_MAX_LOAD, unavailable_from=None, unavailable_until=None):
    """Staff put a reviewer of the pool on the call's jury."""
    if reviewer is None or not reviewer.active or not reviewer.has_role("reviewer"):
        raise Refused(_l("Choose an active reviewer of the pool."), field="reviewer")
    if juror_of(call, reviewer) is not None:
        raise Refused(_l("%(name)s is already on the jury.", name=reviewer.name), field="reviewer")
    _check_juror_terms(max_load, unavailable_from, unavailable_until)
    juror = Juror(
        call_id=call.id,
        reviewer=reviewer,
        max_load=max_load,
        unavailable_from=unavailable_from,
        unavailable_until=unavailable_until,
        added_by_id=actor.id if actor else None,
    )
    db.session.add(juror)
    _jury_changed(call)
    db.session.flush()
    audit.record(
        "jury.add",
        call,
        after=audit.snapshot(juror, JUROR_FIELDS),
        actor=actor,
        summary=f"{reviewer.email} added to the jury of {call.code}",
    )
    done()
    return juror


def update_juror(juror, *, actor, max_load, unavailable_from=None, unavailable_until=None):
    _check_juror_terms(max_load, unavailable_from, unavailable_until)
    load = call_loads(juror.call)[juror.reviewer_id]
    if max_load < load:
        raise Refused(
            lazy_ngettext(
                "%(name)s already reviews %(num)d application of this call: the maximum load cannot be "
                "below that (take them off a panel first).",
                "%(name)s already reviews %(num)d applications of this call: the maximum load cannot be "
                "below that (take them off panels first).",
                load,
                name=juror.reviewer.name,
            ),
            field="max_load",
        )
    before = audit.snapshot(juror, JUROR_FIELDS)
    juror.max_load, juror.unavailable_from, juror.unavailable_until = max_load, unavailable_from, unavailable_until
    audit.record(
        "jury.update",
        object_type="juror",
        object_id=juror.id,
        before=before,
        after=audit.snapshot(juror, JUROR_FIELDS),
        actor=actor,
        summary=f"{juror.reviewer.email}: load and availability",
    )
    done()


def remove_juror(juror, *, actor):
    """Staff take a reviewer off the jury; not while they review applications of the call."""
    call = juror.call
    load = call_loads(call)[juror.reviewer_id]
    if load:
        raise Refused(
            lazy_ngettext(
                "%(name)s is on the panel of %(num)d application of this call: remove them from it first "
                "(on the application's reviews page).",
                "%(name)s is on the panels of %(num)d applications of this call: remove them from those "
                "panels first (on each application's reviews page).",
                load,
                name=juror.reviewer.name,
            )
        )
    before = audit.snapshot(juror, JUROR_FIELDS)
    email = juror.reviewer.email
    db.session.delete(juror)
    _jury_changed(call)
    audit.record(
        "jury.remove", call, before=before, actor=actor, summary=f"{email} removed from the jury of {call.code}"
    )
    done()


def set_jury_rule(call, *, actor, min_women_percent, min_men_percent, min_regions):
    """Staff change the balance rule of the call's jury."""
    for field, value, top in (
        ("min_women_percent", min_women_percent, 100),
        ("min_men_percent", min_men_percent, 100),
        ("min_regions", min_regions, len(REGIONS)),
    ):
        if value is None or not 0 <= value <= top:
            raise Refused(_l("Give a whole number from 0 to %(top)d.", top=top), field=field)
    if min_women_percent + min_men_percent > 100:
        raise Refused(_l("The shares of women and men cannot add up to more than 100%."), field="min_men_percent")
    jury = db.session.get(Jury, call.id)
    if jury is None:
        jury = jury_of(call)
        db.session.add(jury)
    before = {k: getattr(jury, k) for k in ("min_women_percent", "min_men_percent", "min_regions")}
    jury.min_women_percent, jury.min_men_percent, jury.min_regions = min_women_percent, min_men_percent, min_regions
    _jury_changed(call)
    audit.record(
        "jury.rule",
        call,
        before=before,
        after={"min_women_percent": min_women_percent, "min_men_percent": min_men_percent, "min_regions": min_regions},
        actor=actor,
        summary=f"balance rule of the jury of {call.code}",
    )
    done()
    return jury


def confirm_jury(call, *, actor, reason=None):
    """Staff confirm the jury; one that does not meet its balance rule needs a written reason."""
    jurors = jurors_of(call)
    if not jurors:
        raise Refused(_l("Put reviewers on the jury before confirming it."))
    jury = db.session.get(Jury, call.id)
    if jury is None:
        jury = jury_of(call)
        db.session.add(jury)
    composition = balance(jury, jurors)
    reason = (reason or "").strip() or None
    if not composition.met and reason is None:
        raise Refused(_l("This jury does not meet its balance rule: say why you confirm it as it is."), field="reason")
    jury.confirmed_at, jury.confirmed_by_id = utcnow(), actor.id
    jury.confirm_reason = None if composition.met else reason
    audit.record(
        "jury.confirm",
        call,
        after={
            "jurors": [j.reviewer.email for j in jurors],
            "balanced": composition.met,
            "reason": jury.confirm_reason,
        },
        actor=actor,
        summary=f"jury of {call.code} confirmed" + ("" if composition.met else f" unbalanced: {jury.confirm_reason}"),
    )
    done()
    return jury
