from datetime import date, timedelta
from types import SimpleNamespace

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.documents import send_document
from ..core.errors import Refused
from ..core.i18n import format_instant
from ..core.inputs import db_int, page_number
from ..core.pagination import page_within
from ..core.permissions import get_visible_or_404, roles_required, staff_required
from ..core.timeutil import utcnow
from ..core.transactions import kept_unless_refused
from ..extensions import db
from ..funding.ledger import fund_today
from ..funding.models import Donor
from ..funding.queries import ledger_closed_through
from . import gender, operations, public
from .dashboard import fund_dashboard
from .forms import DonorReportForm, report_form
from .models import REPORT_WORKFLOW, DonorReport, GrantReport
from .queries import Figures, figures, same_donor_report

bp = Blueprint("reporting", __name__)
bp.context_processor(gender.template_helpers)


def _me():
    return current_user._get_current_object()


@bp.route("/reports/<int:report_id>", methods=["GET", "POST"])
@login_required
def city_report(report_id):
    report = get_visible_or_404(GrantReport, report_id)
    is_city = report.grant.application.member_id in current_user.member_ids()
    errors = {}
    if request.method == "POST":
        if not is_city:
            abort(404)
        form = report_form(report, request.form)
        saved = False
        try:
            if not form.validate():
                errors.update(form.first_errors())
                # The figures the form could read are checked too: every problem in one round.
                for message, field in operations.report_problems(report, form.values(), form.spent()):
                    errors.setdefault(field, message)
                raise Refused(_("Please correct the fields marked below; what you entered is kept."))
            operations.save_report(report, actor=_me(), values=form.values(), spent=form.spent())
            saved = True
            if "submit_report" in request.form:
                # A refused sending keeps the report saved (committed with the request).
                with kept_unless_refused():
                    operations.submit_report(report, actor=_me())
                flash(_("Report sent to the programme team."), "success")
            else:
                flash(_("Report saved."), "success")
            return redirect(url_for("reporting.city_report", report_id=report.id))
        except Refused as refusal:
            if not saved:
                db.session.rollback()
            # Every problem of a refused sending is marked at once, not one per attempt.
            for message, field in refusal.problems:
                if field:
                    errors.setdefault(field, message)
            if not errors:  # a refusal of no field; the others are listed above the form, each linked
                flash(refusal.message, "error")
        return render_template(
            "reporting/report.html", report=report, is_city=is_city, errors=errors, typed=request.form
        ), 400
    return render_template("reporting/report.html", report=report, is_city=is_city, errors=errors, typed=None)


@bp.route("/reports/<int:report_id>/documents", methods=["POST"])
@login_required
def report_document(report_id):
    report = get_visible_or_404(GrantReport, report_id)
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise Refused(_("Choose a file."))
        operations.attach_document(report, actor=_me(), filename=upload.filename, data=upload.read())
    except Refused as refusal:
        db.session.rollback()
        flash(_("The file was not attached: %(reason)s", reason=refusal.message), "error")
    else:
        flash(_("Document attached."), "success")
    return redirect(url_for("reporting.city_report", report_id=report.id))


@bp.route("/reports/<int:report_id>/documents/<int:document_id>")
@login_required
def download_report_document(report_id, document_id):
    report = get_visible_or_404(GrantReport, report_id)
    attached = next((d for d in report.documents if d.id == document_id), None)
    if attached is None:
        abort(404)
    return send_document(attached.document)


@bp.route("/staff/reports")
@staff_required
def staff_reports():
    state = request.args.get("state", "")
    stmt = sa.select(GrantReport).order_by(GrantReport.due_on, GrantReport.id)
    if state in REPORT_WORKFLOW.state_names():
        stmt = stmt.where(GrantReport.state == state)
    reports = db.session.scalars(stmt.limit(500)).all()
    return render_template("reporting/staff_reports.html", reports=reports, state=state, workflow=REPORT_WORKFLOW)


@bp.route("/staff/reports/<int:report_id>/review", methods=["POST"])
@staff_required
def review_report(report_id):
    report = get_visible_or_404(GrantReport, report_id)
    try:
        if request.form.get("action") == "approve":
            operations.approve_report(report, actor=_me())
            flash(_("Report approved; the tranche tied to it is now due."), "success")
        else:
            operations.request_changes(report, actor=_me(), message=request.form.get("message", ""))
            flash(_("The city has been asked for changes."), "success")
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
    return redirect(url_for("reporting.city_report", report_id=report.id))


# -- donor reports ------------------------------------------------------------------------------


def _donors_for(user):
    if user.has_role("staff"):
        return db.session.scalars(sa.select(Donor).order_by(Donor.short_name)).all()
    return db.session.scalars(sa.select(Donor).where(Donor.id.in_(user.donor_ids() or [-1]))).all()


@bp.route("/donor-reports", methods=["GET", "POST"])
@roles_required("staff", "donor")
def donor_reports():
    donors = _donors_for(current_user)
    errors = {}
    if request.method == "POST":
        form = DonorReportForm(request.form)
        form.validate()  # a date that is not one reads as missing; the operation says what is wanted
        raw_donor = form.donor.data or ""
        donor = None
        if raw_donor == "fund" and not current_user.has_role("staff"):
            abort(404)
        if raw_donor != "fund":
            donor = next((d for d in donors if str(d.id) == raw_donor), None)
            if donor is None:
                abort(404)
        start, end = form.period_start.data, form.period_end.data
        language = form.language.data or (donor.reporting_language if donor else "en")
        language = language if language in ("en", "fr", "es") else "en"
        same = same_donor_report(donor, start, end, language) if start and end else None
        if same is not None:
            flash(
                _(
                    "The same report (donor, period and language) was asked for on %(when)s: here it is.",
                    when=format_instant(same.created_at),
                ),
                "info",
            )
            return redirect(url_for("reporting.donor_report", report_id=same.id))
        try:
            report = operations.request_donor_report(
                actor=_me(),
                donor=donor,
                start=start,
                end=end,
                language=language,
            )
        except Refused as refusal:
            db.session.rollback()
            errors[refusal.field or "donor"] = refusal.message
        else:
            flash(_("The report is being built."), "success")
            return redirect(url_for("reporting.donor_report", report_id=report.id))
    stmt = sa.select(DonorReport).order_by(DonorReport.created_at.desc()).limit(100)
    if not current_user.has_role("staff"):
        stmt = stmt.where(DonorReport.donor_id.in_(current_user.donor_ids() or [-1]))
    closed = ledger_closed_through()
    return render_template(
        "reporting/donor_reports.html",
        donors=donors,
        reports=db.session.scalars(stmt).all(),
        errors=errors,
        typed=request.form if errors else None,
        # A report covers days that have ended (staff close them with it) or, for a donor, days the
        # team has closed: by default the year so far, up to the last of them.
        last_day=(last_day := _last_reportable_day(closed)),
        first_day=last_day.replace(month=1, day=1),
        closed_through=closed,
    ), 400 if errors else 200


def _last_reportable_day(closed):
    yesterday = fund_today() - timedelta(days=1)
    if current_user.has_role("staff") or closed is None:
        return yesterday
    return min(yesterday, closed)


@bp.route("/donor-reports/<int:report_id>")
@login_required
def donor_report(report_id):
    report = get_visible_or_404(DonorReport, report_id)
    data = None
    if report.status == "done":
        # The figures the files were built with, never a live recomputation. (A report built before
        # they were kept is rebuilt from the dated ledger entries, which give the same figures.)
        if report.figures is not None:
            data = Figures.from_snapshot(report.figures, donor=report.donor)
        else:
            data = figures(report.donor, report.period_start, report.period_end)
    return render_template("reporting/donor_report.html", report=report, figures=data, language=str(get_locale()))


@bp.route("/donor-reports/<int:report_id>/status")
@login_required
def donor_report_status(report_id):
    """How far the build has gone, for the report page to update itself while it waits."""
    report = get_visible_or_404(DonorReport, report_id)
    return jsonify(status=report.status, progress=report.progress)


@bp.route("/donor-reports/<int:report_id>/<kind>")
@login_required
def donor_report_file(report_id, kind):
    report = get_visible_or_404(DonorReport, report_id)
    document = {"pdf": report.pdf, "xlsx": report.xlsx, "csv": report.csv}.get(kind)
    if document is None:
        abort(404)
    return send_document(document)


# -- dashboards ---------------------------------------------------------------------------------


@bp.route("/dashboard")
@staff_required
def dashboard():
    return render_template(
        "reporting/dashboard.html", data=fund_dashboard(), now=utcnow(), gender_rows=gender.by_call()
    )


@bp.route("/donor")
@roles_required("donor")
def donor_dashboard():
    donor = current_user.donor
    if donor is None:
        abort(404)
    today = utcnow().date()
    data = figures(donor, date(2000, 1, 1), today)
    reports = db.session.scalars(
        sa.select(DonorReport).where(DonorReport.donor_id == donor.id).order_by(DonorReport.created_at.desc()).limit(20)
    ).all()
    return render_template("reporting/donor_dashboard.html", donor=donor, figures=data, reports=reports)


# -- the public page of funded projects ------------------------------------------------------------


@bp.route("/funded-projects")
def funded_projects():
    """The projects the fund finances whose city consented to publication: all, or one call's."""
    language = str(get_locale())
    calls = public.calls_with_projects(language=language)
    call_id = request.args.get("call", None, type=db_int)
    page = request.args.get("page", 1, type=page_number)
    per_page = current_app.config["PAGE_SIZE"]
    projects, total = public.funded_projects(call_id=call_id, page=page, per_page=per_page, language=language)
    within, pages = page_within(page, total, per_page)
    if within != page:  # beyond the last page: the last page
        page = within
        projects, total = public.funded_projects(call_id=call_id, page=page, per_page=per_page, language=language)
    listing = SimpleNamespace(
        items=projects,
        page=page,
        pages=pages,
        total=total,
        has_prev=page > 1,
        prev_num=page - 1,
        has_next=page < pages,
        next_num=page + 1,
    )
    return render_template(
        "reporting/funded_projects.html",
        listing=listing,
        calls=calls,
        call_id=call_id,
        chosen_call=next((c for c in calls if c[0] == call_id), None),
    )


@bp.route("/funded-projects/<int:grant_id>")
def funded_project(grant_id):
    """One published project, with the progress and results of the reports its city agreed to publish."""
    project = public.funded_project(grant_id, language=str(get_locale()))
    if project is None:
        abort(404)
    return render_template("reporting/funded_project.html", project=project)
