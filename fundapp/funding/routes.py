from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.errors import Refused
from ..core.forms import attempt
from ..core.permissions import get_visible_or_404, staff_required
from ..extensions import db
from . import operations
from .forms import ContributionForm, DonorForm, RemoveContributionForm
from .models import Contribution, Donor
from .queries import contribution_in_use, contributions_with_allocation, ledger_closed_through

bp = Blueprint("funding", __name__, url_prefix="/staff/donors")


@bp.route("/")
@staff_required
def index():
    rows = contributions_with_allocation()
    donors = db.session.scalars(db.select(Donor).order_by(Donor.short_name)).all()
    totals = {d.id: {"contributed": 0, "allocated": 0} for d in donors}
    for contribution, allocated in rows:
        totals[contribution.donor_id]["contributed"] += contribution.eur_cents
        totals[contribution.donor_id]["allocated"] += allocated
    return render_template("funding/index.html", donors=donors, totals=totals)


def _donor_values(form):
    return dict(
        name=form.name.data,
        name_translations={"fr": form.name_fr.data, "es": form.name_es.data},
        short_name=form.short_name.data,
        contact_name=form.contact_name.data or None,
        contact_email=form.contact_email.data or None,
        reporting_language=form.reporting_language.data,
        reporting_notes=form.reporting_notes.data,
    )


@bp.route("/new", methods=["GET", "POST"])
@staff_required
def create():
    form = DonorForm()
    if form.validate_on_submit():
        donor = attempt(form, operations.create_donor, actor=current_user._get_current_object(), **_donor_values(form))
        if donor is not None:
            flash(_("Donor %(name)s added.", name=donor.short_name), "success")
            return redirect(url_for("funding.detail", donor_id=donor.id))
    return render_template("funding/donor_form.html", form=form, donor=None), 400 if form.errors else 200


@bp.route("/<int:donor_id>")
@staff_required
def detail(donor_id):
    donor = get_visible_or_404(Donor, donor_id)
    allocated = {c.id: a for c, a in contributions_with_allocation() if c.donor_id == donor.id}
    return render_template("funding/detail.html", donor=donor, allocated=allocated)


@bp.route("/<int:donor_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(donor_id):
    donor = get_visible_or_404(Donor, donor_id)
    form = DonorForm(obj=donor)
    if request.method == "GET":
        form.name_fr.data = (donor.name_translations or {}).get("fr", "")
        form.name_es.data = (donor.name_translations or {}).get("es", "")
    if form.validate_on_submit():
        if (
            attempt(
                form, operations.update_donor, donor, actor=current_user._get_current_object(), **_donor_values(form)
            )
            is not None
        ):
            flash(_("Donor %(name)s saved.", name=donor.short_name), "success")
            return redirect(url_for("funding.detail", donor_id=donor.id))
    return render_template("funding/donor_form.html", form=form, donor=donor), 400 if form.errors else 200


def _contribution_values(form):
    return dict(
        amount_original_cents=form.amount.data,
        currency=form.currency.data,
        rate_to_eur=form.rate_to_eur.data,
        pledged_on=form.pledged_on.data,
        received_on=form.received_on.data,
        restriction_theme=form.restriction_theme.data or None,
        restriction_region=form.restriction_region.data or None,
        note=form.note.data,
    )


@bp.route("/<int:donor_id>/contributions/new", methods=["GET", "POST"])
@staff_required
def add_contribution(donor_id):
    donor = get_visible_or_404(Donor, donor_id)
    form = ContributionForm()
    if form.validate_on_submit():
        if (
            attempt(
                form,
                operations.add_contribution,
                donor,
                actor=current_user._get_current_object(),
                **_contribution_values(form),
            )
            is not None
        ):
            flash(_("Contribution recorded."), "success")
            return redirect(url_for("funding.detail", donor_id=donor.id))
    return render_template(
        "funding/contribution_form.html", form=form, donor=donor, contribution=None, remove_form=None
    ), 400 if form.errors else 200


@bp.route("/contributions/<int:contribution_id>/edit", methods=["GET", "POST"])
@staff_required
def edit_contribution(contribution_id):
    contribution = db.session.get(Contribution, contribution_id) or abort(404)
    form = ContributionForm(
        obj=contribution,
        data=None
        if request.method == "POST"
        else {"amount": contribution.amount_original_cents, "rate_to_eur": contribution.rate_to_eur},
    )
    if form.validate_on_submit():
        if (
            attempt(
                form,
                operations.update_contribution,
                contribution,
                actor=current_user._get_current_object(),
                **_contribution_values(form),
            )
            is not None
        ):
            flash(_("Contribution saved."), "success")
            return redirect(url_for("funding.detail", donor_id=contribution.donor_id))
    return _contribution_page(contribution, form, status=400 if form.errors else 200)


def _contribution_page(contribution, form, *, remove_form=None, status=200):
    closed = ledger_closed_through()
    removable = not contribution_in_use(contribution.id) and (
        closed is None or (contribution.pledged_on is not None and contribution.pledged_on > closed)
    )
    return render_template(
        "funding/contribution_form.html",
        form=form,
        donor=contribution.donor,
        contribution=contribution,
        remove_form=(remove_form or RemoveContributionForm(formdata=None)) if removable else None,
    ), status


@bp.route("/contributions/<int:contribution_id>/remove", methods=["POST"])
@staff_required
def remove_contribution(contribution_id):
    """A contribution recorded by mistake (twice, or for the wrong donor), while nothing uses it."""
    contribution = db.session.get(Contribution, contribution_id) or abort(404)
    remove_form = RemoveContributionForm()
    form = ContributionForm(
        obj=contribution,
        formdata=None,
        data={"amount": contribution.amount_original_cents, "rate_to_eur": contribution.rate_to_eur},
    )
    if not remove_form.validate_on_submit():
        if remove_form.csrf_token.errors:
            abort(400)
        return _contribution_page(contribution, form, remove_form=remove_form, status=400)
    try:
        donor = operations.remove_contribution(
            contribution, actor=current_user._get_current_object(), reason=remove_form.reason.data
        )
    except Refused as refusal:
        db.session.rollback()
        refusal.apply_to(remove_form) or remove_form.form_errors.append(refusal.message)
        contribution = db.session.get(Contribution, contribution_id)
        return _contribution_page(contribution, form, remove_form=remove_form, status=400)
    flash(_("Contribution removed; the audit log keeps what it was and why."), "success")
    return redirect(url_for("funding.detail", donor_id=donor.id))
