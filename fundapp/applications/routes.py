import io
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..calls.models import Call
from ..core.documents import send_document
from ..core.errors import Refused
from ..core.exports import csv_writer
from ..core.forms import SharedChoices, act
from ..core.inputs import db_int, page_number
from ..core.models import AuditEntry
from ..core.money import cents_to_decimal
from ..core.permissions import get_visible_or_404, roles_required, staff_required
from ..core.timeutil import utcnow
from ..extensions import db
from ..members.models import REGIONS
from ..members.queries import member_choices
from . import operations
from .diff import compare
from .forms import AmountRangeForm, ApplicationForm, ReasonForm, ScreeningForm, UploadForm
from .models import APPLICATION_WORKFLOW, SECTION_FIELDS, SECTIONS, Application, ApplicationDocument, Submission
from .queries import (
    city_applications,
    drafts_in_progress,
    paginate_rows,
    staff_applications,
    staff_applications_count,
    told_decisions,
)

bp = Blueprint("applications", __name__)
applicant_required = roles_required("applicant")


def _me():
    return current_user._get_current_object()


# -- the city's side ----------------------------------------------------------------------------


@bp.route("/applications/")
@applicant_required
def index():
    applications = city_applications(current_user)
    return render_template(
        "applications/index.html", applications=applications, decisions=told_decisions(applications), now=utcnow()
    )


@bp.route("/calls/<code>/apply", methods=["POST"])
@applicant_required
def start(code):
    call = db.session.scalar(db.select(Call).where(Call.code == code.upper()))
    if call is None or not call.is_public:
        abort(404)
    try:
        application = operations.start_application(call, actor=_me())
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for("calls.public_detail", code=call.code))
    flash(_("Your draft is started. It is saved as you type."), "success")
    return redirect(url_for("applications.edit", application_id=application.id))


def _lead_application_or_404(application_id):
    application = get_visible_or_404(Application, application_id)
    if not application.is_lead_user(current_user):
        abort(404)
    return application


def _editor_form(application, formdata=None):
    """The editor, filled from the stored draft (GET) or from what was typed (POST)."""
    if formdata is None:
        data = {f: getattr(application, f) for f in operations.SCALAR_FIELDS}
        data["version"] = application.version
        data["budget"] = [
            {
                "category": ln.category,
                "description": ln.description,
                "requested": ln.requested_cents,
                "cofunding": ln.cofunding_cents,
            }
            for ln in application.budget_lines
        ]
        data["partners"] = [{"member": p.member_id, "role": p.role} for p in application.partners]
        form = ApplicationForm(formdata=None, data=data)
    else:
        form = ApplicationForm(formdata=formdata)
    # Room to type new rows without JavaScript; the script adds more.
    while len(form.budget) < max(3, len(application.budget_lines) + 2):
        form.budget.append_entry()
    while len(form.partners) < max(2, len(application.partners) + 1):
        form.partners.append_entry()
    return form


def _offer_partner_cities(form, application):
    """The member cities each partner row offers, for showing the editor (an autosave reads the
    rows' ids without them: the operation checks the partners)."""
    choices = SharedChoices(
        [(0, "—")] + [(mid, name) for mid, name in member_choices() if mid != application.member_id]
    )
    for entry in form.partners:
        entry.form.member.choices = choices


def _values_and_errors(form, application):
    """What the form holds for the open sections, and the fields it could not read.

    A field counts when it was sent; a section the page showed (listed in `present`) also
    counts its checkboxes and rows, which browsers omit when they are empty.
    """
    form.validate()
    open_fields = {f for s in application.editable_sections() for f in SECTION_FIELDS[s]}
    shown = {f for s in request.form.getlist("present") if s in SECTION_FIELDS for f in SECTION_FIELDS[s]}

    def sent(name):
        return name in request.form or any(k.startswith(f"{name}-") for k in request.form) or name in shown

    fields = [name for name in operations.SCALAR_FIELDS + ["budget", "partners"] if name in open_fields and sent(name)]
    errors = {}
    for name in fields:
        if form[name].errors:
            errors[name] = _first_error(form[name].errors)
    values = {name: form[name].data for name in fields if name in operations.SCALAR_FIELDS}
    if "budget" in fields:
        values["budget"] = [
            {
                "category": e.form.category.data,
                "description": e.form.description.data,
                "requested_cents": e.form.requested.data,
                "cofunding_cents": e.form.cofunding.data,
            }
            for e in form.budget
        ]
    if "partners" in fields:
        values["partners"] = [{"member_id": e.form.member.data, "role": e.form.role.data} for e in form.partners]
    return values, errors


def _first_error(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            return _first_error(value)
    if isinstance(errors, (list, tuple)):
        for value in errors:
            found = _first_error(value)
            if found:
                return found
        return None
    return errors


def _save(application):
    form = _editor_form(application, request.form)
    values, parse_errors = _values_and_errors(form, application)
    try:
        expected = int(form.version.data or 0)
    except ValueError:
        expected = 0
    errors = operations.save_draft(
        application, actor=_me(), values=values, expected_version=expected, partial_errors=parse_errors
    )
    return form, errors


@bp.route("/applications/<int:application_id>/edit", methods=["GET", "POST"])
@login_required
def edit(application_id):
    application = _lead_application_or_404(application_id)
    if not application.is_editable:
        return redirect(url_for("applications.view", application_id=application.id))
    if request.method == "POST":
        try:
            form, errors = _save(application)
        except operations.StaleDraft as stale:
            db.session.rollback()
            form = _editor_form(application, request.form)
            return _render_editor(application, form, {}, stale=stale.message), 409
        except Refused as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
            return redirect(url_for("applications.view", application_id=application.id))
        if not errors:
            flash(_("Saved at %(time)s.", time=format_datetime(application.updated_at, "short")), "success")
            target = request.form.get("next") == "check" and "applications.check" or "applications.edit"
            return redirect(url_for(target, application_id=application.id))
        form.version.data = application.version
        return _render_editor(application, form, errors), 400
    return _render_editor(application, _editor_form(application), {})


def _render_editor(application, form, errors, stale=None):
    _offer_partner_cities(form, application)
    for name, message in errors.items():
        if name in form._fields and not form[name].errors:
            form[name].errors = [message]
    return render_template(
        "applications/edit.html",
        application=application,
        form=form,
        errors=errors,
        stale=stale,
        sections=application.editable_sections(),
        upload_form=_upload_form(application),
        call=application.call,
        now=utcnow(),
    )


@bp.route("/applications/<int:application_id>/autosave", methods=["POST"])
@login_required
def autosave(application_id):
    application = _lead_application_or_404(application_id)
    try:
        _form, errors = _save(application)
    except operations.StaleDraft as stale:
        db.session.rollback()
        return jsonify(status="stale", message=str(stale.message)), 409
    except Refused as refusal:
        db.session.rollback()
        return jsonify(status="refused", message=str(refusal.message)), 403
    return jsonify(
        status="saved",
        version=application.version,
        saved_at=format_datetime(application.updated_at, "medium"),
        errors={k: str(v) for k, v in errors.items()},
        requested=str(cents_to_decimal(application.requested_cents)),
    )


def _upload_form(application):
    form = UploadForm()
    form.requirement.choices = application.call.documents_in(str(get_locale())) + [("other", _("Other document"))]
    return form


@bp.route("/applications/<int:application_id>/documents", methods=["POST"])
@login_required
def upload(application_id):
    application = _lead_application_or_404(application_id)
    form = _upload_form(application)
    if form.validate_on_submit():
        try:
            operations.upload_document(
                application,
                actor=_me(),
                requirement=form.requirement.data,
                filename=form.file.data.filename,
                data=form.file.data.read(),
            )
        except Refused as refusal:
            db.session.rollback()
            flash(_("The file was not attached: %(reason)s", reason=refusal.message), "error")
        else:
            flash(_("Document attached."), "success")
    else:
        flash(_("The file was not attached: %(reason)s", reason=_first_error(form.errors)), "error")
    return redirect(url_for("applications.edit", application_id=application.id) + "#documents")


def _document_of(application, document_id):
    attached = db.session.get(ApplicationDocument, document_id)
    if attached is None or attached.application_id != application.id:
        abort(404)
    return attached


@bp.route("/applications/<int:application_id>/documents/<int:document_id>")
@login_required
def download(application_id, document_id):
    application = get_visible_or_404(Application, application_id)
    return send_document(_document_of(application, document_id).document)


@bp.route("/applications/<int:application_id>/documents/<int:document_id>/delete", methods=["POST"])
@login_required
def remove_document(application_id, document_id):
    application = _lead_application_or_404(application_id)
    try:
        operations.remove_document(_document_of(application, document_id), actor=_me())
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
    return redirect(url_for("applications.edit", application_id=application.id) + "#documents")


@bp.route("/applications/<int:application_id>/check")
@login_required
def check(application_id):
    application = _lead_application_or_404(application_id)
    problems = operations.submission_problems(application) if application.is_editable else []
    return render_template(
        "applications/check.html", application=application, problems=problems, call=application.call, now=utcnow()
    )


@bp.route("/applications/<int:application_id>/submit", methods=["POST"])
@login_required
def submit(application_id):
    application = _lead_application_or_404(application_id)
    try:
        submission = operations.submit(application, actor=_me())
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for("applications.check", application_id=application.id))
    flash(
        _(
            "Application %(reference)s submitted. A receipt with a PDF copy is on its way by e-mail.",
            reference=application.reference,
        ),
        "success",
    )
    return redirect(url_for("applications.view", application_id=application.id, v=submission.version_no))


@bp.route("/applications/<int:application_id>/withdraw", methods=["POST"])
@login_required
def withdraw(application_id):
    application = _lead_application_or_404(application_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for withdrawing."), "error")
    else:
        act(_("The application is withdrawn."), operations.withdraw, application, actor=_me(), reason=form.reason.data)
    return redirect(url_for("applications.view", application_id=application.id))


@bp.route("/applications/<int:application_id>")
@login_required
def view(application_id):
    application = get_visible_or_404(Application, application_id)
    if current_user.has_role("staff") and not application.is_lead_user(current_user):
        return redirect(url_for("applications.staff_detail", application_id=application.id))
    latest = application.submissions[-1] if application.submissions else None
    return render_template(
        "applications/view.html",
        application=application,
        latest=latest,
        reason_form=ReasonForm(),
        sections=SECTIONS,
        can_withdraw=APPLICATION_WORKFLOW.can(application.state, "withdraw", {"applicant"}),
        decision=told_decisions([application]).get(application.id),
    )


# -- staff --------------------------------------------------------------------------------------


def _filters():
    args = request.args
    filters = {
        "state": args.get("state", ""),
        "region": args.get("region", ""),
        "country": args.get("country", ""),
        "q": args.get("q", "").strip(),
        "sort": args.get("sort", ""),
    }
    if filters["state"] not in APPLICATION_WORKFLOW.state_names():
        filters["state"] = ""
    if filters["region"] not in REGIONS:
        filters["region"] = ""
    errors = {}
    amounts = AmountRangeForm(formdata=args)
    amounts.validate()
    for key in ("min", "max"):
        field = amounts[key]
        filters[f"{key}_cents"] = None if field.errors else field.data
        if field.errors:
            errors[key] = _("Not an amount: %(value)s", value=args.get(key, "").strip())
    return filters, errors


@bp.route("/staff/calls/<int:call_id>/applications")
@staff_required
def staff_index(call_id):
    call = get_visible_or_404(Call, call_id)
    filters, errors = _filters()
    stmt = staff_applications(call, **filters)
    if request.args.get("format") == "csv":
        return _csv(call, stmt)
    rows, total, page, pages = paginate_rows(
        stmt,
        request.args.get("page", 1, type=page_number),
        current_app.config["PAGE_SIZE"],
        count=staff_applications_count(call, **filters),
    )
    return render_template(
        "applications/staff_index.html",
        call=call,
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        filters=filters,
        errors=errors,
        workflow=APPLICATION_WORKFLOW,
        drafts=drafts_in_progress(call),
        args=request.args.to_dict(),
    )


def _csv(call, stmt):
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            "reference",
            "city",
            "country",
            "region",
            "title",
            "state",
            "requested_eur",
            "cofunding_eur",
            "partners",
            "first_submitted_at",
        ]
    )
    for application, partner_count in db.session.execute(stmt).unique():
        writer.writerow(
            [
                application.reference,
                application.member.name,
                application.member.country,
                application.member.region,
                application.title,
                application.state,
                cents_to_decimal(application.requested_cents),
                cents_to_decimal(application.cofunding_cents),
                partner_count,
                application.first_submitted_at.isoformat(),
            ]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={call.code.lower()}-applications.csv"},
    )


@bp.route("/staff/applications/<int:application_id>")
@staff_required
def staff_detail(application_id):
    application = get_visible_or_404(Application, application_id)
    return _staff_detail_page(application)


def _staff_detail_page(application, *, screening_form=None, posted=None, close_form=None):
    """The staff page; after a refused form, that form comes back with its input and the messages."""
    history = db.session.scalars(
        db.select(AuditEntry)
        .where(AuditEntry.object_type == "Application", AuditEntry.object_id == str(application.id))
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(100)
    ).all()
    actions = [
        t
        for t in APPLICATION_WORKFLOW.allowed_actions(application.state, current_user.role_names())
        if t.action in ("mark_eligible", "mark_ineligible", "request_info")
    ]
    latest = application.submissions[-1] if application.submissions else None
    today = application.call_today()
    return render_template(
        "applications/staff_detail.html",
        application=application,
        latest=latest,
        history=history,
        actions=actions,
        screening_form=screening_form or ScreeningForm(formdata=None),
        posted=posted,
        close_form=close_form or ReasonForm(formdata=None),
        can_close=APPLICATION_WORKFLOW.can(application.state, "close_unanswered", current_user.role_names()),
        reply_window=(today + timedelta(days=1), today + timedelta(days=operations.MORE_INFO_MAX_DAYS)),
        sections=SECTIONS,
        # The decision the city was told, with its grant (declined, cancelled, closed: shown on top).
        decision=told_decisions([application]).get(application.id),
    )


def _show_errors(form, refusal):
    """Put a refusal's messages next to their fields; True when at least one found its field."""
    shown = False
    for message, name in refusal.errors or [(refusal.message, refusal.field)]:
        field = getattr(form, name, None) if name else None
        if field is not None:
            field.errors = list(field.errors) + [message]
            shown = True
    return shown


@bp.route("/staff/applications/<int:application_id>/screen", methods=["POST"])
@staff_required
def screen(application_id):
    application = get_visible_or_404(Application, application_id)
    form = ScreeningForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.action.errors:
            abort(400)
        return _staff_detail_page(application, screening_form=form, posted=form.action.data), 400
    try:
        operations.screen(
            application,
            form.action.data,
            actor=_me(),
            reason=form.reason.data,
            sections=form.sections.data,
            reply_by=form.reply_by.data,
        )
    except Refused as refusal:
        db.session.rollback()
        allowed = APPLICATION_WORKFLOW.can(application.state, form.action.data, current_user.role_names())
        if allowed and _show_errors(form, refusal):
            return _staff_detail_page(application, screening_form=form, posted=form.action.data), 400
        flash(refusal.message, "error")
    else:
        flash(_("Screening recorded: %(state)s.", state=application.staff_label), "success")
    return redirect(url_for("applications.staff_detail", application_id=application.id))


@bp.route("/staff/applications/<int:application_id>/close", methods=["POST"])
@staff_required
def close_unanswered(application_id):
    """Close an application that waits for more information as ineligible (a reason is required)."""
    application = get_visible_or_404(Application, application_id)
    form = ReasonForm()
    if form.validate_on_submit():
        try:
            operations.close_unanswered(application, actor=_me(), reason=form.reason.data)
        except Refused as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
        else:
            flash(_("The application is closed as ineligible; the city is told why."), "success")
        return redirect(url_for("applications.staff_detail", application_id=application.id))
    if form.csrf_token.errors:
        abort(400)
    return _staff_detail_page(application, close_form=form), 400


@bp.route("/applications/<int:application_id>/versions")
@login_required
def versions(application_id):
    application = get_visible_or_404(Application, application_id)
    submissions = application.submissions
    if not submissions:
        abort(404)
    numbers = [s.version_no for s in submissions]
    a = request.args.get("a", type=db_int) or (numbers[-2] if len(numbers) > 1 else numbers[-1])
    b = request.args.get("b", type=db_int) or numbers[-1]
    by_no = {s.version_no: s for s in submissions}
    if a not in by_no or b not in by_no:
        abort(404)
    return render_template(
        "applications/versions.html",
        application=application,
        submissions=submissions,
        a=by_no[a],
        b=by_no[b],
        changes=compare(by_no[a].data, by_no[b].data),
    )


@bp.route("/applications/<int:application_id>/versions/<int:version_no>/receipt.pdf")
@login_required
def receipt(application_id, version_no):
    application = get_visible_or_404(Application, application_id)
    submission = db.session.scalar(
        db.select(Submission).where(Submission.application_id == application.id, Submission.version_no == version_no)
    )
    if submission is None or submission.receipt_document is None:
        abort(404)
    return send_document(submission.receipt_document)
