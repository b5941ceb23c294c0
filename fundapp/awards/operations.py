"""Every change to decisions and grants: award, reserve, reject, revise, award from the reserve list,
letters, accept or decline, pay, cancel, close."""

from collections import namedtuple
from datetime import timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask_babel import force_locale

from ..accounts.queries import focal_points, staff_users
from ..applications.models import APPLICATION_WORKFLOW
from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.documents import generated_document
from ..core.errors import Refused
from ..core.i18n import lazy_day
from ..core.jobs import current_job_id, enqueue, job
from ..core.mail import queue_mail
from ..core.money import format_eur
from ..core.notices import add_notice, in_euros, notice_text
from ..core.states import TransitionError, actor_roles
from ..core.timeutil import utcnow
from ..core.transactions import boundary, commit_now, done
from ..core.urls import external_url
from ..extensions import db
from ..funding import ledger
from ..funding.models import CallFunding
from ..funding.queries import ledger_closed_through
from .letters import letter_pdf
from .models import (
    DECISION_KINDS,
    DEFAULT_SCHEDULE,
    GRANT_WORKFLOW,
    Allocation,
    ApprovedBudgetLine,
    Decision,
    Grant,
    Letter,
    Payment,
    PaymentShare,
    Tranche,
)
from .queries import reserve_list

signals = Namespace()
# Sent when a grant is declined, cancelled or closed, inside the operation's transaction: the
# reporting feature (downstream) ends the grant's open report duties.
grant_ended = signals.signal("awards.grant-ended")
# Sent when the city accepts its grant, inside the operation's transaction: the reporting feature
# (downstream) creates the grant's report duties.
grant_accepted = signals.signal("awards.grant-accepted")


notice_text("grant_declined", _l("%(city)s declined its grant %(reference)s: %(amount)s is back in the envelope."))


def _locked(obj, *related):
    """Reload a row (and the given collections) under a row lock, so that a double click or two
    staff acting at once take turns and each sees what the other did."""
    model = type(obj)
    # The row must be fetched for populate_existing to overwrite what this session had loaded.
    db.session.execute(
        sa.select(model).where(model.id == obj.id).with_for_update(of=model).execution_options(populate_existing=True)
    ).scalar_one()
    for name in related:
        db.session.refresh(obj, [name])
        for child in getattr(obj, name):
            db.session.refresh(child)
    return obj


def current_decision(application):
    return db.session.scalar(sa.select(Decision).where(Decision.application_id == application.id, Decision.current()))


def _line_serves(line, application):
    """Whether a contribution's restriction lets it fund this application."""
    contribution = line.contribution
    if contribution.restriction_region and contribution.restriction_region != application.member.region:
        return False
    theme = contribution.restriction_theme
    return not theme or theme.strip().lower() == application.call.theme.strip().lower()


def _allocation_parts(application, amount, split):
    """{line id: cents}: as staff split it, or pro rata to what is left of each line it may use."""
    # Lock the call's lines: awards on one call are decided one after another, on fresh figures.
    lines = db.session.scalars(
        sa.select(CallFunding)
        .where(CallFunding.call_id == application.call_id)
        .order_by(CallFunding.id)
        .with_for_update(of=CallFunding)
        .execution_options(populate_existing=True)
    ).all()
    by_id = {line.id: line for line in lines}
    if split:
        parts = {int(k): int(v) for k, v in split.items() if v}
        for line_id, cents in parts.items():
            line = by_id.get(line_id)
            if line is None:
                raise Refused(_l("That contribution does not fund this call."), field="split")
            if not _line_serves(line, application):
                raise Refused(
                    _l(
                        "%(donor)s's contribution is restricted to another region or theme.",
                        donor=line.contribution.donor.short_name,
                    ),
                    field="split",
                )
            if cents < 0 or cents > line.remaining_cents:
                raise Refused(
                    _l(
                        "%(donor)s has %(left)s left in this call.",
                        donor=line.contribution.donor.short_name,
                        left=format_eur(line.remaining_cents),
                    ),
                    field="split",
                )
        if sum(parts.values()) != amount:
            raise Refused(
                _l(
                    "The split adds up to %(sum)s, not %(amount)s.",
                    sum=format_eur(sum(parts.values())),
                    amount=format_eur(amount),
                ),
                field="split",
            )
        return parts
    usable = [line for line in lines if _line_serves(line, application)]
    parts = ledger.split_pro_rata(amount, [(line.id, line.remaining_cents, line.remaining_cents) for line in usable])
    if parts is None:
        left = sum(line.remaining_cents for line in usable)
        raise Refused(
            _l("Only %(left)s is left in the envelope for this application.", left=format_eur(left)), field="amount"
        )
    return parts


def _schedule(grant):
    """Tranches by the call's schedule (or the default); the last takes the cents rounding leaves over."""
    schedule = grant.application.call.tranche_schedule or DEFAULT_SCHEDULE
    given = 0
    for position, (condition, percent) in enumerate(schedule, start=1):
        last = position == len(schedule)
        cents = grant.amount_cents - given if last else grant.amount_cents * percent // 100
        given += cents
        grant.tranches.append(Tranche(position=position, condition=condition, percent=percent, amount_cents=cents))


def _move(application, action, actor, **kwargs):
    """The application's own step through its workflow (award, reserve, reject, revise_decision).
    Its `updated_at` stays: the city's list must not reorder on a decision it has not been told."""
    try:
        APPLICATION_WORKFLOW.apply(application, action, actor, **kwargs)
    except TransitionError as error:
        raise Refused(str(error)) from None


def default_approved_budget(application, amount_cents):
    """{budget line id: cents}: the requested lines scaled to the award, to the cent (largest remainder)."""
    lines = application.budget_lines
    parts = ledger.split_pro_rata(
        amount_cents, [(line.id, line.requested_cents, line.requested_cents) for line in lines]
    )
    if parts is None:  # more than requested: the award's own checks refuse it first
        return {}
    return {line.id: parts.get(line.id, 0) for line in lines}


def _approved_budget(application, amount_cents, budget):
    """The approved budget lines: as staff set them (one amount per line, adding up to the award)
    or, when not given, the request scaled to the award."""
    if not budget:
        return default_approved_budget(application, amount_cents)
    lines = {line.id: line for line in application.budget_lines}
    parts = {int(k): v for k, v in budget.items()}
    if set(parts) - set(lines):
        raise Refused(_l("The approved budget may only use the lines of the request."), field="budget")
    if any(v is None or v < 0 for v in parts.values()):
        raise Refused(_l("Give each line of the approved budget in euros, zero or more."), field="budget")
    total = sum(parts.values())
    if total != amount_cents:
        raise Refused(
            _l(
                "The approved budget adds up to %(sum)s, not the %(amount)s awarded.",
                sum=format_eur(total),
                amount=format_eur(amount_cents),
            ),
            field="budget",
        )
    return {line_id: parts.get(line_id, 0) for line_id in lines}


def decide(
    application,
    kind,
    *,
    actor,
    amount_cents=None,
    conditions="",
    reason="",
    split=None,
    budget=None,
    supersedes=None,
):
    """Award (with the money), reserve or reject one reviewed application.

    `budget`: {budget line id: cents} of the approved budget (default: the request scaled to the award).
    `supersedes`: the reserve decision this award replaces (award_from_reserve), kept as history.
    """
    if kind not in DECISION_KINDS:
        raise Refused(_l("Unknown decision."))
    if not APPLICATION_WORKFLOW.has(application.state, "ranked"):
        raise Refused(
            _l("%(reference)s has not been reviewed: it cannot be decided yet.", reference=application.reference)
        )
    _locked(application)  # one decision at a time per application
    if current_decision(application) is not None:
        raise Refused(
            _l("%(reference)s is already decided; revise that decision first.", reference=application.reference)
        )
    reason = (reason or "").strip()
    if kind == "reject" and not reason:
        raise Refused(_l("Give the reason the city will read."), field="reason")
    # The decision kinds are the application's own transitions: awarded, reserve list, not funded.
    _move(application, kind, actor, reason=reason or None, summary=f"{application.reference}: {kind}")
    application.decision_sent_at = None
    decision = Decision(
        application=application,
        kind=kind,
        decided_by_id=actor.id,
        conditions=(conditions or "").strip(),
        reason=reason,
    )
    if kind == "award":
        call = application.call
        if amount_cents is None or amount_cents <= 0:
            raise Refused(_l("Give the amount to award."), field="amount")
        if call.exceeds_cap(amount_cents):
            raise Refused(
                _l(
                    "%(amount)s is above the call’s cap of %(cap)s.",
                    amount=format_eur(amount_cents),
                    cap=format_eur(call.cap_cents),
                ),
                field="amount",
            )
        if amount_cents > application.requested_cents:
            raise Refused(
                _l(
                    "%(amount)s is more than the %(requested)s requested.",
                    amount=format_eur(amount_cents),
                    requested=format_eur(application.requested_cents),
                ),
                field="amount",
            )
        approved = _approved_budget(application, amount_cents, budget)
        parts = _allocation_parts(application, amount_cents, split)
        decision.amount_cents = amount_cents
        grant = Grant(
            application=application,
            decision=decision,
            amount_cents=amount_cents,
            cap_cents=call.cap_cents,
            state=GRANT_WORKFLOW.initial,
        )
        grant.allocations = [
            Allocation(call_funding_id=line_id, amount_cents=cents) for line_id, cents in sorted(parts.items()) if cents
        ]
        positions = {line.id: line.position for line in application.budget_lines}
        grant.approved_lines = [
            ApprovedBudgetLine(budget_line_id=line_id, position=positions[line_id], amount_cents=cents)
            for line_id, cents in approved.items()
        ]
        _schedule(grant)
        db.session.add(grant)
        ledger.commit_money(parts, grant=grant, actor=actor)  # dated today, one entry per line
    db.session.add(decision)
    db.session.flush()
    if supersedes is not None:
        supersedes.superseded_by_id = decision.id
    audit.record(
        f"decision.{kind}",
        application,
        after={
            "decision": decision.id,
            "amount_cents": amount_cents,
            "split": split,
            **({"supersedes": supersedes.id} if supersedes is not None else {}),
            **({"approved_budget": {str(k): v for k, v in approved.items()}} if kind == "award" else {}),
        },
        actor=actor,
        summary=f"{application.reference}: {kind}" + (f" {format_eur(amount_cents)}" if amount_cents else ""),
    )
    done()
    return decision


def decide_batch(call, awards, *, actor):
    """Award several applications of `call` ({application: cents}) in one transaction: all are
    recorded, or none (the refusal names the application it stopped at)."""
    decisions = []
    with boundary():  # one transaction, also when called outside a request (a shell, a test)
        for application, cents in awards.items():
            if application.call_id != call.id:
                raise Refused(_l("%(reference)s is not an application of this call.", reference=application.reference))
            try:
                decisions.append(decide(application, "award", actor=actor, amount_cents=cents))
            except Refused as refusal:
                db.session.rollback()
                raise Refused(
                    _l(
                        "%(reference)s: %(reason)s Nothing was recorded.",
                        reference=application.reference,
                        reason=refusal.message,
                    ),
                    field=refusal.field,
                ) from None
        done()
    return decisions


def revise(decision, *, actor, reason):
    """Undo a decision whose letter has not gone out; an award gives its money back."""
    if not (reason or "").strip():
        raise Refused(_l("Give the reason for revising."), field="reason")
    _locked(decision)
    if decision.letter_sent_at is not None:
        raise Refused(_l("The letter has been sent: this decision can no longer be revised."))
    if decision.revised_at is not None:
        raise Refused(_l("This decision has already been revised."))
    if decision.superseded_at is not None:
        raise Refused(_l("This decision was replaced by an award from the reserve list."))
    application = _locked(decision.application)
    reserve = decision.supersedes
    if reserve is not None:
        # An award from the reserve list, revised before its letter: back to the reserve list the
        # city was told of, with that decision current again.
        _move(application, "return_to_reserve", actor, reason=reason, summary=f"{application.reference}: award revised")
        application.decision_sent_at = reserve.letter_sent_at
    else:
        _move(
            application, "revise_decision", actor, reason=reason, summary=f"{application.reference}: decision revised"
        )
        application.decision_sent_at = None
    grant = decision.grant
    if grant is not None:
        ledger.release_money(
            {a.call_funding_id: a.amount_cents - a.returned_cents for a in grant.allocations},
            grant=grant,
            actor=actor,
            kind="release",  # the award is undone: its entries stay, with the grant's id, as history
        )
        db.session.delete(grant)
    decision.revised_at = utcnow()
    decision.revision_reason = reason.strip()
    letter = _letter_of(decision)
    if letter is not None and letter.is_queued:
        # Revised before its letter left: the letter job finds it so and sends nothing.
        letter.status, letter.error = "failed", "The decision was revised before its letter was sent."
    if reserve is not None:
        db.session.flush()  # this award stops being current before the reserve is again
        reserve.superseded_at = reserve.superseded_by_id = None
    audit.record(
        "decision.revise",
        decision.application,
        after={"decision": decision.id, "reason": reason},
        actor=actor,
        summary=f"{decision.application.reference}: decision revised",
    )
    done()


def award_from_reserve(application, *, actor, amount_cents, conditions="", split=None, budget=None, out_of_rank=False):
    """Money came back (a grant declined, cancelled or closed): award an application of the reserve
    list. A reserve the city was told of stays as history, superseded by the new award, whose own
    letter follows; one never told is revised first. Awarding before a higher-ranked reserve needs
    `out_of_rank` (staff's explicit choice)."""
    _locked(application)  # one decision at a time per application
    reserve = current_decision(application)
    if reserve is None or reserve.kind != "reserve":
        raise Refused(_l("%(reference)s is not on the reserve list.", reference=application.reference))
    _locked(reserve)  # its letter's job (sending at this moment) finishes first, or finds it replaced
    above = []
    for result, _decision in reserve_list(application.call):
        if result.application.id == application.id:
            break
        above.append(result.application.reference)
    if above and not out_of_rank:
        raise Refused(
            _l(
                "%(reference)s comes after %(above)s on the reserve list: tick “out of rank order” to award it first.",
                reference=application.reference,
                above=", ".join(above),
            ),
            field="out_of_rank",
        )
    if reserve.letter_sent_at is None:
        # The city was never told it is on the reserve list: that decision is simply revised.
        _move(
            application,
            "revise_decision",
            actor,
            reason="awarded from the reserve list",
            summary=f"{application.reference}: reserve revised to award it",
        )
        reserve.revised_at, reserve.revision_reason = utcnow(), "Awarded from the reserve list."
        supersedes = None
    else:
        reserve.superseded_at = utcnow()
        supersedes = reserve
    db.session.flush()  # the reserve stops being current before the award is written
    return decide(
        application,
        "award",
        actor=actor,
        amount_cents=amount_cents,
        conditions=conditions,
        split=split,
        budget=budget,
        supersedes=supersedes,
    )


# -- letters -------------------------------------------------------------------------------------


# A letter is "sent" when its job has put it in the outbox for every focal point of the city, in
# the transaction that records it: from then the outbox delivers it (retries, the sweep, staff's
# resend: core/mail.py), the city sees the decision and it can no longer be revised. Until then
# (queued, or failed) the decision stays hidden from the city and may be revised; a revision wins
# over a letter still queued, whose job then sends nothing. Sending, revising and the letter job
# all lock the decision's row first, so they take turns and each sees what the other did.


def _letter_of(decision):
    """The decision's letter as the database has it now (None if none was asked for)."""
    return db.session.scalar(
        sa.select(Letter).where(Letter.decision_id == decision.id).execution_options(populate_existing=True)
    )


def send_letter(decision, *, actor):
    """Queue the letter: the job renders it in the city's language, keeps it and e-mails it, once.
    A second click (or a second person) finds the letter the first queued; a failed one is queued again."""
    _locked(decision)  # a double click waits here, then finds the first click's letter
    if decision.revised_at is not None:
        raise Refused(_l("This decision was revised: its letter cannot be sent."))
    if decision.superseded_at is not None:
        raise Refused(_l("This decision was replaced by an award from the reserve list."))
    existing = _letter_of(decision)
    if existing is not None:
        if existing.has_failed:  # sending again is safe: each recipient gets it once
            before = {"status": existing.status, "error": existing.error}
            existing.status, existing.error = "queued", None
            existing.job_id = enqueue(
                "awards.send_letter", letter_id=existing.id, dedupe_key=f"letter:{existing.id}:{utcnow().isoformat()}"
            ).id
            audit.record(
                "letter.send",
                decision.application,
                before=before,
                after={"letter": existing.id, "kind": decision.kind, "status": "queued"},
                actor=actor,
                summary=f"{decision.application.reference}: {decision.kind} letter queued again",
            )
            done()
        return existing
    letter = Letter(decision=decision, language=decision.application.language, requested_by_id=actor.id)
    db.session.add(letter)
    db.session.flush()
    record = enqueue("awards.send_letter", letter_id=letter.id, dedupe_key=f"letter:{letter.id}")
    letter.job_id = record.id
    audit.record(
        "letter.send",
        decision.application,
        after={"letter": letter.id, "kind": decision.kind, "status": "queued"},
        actor=actor,
        summary=f"{decision.application.reference}: {decision.kind} letter queued",
    )
    done()
    return letter


def send_letters(call, applications, *, actor):
    """Queue the decision letters of the decided applications staff selected on the list, in one
    transaction: all, or none (the refusal names the application it stopped at). An application
    with no decision, or whose letter has gone out or is on its way, stops the batch."""
    if not applications:
        raise Refused(_l("Tick the applications to act on."), field="application")
    letters = []
    with boundary():  # one transaction, also when called outside a request
        for application in applications:
            if application.call_id != call.id:
                raise Refused(
                    _l(
                        "%(reference)s is not an application of this call. No letter was sent.",
                        reference=application.reference,
                    )
                )
            decision = current_decision(application)
            if decision is None:
                raise Refused(
                    _l(
                        "%(reference)s is “%(state)s”: it has no decision to send. No letter was sent.",
                        reference=application.reference,
                        state=application.staff_label,
                    )
                )
            letter = _letter_of(decision)
            if decision.letter_sent_at is not None or (letter is not None and not letter.has_failed):
                raise Refused(
                    _l(
                        "%(reference)s: its decision letter has already gone out or is on its way. No letter was sent.",
                        reference=application.reference,
                    )
                )
            try:
                letters.append(send_letter(decision, actor=actor))
            except Refused as refusal:
                raise Refused(
                    _l(
                        "%(reference)s: %(reason)s No letter was sent.",
                        reference=application.reference,
                        reason=refusal.message,
                    )
                ) from None
        done()
    return letters


def render_letter(decision):
    with force_locale(decision.application.language):
        return letter_pdf(decision)


def city_users(application):
    return focal_points(application.member_id)


def _letter_failed(letter_id, reason):
    """Record why the letter was not sent, under the decision's lock, unless it went out meanwhile
    or staff queued it again (a newer job has it now)."""
    letter = db.session.get(Letter, letter_id)
    _locked(letter.decision)
    letter = _letter_of(letter.decision)
    job_id = current_job_id()
    if letter.status == "sent" or (letter.is_queued and job_id is not None and letter.job_id != job_id):
        db.session.rollback()
        return
    letter.status, letter.error = "failed", reason[:2000]
    audit.record(
        "letter.failed",
        letter.decision.application,
        after={"letter": letter.id, "error": letter.error},
        summary=f"{letter.decision.application.reference}: letter not sent",
    )
    commit_now()  # kept although the job that failed is then rolled back


@job("awards.send_letter", label=_l("Send a decision letter"), timeout=300)
def send_letter_job(letter_id):
    """Render the letter, keep it, put it in the outbox for each focal point, and record it sent:
    all in one transaction under the decision's lock. Run again, it sends nothing twice."""
    letter = db.session.get(Letter, letter_id)
    if letter is None:
        return "gone"
    decision = _locked(letter.decision)  # revise and a second send wait for this one, or it for them
    letter = _letter_of(decision)
    if letter.status == "sent":
        return "already sent"
    if not decision.is_current:
        # Revised (or replaced) before its letter left: nothing goes to the city.
        letter.status, letter.error = "failed", "The decision was revised before its letter was sent."
        done()
        return "decision revised"
    try:
        _hand_to_outbox(letter, decision)
    except Exception as exc:
        db.session.rollback()
        _letter_failed(letter_id, f"{type(exc).__name__}: {exc}")
        raise
    return "sent"


def _hand_to_outbox(letter, decision):
    application = decision.application
    if letter.document_id is None:
        data = render_letter(decision)
        document = generated_document(f"{application.reference}-{decision.kind}-letter.pdf", data)
        db.session.add(document)
        letter.document = document
        db.session.flush()
    recipients = city_users(application)
    if not recipients:
        raise RuntimeError(f"{application.member.name} has no active focal point to send the letter to")
    for user in recipients:
        queue_mail(
            user.email,
            "decision_letter",
            language=application.language,
            to_name=user.name,
            attachments=[letter.document],
            dedupe_key=f"letter:{letter.id}:{user.id}",
            reference=application.reference,
            city=application.member.name,
            kind=decision.kind,
            amount=decision.amount_cents,
            link=external_url("awards.city_grant", application_id=application.id),
        )
    now = utcnow()
    letter.status, letter.sent_at, letter.error = "sent", now, None
    decision.letter_sent_at = now
    # From now on the city sees the decision (Application.city_state).
    application.decision_sent_at = now
    audit.record(
        "letter.sent",
        application,
        after={"letter": letter.id, "kind": decision.kind, "recipients": [u.email for u in recipients]},
        summary=f"{application.reference}: {decision.kind} letter sent to {len(recipients)} focal point(s)",
    )
    done()


# -- the grant's life ------------------------------------------------------------------------------


def _apply(grant, action, actor, **kwargs):
    try:
        GRANT_WORKFLOW.apply(grant, action, actor, **kwargs)
    except TransitionError as error:
        raise Refused(str(error)) from None


def _check_consent(publish_project, publish_reports):
    if publish_reports and not publish_project:
        raise Refused(
            _l(
                "The reports can be published only with the project: tick “Publish our project” too, "
                "or leave both unticked."
            ),
            field="publish_reports",
        )


def accept_grant(grant, *, actor, bank_details, publish_project=False, publish_reports=False):
    """The lead city accepts its grant, and says whether the fund may publish the project (and the
    reports staff approve) on its public page and in its open data."""
    _locked(grant)
    if grant.application.member_id not in actor.member_ids():
        raise Refused(_l("Only the lead city can accept its grant."))
    if grant.decision.letter_sent_at is None:
        raise Refused(_l("The award letter has not been sent yet."))
    if not (bank_details or "").strip():
        raise Refused(_l("Confirm the bank details payments go to."), field="bank_details")
    publish_project, publish_reports = bool(publish_project), bool(publish_reports)
    _check_consent(publish_project, publish_reports)
    now = utcnow()
    _apply(
        grant,
        "accept",
        actor,
        summary=f"{grant.application.reference}: grant accepted",
        details={"publish_project": publish_project, "publish_reports": publish_reports},
    )
    grant.bank_details = bank_details.strip()
    grant.accepted_at, grant.accepted_by_id = now, actor.id
    grant.publish_project, grant.publish_reports = publish_project, publish_reports
    grant.publication_changed_at = now
    make_due(grant, "acceptance")
    grant_accepted.send(grant, actor=actor)
    done()


def set_publication(grant, *, actor, publish_project, publish_reports):
    """The lead city gives or withdraws its consent to publish the project and its approved reports;
    withdrawn, the project leaves the public page and the open data at once."""
    _locked(grant)
    if actor is None or grant.application.member_id not in actor.member_ids():
        raise Refused(_l("Only the lead city can say whether its project is published."))
    if grant.accepted_at is None:
        raise Refused(_l("Your city says whether its project is published when it accepts the grant."))
    publish_project, publish_reports = bool(publish_project), bool(publish_reports)
    _check_consent(publish_project, publish_reports)
    before = {"publish_project": grant.publish_project, "publish_reports": grant.publish_reports}
    after = {"publish_project": publish_project, "publish_reports": publish_reports}
    if before == after:
        return grant
    grant.publish_project, grant.publish_reports = publish_project, publish_reports
    grant.publication_changed_at = utcnow()
    audit.record(
        "grant.publication",
        grant,
        before=before,
        after=after,
        summary=f"{grant.application.reference}: publication "
        + ("withdrawn" if not publish_project else "with reports" if publish_reports else "of the project"),
        actor=actor,
    )
    done()
    return grant


def make_due(grant, condition):
    """A tranche becomes due when its condition is met (acceptance, a report approved)."""
    for tranche in grant.tranches:
        if tranche.condition == condition and tranche.due_since is None:
            tranche.due_since = utcnow()
            audit.record("tranche.due", grant, after={"tranche": tranche.position, "condition": condition})


PaymentDates = namedtuple("PaymentDates", "first last after_report")


def payment_dates(grant):
    """The first and last day a payment on this grant may carry: the day it was accepted (or the day
    after the ledger was last closed by a donor report, when later: `after_report`) and today, in the
    call's timezone."""
    call = grant.application.call
    first = call.local(grant.accepted_at).date()
    closed = ledger_closed_through()
    after_report = closed is not None and closed >= first
    if after_report:
        first = closed + timedelta(days=1)
    return PaymentDates(first, call.local(utcnow()).date(), after_report)


def _paid_on_problem(grant, paid_on):
    """Why `paid_on` cannot date a payment on `grant`, or None."""
    if paid_on is None:
        return _l("Give the date of the payment.")
    first, last, _after_report = payment_dates(grant)
    timezone = grant.application.call.timezone
    closed = ledger_closed_through()
    if closed is not None and paid_on <= closed:
        return _l(
            "Donor reports cover the days up to %(date)s, so their payments are fixed: date this payment "
            "after %(date)s.",
            date=lazy_day(closed),
        )
    if paid_on < first:
        return _l(
            "A payment cannot be dated before the grant was accepted, on %(date)s (%(timezone)s).",
            date=lazy_day(first),
            timezone=timezone,
        )
    if paid_on > last:
        return _l(
            "A payment cannot be dated after today, %(date)s (%(timezone)s).",
            date=lazy_day(last),
            timezone=timezone,
        )
    return None


def _payment_split(allocations, amount_cents):
    """{allocation id: cents} of a payment: what the donors' lines have been paid in all, this
    payment included, split in proportion to their allocations, less what each was paid before. A
    payment split on its own would round each time, and the cents could drift from one donor's line
    to another's over a grant's payments (87.5 % of EUR 10,000.50 is not a whole number of cents).
    None when the lines cannot take it."""
    paid_before = {a.id: a.paid_cents for a in allocations}
    total_after = sum(paid_before.values()) + amount_cents
    target = ledger.split_pro_rata(
        total_after, [(a.id, a.amount_cents, a.amount_cents - a.returned_cents) for a in allocations]
    )
    if target is None:
        return None
    owed = {a.id: max(0, target.get(a.id, 0) - paid_before[a.id]) for a in allocations}
    if sum(owed.values()) == amount_cents:
        return {k: v for k, v in owed.items() if v}
    # Earlier payments split otherwise (each on its own): the lines furthest behind catch up.
    return ledger.split_pro_rata(
        amount_cents,
        [(a.id, owed[a.id], min(owed[a.id], a.amount_cents - a.paid_cents - a.returned_cents)) for a in allocations],
    )


def payment_problems(grant, tranche, *, amount_cents, paid_on, reference, unread=()):
    """[(message, field)]: every reason the payment cannot be recorded, all at once (the tranche, the
    amount, the reference, the date). A field in `unread` (the form could not read what was typed)
    has its own message already and is not judged again. A grant that takes no payment, or a
    tranche of another grant, is the one problem named."""
    if not GRANT_WORKFLOW.has(grant.state, "payable"):
        return [(_l("No payment can be made on a grant that is “%(state)s”.", state=grant.staff_label), "amount")]
    problems = []
    if tranche is None:
        if "tranche" not in unread:
            problems.append((_l("Choose the tranche."), "tranche"))
    elif tranche.grant_id != grant.id:
        return [(_l("That tranche belongs to another grant."), "tranche")]
    elif tranche.is_paid:
        problems.append(
            (_l("This tranche is already paid in full (%(amount)s).", amount=format_eur(tranche.paid_cents)), "tranche")
        )
    elif not tranche.is_due:
        problems.append(
            (_l("This tranche is not due: it is paid %(condition)s.", condition=tranche.condition_label), "tranche")
        )
    if "amount" not in unread:
        if amount_cents is None or amount_cents <= 0:
            problems.append((_l("Give the amount paid."), "amount"))
        elif (
            tranche is not None and tranche.is_due and not tranche.is_paid and amount_cents > tranche.outstanding_cents
        ):
            problems.append(
                (_l("Only %(due)s is due on this tranche.", due=format_eur(tranche.outstanding_cents)), "amount")
            )
    if "reference" not in unread:
        if not (reference or "").strip():
            problems.append((_l("Give the payment reference."), "reference"))
        else:
            earlier = db.session.scalar(
                sa.select(Payment).where(
                    Payment.grant_id == grant.id, sa.func.lower(Payment.reference) == reference.strip().lower()
                )
            )
            if earlier is not None:
                problems.append(
                    (
                        _l(
                            "A payment with the reference %(reference)s is already recorded on this grant "
                            "(%(amount)s, paid on %(date)s): give this payment its own reference.",
                            reference=earlier.reference,
                            amount=format_eur(earlier.amount_cents),
                            date=lazy_day(earlier.paid_on),
                        ),
                        "reference",
                    )
                )
    if "paid_on" not in unread:
        problem = _paid_on_problem(grant, paid_on)
        if problem is not None:
            problems.append((problem, "paid_on"))
    return problems


def record_payment(grant, tranche, *, actor, amount_cents, paid_on, reference):
    """Record money paid on a due tranche; the donors' lines are paid by the allocation's split.
    Refused with every problem of the payment (payment_problems) at once."""
    _locked(grant, "tranches", "allocations")  # two clicks on "record" pay once
    problems = payment_problems(grant, tranche, amount_cents=amount_cents, paid_on=paid_on, reference=reference)
    if problems:
        raise Refused(problems[0][0], field=problems[0][1], errors=problems)
    claimed = db.session.execute(
        sa.update(Grant)
        .where(Grant.id == grant.id, Grant.paid_cents + amount_cents + Grant.returned_cents <= Grant.amount_cents)
        .values(paid_cents=Grant.paid_cents + amount_cents)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Refused(_l("This payment would go beyond the grant."), field="amount")
    parts = _payment_split(grant.allocations, amount_cents)
    if parts is None:
        raise Refused(_l("This payment would go beyond the grant."), field="amount")
    by_id = {a.id: a for a in grant.allocations}
    ledger.pay_money({by_id[k].call_funding_id: v for k, v in parts.items()}, grant=grant, on=paid_on, actor=actor)
    for allocation_id, cents in parts.items():
        by_id[allocation_id].paid_cents += cents
    tranche.paid_cents += amount_cents
    payment = Payment(
        shares=[PaymentShare(allocation_id=k, amount_cents=v) for k, v in sorted(parts.items()) if v],
        grant=grant,
        tranche=tranche,
        amount_cents=amount_cents,
        paid_on=paid_on,
        reference=reference.strip(),
        recorded_by_id=actor.id,
    )
    db.session.add(payment)
    db.session.refresh(grant, ["paid_cents"])
    if GRANT_WORKFLOW.can(grant.state, "activate", {"system"}):
        _apply(grant, "activate", None, summary=f"{grant.application.reference}: first payment")
    db.session.flush()
    audit.record(
        "payment.record",
        grant,
        after={
            "amount_cents": amount_cents,
            "tranche": tranche.position,
            "reference": payment.reference,
            "split": parts,
        },
        actor=actor,
        summary=f"{grant.application.reference}: {format_eur(amount_cents)} paid",
    )
    done()
    return payment


def _end(grant, action, actor, *, reason=None):
    """End the grant through `action` (decline, cancel, close): what it has not paid goes back to
    the lines it came from, and nothing stays due on it (the reporting feature ends its report
    duties). Returns the cents returned."""
    summary = f"{grant.application.reference}: grant {GRANT_WORKFLOW.transition(grant.state, action).target}"
    # The state, the returns and the end date reach the database in one UPDATE: the CHECKs
    # (ended_when_final, ended_returns_unpaid) hold at every flush.
    with db.session.no_autoflush:
        _apply(grant, action, actor, reason=reason, summary=summary)
        unspent = {a: a.amount_cents - a.paid_cents - a.returned_cents for a in grant.allocations}
        ledger.release_money({a.call_funding_id: cents for a, cents in unspent.items()}, grant=grant, actor=actor)
        for allocation, cents in unspent.items():
            allocation.returned_cents += cents
        grant.returned_cents += sum(unspent.values())
        grant.ended_at = utcnow()
    grant_ended.send(grant, actor=actor)
    return sum(unspent.values())


def _can(grant, action, actor):
    """Refuse, with the workflow's own message, an action the grant's state or the actor does not allow."""
    if not GRANT_WORKFLOW.can(grant.state, action, actor_roles(actor)):
        _apply(grant, action, actor)  # raises the Refused that says why


def cancel_grant(grant, *, actor, reason):
    """Cancel a grant; what was not paid goes back to the envelope and the donors' lines."""
    _locked(grant, "allocations")  # a second cancel waits, then finds it cancelled
    _can(grant, "cancel", actor)
    if not (reason or "").strip():
        raise Refused(_l("A reason is required."), field="reason")
    grant.cancelled_reason = reason.strip()
    _end(grant, "cancel", actor, reason=reason)
    application = grant.application
    for user in city_users(application):
        queue_mail(
            user.email,
            "grant_cancelled",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"grant-cancelled:{grant.id}:{user.id}",
            reference=application.reference,
            title=application.title,
            reason=grant.cancelled_reason,
            paid=grant.paid_cents,
            link=external_url("awards.grant", grant_id=grant.id),
        )
    done()


def decline_grant(grant, *, actor, reason):
    """The city says no to the grant it was offered: the money goes back, staff are told."""
    _locked(grant, "allocations")  # a double click, or an acceptance at the same moment: one wins
    if grant.application.member_id not in actor.member_ids():
        raise Refused(_l("Only the lead city can decline its grant."))
    if grant.decision.letter_sent_at is None:
        raise Refused(_l("The award letter has not been sent yet."))
    _can(grant, "decline", actor)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Tell the programme team why your city declines the grant."), field="reason")
    grant.declined_reason = reason
    returned = _end(grant, "decline", actor, reason=reason)
    _tell_staff_of_decline(grant, returned)
    done()


def _tell_staff_of_decline(grant, returned):
    application = grant.application
    link = external_url("awards.decision_board", call_id=application.call_id) + f"#decide-{application.id}"
    for user in staff_users():
        queue_mail(
            user.email,
            "grant_declined",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"grant-declined:{grant.id}:{user.id}",
            reference=application.reference,
            city=application.member.name,
            amount=returned,
            reason=grant.declined_reason,
            link=link,
        )
        add_notice(
            user,
            "grant_declined",
            params={"city": application.member.name, "reference": application.reference, "amount": in_euros(returned)},
            link=link,
            dedupe_key=f"grant-declined:{grant.id}:{user.id}",
        )


def close_grant(grant, *, actor, reason=""):
    """Staff close a grant: once its final report is approved and its last payment made, or earlier
    with a reason. What it has not paid goes back to the lines it came from."""
    _locked(grant, "allocations", "tranches")  # a payment at the same moment comes before or not at all
    _can(grant, "close", actor)
    reason = (reason or "").strip()
    if not reason:
        db.session.refresh(grant, ["reports"])
        if not grant.final_report_approved:
            raise Refused(
                _l("The final report is not approved yet: give the reason for closing the grant now."), field="reason"
            )
        if not grant.last_payment_made:
            raise Refused(
                _l("The last payment has not been made: give the reason for closing the grant now."), field="reason"
            )
    grant.closed_reason = reason or None
    _end(grant, "close", actor, reason=reason or None)
    done()
