"""Every change to decisions and grants: award, reserve, reject, revise, letters, accept, pay, cancel."""

import sqlalchemy as sa
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..accounts.queries import focal_points
from ..applications.models import APPLICATION_WORKFLOW, Application
from ..calls.models import CallFunding
from ..core import audit
from ..core.documents import generated_document
from ..core.errors import Refused
from ..core.jobs import enqueue, job
from ..core.mail import queue_mail
from ..core.money import format_eur
from ..core.states import TransitionError
from ..core.timeutil import utcnow
from ..core.urls import external_url
from ..extensions import db
from . import ledger
from .models import (
    DECISION_KINDS,
    DEFAULT_SCHEDULE,
    GRANT_WORKFLOW,
    Allocation,
    Decision,
    Grant,
    Letter,
    Payment,
    PaymentShare,
    Tranche,
)


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
    return db.session.scalar(
        sa.select(Decision).where(Decision.application_id == application.id, Decision.revised_at.is_(None))
    )


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


def decide(application, kind, *, actor, amount_cents=None, conditions="", reason="", split=None):
    """Award (with the money), reserve or reject one reviewed application."""
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
        if amount_cents > call.cap_cents:
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
        parts = _allocation_parts(application, amount_cents, split)
        ledger.commit_money(parts)
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
        _schedule(grant)
        db.session.add(grant)
    db.session.add(decision)
    db.session.flush()
    audit.record(
        f"decision.{kind}",
        application,
        after={"decision": decision.id, "amount_cents": amount_cents, "split": split},
        actor=actor,
        summary=f"{application.reference}: {kind}" + (f" {format_eur(amount_cents)}" if amount_cents else ""),
    )
    db.session.commit()
    return decision


def revise(decision, *, actor, reason):
    """Undo a decision whose letter has not gone out; an award gives its money back."""
    if not (reason or "").strip():
        raise Refused(_l("Give the reason for revising."), field="reason")
    _locked(decision)
    if decision.letter_sent_at is not None:
        raise Refused(_l("The letter has been sent: this decision can no longer be revised."))
    if decision.revised_at is not None:
        raise Refused(_l("This decision has already been revised."))
    application = _locked(decision.application)
    _move(application, "revise_decision", actor, reason=reason, summary=f"{application.reference}: decision revised")
    application.decision_sent_at = None
    grant = decision.grant
    if grant is not None:
        ledger.release_money({a.call_funding_id: a.amount_cents - a.returned_cents for a in grant.allocations})
        db.session.delete(grant)
    decision.revised_at = utcnow()
    decision.revision_reason = reason.strip()
    audit.record(
        "decision.revise",
        decision.application,
        after={"decision": decision.id, "reason": reason},
        actor=actor,
        summary=f"{decision.application.reference}: decision revised",
    )
    db.session.commit()


# -- letters -------------------------------------------------------------------------------------


def send_letter(decision, *, actor):
    """Queue the letter: the job renders it in the city's language, keeps it and e-mails it, once."""
    if decision.revised_at is not None:
        raise Refused(_l("This decision was revised: its letter cannot be sent."))
    existing = db.session.scalar(sa.select(Letter).where(Letter.decision_id == decision.id))
    if existing is not None:
        if existing.status == "failed":  # sending again is safe: each recipient gets it once
            existing.status = "queued"
            existing.job_id = enqueue(
                "awards.send_letter", letter_id=existing.id, dedupe_key=f"letter:{existing.id}:{utcnow().isoformat()}"
            ).id
            db.session.commit()
        return existing
    letter = Letter(decision=decision, language=decision.application.language, requested_by_id=actor.id)
    db.session.add(letter)
    decision.letter_sent_at = utcnow()
    # From now on the city sees the decision (Application.city_state).
    decision.application.decision_sent_at = decision.letter_sent_at
    db.session.flush()
    record = enqueue("awards.send_letter", letter_id=letter.id, dedupe_key=f"letter:{letter.id}")
    letter.job_id = record.id
    audit.record(
        "letter.send",
        decision.application,
        after={"letter": letter.id, "kind": decision.kind},
        actor=actor,
        summary=f"{decision.application.reference}: {decision.kind} letter queued",
    )
    db.session.commit()
    return letter


def render_letter(decision):
    from .letters import letter_pdf

    with force_locale(decision.application.language):
        return letter_pdf(decision)


def city_users(application):
    return focal_points(application.member_id)


@job("awards.send_letter", timeout=300)
def send_letter_job(letter_id):
    letter = db.session.get(Letter, letter_id)
    decision, application = letter.decision, letter.decision.application
    if letter.document_id is None:
        data = render_letter(decision)
        document = generated_document(f"{application.reference}-{decision.kind}-letter.pdf", data)
        db.session.add(document)
        letter.document = document
        db.session.flush()
    recipients = city_users(application)
    if not recipients:
        letter.status = "failed"
        db.session.commit()
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
    letter.status = "sent"
    letter.sent_at = utcnow()
    db.session.commit()


# -- the grant's life ------------------------------------------------------------------------------


def _apply(grant, action, actor, **kwargs):
    try:
        GRANT_WORKFLOW.apply(grant, action, actor, **kwargs)
    except TransitionError as error:
        raise Refused(str(error)) from None


def accept_grant(grant, *, actor, bank_details):
    _locked(grant)
    if grant.application.member_id not in actor.member_ids():
        raise Refused(_l("Only the lead city can accept its grant."))
    if grant.decision.letter_sent_at is None:
        raise Refused(_l("The award letter has not been sent yet."))
    if not (bank_details or "").strip():
        raise Refused(_l("Confirm the bank details payments go to."), field="bank_details")
    _apply(grant, "accept", actor, summary=f"{grant.application.reference}: grant accepted")
    grant.bank_details = bank_details.strip()
    grant.accepted_at, grant.accepted_by_id = utcnow(), actor.id
    make_due(grant, "acceptance")
    from ..reporting.operations import create_duties

    create_duties(grant)
    db.session.commit()


def make_due(grant, condition):
    """A tranche becomes due when its condition is met (acceptance, a report approved)."""
    for tranche in grant.tranches:
        if tranche.condition == condition and tranche.due_since is None:
            tranche.due_since = utcnow()
            audit.record("tranche.due", grant, after={"tranche": tranche.position, "condition": condition})


def record_payment(grant, tranche, *, actor, amount_cents, paid_on, reference):
    """Record money paid on a due tranche; the donors' lines are paid by the allocation's split."""
    _locked(grant, "tranches", "allocations")  # two clicks on "record" pay once
    if not GRANT_WORKFLOW.has(grant.state, "payable"):
        raise Refused(
            _l("No payment can be made on a grant that is “%(state)s”.", state=grant.staff_label), field="amount"
        )
    if tranche.grant_id != grant.id:
        raise Refused(_l("That tranche belongs to another grant."), field="tranche")
    if amount_cents is None or amount_cents <= 0:
        raise Refused(_l("Give the amount paid."), field="amount")
    if not tranche.is_due:
        raise Refused(
            _l("This tranche is not due: it is paid %(condition)s.", condition=tranche.condition_label), field="tranche"
        )
    if amount_cents > tranche.outstanding_cents:
        raise Refused(
            _l("Only %(due)s is due on this tranche.", due=format_eur(tranche.outstanding_cents)), field="amount"
        )
    if not (reference or "").strip():
        raise Refused(_l("Give the payment reference."), field="reference")
    claimed = db.session.execute(
        sa.update(Grant)
        .where(Grant.id == grant.id, Grant.paid_cents + amount_cents + Grant.returned_cents <= Grant.amount_cents)
        .values(paid_cents=Grant.paid_cents + amount_cents)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        raise Refused(_l("This payment would go beyond the grant."), field="amount")
    parts = ledger.split_pro_rata(
        amount_cents,
        [(a.id, a.amount_cents, a.amount_cents - a.paid_cents - a.returned_cents) for a in grant.allocations],
    )
    if parts is None:
        raise Refused(_l("This payment would go beyond the grant."), field="amount")
    by_id = {a.id: a for a in grant.allocations}
    ledger.pay_money({by_id[k].call_funding_id: v for k, v in parts.items()})
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
    db.session.commit()
    return payment


def cancel_grant(grant, *, actor, reason):
    """Cancel a grant; what was not paid goes back to the envelope and the donors' lines."""
    _locked(grant, "allocations")  # a second cancel waits, then finds it cancelled
    _apply(grant, "cancel", actor, reason=reason, summary=f"{grant.application.reference}: grant cancelled")
    unspent = {a: a.amount_cents - a.paid_cents - a.returned_cents for a in grant.allocations}
    ledger.release_money({a.call_funding_id: cents for a, cents in unspent.items()})
    for allocation, cents in unspent.items():
        allocation.returned_cents += cents
    grant.returned_cents += sum(unspent.values())
    grant.cancelled_reason = reason.strip()
    db.session.commit()


def application_for_grant_page(application_id):
    return db.session.get(Application, application_id)
