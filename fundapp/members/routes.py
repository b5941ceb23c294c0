from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..core.forms import attempt
from ..core.inputs import page_number
from ..core.permissions import get_visible_or_404, staff_required
from ..extensions import db
from . import operations
from .forms import ImportForm, MemberForm
from .models import REGIONS, Member
from .pdf import directory_pdf
from .queries import all_members, members_page

bp = Blueprint("members", __name__, url_prefix="/members")


@bp.route("/")
@staff_required
def index():
    q = request.args.get("q", "").strip()
    region = request.args.get("region", "")
    region = region if region in REGIONS else ""
    page = members_page(
        Member.visible_to(current_user),
        q=q,
        region=region,
        page=request.args.get("page", 1, type=page_number),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("members/index.html", page=page, q=q, region=region)


@bp.route("/<int:member_id>")
@login_required
def detail(member_id):
    member = get_visible_or_404(Member, member_id)
    return render_template("members/detail.html", member=member)


def _member_values(form):
    return dict(
        name=form.name.data,
        country=form.country.data,
        region=form.region.data,
        membership=form.membership.data,
        dues_paid_through=form.dues_paid_through.data,
        timezone=form.timezone.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def create():
    form = MemberForm()
    if form.validate_on_submit():
        member = attempt(
            form, operations.create_member, actor=current_user._get_current_object(), **_member_values(form)
        )
        if member is not None:
            flash(_("Member %(name)s created.", name=member.name), "success")
            return redirect(url_for("members.detail", member_id=member.id))
    return render_template("members/form.html", form=form, member=None), 400 if form.errors else 200


@bp.route("/<int:member_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(member_id):
    member = get_visible_or_404(Member, member_id)
    form = MemberForm(obj=member)
    if form.validate_on_submit():
        if attempt(
            form, operations.update_member, member, actor=current_user._get_current_object(), **_member_values(form)
        ):
            flash(_("Member %(name)s saved.", name=member.name), "success")
            return redirect(url_for("members.detail", member_id=member.id))
    return render_template("members/form.html", form=form, member=member), 400 if form.errors else 200


@bp.route("/import", methods=["GET", "POST"])
@staff_required
def import_csv():
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        raw = form.file.data.read()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            form.file.errors = [_("The file is not UTF-8 text.")]
        else:
            try:
                created, updated = operations.import_members(text, actor=current_user._get_current_object())
            except operations.ImportRefused as refusal:
                db.session.rollback()
                form.file.errors = [refusal.message]
                errors = refusal.errors
            else:
                flash(
                    _("Import done: %(created)d created, %(updated)d updated.", created=created, updated=updated),
                    "success",
                )
                return redirect(url_for("members.index"))
    status = 400 if form.errors or errors else 200
    return render_template("members/import.html", form=form, errors=errors), status


@bp.route("/directory.pdf")
@staff_required
def directory():
    data = directory_pdf(all_members(), language=str(get_locale()))
    return Response(
        data, mimetype="application/pdf", headers={"Content-Disposition": "attachment; filename=metropolis-members.pdf"}
    )
