"""Every change to calls: save, criteria, funding, duplicate, publish, close, and notifications."""

import re
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa
from blinker import Namespace
from dateutil.relativedelta import relativedelta
from flask import current_app

from ..accounts.models import RoleGrant, User
from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.errors import Refused
from ..core.i18n import lazy_day
from ..core.jobs import enqueue, job
from ..core.mail import queue_mail
from ..core.money import format_eur
from ..core.notices import add_notice, in_language, notice_text, withdraw_notices
from ..core.states import TransitionError
from ..core.timeutil import in_zone, is_valid_timezone, utcnow
from ..core.transactions import done
from ..core.urls import external_url
from ..extensions import db
from ..funding import ledger
from ..funding.models import Contribution
from ..members.models import MEMBERSHIPS, REGIONS, Member
from .models import (
    CALL_WORKFLOW,
    DUE_MODES,
    FUND_MAX_GRANT_CENTS,
    LANGUAGES,
    MAX_FINAL_MONTHS,
    TRANCHE_CONDITIONS,
    UNIT_MAX,
    Call,
    CallIndicator,
    Criterion,
    ReportStep,
    default_report_steps,
)

signals = Namespace()
# Sent when staff change the cap of a call no application has been submitted to (it is locked after).
cap_changed_signal = signals.signal("calls.cap-changed")

CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,28}[A-Z0-9]$")
CALL_FIELDS = [
    "code",
    "theme",
    "title",
    "summary",
    "body",
    "contact_email",
    "opens_at",
    "closes_at",
    "timezone",
    "cap_cents",
    "min_grant_cents",
    "duration_min_months",
    "duration_max_months",
    "min_cofunding_pct",
    "eligible_memberships",
    "eligible_regions",
    "dues_required",
    "one_application_per_lead",
    "partners_allowed",
    "partners_must_confirm",
    "partners_dues_required",
    "required_documents",
    "theme_translations",
    "document_translations",
    "overall_threshold",
    "reviewers_per_application",
    "conflict_same_country",
    "reviewers_see_others",
    "disagreement_threshold",
    "review_due_at",
    "project_start_earliest",
    "project_start_latest",
    "tranche_schedule",
]
# Fixed once an application is submitted: {column: (form field, what staff read)}.
LOCKED_FIELDS = {"cap_cents": ("cap", _l("The grant cap"))}
CRITERION_FIELDS = ["position", "name", "guidance", "weight", "scale_min", "scale_max", "scale_step", "threshold"]


notice_text("call_published", _l("A new call is open: %(title)s."))


def _refuse_if_not_editable(call):
    if not call.is_editable:
        raise Refused(_l("A call that is “%(state)s” can no longer be edited.", state=call.staff_label))


def _locked_message(call, what):
    return _l(
        "%(what)s cannot change: applications have been submitted to this call since %(date)s.",
        what=what,
        date=lazy_day(call.locked_at),
    )


def _check_texts(values):
    """[(message, field)]: a language given in part, or none given in full."""
    complete, problems = [], []
    for code in LANGUAGES:
        parts = [(values[f].get(code) or "").strip() for f in ("title", "summary", "body")]
        if any(parts) and not all(parts):
            problems.append(
                (
                    _l("Give the title, summary and full text in this language, or leave all three empty."),
                    f"{'title' if not parts[0] else 'summary' if not parts[1] else 'body'}_{code}",
                )
            )
        if all(parts):
            complete.append(code)
    if not complete and not problems:
        problems.append((_l("Write the call in at least one language: title, summary and full text."), "title_en"))
    return problems


def fund_max_grant_cents():
    """The fund's largest grant (the setting), never above what the database CHECK allows."""
    return min(current_app.config["FUND_MAX_GRANT_CENTS"], FUND_MAX_GRANT_CENTS)


def fund_maximum_message():
    return _l(
        "The fund’s largest grant is %(max)s: a call’s cap cannot be above it.", max=format_eur(fund_max_grant_cents())
    )


def _clean_call(values, call):
    """The call's values made clean, or Refused naming every problem at once (each beside its
    field), not one per save."""
    values = dict(values)
    problems = []

    def problem(message, field):
        problems.append((message, field))

    values["code"] = (values.get("code") or "").strip().upper()
    if not CODE_RE.match(values["code"]):
        problem(_l("Use 3 to 30 capital letters, digits and hyphens, such as LCS-2025."), "code")
    else:
        taken = sa.select(Call.id).where(Call.code == values["code"])
        if call is not None:
            taken = taken.where(Call.id != call.id)
        if db.session.scalar(taken) is not None:
            problem(_l("Another call already uses this code."), "code")
    values["theme"] = (values.get("theme") or "").strip()
    if not values["theme"]:
        problem(_l("The theme is required."), "theme")
    for f in ("title", "summary", "body"):
        values[f] = {
            code: (values[f].get(code) or "").strip() for code in LANGUAGES if (values[f].get(code) or "").strip()
        }
    problems.extend(_check_texts({f: values[f] for f in ("title", "summary", "body")}))
    zone_ok = is_valid_timezone(values.get("timezone") or "")
    if not zone_ok:
        problem(_l("Choose a timezone from the list."), "timezone")
    if values["opens_at"] is None:
        problem(_l("The opening date and time are required."), "opens_at")
    if values["closes_at"] is None:
        problem(_l("The closing date and time are required."), "closes_at")
    elif values["opens_at"] is not None and values["closes_at"] <= values["opens_at"]:
        problem(_l("The call must close after it opens."), "closes_at")
    cap = values.get("cap_cents")
    if not cap or cap <= 0:
        problem(_l("The grant cap must be more than zero."), "cap")
    elif cap > fund_max_grant_cents():
        problem(fund_maximum_message(), "cap")
    if values.get("min_grant_cents") is not None:
        if values["min_grant_cents"] <= 0:
            values["min_grant_cents"] = None
        elif cap and values["min_grant_cents"] > cap:
            problem(_l("The minimum grant cannot be above the cap."), "min_grant")
    dmin, dmax = values.get("duration_min_months"), values.get("duration_max_months")
    if not dmin or dmin <= 0:
        problem(_l("The shortest project must last at least one month."), "duration_min_months")
    if not dmax or (dmin and dmax < dmin):
        problem(_l("The longest duration cannot be shorter than the shortest."), "duration_max_months")
    share = values.get("min_cofunding_pct")
    if share is not None and not (Decimal(0) <= share < Decimal(100)):
        problem(_l("The co-funding share is a percentage from 0 to below 100."), "min_cofunding_pct")
    if not values.get("eligible_memberships") or set(values["eligible_memberships"]) - set(MEMBERSHIPS):
        problem(_l("Choose which kinds of members may apply."), "eligible_memberships")
    if set(values.get("eligible_regions") or []) - set(REGIONS):
        problem(_l("Unknown region."), "eligible_regions")
    values["required_documents"] = [d.strip() for d in values.get("required_documents") or [] if d.strip()]
    values["theme_translations"] = {
        code: text.strip() for code, text in (values.get("theme_translations") or {}).items() if (text or "").strip()
    }
    for code, text in values["theme_translations"].items():
        if len(text) > 100:
            problem(_l("The theme is longer than 100 characters."), f"theme_{code}")
    translated = {}
    for code, names in (values.get("document_translations") or {}).items():
        names = [n.strip() for n in names or [] if n.strip()]
        if names and len(names) != len(values["required_documents"]):
            problem(
                _l(
                    "Give the documents in the same order as in English, one per line: %(n)d lines.",
                    n=len(values["required_documents"]),
                ),
                f"required_documents_{code}",
            )
        elif names:
            translated[code] = names
    values["document_translations"] = translated
    threshold = values.get("overall_threshold")
    if threshold is not None and not (Decimal(0) <= threshold <= Decimal(100)):
        problem(_l("The overall threshold is a score from 0 to 100."), "overall_threshold")
    reviewers = values.get("reviewers_per_application")
    if not reviewers or not 1 <= reviewers <= 20:
        problem(_l("Each application needs between 1 and 20 reviewers."), "reviewers_per_application")
    values.setdefault("partners_must_confirm", False)
    values.setdefault("partners_dues_required", False)
    values.setdefault("conflict_same_country", False)
    values.setdefault("reviewers_see_others", True)
    values.setdefault("review_due_at", None)
    try:
        values["tranche_schedule"] = _clean_schedule(values.get("tranche_schedule"))
    except Refused as refusal:
        problem(refusal.message, refusal.field or "tranche_schedule")
    values.setdefault("project_start_earliest", None)
    values.setdefault("project_start_latest", None)
    earliest, latest = values["project_start_earliest"], values["project_start_latest"]
    if earliest and latest and latest < earliest:
        problem(_l("The latest start cannot be before the earliest."), "project_start_latest")
    elif latest and values["closes_at"] is not None and zone_ok:
        closing_day = in_zone(values["closes_at"], values["timezone"]).date()
        if latest < closing_day:
            # Every project would have to start before the city could even apply.
            problem(
                _l(
                    "The latest start cannot be before the call closes (%(date)s): no project could start in time.",
                    date=lazy_day(closing_day),
                ),
                "project_start_latest",
            )
    if values.get("disagreement_threshold") is None:
        values["disagreement_threshold"] = Decimal(20)
    if not (Decimal(0) <= values["disagreement_threshold"] <= Decimal(100)):
        problem(_l("The disagreement threshold is a number of points from 0 to 100."), "disagreement_threshold")
    if (
        values["review_due_at"] is not None
        and values["closes_at"] is not None
        and values["review_due_at"] <= values["closes_at"]
    ):
        problem(_l("Reviews are due after the call closes."), "review_due_at")
    values["contact_email"] = (values.get("contact_email") or "").strip().lower()
    if "@" not in values["contact_email"]:
        problem(_l("Give the address applicants can write to."), "contact_email")
    if problems:
        raise Refused(problems[0][0], field=problems[0][1], errors=problems)
    return values


def call_problems(call, values):
    """[(message, field)] the rules find in a call's values, without saving anything: the form asks
    when its own fields were refused too, so that one save marks every problem."""
    try:
        _clean_call(values, call)
    except Refused as refusal:
        return refusal.problems
    return []


def parse_schedule(text):
    """ "acceptance:40, interim_report:40, final_report:20" -> [["acceptance", 40], ...] (empty: default)."""
    schedule = []
    for part in (text or "").replace(";", ",").split(","):
        if not part.strip():
            continue
        condition, _sep, percent = part.partition(":")
        try:
            schedule.append([condition.strip(), int(percent.strip())])
        except ValueError:
            raise Refused(
                _l("Write each tranche as condition:percent, such as acceptance:40."), field="tranche_schedule"
            ) from None
    return schedule


def _clean_schedule(schedule):
    schedule = [list(item) for item in (schedule or [])]
    if not schedule:
        return []
    if any(condition not in TRANCHE_CONDITIONS for condition, _p in schedule):
        raise Refused(_l("Tranches are paid on acceptance, interim_report or final_report."), field="tranche_schedule")
    if any(percent <= 0 for _c, percent in schedule) or sum(p for _c, p in schedule) != 100:
        raise Refused(_l("The tranches' percentages must be positive and add up to 100."), field="tranche_schedule")
    if len({c for c, _p in schedule}) != len(schedule):
        raise Refused(_l("Each condition pays one tranche."), field="tranche_schedule")
    return schedule


def _apply_funding(call, funding, values):
    """Set the envelope from {contribution_id: cents}: the call's rules here (restrictions of theme
    and region, the cap within the envelope), the money's in funding.ledger.set_envelope."""
    funding = {cid: cents for cid, cents in funding.items() if cents}
    contributions = {
        c.id: c for c in db.session.scalars(sa.select(Contribution).where(Contribution.id.in_(list(funding) or [-1])))
    }
    for cid in funding:
        contribution = contributions.get(cid)
        if contribution is None:
            raise Refused(_l("Unknown contribution."), field="envelope")
        if contribution.restriction_theme and contribution.restriction_theme.strip().lower() != values["theme"].lower():
            raise Refused(
                _l("This contribution is restricted to the theme “%(theme)s”.", theme=contribution.restriction_theme),
                field=f"fund_{cid}",
            )
        if contribution.restriction_region and (
            not values["eligible_regions"] or set(values["eligible_regions"]) != {contribution.restriction_region}
        ):
            raise Refused(
                _l(
                    "This contribution is restricted to %(region)s: open the call to that region only.",
                    region=REGIONS.get(contribution.restriction_region, contribution.restriction_region),
                ),
                field=f"fund_{cid}",
            )
    envelope = sum(funding.values())
    if envelope and values["cap_cents"] > envelope:
        raise Refused(
            _l(
                "The grant cap (%(cap)s) cannot be above the envelope (%(envelope)s).",
                cap=format_eur(values["cap_cents"]),
                envelope=format_eur(envelope),
            ),
            field="cap",
        )
    ledger.set_envelope(call, funding, contributions)
    return envelope


def _funding_snapshot(call):
    return {str(f.contribution_id): f.amount_cents for f in call.funding}


def save_call(call, *, actor, values, funding):
    """Create (call=None) or edit a call. `funding`: {contribution_id: EUR cents}."""
    if call is not None:
        # Lock the call: a first submission (which locks the cap) and this edit take turns.
        db.session.execute(
            sa.select(Call).where(Call.id == call.id).with_for_update(of=Call).execution_options(populate_existing=True)
        ).scalar_one()
        _refuse_if_not_editable(call)
    values = _clean_call(values, call)
    if call is not None and call.is_locked:
        for name, (field, what) in LOCKED_FIELDS.items():
            if values[name] != getattr(call, name):
                raise Refused(_locked_message(call, what), field=field)
    cap_changed = call is not None and values["cap_cents"] != call.cap_cents
    creating = call is None
    if creating:
        call = Call(created_by_id=actor.id if actor else None, state=CALL_WORKFLOW.initial)
        call.report_steps = default_report_steps()  # staff change it on the call's page
        db.session.add(call)
    before = None if creating else {**audit.snapshot(call, CALL_FIELDS), "funding": _funding_snapshot(call)}
    with db.session.no_autoflush:
        for name in CALL_FIELDS:
            setattr(call, name, values[name])
        if creating:
            db.session.flush()
        _apply_funding(call, funding, values)
    db.session.flush()
    if cap_changed:
        # Drafts check their budget against the call's current cap: the applications feature
        # (which this one may not import) keeps its drafts in step, in this same transaction.
        cap_changed_signal.send(call, call_id=call.id, cap_cents=call.cap_cents)
    after = {**audit.snapshot(call, CALL_FIELDS), "funding": _funding_snapshot(call)}
    audit.record(
        "call.create" if creating else "call.update",
        call,
        before=before,
        after=after,
        actor=actor,
        summary=f"call {call.code} {'created' if creating else 'edited'}",
    )
    if not creating and CALL_WORKFLOW.has(call.state, "accepting"):
        _schedule_close(call)  # the closing time may have moved
    done()
    return call


def _clean_criterion(values):
    values = dict(values)
    for f in ("name", "guidance"):
        values[f] = {
            code: (values[f].get(code) or "").strip() for code in LANGUAGES if (values[f].get(code) or "").strip()
        }
    if not values["name"]:
        raise Refused(_l("Name the criterion in at least one language."), field="name_en")
    weight = values.get("weight")
    if weight is None or weight <= 0:
        raise Refused(_l("The weight must be more than zero."), field="weight")
    lo, hi, step = values.get("scale_min"), values.get("scale_max"), values.get("scale_step")
    if lo is None or hi is None or lo >= hi:
        raise Refused(_l("The top of the scale must be above its bottom."), field="scale_max")
    if step is None or step <= 0:
        raise Refused(_l("The step must be more than zero."), field="scale_step")
    if (hi - lo) % step != 0:
        raise Refused(_l("The step must divide the scale evenly (for 0 to 5: 1, 0.5 or 0.25)."), field="scale_step")
    threshold = values.get("threshold")
    if threshold is not None and not (lo <= threshold <= hi):
        raise Refused(_l("The threshold must lie on the scale."), field="threshold")
    values["position"] = values.get("position") or 0
    return values


def save_criterion(call, criterion, *, actor, values):
    _refuse_if_not_editable(call)
    if call.is_locked:
        raise Refused(_locked_message(call, _l("The criteria")))
    values = _clean_criterion(values)
    creating = criterion is None
    before = None
    if creating:
        if not values["position"]:
            values["position"] = len(call.criteria) + 1
        criterion = Criterion(**{name: values[name] for name in CRITERION_FIELDS})
        call.criteria.append(criterion)
    else:
        before = audit.snapshot(criterion, CRITERION_FIELDS)
        for name in CRITERION_FIELDS:
            setattr(criterion, name, values[name])
    db.session.flush()
    audit.record(
        "criterion.create" if creating else "criterion.update",
        criterion,
        before=before,
        after=audit.snapshot(criterion, CRITERION_FIELDS),
        actor=actor,
        summary=f"criterion of {call.code} {'added' if creating else 'edited'}",
    )
    done()
    return criterion


def delete_criterion(criterion, *, actor):
    call = criterion.call
    _refuse_if_not_editable(call)
    if call.is_locked:
        raise Refused(_locked_message(call, _l("The criteria")))
    audit.record(
        "criterion.delete",
        criterion,
        before=audit.snapshot(criterion, CRITERION_FIELDS),
        actor=actor,
        summary=f"criterion of {call.code} removed",
    )
    call.criteria.remove(criterion)
    done()


# -- the report schedule ---------------------------------------------------------------------------

STEP_FIELDS = ["kind", "due_on", "due_month", "months_after_end"]


def _refuse_if_schedule_fixed(call, what):
    _refuse_if_not_editable(call)
    if call.is_locked:
        raise Refused(_locked_message(call, what))


def _earliest_final_report(call, months_after_end):
    """The first day any final report of this call can be due: the earliest start, the shortest project."""
    earliest, _latest = call.start_window()
    return earliest + relativedelta(months=call.duration_min_months + months_after_end)


def _final_step(call):
    return next((step for step in call.report_steps if step.kind == "final"), None)


def _check_interim_date(call, due_on, months_after_end):
    earliest, _latest = call.start_window()
    if due_on < earliest:
        raise Refused(
            _l("Projects of this call start on %(date)s at the earliest: choose a later day.", date=lazy_day(earliest)),
            field="due_on",
        )
    last = _earliest_final_report(call, months_after_end)
    if due_on >= last:
        raise Refused(
            _l(
                "This report would be due after the final report, which can be due as early as %(date)s.",
                date=lazy_day(last),
            ),
            field="due_on",
        )


def save_report_step(call, step, *, actor, values):
    """Add an interim report to the call's schedule (step=None) or change a step (the final report's
    months after the project's end). values: due_mode ("half", "month", "date"), due_month, due_on,
    months_after_end."""
    _refuse_if_schedule_fixed(call, _l("The report schedule"))
    final = _final_step(call)
    final_months = final.months_after_end if final is not None else 2
    if step is not None and step.kind == "final":
        months = values.get("months_after_end")
        if months is None or not 0 <= months <= MAX_FINAL_MONTHS:
            raise Refused(
                _l("The final report is due 0 to %(max)d months after the project ends.", max=MAX_FINAL_MONTHS),
                field="months_after_end",
            )
        for other in call.report_steps:
            if other.kind == "interim" and other.due_on is not None:
                last = _earliest_final_report(call, months)
                if other.due_on >= last:
                    raise Refused(
                        _l(
                            "The interim report due on %(date)s would then be due after the final report.",
                            date=lazy_day(other.due_on),
                        ),
                        field="months_after_end",
                    )
        cleaned = {"kind": "final", "due_on": None, "due_month": None, "months_after_end": months}
    else:
        mode = values.get("due_mode")
        if mode not in DUE_MODES:
            raise Refused(_l("Choose when the report is due."), field="due_mode")
        cleaned = {"kind": "interim", "due_on": None, "due_month": None, "months_after_end": None}
        if mode == "month":
            month = values.get("due_month")
            if month is None or not 1 <= month <= call.duration_max_months:
                raise Refused(
                    _l(
                        "Projects of this call last at most %(max)d months: choose a month from 1 to %(max)d.",
                        max=call.duration_max_months,
                    ),
                    field="due_month",
                )
            cleaned["due_month"] = month
        elif mode == "date":
            if values.get("due_on") is None:
                raise Refused(_l("Give the day the report is due."), field="due_on")
            _check_interim_date(call, values["due_on"], final_months)
            cleaned["due_on"] = values["due_on"]
        # Two interim reports due at the same point would be one report asked twice.
        same = (cleaned["due_on"], cleaned["due_month"])
        if any(
            other is not step and other.kind == "interim" and (other.due_on, other.due_month) == same
            for other in call.report_steps
        ):
            raise Refused(
                _l("The schedule already has an interim report due then: choose another point."),
                field={"half": "due_mode", "month": "due_month", "date": "due_on"}[mode],
            )
    creating = step is None
    before = None if creating else audit.snapshot(step, STEP_FIELDS)
    if creating:
        step = ReportStep(**cleaned)
        call.report_steps.append(step)
    else:
        for name, value in cleaned.items():
            setattr(step, name, value)
    db.session.flush()
    audit.record(
        "report_step.create" if creating else "report_step.update",
        step,
        before=before,
        after=audit.snapshot(step, STEP_FIELDS),
        actor=actor,
        summary=f"report schedule of {call.code}: {step.kind} report {'added' if creating else 'changed'}",
    )
    done()
    return step


def delete_report_step(step, *, actor):
    call = step.call
    _refuse_if_schedule_fixed(call, _l("The report schedule"))
    if step.kind == "final":
        raise Refused(_l("Every grant ends with a final report: change its date instead."))
    audit.record(
        "report_step.delete",
        step,
        before=audit.snapshot(step, STEP_FIELDS),
        actor=actor,
        summary=f"report schedule of {call.code}: interim report removed",
    )
    call.report_steps.remove(step)
    done()


# -- indicators ------------------------------------------------------------------------------------

INDICATOR_FIELDS = ["position", "name", "unit", "by_gender"]


def save_indicator(call, indicator, *, actor, values):
    """Add (indicator=None) or change an indicator: its name in each language (English required),
    its unit, and whether it is counted by gender."""
    _refuse_if_schedule_fixed(call, _l("The indicators"))
    name = {code: (values["name"].get(code) or "").strip() for code in LANGUAGES}
    name = {code: text for code, text in name.items() if text}
    if not name.get("en"):
        raise Refused(_l("Name the indicator in English."), field="name_en")
    for code, text in name.items():
        if len(text) > 200:
            raise Refused(_l("The name is longer than 200 characters."), field=f"name_{code}")
    unit = {code: ((values.get("unit") or {}).get(code) or "").strip() for code in LANGUAGES}
    unit = {code: text for code, text in unit.items() if text}
    if not unit.get("en"):
        raise Refused(_l("Give the unit in English, such as people or hours of care."), field="unit_en")
    for code, text in unit.items():
        if len(text) > UNIT_MAX:
            raise Refused(_l("The unit is at most %(n)d characters long.", n=UNIT_MAX), field=f"unit_{code}")
    cleaned = {
        "name": name,
        "unit": unit,
        "by_gender": bool(values.get("by_gender")),
        "position": values.get("position"),
    }
    creating = indicator is None
    if not cleaned["position"]:
        cleaned["position"] = indicator.position if indicator is not None else len(call.indicators) + 1
    before = None if creating else audit.snapshot(indicator, INDICATOR_FIELDS)
    if creating:
        indicator = CallIndicator(**cleaned)
        call.indicators.append(indicator)
    else:
        for field, value in cleaned.items():
            setattr(indicator, field, value)
    db.session.flush()
    audit.record(
        "indicator.create" if creating else "indicator.update",
        indicator,
        before=before,
        after=audit.snapshot(indicator, INDICATOR_FIELDS),
        actor=actor,
        summary=f"indicator of {call.code} {'added' if creating else 'edited'}",
    )
    done()
    return indicator


def delete_indicator(indicator, *, actor):
    call = indicator.call
    _refuse_if_schedule_fixed(call, _l("The indicators"))
    audit.record(
        "indicator.delete",
        indicator,
        before=audit.snapshot(indicator, INDICATOR_FIELDS),
        actor=actor,
        summary=f"indicator of {call.code} removed",
    )
    call.indicators.remove(indicator)
    done()


def lock_for_submissions(call):
    """Called by the first submission: criteria and cap are fixed from then on (in its transaction)."""
    if call.locked_at is None:
        call.locked_at = utcnow()
        audit.record("call.lock", call, after={"locked_at": call.locked_at}, summary=f"call {call.code} locked")


def duplicate_call(call, *, actor):
    """A new draft with this call's texts, rules and criteria, a year later, and no money yet."""
    base = f"{call.code}-COPY"
    code, n = base[:30], 2
    while db.session.scalar(sa.select(Call.id).where(Call.code == code)) is not None:
        code = f"{base[:27]}-{n}"
        n += 1
    copy = Call(state=CALL_WORKFLOW.initial, created_by_id=actor.id if actor else None)
    for name in CALL_FIELDS:
        setattr(copy, name, getattr(call, name))
    copy.code = code
    year = timedelta(days=365)
    copy.opens_at, copy.closes_at = call.opens_at + year, call.closes_at + year
    copy.title = dict(call.title)
    copy.criteria = [Criterion(**{f: getattr(c, f) for f in CRITERION_FIELDS}) for c in call.criteria]
    copy.report_steps = [ReportStep(**{f: getattr(step, f) for f in STEP_FIELDS}) for step in call.report_steps]
    copy.indicators = [CallIndicator(**{f: getattr(i, f) for f in INDICATOR_FIELDS}) for i in call.indicators]
    db.session.add(copy)
    db.session.flush()
    audit.record(
        "call.duplicate",
        copy,
        after={"from": call.code, "code": copy.code},
        actor=actor,
        summary=f"call {copy.code} started from {call.code}",
    )
    done()
    return copy


def publication_problems(call, now=None):
    """What keeps the call from being published, each (message, field)."""
    now = now or utcnow()
    problems = []
    if not call.languages:
        problems.append((_l("Write the call in at least one language."), "title_en"))
    if call.closes_at <= call.opens_at:
        problems.append((_l("The call must close after it opens."), "closes_at"))
    if call.closes_at <= now:
        problems.append((_l("The closing date has already passed."), "closes_at"))
    envelope = call.envelope_cents
    if envelope <= 0:
        problems.append((_l("The envelope is not funded: set aside money from at least one contribution."), "envelope"))
    elif call.cap_cents > envelope:
        problems.append((_l("The grant cap is above the envelope."), "cap"))
    if not call.criteria:
        problems.append((_l("Add at least one criterion."), "criteria"))
    if any(c.weight is None or c.weight <= 0 for c in call.criteria):
        problems.append((_l("Every criterion needs a weight above zero."), "criteria"))
    return problems


def _schedule_close(call):
    enqueue(
        "calls.close_at_deadline",
        call_id=call.id,
        run_at=call.closes_at,
        dedupe_key=f"call-close:{call.id}:{call.closes_at.isoformat()}",
    )


def publish_call(call, *, actor):
    problems = publication_problems(call)
    if problems:
        raise Refused(_l("The call cannot be published yet."), errors=problems)
    try:
        CALL_WORKFLOW.apply(call, "publish", actor, summary=f"call {call.code} published")
    except TransitionError as error:
        raise Refused(str(error)) from None
    call.published_at = call.published_at or utcnow()
    _schedule_close(call)
    enqueue("calls.notify_published", call_id=call.id, dedupe_key=f"call-published:{call.id}")
    done()
    return call


def change_state(call, action, *, actor, reason=None):
    """Any other move in the call's table (close now, back to draft, review, decide, archive)."""
    if action == "publish":
        return publish_call(call, actor=actor)
    if action == "unpublish" and call.is_locked:
        raise Refused(_l("Applications have been submitted: the call cannot go back to draft."))
    try:
        CALL_WORKFLOW.apply(call, action, actor, reason=reason, summary=f"call {call.code}: {action}")
    except TransitionError as error:
        raise Refused(str(error)) from None
    if action == "unpublish":
        call.published_at = None
    if not CALL_WORKFLOW.has(call.state, "accepting"):
        withdraw_notices(f"call-published:{call.id}:")  # "a new call is open" no longer holds
    done()
    return call


def give_back_envelope(call, *, actor, reason):
    """Give back to the donors' contributions what no grant holds of a decided call's envelope:
    each line is lowered to what its grants hold, so other calls can be funded from the rest.
    Nothing moves in the ledger (no grant's money changes) and no past report changes; money a
    grant returns later (declined, cancelled, closed) comes back to the line and may be given back
    in its turn. {contribution id: cents given back}."""
    reason = (reason or "").strip()
    if not call.is_settled:
        raise Refused(
            _l(
                "Only a decided call gives back its envelope: while it is “%(state)s”, awards may still need the money.",
                state=call.staff_label,
            )
        )
    if not reason:
        raise Refused(_l("Say why: the audit log keeps it."), field="reason")
    before = _funding_snapshot(call)
    given = ledger.give_back_unheld(call.id)
    if not given:
        raise Refused(_l("Nothing is left to give back: grants hold the whole envelope."))
    db.session.flush()
    audit.record(
        "call.give_back",
        call,
        before={"funding": before},
        after={
            "funding": _funding_snapshot(call),
            "given_back": {str(k): v for k, v in given.items()},
            "reason": reason,
        },
        actor=actor,
        summary=f"call {call.code}: {format_eur(sum(given.values()))} given back to the donors' contributions",
    )
    done()
    return given


@job("calls.close_at_deadline", label=_l("Close a call at its deadline"))
def close_at_deadline(call_id):
    """Close a published call once its closing instant has passed (a rerun, or an early run, does nothing)."""
    call = db.session.get(Call, call_id)
    if call is None or not CALL_WORKFLOW.has(call.state, "accepting") or utcnow() < call.closes_at:
        return "nothing to do"
    CALL_WORKFLOW.apply(call, "close", None, reason="closing time reached", summary=f"call {call.code} closed")
    withdraw_notices(f"call-published:{call.id}:")
    done()
    return "closed"


def eligible_recipients(call):
    """Active focal points of the members that may apply to this call."""
    return db.session.scalars(
        sa.select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(RoleGrant.role == "applicant", User.active.is_(True), call.eligible_member_filter(Member))
        .order_by(User.id)
    ).all()


@job("calls.notify_published", label=_l("Tell the cities a call is published"))
def notify_published(call_id):
    """One e-mail (in each person's language) and one home-page notice per eligible focal point."""
    call = db.session.get(Call, call_id)
    if call is None or not call.is_public:
        return 0
    link = external_url("calls.public_detail", code=call.code)
    recipients = eligible_recipients(call)
    for user in recipients:
        title = call.title_in(user.language)
        queue_mail(
            user.email,
            "call_published",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"call-published:{call.id}:{user.id}",
            call_title=title,
            link=link,
            closes_at=call.closes_at,
            timezone=call.timezone,
            cap=call.cap_cents,
            city=user.member.name,
        )
        add_notice(
            user,
            "call_published",
            params={"title": in_language({language: call.title_in(language) for language in LANGUAGES})},
            link=link,
            dedupe_key=f"call-published:{call.id}:{user.id}",
        )
    done()
    return len(recipients)


def default_call_values():
    """A new call's form starts from the fund's defaults."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    return dict(
        conflict_same_country=False,
        reviewers_see_others=True,
        disagreement_threshold=Decimal(20),
        review_due_at=None,
        project_start_earliest=None,
        project_start_latest=None,
        timezone=current_app.config["FUND_TIMEZONE"],
        cap_cents=current_app.config["DEFAULT_GRANT_CAP_CENTS"],
        opens_at=now + timedelta(days=1),
        closes_at=now + timedelta(days=61),
        duration_min_months=6,
        duration_max_months=24,
        eligible_memberships=["full"],
        eligible_regions=[],
        dues_required=True,
        one_application_per_lead=True,
        partners_allowed=True,
        reviewers_per_application=3,
    )
