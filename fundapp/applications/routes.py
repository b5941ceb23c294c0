import io
from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..calls.models import Call
from ..core.documents import send_document
from ..core.errors import Refused
from ..core.exports import csv_writer
from ..core.forms import SharedChoices, act
from ..core.i18n import format_instant
from ..core.inputs import db_int, page_number
from ..core.kept import kept_form_saved
from ..core.models import AuditEntry
from ..core.money import cents_to_decimal, format_eur
from ..core.permissions import get_visible_or_404, roles_required, staff_required
from ..core.timeutil import utcnow
from ..extensions import db
from ..members.models import REGIONS
from ..members.queries import member_choices
from . import operations
from .diff import compare
from .forms import (
    AmountRangeForm,
    ApplicationForm,
    BulkForm,
    MessageForm,
    PartnerConfirmForm,
    PartnerDeclineForm,
    ReasonForm,
    ScreeningForm,
    UploadForm,
)
from .models import (
    APPLICATION_WORKFLOW,
    SECTION_FIELDS,
    SECTIONS,
    Application,
    ApplicationDocument,
    Partner,
    Submission,
)
from .queries import (
    city_applications,
    existing_application,
    partner_requests,
    staff_applications,
    staff_list,
    told_decisions,
)

bp = Blueprint("applications", __name__)
UPLOAD_REFUSED = "upload-refused"  # a flash category shown beside the upload form, not at the top
applicant_required = roles_required("applicant")


def _me():
    return current_user._get_current_object()


# -- the city's side ----------------------------------------------------------------------------


@bp.route("/applications/")
@applicant_required
def index():
    applications = city_applications(current_user)
    waiting, answered = partner_requests(current_user)
    return render_template(
        "applications/index.html",
        applications=applications,
        decisions=told_decisions(applications),
        partner_waiting=waiting,
        partner_answered=answered,
        now=utcnow(),
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
        # The city's application to this call, when that is why: straight to it.
        member = current_user.member
        existing = existing_application(call, member) if member is not None else None
        if existing is not None and existing.is_lead_user(current_user):
            return redirect(url_for("applications.view", application_id=existing.id))
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
        data["indicator_targets"] = application.indicator_targets or {}
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

    fields = [
        name
        for name in operations.SCALAR_FIELDS + ["budget", "partners", "indicator_targets"]
        if name in open_fields and sent(name)
    ]
    errors = {}
    for name in fields:
        if form[name].errors:
            errors[name] = _first_error(form[name].errors)
    if "budget" in errors:  # which line: the whole budget waits for it (its cell is marked too)
        line = next(i for i, entry in enumerate(form.budget, start=1) if entry.errors)
        errors["budget"] = _("Budget not saved, because of line %(n)d: %(message)s", n=line, message=errors["budget"])
        for entry in form.budget:  # each cell that could not be read, beside it (the autosave too)
            for field in entry.form:
                if field.errors:
                    errors.setdefault(field.name, _first_error(field.errors))
    if "indicator_targets" in fields:
        errors.update(form.indicator_targets.input_errors)  # beside the input that could not be read
    values = {name: form[name].data for name in fields if name in operations.SCALAR_FIELDS + ["indicator_targets"]}
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
            flash(_("Saved at %(time)s.", time=format_instant(application.updated_at)), "success")
            target = request.form.get("next") == "check" and "applications.check" or "applications.edit"
            return redirect(url_for(target, application_id=application.id))
        form.version.data = application.version
        return _render_editor(application, form, errors), 400
    return _render_editor(application, _editor_form(application), {})


# Problems named after a part of the form that has no element of its own on the page.
SUMMARY_ANCHORS = {"indicator_targets": "indicators"}


def _error_summary(errors):
    """[(anchor, message)]: each problem once, linking to an element the page has. A problem also
    named at the input it concerns ("indicator_targets-3-men") is listed at that input only."""
    entries = []
    for name, message in errors.items():
        if any(other.startswith(f"{name}-") for other in errors):
            continue
        entry = (SUMMARY_ANCHORS.get(name, name), str(message))
        if entry not in entries:
            entries.append(entry)
    return entries


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
        error_summary=_error_summary(errors),
        over_cap=operations.over_cap_message(application),
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
    over_cap = operations.over_cap_message(application)
    return jsonify(
        status="saved",
        version=application.version,
        saved_at=format_instant(application.updated_at),
        errors={k: str(v) for k, v in errors.items()},
        # Saved, but not to be sent as it is: said beside the budget, not as a field left unsaved.
        notes={"budget": str(over_cap)} if over_cap is not None else {},
        requested=str(cents_to_decimal(application.requested_cents)),
        # The budget's totals as the server holds them, for the page's "Total (saved)".
        totals={
            "requested": format_eur(application.requested_cents),
            "cofunding": format_eur(application.cofunding_cents),
        },
    )


def _upload_form(application):
    form = UploadForm()
    form.requirement.choices = application.call.documents_in(str(get_locale())) + [("other", _("Other document"))]
    chosen = request.args.get("requirement")
    if request.method == "GET" and chosen in {key for key, _label in form.requirement.choices}:
        form.requirement.data = chosen  # back from a refused upload: the document it was for
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
            return _upload_refused(application, form, refusal.message)
        flash(_("Document attached."), "success")
        return redirect(url_for("applications.edit", application_id=application.id) + "#documents")
    return _upload_refused(application, form, _first_error(form.errors))


def _upload_refused(application, form, reason):
    """Back to the documents, the reason shown beside the upload form (not at the top of a long
    page) and the document it was for still chosen. An application no longer editable (sent from
    another window) leads to its page, which has no upload form: the reason is said at the top."""
    editable = application.can_edit(_me()) and "documents" in application.editable_sections()
    flash(_("The file was not attached: %(reason)s", reason=reason), UPLOAD_REFUSED if editable else "error")
    requirement = form.requirement.data if isinstance(form.requirement.data, str) else None
    return redirect(url_for("applications.edit", application_id=application.id, requirement=requirement) + "#documents")


def _document_of(application, document_id):
    attached = db.session.get(ApplicationDocument, document_id)
    if attached is None or attached.application_id != application.id:
        abort(404)
    return attached


@bp.route("/applications/<int:application_id>/documents/<int:document_id>")
@login_required
def download(application_id, document_id):
    application = get_visible_or_404(Application, application_id)
    attached = _document_of(application, document_id)
    return send_document(attached.document, attached.download_name(str(get_locale())))


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
        # The page again, the reason as typed and why beside it (missing, or too long).
        return _city_page(application, reason_form=form, status=400)
    act(_("The application is withdrawn."), operations.withdraw, application, actor=_me(), reason=form.reason.data)
    return redirect(url_for("applications.view", application_id=application.id))


@bp.route("/applications/<int:application_id>")
@login_required
def view(application_id):
    declined = _declined_by_me(application_id)
    if declined is not None:
        return _partner_page(declined)
    application = get_visible_or_404(Application, application_id)
    if current_user.has_role("staff") and not application.is_lead_user(current_user):
        return redirect(url_for("applications.staff_detail", application_id=application.id))
    if application.sees_as_partner(current_user):
        return _partner_page(application)
    return _city_page(application)


# -- a partner city's side: the application read-only, and its answer ------------------------------


def _declined_by_me(application_id):
    """The application if the user's cities were asked to take part in it and all declined, else
    None: they are shown their answer, and nothing more of the application."""
    application = db.session.get(Application, db_int(application_id))
    return application if application is not None and application.declined_by(current_user) else None


def _partner_page(application, *, confirm_form=None, decline_form=None, status=200):
    """What a partner city sees: the application as sent (or the draft as it stands), read-only,
    its own request and answer, and the decision once the lead city has been told. A city that
    declined sees its request and its answer alone."""
    declined_only = application.declined_by(current_user)
    latest = application.submissions[-1] if application.submissions and not declined_only else None
    return render_template(
        "applications/partner_view.html",
        application=application,
        latest=latest,
        data=None if declined_only else (latest.data if latest else operations.snapshot(application)),
        declined_only=declined_only,
        mine=application.asked_partners_of(current_user),
        withdrawn=APPLICATION_WORKFLOW.has(application.state, "withdrawn"),
        confirm_form=confirm_form or PartnerConfirmForm(formdata=None),
        decline_form=decline_form or PartnerDeclineForm(formdata=None),
        decision=None if declined_only else told_decisions([application]).get(application.id),
    ), status


def _my_partner_or_404(application_id, partner_id):
    """The application and a partner row of it that the user speaks for; anything else is a 404
    (another city's row, the lead answering for its partner, a city not asked). A city that
    declined answering again (the back button) is told it has answered."""
    application = _declined_by_me(application_id) or get_visible_or_404(Application, application_id)
    partner = db.session.get(Partner, partner_id)
    if (
        partner is None
        or partner.application_id != application.id
        or not partner.is_asked
        or not partner.is_partner_user(current_user)
    ):
        abort(404)
    return application, partner


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/confirm", methods=["POST"])
@login_required
def confirm_partnership(application_id, partner_id):
    application, partner = _my_partner_or_404(application_id, partner_id)
    form = PartnerConfirmForm()
    if not form.validate_on_submit():
        abort(400)  # only the CSRF token can fail here
    upload = form.letter.data
    try:
        operations.confirm_partnership(
            partner,
            actor=_me(),
            filename=upload.filename if upload else None,
            data=upload.read() if upload else None,
        )
    except Refused as refusal:
        db.session.rollback()
        if refusal.field == "letter":
            form.letter.errors = [refusal.message]
            return _partner_page(application, confirm_form=form, status=400)
        flash(refusal.message, "error")
        return redirect(url_for("applications.view", application_id=application.id))
    flash(
        _(
            "Thank you: %(city)s takes part in the project. %(lead)s has been told.",
            city=partner.member.name,
            lead=application.member.name,
        ),
        "success",
    )
    return redirect(url_for("applications.view", application_id=application.id))


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/decline", methods=["POST"])
@login_required
def decline_partnership(application_id, partner_id):
    application, partner = _my_partner_or_404(application_id, partner_id)
    form = PartnerDeclineForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        return _partner_page(application, decline_form=form, status=400)
    try:
        operations.decline_partnership(partner, actor=_me(), reason=form.reason.data)
    except Refused as refusal:
        db.session.rollback()
        if refusal.field == "reason" and partner.is_waiting:
            form.reason.errors = [refusal.message]
            return _partner_page(application, decline_form=form, status=400)
        flash(refusal.message, "error")
        return redirect(url_for("applications.view", application_id=application.id))
    flash(
        _(
            "%(city)s declines to take part; %(lead)s has been told.",
            city=partner.member.name,
            lead=application.member.name,
        ),
        "success",
    )
    return redirect(url_for("applications.view", application_id=application.id))


@bp.route("/applications/<int:application_id>/partners/<int:partner_id>/letter")
@login_required
def partner_letter(application_id, partner_id):
    """A partner's letter of commitment: for the lead city and staff, and for that partner itself."""
    application = get_visible_or_404(Application, application_id)
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.application_id != application.id or partner.letter is None:
        abort(404)
    if application.sees_as_partner(current_user) and not partner.is_partner_user(current_user):
        abort(404)
    return send_document(partner.letter, partner.letter_download_name(str(get_locale())))


def _city_page(application, *, message_form=None, reason_form=None, status=200):
    latest = application.submissions[-1] if application.submissions else None
    return render_template(
        "applications/view.html",
        application=application,
        latest=latest,
        reason_form=reason_form or ReasonForm(formdata=None),
        sections=SECTIONS,
        can_withdraw=APPLICATION_WORKFLOW.can(application.state, "withdraw", {"applicant"}),
        decision=told_decisions([application]).get(application.id),
        message_form=message_form or new_message_form(),
    ), status


# -- messages between the city and the programme team -------------------------------------------


def new_message_form(formdata=None):
    """The thread's form (also on the grant's page); prefixed, so its field's id is unique on a page."""
    return MessageForm(formdata=formdata, prefix="message")


def discussed_or_404(application):
    """The thread is the lead city's and staff's: anyone else (a reviewer, a donor, another city) finds nothing."""
    if not application.can_discuss(current_user):
        abort(404)
    return application


@bp.route("/applications/<int:application_id>/messages", methods=["POST"])
@login_required
def post_message(application_id):
    application = discussed_or_404(get_visible_or_404(Application, application_id))
    form = new_message_form(request.form)
    if not form.validate_on_submit():
        abort(400)  # only a missing or stale token: the operation checks the message itself
    staff_side = not application.is_lead_user(current_user)
    try:
        operations.post_message(application, actor=_me(), body=form.body.data)
    except Refused as refusal:
        db.session.rollback()
        db.session.refresh(application)
        if not refusal.apply_to(form):  # said next to the message field, what was typed kept
            form.body.errors = list(form.body.errors) + [refusal.message]
        if staff_side:
            return _staff_detail_page(application, message_form=form), 400
        return _city_page(application, message_form=form, status=400)
    kept_form_saved(f"message-{application.id}")
    flash(_("Message sent."), "success")
    target = "applications.staff_detail" if staff_side else "applications.view"
    return redirect(url_for(target, application_id=application.id) + "#messages")


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
    if request.args.get("format") == "csv":
        filters, errors = _filters()
        if errors:  # an export of everything would pass for the filtered list: the page says why
            return staff_list_page(call, status=400)
        return _csv(call, staff_applications(call, **filters))
    return staff_list_page(call)


def staff_list_page(call, *, bulk_form=None, refusal=None, status=200):
    """The staff list of a call's applications (its filters and page read from the query string),
    with the bulk actions' form. After a refused bulk action (here, or at the reviews and awards
    endpoints the form also posts to), the selection and the reason come back with why."""
    filters, errors = _filters()
    listed = staff_list(call, request.args.get("page", 1, type=page_number), current_app.config["PAGE_SIZE"], **filters)
    rows = listed.rows
    if bulk_form is None:
        bulk_form = BulkForm(formdata=None)
        if request.args.get("select") == "page":  # "select all on this page" without JavaScript
            bulk_form.application.data = [a.id for a in rows]
    if refusal is not None and not refusal.apply_to(bulk_form):
        bulk_form.form_errors.append(refusal.message)
    args = {k: v for k, v in request.args.to_dict().items() if k != "select"}
    return render_template(
        "applications/staff_index.html",
        call=call,
        rows=rows,
        total=listed.total,
        page=listed.page,
        pages=listed.pages,
        filters=filters,
        errors=errors,
        workflow=APPLICATION_WORKFLOW,
        drafts=listed.drafts,
        args=args,
        bulk_form=bulk_form,
        selected=set(bulk_form.selected_ids()),
        # Each row's checkbox label ("Select IFM-2026-0042"), the message looked up once per page.
        select_label=_("Select %(reference)s"),
    ), status


def bulk_selection(call):
    """(form, applications) of a bulk action posted from the staff list of `call`: each selected
    application loaded as the user may see it (a crafted or invisible id is a 404). One of another
    call is kept, for the operation to refuse it by name."""
    form = BulkForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.application.errors or form.shown.errors:
            abort(400 if form.csrf_token.errors else 404)
    return form, [get_visible_or_404(Application, i) for i in form.selected_ids()]


def back_to_list(call):
    """After a bulk action: the list as it was (its filters and page)."""
    args = {k: v for k, v in request.args.to_dict().items() if k != "select"}
    return redirect(url_for("applications.staff_index", call_id=call.id, **args))


@bp.route("/staff/calls/<int:call_id>/applications/screen", methods=["POST"])
@staff_required
def bulk_screen(call_id):
    """Mark the selected applications eligible, or ineligible with one reason for all: all or none."""
    call = get_visible_or_404(Call, call_id)
    form, applications = bulk_selection(call)
    action = form.action.data
    if action not in ("mark_eligible", "mark_ineligible"):
        abort(400)
    if form.reason.errors:  # too long: said next to it, nothing done
        return staff_list_page(call, bulk_form=form, status=400)
    try:
        n = operations.screen_batch(call, applications, action, actor=_me(), reason=form.reason.data)
    except Refused as refusal:
        db.session.rollback()
        return staff_list_page(call, bulk_form=form, refusal=refusal, status=400)
    if action == "mark_eligible":
        flash(ngettext("%(num)d application marked eligible.", "%(num)d applications marked eligible.", n), "success")
    else:
        flash(
            ngettext(
                "%(num)d application marked ineligible; its city is told why.",
                "%(num)d applications marked ineligible; each city is told why.",
                n,
            ),
            "success",
        )
    return back_to_list(call)


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
            "lead_name",
            "lead_gender",
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
                application.lead_name,
                application.lead_gender or "not_given",
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


def _staff_detail_page(application, *, screening_form=None, posted=None, close_form=None, message_form=None):
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
        message_form=message_form or new_message_form(),
    )


def _show_errors(form, refusal):
    """Put a refusal's messages next to their fields; True when at least one found its field."""
    shown = False
    for message, name in refusal.problems:
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
        changes=compare(by_no[a].data, by_no[b].data, str(get_locale())),
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
