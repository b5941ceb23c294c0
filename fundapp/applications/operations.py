"""Every change to applications: start, save (and autosave), documents, submit, withdraw, screen."""

from datetime import datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import force_locale
from sqlalchemy.orm.exc import StaleDataError

from ..accounts.models import GENDERS
from ..accounts.queries import focal_points, staff_users
from ..calls import operations as calls_ops
from ..calls.models import LANGUAGES, Call
from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.documents import generated_document, make_document
from ..core.errors import Refused
from ..core.i18n import lazy_count, lazy_day, lazy_deadline, lazy_decimal, lazy_in_language, lazy_instant
from ..core.jobs import enqueue, job
from ..core.mail import queue_mail
from ..core.money import format_eur
from ..core.states import TransitionError
from ..core.timeutil import from_local, utcnow
from ..core.transactions import boundary, done
from ..core.urls import external_url
from ..extensions import db
from ..members.models import Member
from .models import (
    APPLICATION_WORKFLOW,
    BUDGET_CATEGORIES,
    DIMENSIONS,
    MESSAGE_MAX_LENGTH,
    PARTNER_WORKFLOW,
    SECTION_FIELDS,
    SECTIONS,
    Application,
    ApplicationDocument,
    ApplicationMessage,
    BudgetLine,
    Partner,
    Submission,
    attachment_stem,
    letter_stem,
)
from .pdf import application_pdf
from .queries import existing_application

TEXT_FIELDS = [
    "title",
    "summary",
    "problem",
    "objectives",
    "activities",
    "target_groups",
    "milestones",
    "risks",
    "lead_name",
]
SCALAR_FIELDS = TEXT_FIELDS + [
    "language",
    "dimensions",
    "beneficiaries_women",
    "beneficiaries_men",
    "beneficiaries_other",
    "lead_gender",
    "start_date",
    "duration_months",
]


class StaleDraft(Refused):
    """Someone saved the draft after this page loaded; nothing of this save was written."""


def _section_of(field):
    for section, fields in SECTION_FIELDS.items():
        if field in fields:
            return section
    raise KeyError(field)


def start_application(call, *, actor, member=None):
    """A new draft on an open call for the actor's city."""
    member = member or actor.member
    if member is None or member.id not in actor.member_ids():
        raise Refused(_l("Only a focal point of a member city can start an application."))
    # Serialise starts on this call, so two colleagues cannot both open the city's only application.
    db.session.execute(sa.select(Call.id).where(Call.id == call.id).with_for_update())
    if not call.accepts_submissions():
        raise Refused(_l("This call is not open for applications."))
    reasons = call.ineligibility_reasons(member)
    if reasons:
        raise Refused(reasons[0], errors=[(r, None) for r in reasons])
    if call.one_application_per_lead and existing_application(call, member) is not None:
        raise Refused(_l("%(city)s already has an application to this call: continue that one.", city=member.name))
    application = Application(
        call=call,
        member=member,
        created_by_id=actor.id,
        updated_by_id=actor.id,
        cap_cents=call.cap_cents,
        language=actor.language,
        state=APPLICATION_WORKFLOW.initial,
    )
    db.session.add(application)
    db.session.flush()
    audit.record(
        "application.start",
        application,
        after={"call": call.code, "member": member.name},
        actor=actor,
        summary=f"{member.name} started an application to {call.code}",
    )
    done()
    return application


# -- saving ---------------------------------------------------------------------------------------


def _check_scalar(application, field, value):
    """The value to store, or Refused naming the field."""
    call = application.call
    if field in TEXT_FIELDS:
        return (value or "").strip()
    if field == "language":
        if value not in ("en", "fr", "es"):
            raise Refused(_l("Choose English, French or Spanish."), field=field)
        return value
    if field == "dimensions":
        value = list(value or [])
        if set(value) - set(DIMENSIONS):
            raise Refused(_l("Unknown care-system dimension."), field=field)
        return [d for d in DIMENSIONS if d in value]
    if field == "lead_gender":
        if value and value not in GENDERS:
            raise Refused(_l("Choose one of the genders offered, or leave it empty."), field=field)
        return value or None
    if field.startswith("beneficiaries_"):
        if value is not None and value < 0:
            raise Refused(_l("A number of people cannot be negative."), field=field)
        return value
    if field == "start_date":
        if value is not None:
            earliest, latest = call.start_window()
            if not earliest <= value <= latest:
                raise Refused(
                    _l(
                        "Projects of this call start between %(earliest)s and %(latest)s.",
                        earliest=lazy_day(earliest),
                        latest=lazy_day(latest),
                    ),
                    field=field,
                )
        return value
    if field == "duration_months":
        if value is not None and not call.duration_min_months <= value <= call.duration_max_months:
            raise Refused(
                _l(
                    "Projects of this call last %(min)d to %(max)d months.",
                    min=call.duration_min_months,
                    max=call.duration_max_months,
                ),
                field=field,
            )
        return value
    raise KeyError(field)


# Bounds no real project comes near, so that hostile input cannot overflow a total or fill a page.
MAX_PARTNERS = 50
MAX_BUDGET_LINES = 100
MAX_BUDGET_LINE_CENTS = 1_000_000_000_00  # EUR 1 billion


def _check_partners(application, partners):
    """[(member, role)] from [{'member_id', 'role'}], or Refused on the partners field. A row left
    empty is no partner; a role typed without its city is refused rather than dropped."""
    for p in partners:
        role = (p.get("role") or "").strip()
        if role and not p.get("member_id"):
            raise Refused(_l("Choose the partner city whose role is “%(role)s”.", role=role[:80]), field="partners")
    partners = [p for p in partners if p.get("member_id")]
    if len(partners) > MAX_PARTNERS:
        raise Refused(_l("An application names at most %(n)d partner cities.", n=MAX_PARTNERS), field="partners")
    if partners and not application.call.partners_allowed:
        raise Refused(_l("This call does not take partner cities."), field="partners")
    ids = [p["member_id"] for p in partners]
    members = {m.id: m for m in db.session.scalars(sa.select(Member).where(Member.id.in_(ids or [-1])))}
    result, seen = [], set()
    for p in partners:
        member = members.get(p["member_id"])
        if member is None:
            raise Refused(_l("A partner must be a Metropolis member."), field="partners")
        if member.id == application.member_id:
            raise Refused(
                _l("%(city)s leads the application; it cannot also be its partner.", city=member.name), field="partners"
            )
        if member.id in seen:
            raise Refused(_l("%(city)s is listed twice.", city=member.name), field="partners")
        seen.add(member.id)
        result.append((member, (p.get("role") or "").strip()[:300]))
    return result


def _check_targets(application, figures):
    """{indicator id: {part: number}} for the call's indicators, or Refused naming the input."""
    cleaned = {}
    for indicator in application.call.indicators:
        given = (figures or {}).get(str(indicator.id)) or {}
        row = {}
        for part in indicator.parts:
            value = given.get(part)
            if value is not None and value < 0:
                raise Refused(_l("A target cannot be negative."), field=f"indicator_targets-{indicator.id}-{part}")
            row[part] = value
        cleaned[str(indicator.id)] = row
    return cleaned


def _check_budget(application, lines):
    """Budget lines to store, or Refused on the budget field (a line that cannot be stored). A
    total above the call's cap is stored as typed (a draft may be, as after staff lower the cap),
    said by over_cap_message, and stops the submission."""
    numbered = [
        (n, ln)
        for n, ln in enumerate(lines, start=1)
        if ln.get("description") or ln.get("requested_cents") or ln.get("cofunding_cents")
    ]
    requested = sum(ln.get("requested_cents") or 0 for _n, ln in numbered)
    if application.first_submitted_at is not None and requested > application.call.cap_cents:
        # Sent once (and reopened for more information): what was sent stays within the cap, so a
        # total above it is not stored; the draft before any sending is, as typed.
        raise Refused(
            _l(
                "The total requested, %(total)s, is above the call’s cap of %(cap)s: the budget was not "
                "saved. An application already sent stays within the cap.",
                total=format_eur(requested),
                cap=format_eur(application.call.cap_cents),
            ),
            field="budget",
        )
    if len(numbered) > MAX_BUDGET_LINES:
        raise Refused(_l("A budget has at most %(n)d lines.", n=MAX_BUDGET_LINES), field="budget")

    def refused(n, message):
        # Which line, as the page numbers them: the whole budget waits for it.
        return Refused(_l("Budget not saved, because of line %(n)d: %(message)s", n=n, message=message), field="budget")

    for n, ln in numbered:
        if max(ln.get("requested_cents") or 0, ln.get("cofunding_cents") or 0) > MAX_BUDGET_LINE_CENTS:
            raise refused(n, _l("A budget line cannot be above %(amount)s.", amount=format_eur(MAX_BUDGET_LINE_CENTS)))
        if ln.get("category") not in BUDGET_CATEGORIES:
            raise refused(n, _l("Choose a category for every budget line."))
        if (ln.get("requested_cents") or 0) < 0 or (ln.get("cofunding_cents") or 0) < 0:
            raise refused(n, _l("Budget amounts cannot be negative."))
    return [ln for _n, ln in numbered]


def over_cap_message(application):
    """Why the draft's budget cannot be sent as it is, when its total is above the call's cap (the
    call's cap now, which staff may change until a submission); None otherwise. Not a refusal: the
    budget is saved as typed, and the editor says this beside it."""
    requested = sum(ln.requested_cents or 0 for ln in application.budget_lines)
    cap = application.call.cap_cents
    if requested <= cap:
        return None
    return _l(
        "The total requested, %(total)s, is above the call’s cap of %(cap)s: your budget is saved, "
        "but the application cannot be submitted until it is within the cap.",
        total=format_eur(requested),
        cap=format_eur(cap),
    )


@calls_ops.cap_changed_signal.connect
def _drafts_follow_the_cap(_call, *, call_id, cap_cents, **_kw):
    """Staff changed the cap of a call nothing was submitted to: its drafts take the new cap (in
    staff's transaction). A draft above a lowered cap keeps its budget: the city is told when it
    saves it, and it cannot be submitted until trimmed."""
    db.session.execute(
        sa.update(Application)
        .where(Application.call_id == call_id, Application.first_submitted_at.is_(None))
        .values(cap_cents=cap_cents)
        .execution_options(synchronize_session="fetch")
    )


def save_draft(application, *, actor, values, expected_version, partial_errors=None):
    """Save what can be saved: every valid field is written, every refused one is reported.

    Returns {field: message} of what was not saved (with partial_errors from the form merged in).
    A save from a page older than the stored draft is refused whole (StaleDraft): a colleague's
    work is never silently overwritten.
    """
    if not application.can_edit(actor):
        raise Refused(_l("This application cannot be changed now."))
    if expected_version != application.version:
        raise StaleDraft(
            _l(
                "%(name)s saved this application at %(when)s, after you opened it. Your last changes "
                "were not saved: reload the page to see theirs, then make yours again.",
                name=application.updated_by.name if application.updated_by else _l("A colleague"),
                when=lazy_instant(application.updated_at),
            )
        )
    errors = dict(partial_errors or {})
    before = snapshot(application)
    application.cap_cents = application.call.cap_cents
    with db.session.no_autoflush:
        _apply_values(application, values, set(application.editable_sections()), errors)
    application.updated_at = utcnow()
    application.updated_by_id = actor.id
    after = snapshot(application)
    changed = sorted(k for k in after if after[k] != before.get(k))
    if changed:
        audit.record(
            "application.save",
            application,
            after={"fields": changed},
            actor=actor,
            summary=f"draft {application.id} saved ({', '.join(changed)})",
        )
    try:
        _ask_partners(application, actor)
        done()
    except StaleDataError:
        db.session.rollback()
        raise StaleDraft(
            _l(
                "A colleague saved this application at the same moment. Your last changes were not "
                "saved: reload the page, then make them again."
            )
        ) from None
    return errors


def _apply_values(application, values, open_sections, errors):
    for field, value in values.items():
        if field in errors:
            continue
        if _section_of(field) not in open_sections:
            errors[field] = str(_l("This part is not open for changes."))
            continue
        try:
            if field == "partners":
                _set_partners(application, _check_partners(application, value))
            elif field == "budget":
                _set_budget(application, _check_budget(application, value))
            elif field == "indicator_targets":
                application.indicator_targets = _check_targets(application, value)
            else:
                setattr(application, field, _check_scalar(application, field, value))
        except Refused as refusal:
            errors[field] = str(refusal.message)
            if refusal.field and refusal.field != field:
                errors[refusal.field] = str(refusal.message)  # the input it concerns, shown beside it


def _set_partners(application, partners):
    # Update rows in place: a partner kept keeps its row (the pair is unique per application).
    wanted = {member.id: role for member, role in partners}
    for partner in list(application.partners):
        if partner.member_id in wanted:
            partner.role = wanted.pop(partner.member_id)
        else:
            application.partners.remove(partner)
    for member, role in partners:
        if member.id in wanted:
            application.partners.append(Partner(member=member, role=role))


# -- partner cities take part ----------------------------------------------------------------------


def _ask_partners(application, actor):
    """Ask each partner city named and not yet asked to confirm its part: its focal points are told
    by e-mail (in their language and timezone) and find the request on their home page. A partner
    is asked as soon as the lead saves it, so that it can answer before the lead submits."""
    for partner in application.partners:
        if partner.is_asked:
            continue
        partner.state = PARTNER_WORKFLOW.initial
        partner.asked_at = utcnow()
        db.session.flush()
        audit.record(
            "partner.ask",
            partner,
            after={"application": application.id, "member": partner.member.name, "role": partner.role},
            actor=actor,
            summary=f"{application.member.name} asked {partner.member.name} to take part in application {application.id}",
        )
        call = application.call
        for user in focal_points(partner.member_id):
            queue_mail(
                user.email,
                "partner_request",
                language=user.language,
                reader_timezone=user.timezone,
                to_name=user.name,
                dedupe_key=f"partner-request:{partner.id}:{user.id}",
                lead=application.member.name,
                partner_city=partner.member.name,
                title=application.title,
                role=partner.role,
                call_title=call.title_in(user.language),
                closes_at=call.closes_at,
                timezone=call.timezone,
                link=external_url("applications.view", application_id=application.id),
            )


def _answerable_partner(partner, actor):
    """The partner row, locked and read as it is now, when `actor` may answer for it; else Refused."""
    if not partner.is_partner_user(actor):
        raise Refused(_l("Only a focal point of %(city)s can answer for it.", city=partner.member.name))
    db.session.execute(
        sa.select(Partner)
        .where(Partner.id == partner.id)
        .with_for_update(of=Partner)
        .execution_options(populate_existing=True)
    ).scalar_one()
    application = partner.application
    if APPLICATION_WORKFLOW.has(application.state, "withdrawn"):
        raise Refused(
            _l(
                "%(lead)s has withdrawn this application: there is nothing to confirm or decline any more.",
                lead=application.member.name,
            )
        )
    if not partner.is_waiting:
        raise Refused(
            _l(
                "%(city)s has already answered, on %(when)s: “%(answer)s”. The answer stands.",
                city=partner.member.name,
                when=lazy_instant(partner.answered_at),
                answer=partner.state_label,
            )
        )
    return application


def confirm_partnership(partner, *, actor, filename=None, data=None):
    """A partner city's focal point confirms its part, with its letter of commitment (a PDF) if it
    attaches one; the lead city's focal points are told."""
    application = _answerable_partner(partner, actor)
    letter = None
    if data:
        if not (filename or "").lower().endswith(".pdf"):
            raise Refused(_l("Attach the letter of commitment as a PDF."), field="letter")
        try:
            letter = make_document(
                filename=filename,
                data=data,
                stored_name=letter_stem(application, partner),
                actor=actor,
            )
        except Refused as refusal:
            raise Refused(refusal.message, field="letter") from None
        db.session.add(letter)
    try:
        PARTNER_WORKFLOW.apply(
            partner,
            "confirm",
            actor,
            roles={"applicant"},
            summary=f"{partner.member.name} confirmed its part in application {application.id}"
            + (f" (letter {letter.filename}, sha256 {letter.sha256[:12]})" if letter else ""),
        )
    except TransitionError as error:
        raise Refused(str(error)) from None
    partner.letter = letter
    _answered(partner, actor)
    done()
    return partner


def decline_partnership(partner, *, actor, reason):
    """A partner city's focal point declines to take part, saying why; the lead city is told."""
    application = _answerable_partner(partner, actor)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_l("Say why your city declines."), field="reason")
    try:
        PARTNER_WORKFLOW.apply(
            partner,
            "decline",
            actor,
            roles={"applicant"},
            reason=reason,
            summary=f"{partner.member.name} declined to take part in application {application.id}",
        )
    except TransitionError as error:
        raise Refused(str(error), field="reason") from None
    partner.decline_reason = reason
    _answered(partner, actor)
    done()
    return partner


def _answered(partner, actor):
    """The answer's time and author; the lead city's focal points are told (in their language)."""
    application = partner.application
    partner.answered_at = utcnow()
    partner.answered_by_id = actor.id
    for user in focal_points(application.member_id):
        queue_mail(
            user.email,
            "partner_answered",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"partner-answer:{partner.id}:{user.id}",
            partner_city=partner.member.name,
            confirmed=partner.is_confirmed,
            reason=partner.decline_reason,
            with_letter=partner.letter is not None,
            answered_by=actor.name,
            answered_at=partner.answered_at,
            title=application.title,
            reference=application.reference,
            link=external_url("applications.view", application_id=application.id),
        )


def _set_budget(application, lines):
    # Update rows in place, line by line: an autosave that changed no line writes none (and a line
    # keeps its id), instead of deleting and inserting the whole budget every few seconds.
    kept = sorted(application.budget_lines, key=lambda ln: ln.position)
    for i, ln in enumerate(lines, start=1):
        values = {
            "position": i,
            "category": ln["category"],
            "description": (ln.get("description") or "")[:500],
            "requested_cents": ln.get("requested_cents") or 0,
            "cofunding_cents": ln.get("cofunding_cents") or 0,
        }
        if i <= len(kept):
            for name, value in values.items():
                if getattr(kept[i - 1], name) != value:
                    setattr(kept[i - 1], name, value)
        else:
            application.budget_lines.append(BudgetLine(**values))
    for extra in kept[len(lines) :]:
        application.budget_lines.remove(extra)
    application.requested_cents = sum(ln.requested_cents for ln in application.budget_lines)
    application.cofunding_cents = sum(ln.cofunding_cents for ln in application.budget_lines)


def upload_document(application, *, actor, requirement, filename, data):
    if not application.can_edit(actor) or "documents" not in application.editable_sections():
        raise Refused(_l("Documents cannot be changed now."), field="file")
    allowed = set(application.call.required_documents) | {"other"}
    if requirement not in allowed:
        raise Refused(_l("Choose which document this is."), field="requirement")
    name = attachment_stem(application, requirement)
    document = make_document(filename=filename, data=data, stored_name=name, actor=actor)
    db.session.add(document)
    if requirement != "other":
        for old in [d for d in application.documents if d.requirement == requirement]:
            application.documents.remove(old)
    attached = ApplicationDocument(
        requirement=requirement, original_filename=(filename or "")[:300], document=document, uploaded_by_id=actor.id
    )
    application.documents.append(attached)
    application.updated_at = utcnow()
    application.updated_by_id = actor.id
    db.session.flush()
    audit.record(
        "application.document",
        application,
        after={"requirement": requirement, "file": document.filename, "sha256": document.sha256},
        actor=actor,
        summary=f"document uploaded to draft {application.id}",
    )
    done()
    return attached


def remove_document(attached, *, actor):
    application = attached.application
    if not application.can_edit(actor) or "documents" not in application.editable_sections():
        raise Refused(_l("Documents cannot be changed now."))
    application.documents.remove(attached)
    application.updated_at = utcnow()
    audit.record("application.document_removed", application, after={"file": attached.document.filename}, actor=actor)
    done()


# -- the snapshot ---------------------------------------------------------------------------------


def snapshot(application):
    """Everything that was (or would be) submitted, as plain data."""
    data = {f: getattr(application, f) for f in SCALAR_FIELDS}
    data["start_date"] = application.start_date.isoformat() if application.start_date else None
    data["dimensions"] = list(application.dimensions or [])
    data["partners"] = [
        {"member": p.member.name, "member_id": p.member_id, "role": p.role} for p in application.partners
    ]
    data["budget"] = [
        {
            "category": ln.category,
            "description": ln.description,
            "requested_cents": ln.requested_cents,
            "cofunding_cents": ln.cofunding_cents,
        }
        for ln in application.budget_lines
    ]
    data["requested_cents"] = sum(ln.requested_cents for ln in application.budget_lines)
    data["cofunding_cents"] = sum(ln.cofunding_cents for ln in application.budget_lines)
    data["documents"] = [
        {
            "requirement": d.requirement,
            "names": {code: application.call.document_name(d.requirement, code) for code in LANGUAGES},
            "file": d.document.filename,
            "sha256": d.document.sha256,
            "document_id": d.document_id,
        }
        for d in application.documents
    ]
    targets = application.indicator_targets or {}
    data["indicators"] = [
        {
            "id": indicator.id,
            "names": {code: indicator.name_in(code) for code in LANGUAGES},
            "units": {code: indicator.unit_in(code) for code in LANGUAGES},
            "parts": indicator.parts,
            "target": {part: (targets.get(str(indicator.id)) or {}).get(part) for part in indicator.parts},
        }
        for indicator in application.call.indicators
    ]
    data["call"] = application.call.code
    data["city"] = application.member.name
    data["reference"] = application.reference
    return data


# -- submitting -----------------------------------------------------------------------------------

REQUIRED_TEXT = {
    "title": _l("Give the project a title."),
    "summary": _l("Write the summary."),
    "problem": _l("Describe the problem and its context."),
    "objectives": _l("State the objectives."),
    "activities": _l("Describe the activities."),
    "target_groups": _l("Say who the project is for."),
}


def submission_problems(application):
    """Everything missing or wrong before the application can be sent: [(message, field)]."""
    call, problems = application.call, []
    for field, message in REQUIRED_TEXT.items():
        if not (getattr(application, field) or "").strip():
            problems.append((message, field))
    if not application.dimensions:
        problems.append((_l("Tick at least one care-system dimension."), "dimensions"))
    if all(getattr(application, f"beneficiaries_{g}") is None for g in ("women", "men", "other")):
        problems.append((_l("Give the expected number of direct beneficiaries."), "beneficiaries_women"))
    if application.start_date is None:
        problems.append((_l("Give the start date."), "start_date"))
    if application.duration_months is None:
        problems.append((_l("Give the duration."), "duration_months"))
    if not application.budget_lines:
        problems.append((_l("Add the budget lines."), "budget"))
    targets = application.indicator_targets or {}
    for indicator in application.call.indicators:
        given = targets.get(str(indicator.id)) or {}
        missing = [part for part in indicator.parts if given.get(part) is None]
        if missing:
            problems.append(
                (
                    _l("Give a target for the indicator “%(name)s”.", name=lazy_in_language(indicator.name_in)),
                    f"indicator_targets-{indicator.id}-{missing[0]}",
                )
            )
    requested = application.requested_cents
    if requested <= 0:
        problems.append((_l("Request an amount from the fund."), "budget"))
    if call.exceeds_cap(requested):
        problems.append(
            (_l("The total requested is above the call’s cap of %(cap)s.", cap=format_eur(call.cap_cents)), "budget")
        )
    if call.min_grant_cents and 0 < requested < call.min_grant_cents:
        problems.append(
            (
                _l("The total requested is below the call’s minimum of %(min)s.", min=format_eur(call.min_grant_cents)),
                "budget",
            )
        )
    share = application.cofunding_share
    if call.min_cofunding_pct is not None and requested > 0 and (share or 0) < call.min_cofunding_pct:
        problems.append(
            (
                _l(
                    "Co-funding must be at least %(pct)s%% of the project cost.",
                    pct=lazy_decimal(call.min_cofunding_pct),
                ),
                "budget",
            )
        )
    uploaded = {d.requirement for d in application.documents}
    for requirement in call.required_documents:
        if requirement not in uploaded:
            problems.append(
                (_l("Attach: %(document)s.", document=lazy_in_language(call.document_name, requirement)), "documents")
            )
    for reason in call.ineligibility_reasons(application.member):
        problems.append((reason, None))
    for partner in application.partners:
        for reason in call.partner_ineligibility_reasons(partner.member):
            problems.append((reason, "partners"))
    # A city that said no cannot be named as a partner, whatever the call asks of partners.
    declined = [p.member.name for p in application.partners if p.is_declined]
    if declined and not call.partners_must_confirm:
        problems.append(
            (
                _l(
                    "%(cities)s declined to take part: remove it from the partners, or name another city.",
                    cities=", ".join(declined),
                ),
                "partners",
            )
        )
    if call.partners_must_confirm:
        waiting = [p.member.name for p in application.partners if not (p.is_confirmed or p.is_declined)]
        if waiting:
            problems.append(
                (
                    _l(
                        "Every partner city must confirm its part before you submit. Still to confirm: %(cities)s.",
                        cities=", ".join(waiting),
                    ),
                    "partners",
                )
            )
        if declined:
            problems.append(
                (
                    _l(
                        "Every partner city must confirm its part before you submit. Declined: %(cities)s; "
                        "remove it from the partners, or name another city.",
                        cities=", ".join(declined),
                    ),
                    "partners",
                )
            )
    return problems


def submit(application, *, actor, now=None):
    """Send the application (or, after a request for more information, send the changes)."""
    now = now or utcnow()
    if not application.is_lead_user(actor):
        raise Refused(_l("Only a focal point of the lead city can submit."))
    # Lock the call: numbers are given in order and the deadline is checked under the lock.
    call = db.session.scalar(
        sa.select(Call)
        .where(Call.id == application.call_id)
        .with_for_update()
        .execution_options(populate_existing=True)  # the cap and lock as they are now, not as loaded
    )
    # And the application, as it is now: a second click waits for the first, then finds it sent.
    db.session.execute(
        sa.select(Application)
        .where(Application.id == application.id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    ).scalar_one()
    resubmission = APPLICATION_WORKFLOW.can(application.state, "resubmit", {"applicant"})
    if not resubmission and not call.accepts_submissions(now):
        raise Refused(
            _l(
                "The call closed on %(when)s; applications can no longer be submitted.",
                when=lazy_deadline(call.closes_at, call.timezone),
            )
        )
    problems = submission_problems(application)
    if problems:
        raise Refused(_l("The application is not complete yet."), errors=problems)
    application.cap_cents = call.cap_cents  # read under the lock; fixed from this submission on
    try:
        APPLICATION_WORKFLOW.apply(
            application,
            "resubmit" if resubmission else "submit",
            actor,
            summary=f"{application.member.name}: application to {call.code} sent",
        )
    except TransitionError as error:
        raise Refused(str(error)) from None
    if application.reference is None:
        last = db.session.scalar(sa.select(sa.func.max(Application.number)).where(Application.call_id == call.id))
        application.number = (last or 0) + 1
        application.reference = f"IFM-{call.code}-{application.number:03d}"
        application.first_submitted_at = now
    application.submitted_at = now
    application.more_info_sections = []
    application.updated_at = now
    application.updated_by_id = actor.id
    submission = Submission(
        application=application,
        version_no=len(application.submissions) + 1,
        submitted_at=now,
        submitted_by_id=actor.id,
        data=snapshot(application),
    )
    db.session.add(submission)
    calls_ops.lock_for_submissions(call)
    db.session.flush()
    enqueue("applications.send_receipt", submission_id=submission.id, dedupe_key=f"receipt:{submission.id}")
    done()
    return submission


@job("applications.send_receipt", label=_l("Send a submission receipt"))
def send_receipt(submission_id):
    """Render the PDF copy once, keep it, and e-mail it to the person who submitted."""
    submission = db.session.get(Submission, submission_id)
    application = submission.application
    if submission.receipt_document_id is None:
        with force_locale(application.language):
            data = application_pdf(submission.data, application.language, submission.version_no)
        document = generated_document(f"{application.reference}-v{submission.version_no}.pdf", data)
        db.session.add(document)
        submission.receipt_document = document
        db.session.flush()
    user = submission.submitted_by
    queue_mail(
        user.email,
        "application_receipt",
        language=user.language,
        reader_timezone=user.timezone,
        to_name=user.name,
        attachments=[submission.receipt_document],
        dedupe_key=f"receipt:{submission.id}",
        reference=application.reference,
        city=application.member.name,
        title=application.title,
        requested=submission.data["requested_cents"],
        version_no=submission.version_no,
        link=external_url("applications.view", application_id=application.id),
    )
    done()


# -- after submission -----------------------------------------------------------------------------


def _tell_city(application, template, **context):
    users = focal_points(application.member_id)
    for user in users:
        queue_mail(
            user.email,
            template,
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            reference=application.reference,
            title=application.title,
            city=application.member.name,
            link=external_url("applications.view", application_id=application.id),
            **context,
        )


def withdraw(application, *, actor, reason):
    """The city withdraws its application: only before a decision (the workflow has no withdraw
    from a decided state; after an award the city declines the grant instead)."""
    if not application.is_lead_user(actor):
        raise Refused(_l("Only a focal point of the lead city can withdraw the application."))
    # A decision being recorded at this moment holds this row (awards.decide locks it): wait for
    # it and read the state it left, so that a decided application is never withdrawn.
    db.session.execute(
        sa.select(Application)
        .where(Application.id == application.id)
        .with_for_update(of=Application)
        .execution_options(populate_existing=True)
    ).scalar_one()
    if not APPLICATION_WORKFLOW.can(application.state, "withdraw", {"applicant"}):
        # Said in the city's terms: a decision whose letter has not gone out stays unnamed.
        raise Refused(
            _l("This application can no longer be withdrawn: it is “%(state)s”.", state=application.applicant_label),
            field="reason",
        )
    try:
        APPLICATION_WORKFLOW.apply(
            application, "withdraw", actor, reason=reason, summary=f"{application.member.name} withdrew {application}"
        )
    except TransitionError as error:
        raise Refused(str(error), field="reason") from None
    application.withdrawn_reason = reason.strip()
    application.updated_at = utcnow()
    done()


# The city has at most this long to send what staff ask for; it is reminded shortly before.
MORE_INFO_MAX_DAYS = 90
MORE_INFO_REMIND_DAYS = 3
MORE_INFO_REMIND_AT = time(9, 0)  # the reminder goes out at 09:00 in the call's timezone


def reply_date_problem(application, reply_by, now=None):
    """Why `reply_by` cannot be the city's reply date (a message), or None.

    The date is a day in the call's timezone, after today and at most MORE_INFO_MAX_DAYS ahead.
    """
    today = application.call_today(now)
    latest = today + timedelta(days=MORE_INFO_MAX_DAYS)
    if reply_by is None:
        return _l("Give the date by which the city should reply.")
    if reply_by <= today:
        return _l(
            "The reply date must be after today (%(today)s, %(timezone)s).",
            today=lazy_day(today),
            timezone=application.call.timezone,
        )
    if reply_by > latest:
        return _l(
            "The reply date can be at most %(days)d days ahead (%(latest)s at the latest).",
            days=MORE_INFO_MAX_DAYS,
            latest=lazy_day(latest),
        )
    return None


def screen(application, action, *, actor, reason=None, sections=(), reply_by=None):
    """Staff screening: eligible, ineligible (reason shown to the city), or more information by a date."""
    if action not in ("mark_eligible", "mark_ineligible", "request_info"):
        raise Refused(_l("Unknown screening decision."))
    if action == "request_info":
        problems = []
        if not sections:
            problems.append((_l("Tick the parts the city may change."), "sections"))
        date_problem = reply_date_problem(application, reply_by)
        if date_problem:
            problems.append((date_problem, "reply_by"))
        if problems:
            raise Refused(problems[0][0], field=problems[0][1], errors=problems)
    try:
        APPLICATION_WORKFLOW.apply(application, action, actor, reason=reason, summary=f"{application}: {action}")
    except TransitionError as error:
        raise Refused(str(error), field="reason") from None
    if action == "mark_ineligible":
        application.ineligible_reason = reason.strip()
        _tell_city(application, "application_ineligible", reason=application.ineligible_reason)
    elif action == "request_info":
        application.more_info_message = reason.strip()
        application.more_info_sections = list(sections)
        application.more_info_reply_by = reply_by
        audit.record(
            "application.more_info_reply_by",
            application,
            after={"reply_by": reply_by, "sections": list(sections)},
            actor=actor,
            summary=f"{application}: the city is asked to reply by {reply_by.isoformat()}",
        )
        _tell_city(
            application,
            "application_more_info",
            message=application.more_info_message,
            # The parts reopened, named in each reader's language when the mail is written.
            sections=[SECTIONS[s] for s in application.more_info_sections or () if s in SECTIONS],
            reply_by=reply_by,
            timezone=application.call.timezone,
        )
        _schedule_more_info_reminder(application)
    done()


def _schedule_more_info_reminder(application):
    """A reminder MORE_INFO_REMIND_DAYS before the reply date, or at once when that is past."""
    tz = application.call.timezone
    remind_on = application.more_info_reply_by - timedelta(days=MORE_INFO_REMIND_DAYS)
    run_at = from_local(datetime.combine(remind_on, MORE_INFO_REMIND_AT), tz)
    request_no = application.more_info_request_no
    enqueue(
        "applications.remind_more_info",
        application_id=application.id,
        request_no=request_no,
        run_at=run_at if run_at > utcnow() else None,
        dedupe_key=f"more-info-reminder:{application.id}:{request_no}",
    )


@job("applications.remind_more_info", label=_l("Remind a city of the information asked"))
def remind_more_info(application_id, request_no):
    """Remind the city's focal points of the reply date, only while that request is still unanswered."""
    application = db.session.get(Application, application_id)
    if (
        application is None
        or not application.awaiting_more_info
        or application.more_info_request_no != request_no
        or application.more_info_reply_by is None
    ):
        return "nothing to remind"
    for user in focal_points(application.member_id):
        queue_mail(
            user.email,
            "application_more_info_reminder",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"more-info-reminder:{application.id}:{request_no}:{user.id}",
            reference=application.reference,
            title=application.title,
            city=application.member.name,
            message=application.more_info_message,
            reply_by=application.more_info_reply_by,
            timezone=application.call.timezone,
            link=external_url("applications.view", application_id=application.id),
        )
    done()
    return "reminded"


def close_unanswered(application, *, actor, reason):
    """Staff close an application that waits for more information as ineligible, with a reason.

    After the reply date this is the usual end of an unanswered request; before it, staff may do
    the same (the reason says why). The reason is the ineligible reason the city reads.
    """
    passed = application.reply_date_passed()
    reply_by = application.more_info_reply_by
    when = reply_by.isoformat() if reply_by else "—"
    try:
        APPLICATION_WORKFLOW.apply(
            application,
            "close_unanswered",
            actor,
            reason=reason,
            summary=f"{application}: closed as ineligible "
            + (f"after the reply date {when}" if passed else f"before the reply date {when}"),
        )
    except TransitionError as error:
        raise Refused(str(error), field="reason") from None
    application.return_state = None
    application.ineligible_reason = reason.strip()
    application.updated_at = utcnow()
    _tell_city(application, "application_ineligible", reason=application.ineligible_reason)
    done()


def _cannot_screen(application, action):
    """Why a batch stops at `application`: it is not in a state this screening decision leaves."""
    if action == "mark_eligible":
        return _l(
            "%(reference)s is “%(state)s”: only a submitted application can be marked eligible. Nothing was recorded.",
            reference=application.reference,
            state=application.staff_label,
        )
    return _l(
        "%(reference)s is “%(state)s”: only a submitted application can be marked ineligible. Nothing was recorded.",
        reference=application.reference,
        state=application.staff_label,
    )


def screen_batch(call, applications, action, *, actor, reason=None):
    """Staff mark several sent applications of `call` eligible or ineligible (one reason for all) in
    one transaction: all of them, or none (the refusal names the application it stopped at)."""
    if action not in ("mark_eligible", "mark_ineligible"):
        raise Refused(_l("Unknown screening decision."))
    if not applications:
        raise Refused(_l("Tick the applications to act on."), field="application")
    reason = (reason or "").strip()
    if action == "mark_ineligible" and not reason:
        raise Refused(_l("Give the reason the cities will read. Nothing was recorded."), field="reason")
    with boundary():  # one transaction, also when called outside a request
        for application in applications:
            if application.call_id != call.id:
                raise Refused(
                    _l(
                        "%(reference)s is not an application of this call. Nothing was recorded.",
                        reference=application.reference,
                    )
                )
            if not APPLICATION_WORKFLOW.can(application.state, action, actor.role_names()):
                raise Refused(_cannot_screen(application, action))
            try:
                screen(application, action, actor=actor, reason=reason or None)
            except Refused as refusal:
                raise Refused(
                    _l(
                        "%(reference)s: %(reason)s Nothing was recorded.",
                        reference=application.reference,
                        reason=refusal.message,
                    ),
                    field=refusal.field,
                ) from None
        done()
    return len(applications)


# -- messages between the city and the programme team ---------------------------------------------


def post_message(application, *, actor, body):
    """A message in the application's thread, from its city to the programme team or from staff to
    the city; the other side is told by e-mail, each in their own language and on their own clock."""
    if not application.can_discuss(actor):
        raise Refused(_l("Only the city’s focal points and the programme team write on this application."))
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n")  # kept as typed, one kind of line break
    if not body.strip():
        raise Refused(_l("Write your message."), field="body")
    if len(body) > MESSAGE_MAX_LENGTH:
        raise Refused(
            _l(
                "A message has at most %(max)s characters; this one has %(n)s.",
                max=lazy_count(MESSAGE_MAX_LENGTH),
                n=lazy_count(len(body)),
            ),
            field="body",
        )
    from_staff = not application.is_lead_user(actor)
    message = ApplicationMessage(
        application=application, author_id=actor.id, from_staff=from_staff, body=body, created_at=utcnow()
    )
    db.session.add(message)
    db.session.flush()
    side = "the programme team" if from_staff else application.member.name
    audit.record(
        "application.message",
        application,
        after={"message": message.id, "from_staff": from_staff, "body": body},
        actor=actor,
        summary=f"{application}: message from {side}",
    )
    if from_staff:
        recipients, endpoint = focal_points(application.member_id), "applications.view"
    else:
        recipients, endpoint = staff_users(), "applications.staff_detail"
    for user in recipients:
        if user.id == actor.id:
            continue
        queue_mail(
            user.email,
            "application_message",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"message:{message.id}:{user.id}",
            reference=application.reference,
            title=application.title,
            city=application.member.name,
            author=actor.name,
            from_staff=from_staff,
            written_at=message.created_at,
            body=body,
            link=external_url(endpoint, application_id=application.id) + "#messages",
        )
    done()
    return message
