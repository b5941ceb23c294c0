from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from ..core.errors import Refused
from ..core.forms import act
from ..core.inputs import page_number
from ..core.kept import kept_form_saved
from ..core.money import format_eur
from ..core.permissions import get_visible_or_404, staff_required
from ..core.timeutil import from_local, to_local_naive, utcnow
from ..core.urls import external_url
from ..extensions import db
from ..funding.queries import contributions_with_allocation
from . import operations
from .feeds import atom_feed, deadline_ics
from .forms import (
    LANGUAGE_LABELS,
    CriterionForm,
    FinalReportForm,
    GiveBackForm,
    IndicatorForm,
    ReportStepForm,
    StateForm,
    call_form_class,
)
from .models import CALL_WORKFLOW, LANGUAGES, Call, CallIndicator, Criterion, ReportStep, ordered_steps
from .queries import city_application, public_calls, published_calls, staff_calls_page

TRANSLATED = [c for c in LANGUAGES if c != "en"]  # the English theme and documents are the keys

bp = Blueprint("calls", __name__)


# -- public pages ------------------------------------------------------------------------------


def _public_call_or_404(code):
    call = db.session.scalar(db.select(Call).where(Call.code == code.upper()))
    if call is None or not call.is_public:
        abort(404)
    return call


@bp.route("/calls/")
def public_index():
    now = utcnow()
    calls = public_calls(now)
    open_calls = [c for c in calls if c.accepts_submissions(now)]
    upcoming = [c for c in calls if c.is_upcoming(now)]
    return render_template(
        "calls/public_index.html", open_calls=open_calls, upcoming=upcoming, language=str(get_locale()), now=now
    )


@bp.route("/calls/<code>")
def public_detail(code):
    call = _public_call_or_404(code)
    member = current_user.member if current_user.is_authenticated and current_user.has_role("applicant") else None
    return render_template(
        "calls/public_detail.html",
        call=call,
        language=str(get_locale()),
        now=utcnow(),
        preview=False,
        mine=city_application(call, member),  # the city's application to it: continue it, not start another
    )


@bp.route("/calls/feed.atom")
def feed():
    data = atom_feed(published_calls(), str(get_locale()))
    return Response(data, mimetype="application/atom+xml")


@bp.route("/calls/<code>/deadline.ics")
def deadline(code):
    call = _public_call_or_404(code)
    data = deadline_ics(call, str(get_locale()), external_url("calls.public_detail", code=call.code))
    return Response(
        data,
        mimetype="text/calendar",
        headers={"Content-Disposition": f"attachment; filename={call.code.lower()}-deadline.ics"},
    )


# -- staff pages -------------------------------------------------------------------------------


@bp.route("/staff/calls")
@staff_required
def staff_index():
    state = request.args.get("state", "")
    state = state if state in CALL_WORKFLOW.state_names() else ""
    page, envelopes, applications = staff_calls_page(
        state=state, page=request.args.get("page", 1, type=page_number), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "calls/staff_index.html",
        page=page,
        envelopes=envelopes,
        applications=applications,
        state=state,
        workflow=CALL_WORKFLOW,
    )


def _form_for(call):
    rows = contributions_with_allocation()
    own = {f.contribution_id: f.amount_cents for f in call.funding} if call is not None else {}
    form_class = call_form_class([c for c, _a in rows])
    if call is None:
        defaults = operations.default_call_values()
        obj_data = dict(defaults)
    else:
        obj_data = {name: getattr(call, name) for name in operations.CALL_FIELDS}
    tz = obj_data["timezone"]
    data = {
        "code": obj_data.get("code"),
        "theme": obj_data.get("theme"),
        "contact_email": obj_data.get("contact_email"),
        "opens_at": to_local_naive(obj_data["opens_at"], tz),
        "closes_at": to_local_naive(obj_data["closes_at"], tz),
        "timezone": tz,
        "cap": obj_data["cap_cents"],
        "min_grant": obj_data.get("min_grant_cents"),
        "duration_min_months": obj_data["duration_min_months"],
        "duration_max_months": obj_data["duration_max_months"],
        "min_cofunding_pct": obj_data.get("min_cofunding_pct"),
        "eligible_memberships": obj_data["eligible_memberships"],
        "eligible_regions": obj_data["eligible_regions"],
        "dues_required": obj_data["dues_required"],
        "one_application_per_lead": obj_data["one_application_per_lead"],
        "partners_allowed": obj_data["partners_allowed"],
        "partners_must_confirm": obj_data.get("partners_must_confirm", False),
        "partners_dues_required": obj_data.get("partners_dues_required", False),
        "required_documents": "\n".join(obj_data.get("required_documents") or []),
        "overall_threshold": obj_data.get("overall_threshold"),
        "reviewers_per_application": obj_data["reviewers_per_application"],
        "conflict_same_country": obj_data.get("conflict_same_country", False),
        "reviewers_see_others": obj_data.get("reviewers_see_others", True),
        "disagreement_threshold": obj_data.get("disagreement_threshold", 20),
        "review_due_at": to_local_naive(obj_data.get("review_due_at"), tz),
        "project_start_earliest": obj_data.get("project_start_earliest"),
        "project_start_latest": obj_data.get("project_start_latest"),
        "tranche_schedule": ", ".join(f"{c}:{p}" for c, p in obj_data.get("tranche_schedule") or []),
    }
    for field in ("title", "summary", "body"):
        for code in LANGUAGES:
            data[f"{field}_{code}"] = (obj_data.get(field) or {}).get(code, "")
    for code in TRANSLATED:
        data[f"theme_{code}"] = (obj_data.get("theme_translations") or {}).get(code, "")
        data[f"required_documents_{code}"] = "\n".join((obj_data.get("document_translations") or {}).get(code) or [])
    for contribution, _allocated in rows:
        data[f"fund_{contribution.id}"] = own.get(contribution.id)
    form = form_class(data=data) if request.method == "GET" else form_class()
    left = {c.id: c.eur_cents - allocated + own.get(c.id, 0) for c, allocated in rows}
    return form, rows, left


def _values_from(form):
    tz = form.timezone.data
    return dict(
        code=form.code.data,
        theme=form.theme.data,
        contact_email=form.contact_email.data,
        title={c: form[f"title_{c}"].data for c in LANGUAGES},
        summary={c: form[f"summary_{c}"].data for c in LANGUAGES},
        body={c: form[f"body_{c}"].data for c in LANGUAGES},
        opens_at=from_local(form.opens_at.data, tz) if tz else None,
        closes_at=from_local(form.closes_at.data, tz) if tz else None,
        timezone=tz,
        cap_cents=form.cap.data,
        min_grant_cents=form.min_grant.data,
        duration_min_months=form.duration_min_months.data,
        duration_max_months=form.duration_max_months.data,
        min_cofunding_pct=form.min_cofunding_pct.data,
        eligible_memberships=form.eligible_memberships.data,
        eligible_regions=form.eligible_regions.data,
        dues_required=form.dues_required.data,
        one_application_per_lead=form.one_application_per_lead.data,
        partners_allowed=form.partners_allowed.data,
        partners_must_confirm=form.partners_must_confirm.data,
        partners_dues_required=form.partners_dues_required.data,
        required_documents=(form.required_documents.data or "").splitlines(),
        theme_translations={c: form[f"theme_{c}"].data for c in TRANSLATED},
        document_translations={c: (form[f"required_documents_{c}"].data or "").splitlines() for c in TRANSLATED},
        overall_threshold=form.overall_threshold.data,
        reviewers_per_application=form.reviewers_per_application.data,
        conflict_same_country=form.conflict_same_country.data,
        reviewers_see_others=form.reviewers_see_others.data,
        disagreement_threshold=form.disagreement_threshold.data,
        review_due_at=from_local(form.review_due_at.data, tz) if tz else None,
        project_start_earliest=form.project_start_earliest.data,
        project_start_latest=form.project_start_latest.data,
        tranche_schedule=operations.parse_schedule(form.tranche_schedule.data),
    )


def _funding_from(form):
    return {int(f.name[len("fund_") :]): f.data for f in form.fund_fields() if f.data}


def _save(call):
    form, rows, left = _form_for(call)
    valid = form.validate_on_submit()
    if request.method == "POST" and not valid and not form.csrf_token.errors:
        # The rules' problems too, beside the fields the form itself accepted: one save, every problem.
        try:
            found = operations.call_problems(call, _values_from(form))
        except (Refused, ValueError, TypeError, LookupError):
            found = []  # a value the rules cannot read yet (its field says why): asked at the next save
        for message, field in found:
            target = getattr(form, field, None) if field else None
            if target is not None and not target.errors:
                target.errors = list(target.errors) + [message]
    if valid:
        try:
            saved = operations.save_call(
                call, actor=current_user._get_current_object(), values=_values_from(form), funding=_funding_from(form)
            )
        except Refused as refusal:
            db.session.rollback()
            # Every problem beside its field (the envelope's on top, where its rows are).
            for message, field in refusal.problems:
                target = getattr(form, field, None) if field and field != "envelope" else None
                if target is None:
                    flash(message, "error")
                else:
                    target.errors = list(target.errors) + [message]
        else:
            kept_form_saved(f"call-{call.id}" if call is not None else "call-new")
            flash(_("Call %(code)s saved.", code=saved.code), "success")
            return redirect(url_for("calls.staff_detail", call_id=saved.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "calls/form.html",
        form=form,
        call=call,
        rows=rows,
        left=left,
        language_labels=LANGUAGE_LABELS,
        fund_max_cents=operations.fund_max_grant_cents(),
    ), status


@bp.route("/staff/calls/new", methods=["GET", "POST"])
@staff_required
def create():
    return _save(None)


@bp.route("/staff/calls/<int:call_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(call_id):
    call = get_visible_or_404(Call, call_id)
    if not call.is_editable:
        flash(_("A call that is “%(state)s” can no longer be edited.", state=call.staff_label), "error")
        return redirect(url_for("calls.staff_detail", call_id=call.id))
    return _save(call)


@bp.route("/staff/calls/<int:call_id>")
@staff_required
def staff_detail(call_id):
    return _staff_page(get_visible_or_404(Call, call_id))


def _staff_page(call, *, give_back_form=None, status=200):
    actions = CALL_WORKFLOW.allowed_actions(call.state, current_user.role_names())
    problems = operations.publication_problems(call) if any(a.action == "publish" for a in actions) else []
    return render_template(
        "calls/staff_detail.html",
        call=call,
        problems=problems,
        actions=actions,
        state_form=StateForm(),
        give_back_form=give_back_form or GiveBackForm(formdata=None),
        language=str(get_locale()),
        ordered_steps=ordered_steps,
    ), status


@bp.route("/staff/calls/<int:call_id>/give-back", methods=["POST"])
@staff_required
def give_back(call_id):
    """A decided call gives back to the donors' contributions what no grant holds of its envelope."""
    call = get_visible_or_404(Call, call_id)
    form = GiveBackForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _staff_page(call, give_back_form=form, status=400)
    try:
        given = operations.give_back_envelope(call, actor=current_user._get_current_object(), reason=form.reason.data)
    except Refused as refusal:
        db.session.rollback()
        refusal.apply_to(form) or form.form_errors.append(refusal.message)
        return _staff_page(db.session.get(Call, call_id), give_back_form=form, status=400)
    flash(
        _(
            "%(amount)s given back to the donors' contributions: other calls can be funded from it.",
            amount=format_eur(sum(given.values())),
        ),
        "success",
    )
    return redirect(url_for("calls.staff_detail", call_id=call.id) + "#money")


def _criterion_defaults():
    return {"scale_min": 0, "scale_max": 5, "scale_step": "0.5", "weight": 1}


def _criterion_values(form):
    from decimal import Decimal

    def dec(value):
        return Decimal(str(value)) if value is not None else None

    return dict(
        name={c: form[f"name_{c}"].data for c in LANGUAGES},
        guidance={c: form[f"guidance_{c}"].data for c in LANGUAGES},
        weight=dec(form.weight.data),
        scale_min=dec(form.scale_min.data),
        scale_max=dec(form.scale_max.data),
        scale_step=dec(form.scale_step.data),
        threshold=dec(form.threshold.data),
        position=form.position.data,
    )


def _save_criterion(call, criterion):
    if request.method == "POST":
        form = CriterionForm()
    elif criterion is None:
        form = CriterionForm(data=_criterion_defaults())
    else:
        data = {f"name_{c}": criterion.name.get(c, "") for c in LANGUAGES}
        data.update({f"guidance_{c}": criterion.guidance.get(c, "") for c in LANGUAGES})
        data.update(
            weight=criterion.weight,
            scale_min=criterion.scale_min,
            scale_max=criterion.scale_max,
            scale_step=criterion.scale_step,
            threshold=criterion.threshold,
            position=criterion.position,
        )
        form = CriterionForm(data=data)
    if form.validate_on_submit():
        try:
            operations.save_criterion(
                call, criterion, actor=current_user._get_current_object(), values=_criterion_values(form)
            )
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form) or flash(refusal.message, "error")
        else:
            flash(_("Criterion saved."), "success")
            return redirect(url_for("calls.staff_detail", call_id=call.id) + "#criteria")
    status = 400 if request.method == "POST" else 200
    return render_template("calls/criterion_form.html", form=form, call=call, criterion=criterion), status


@bp.route("/staff/calls/<int:call_id>/criteria/new", methods=["GET", "POST"])
@staff_required
def add_criterion(call_id):
    call = get_visible_or_404(Call, call_id)
    return _save_criterion(call, None)


@bp.route("/staff/calls/<int:call_id>/criteria/<int:criterion_id>", methods=["GET", "POST"])
@staff_required
def edit_criterion(call_id, criterion_id):
    call = get_visible_or_404(Call, call_id)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.call_id != call.id:
        abort(404)
    return _save_criterion(call, criterion)


@bp.route("/staff/calls/<int:call_id>/criteria/<int:criterion_id>/delete", methods=["POST"])
@staff_required
def delete_criterion(call_id, criterion_id):
    call = get_visible_or_404(Call, call_id)
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.call_id != call.id:
        abort(404)
    act(_("Criterion removed."), operations.delete_criterion, criterion, actor=current_user._get_current_object())
    return redirect(url_for("calls.staff_detail", call_id=call.id) + "#criteria")


# -- the report schedule and the indicators ----------------------------------------------------------


def _step_of(call, step_id):
    step = db.session.get(ReportStep, step_id)
    if step is None or step.call_id != call.id:
        abort(404)
    return step


def _save_step(call, step):
    final = step is not None and step.kind == "final"
    if request.method == "POST":
        form = FinalReportForm() if final else ReportStepForm()
    elif final:
        form = FinalReportForm(data={"months_after_end": step.months_after_end})
    elif step is not None:
        form = ReportStepForm(data={"due_mode": step.due_mode, "due_month": step.due_month, "due_on": step.due_on})
    else:
        form = ReportStepForm()
    if form.validate_on_submit():
        if final:
            values = {"months_after_end": form.months_after_end.data}
        else:
            values = {"due_mode": form.due_mode.data, "due_month": form.due_month.data, "due_on": form.due_on.data}
        try:
            operations.save_report_step(call, step, actor=current_user._get_current_object(), values=values)
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form) or flash(refusal.message, "error")
        else:
            flash(_("Report schedule saved."), "success")
            return redirect(url_for("calls.staff_detail", call_id=call.id) + "#report-schedule")
    status = 400 if request.method == "POST" else 200
    return render_template("calls/report_step_form.html", form=form, call=call, step=step, final=final), status


@bp.route("/staff/calls/<int:call_id>/report-steps/new", methods=["GET", "POST"])
@staff_required
def add_report_step(call_id):
    call = get_visible_or_404(Call, call_id)
    return _save_step(call, None)


@bp.route("/staff/calls/<int:call_id>/report-steps/<int:step_id>", methods=["GET", "POST"])
@staff_required
def edit_report_step(call_id, step_id):
    call = get_visible_or_404(Call, call_id)
    return _save_step(call, _step_of(call, step_id))


@bp.route("/staff/calls/<int:call_id>/report-steps/<int:step_id>/delete", methods=["POST"])
@staff_required
def delete_report_step(call_id, step_id):
    call = get_visible_or_404(Call, call_id)
    step = _step_of(call, step_id)
    act(
        _("Interim report removed from the schedule."),
        operations.delete_report_step,
        step,
        actor=current_user._get_current_object(),
    )
    return redirect(url_for("calls.staff_detail", call_id=call.id) + "#report-schedule")


def _indicator_of(call, indicator_id):
    indicator = db.session.get(CallIndicator, indicator_id)
    if indicator is None or indicator.call_id != call.id:
        abort(404)
    return indicator


def _save_indicator(call, indicator):
    if request.method == "POST":
        form = IndicatorForm()
    elif indicator is None:
        form = IndicatorForm()
    else:
        data = {f"name_{c}": indicator.name.get(c, "") for c in LANGUAGES}
        data.update({f"unit_{c}": indicator.unit.get(c, "") for c in LANGUAGES})
        data.update(by_gender=indicator.by_gender, position=indicator.position)
        form = IndicatorForm(data=data)
    if form.validate_on_submit():
        values = dict(
            name={c: form[f"name_{c}"].data for c in LANGUAGES},
            unit={c: form[f"unit_{c}"].data for c in LANGUAGES},
            by_gender=form.by_gender.data,
            position=form.position.data,
        )
        try:
            operations.save_indicator(call, indicator, actor=current_user._get_current_object(), values=values)
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form) or flash(refusal.message, "error")
        else:
            flash(_("Indicator saved."), "success")
            return redirect(url_for("calls.staff_detail", call_id=call.id) + "#indicators")
    status = 400 if request.method == "POST" else 200
    return render_template("calls/indicator_form.html", form=form, call=call, indicator=indicator), status


@bp.route("/staff/calls/<int:call_id>/indicators/new", methods=["GET", "POST"])
@staff_required
def add_indicator(call_id):
    call = get_visible_or_404(Call, call_id)
    return _save_indicator(call, None)


@bp.route("/staff/calls/<int:call_id>/indicators/<int:indicator_id>", methods=["GET", "POST"])
@staff_required
def edit_indicator(call_id, indicator_id):
    call = get_visible_or_404(Call, call_id)
    return _save_indicator(call, _indicator_of(call, indicator_id))


@bp.route("/staff/calls/<int:call_id>/indicators/<int:indicator_id>/delete", methods=["POST"])
@staff_required
def delete_indicator(call_id, indicator_id):
    call = get_visible_or_404(Call, call_id)
    indicator = _indicator_of(call, indicator_id)
    act(_("Indicator removed."), operations.delete_indicator, indicator, actor=current_user._get_current_object())
    return redirect(url_for("calls.staff_detail", call_id=call.id) + "#indicators")


@bp.route("/staff/calls/<int:call_id>/duplicate", methods=["POST"])
@staff_required
def duplicate(call_id):
    call = get_visible_or_404(Call, call_id)
    copy = operations.duplicate_call(call, actor=current_user._get_current_object())
    flash(
        _("Call %(code)s started from %(source)s. Set its dates and envelope.", code=copy.code, source=call.code),
        "success",
    )
    return redirect(url_for("calls.edit", call_id=copy.id))


@bp.route("/staff/calls/<int:call_id>/preview")
@staff_required
def preview(call_id):
    call = get_visible_or_404(Call, call_id)
    language = request.args.get("lang") or str(get_locale())
    language = language if language in LANGUAGES else "en"
    return render_template("calls/public_detail.html", call=call, language=language, now=utcnow(), preview=True)


@bp.route("/staff/calls/<int:call_id>/state", methods=["POST"])
@staff_required
def change_state(call_id):
    call = get_visible_or_404(Call, call_id)
    form = StateForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.change_state(
            call, form.action.data, actor=current_user._get_current_object(), reason=form.reason.data
        )
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        for message, _field in refusal.errors:
            flash(message, "error")
    else:
        flash(_("The call is now “%(state)s”.", state=call.staff_label), "success")
    return redirect(url_for("calls.staff_detail", call_id=call.id))
