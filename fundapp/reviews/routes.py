import io

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..accounts.models import GENDERS
from ..applications.models import Application
from ..applications.routes import back_to_list, bulk_selection, staff_list_page
from ..calls.models import Call
from ..core.documents import send_document
from ..core.errors import Refused
from ..core.exports import csv_writer
from ..core.forms import DecimalText, act, attempt, typed_by_key
from ..core.i18n import LANGUAGE_NAMES
from ..core.inputs import page_number
from ..core.money import cents_to_decimal
from ..core.pagination import ListPage, paginate
from ..core.permissions import get_visible_or_404, staff_required
from ..core.timeutil import utcnow
from ..extensions import db, limiter
from ..members.models import REGIONS
from . import operations
from .forms import (
    AssignForm,
    ConfirmJuryForm,
    ConsensusForm,
    DeclarationForm,
    DeclineOfferForm,
    ExpertOfferForm,
    JurorForm,
    JurorTermsForm,
    JuryRuleForm,
    ReopenForm,
)
from .jury import balance, call_loads, fund_today, jurors_of, jury_of
from .models import ASSIGNMENT_WORKFLOW, OFFER_STATES, RECOMMENDATIONS, Assignment, ExpertOffer, Juror, PanelConsensus
from .queries import application_result, call_results, my_assignments, progress, shows_content, submitted_reviews
from .scoring import conflict_reasons

bp = Blueprint("reviews", __name__)


def _me():
    return current_user._get_current_object()


# -- the reviewer's side ------------------------------------------------------------------------


@bp.route("/reviews/")
@login_required
def index():
    if not current_user.has_role("reviewer"):
        abort(403)
    return render_template("reviews/index.html", assignments=my_assignments(current_user), now=utcnow())


def _own_assignment_or_404(assignment_id, *, content=False):
    """The reviewer's own assignment; with content=True only once it may see the application."""
    assignment = db.session.get(Assignment, assignment_id)
    if assignment is None or assignment.reviewer_id != current_user.id or not current_user.has_role("reviewer"):
        abort(404)
    if content and not shows_content(assignment, current_user):
        abort(404)
    return assignment


def _others(assignment):
    """The other submitted reviews' scores, once this one is in and the call allows it."""
    call = assignment.application.call
    if not (assignment.is_done and call.reviewers_see_others):
        return None
    pairs = submitted_reviews([assignment.application_id]).get(assignment.application_id, [])
    return [review for other, review in pairs if other.id != assignment.id]


@bp.route("/reviews/<int:assignment_id>")
@login_required
def detail(assignment_id):
    assignment = _own_assignment_or_404(assignment_id)
    application = assignment.application
    if not shows_content(assignment, current_user):
        return render_template(
            "reviews/declare.html",
            assignment=assignment,
            application=application,
            form=DeclarationForm(),
            refused=None,
        )
    latest = application.submissions[-1]
    review = assignment.review
    entered = {s.criterion_id: s for s in review.scores} if review else {}
    return render_template(
        "reviews/score.html",
        assignment=assignment,
        application=application,
        data=latest.data,
        review=review,
        entered=entered,
        typed=None,
        errors={},
        others=_others(assignment),
        recommendations=RECOMMENDATIONS,
        language=str(get_locale()),
    )


@bp.route("/reviews/<int:assignment_id>/declare", methods=["POST"])
@login_required
def declare(assignment_id):
    assignment = _own_assignment_or_404(assignment_id)
    form = DeclarationForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors or form.action.errors:
            abort(400)
        return _declaration_refused(assignment, form, form.reason.errors[0])
    try:
        operations.declare(assignment, form.action.data, actor=_me(), reason=form.reason.data)
    except Refused as refusal:
        db.session.rollback()
        if not assignment.awaiting_declaration:  # declared meanwhile (another tab): nothing to correct
            flash(refusal.message, "error")
            return redirect(url_for("reviews.detail", assignment_id=assignment.id))
        return _declaration_refused(assignment, form, refusal.message)
    if assignment.sees_content:
        flash(_("Thank you. You can now read and score the application."), "success")
        return redirect(url_for("reviews.detail", assignment_id=assignment.id))
    flash(_("Your declaration is recorded; the programme team will find another reviewer."), "success")
    return redirect(url_for("reviews.index"))


def _declaration_refused(assignment, form, message):
    """The declaration page again, the reason beside the form that was sent, with what was typed."""
    return render_template(
        "reviews/declare.html",
        assignment=assignment,
        application=assignment.application,
        form=form,
        refused={"action": form.action.data, "message": message, "reason": form.reason.data or ""},
    ), 400


def _typed_scores(criteria):
    """{criterion id: (score, cannot judge, comment)} as typed ("3,5" in French), and the criteria
    whose mark could not be read (save_review says why)."""
    typed, unreadable = typed_by_key(request.form, "score_", DecimalText, [c.id for c in criteria])
    scores = {
        criterion.id: (
            typed.get(criterion.id),
            request.form.get(f"cannot_judge_{criterion.id}") == "y",
            request.form.get(f"comment_{criterion.id}", ""),
        )
        for criterion in criteria
    }
    return scores, set(unreadable)


@bp.route("/reviews/<int:assignment_id>/review", methods=["POST"])
@login_required
def save_review(assignment_id):
    assignment = _own_assignment_or_404(assignment_id, content=True)
    application = assignment.application
    scores, unreadable = _typed_scores(application.call.criteria)
    submit = "submit_review" in request.form
    try:
        errors = operations.save_review(
            assignment,
            actor=_me(),
            scores=scores,
            marks_unread=unreadable,
            comment_applicant=request.form.get("comment_applicant", ""),
            comment_staff=request.form.get("comment_staff", ""),
            recommendation=request.form.get("recommendation"),
            submit=submit,
        )
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for("reviews.detail", assignment_id=assignment.id))
    if not errors:
        flash(_("Review submitted.") if submit else _("Draft saved."), "success")
        return redirect(url_for("reviews.detail", assignment_id=assignment.id))
    # Listed in the form's order: the criteria, then the recommendation.
    order = {f"score_{c.id}": i for i, c in enumerate(application.call.criteria)}
    errors = dict(sorted(errors.items(), key=lambda item: order.get(item[0], len(order))))
    review = assignment.review
    entered = {s.criterion_id: s for s in review.scores} if review else {}
    return render_template(
        "reviews/score.html",
        assignment=assignment,
        application=application,
        data=application.submissions[-1].data,
        review=review,
        entered=entered,
        typed=request.form,
        errors=errors,
        submit_refused=submit,
        others=None,
        recommendations=RECOMMENDATIONS,
        language=str(get_locale()),
    ), 400


@bp.route("/reviews/<int:assignment_id>/documents/<int:document_id>")
@login_required
def document(assignment_id, document_id):
    assignment = _own_assignment_or_404(assignment_id, content=True)
    attached = next((d for d in assignment.application.documents if d.id == document_id), None)
    if attached is None:
        abort(404)
    return send_document(attached.document, attached.download_name(str(get_locale())))


# -- staff ------------------------------------------------------------------------------------


@bp.route("/staff/calls/<int:call_id>/reviews")
@staff_required
def call_progress(call_id):
    call = get_visible_or_404(Call, call_id)
    state, overdue = request.args.get("state", ""), request.args.get("overdue") == "1"
    figures = progress(
        call,
        state=state,
        overdue=overdue,
        page=request.args.get("page", 1, type=page_number),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template(
        "reviews/progress.html", call=call, progress=figures, now=utcnow(), state=state, overdue=overdue
    )


@bp.route("/staff/calls/<int:call_id>/assign", methods=["GET", "POST"])
@staff_required
def auto_assign(call_id):
    call = get_visible_or_404(Call, call_id)
    if request.method == "POST":
        pairs = set()
        for value in request.form.getlist("pair"):
            application_id, _sep, reviewer_id = value.partition(":")
            if application_id.isdigit() and reviewer_id.isdigit():
                pairs.add((int(application_id), int(reviewer_id)))
        try:
            count = operations.confirm_proposal(call, pairs, actor=_me())
        except Refused as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
            return redirect(url_for("reviews.auto_assign", call_id=call.id))
        flash(_("%(n)d assignments made; the reviewers have been told by e-mail.", n=count), "success")
        return redirect(url_for("reviews.call_progress", call_id=call.id))
    proposal = operations.proposal_for(call)
    jurors = jurors_of(call)
    return render_template(
        "reviews/assign.html",
        call=call,
        proposal=proposal,
        shortfalls=[operations.shortfall_text(short) for short in proposal.shortfalls],
        jury_size=len(jurors),
        names={j.reviewer_id: j.reviewer.name for j in jurors},
    )


@bp.route("/staff/calls/<int:call_id>/applications/assign", methods=["POST"])
@staff_required
def bulk_assign(call_id):
    """The automatic assignment for the applications selected on the staff list: all or none."""
    call = get_visible_or_404(Call, call_id)
    form, applications = bulk_selection(call)
    try:
        count = operations.assign_selected(call, applications, actor=_me())
    except Refused as refusal:
        db.session.rollback()
        return staff_list_page(call, bulk_form=form, refusal=refusal, status=400)
    flash(
        ngettext(
            "Reviewers assigned to %(num)d application (%(assignments)d assignments); they have been told by e-mail.",
            "Reviewers assigned to %(num)d applications (%(assignments)d assignments); they have been told by e-mail.",
            len(applications),
            assignments=count,
        ),
        "success",
    )
    return back_to_list(call)


@bp.route("/staff/applications/<int:application_id>/assign", methods=["POST"])
@staff_required
def assign(application_id):
    application = get_visible_or_404(Application, application_id)
    form = AssignForm()
    if not form.validate_on_submit():
        abort(400)
    reviewer = db.session.get(operations.User, form.reviewer.data)
    assigned = act(
        lambda: _("%(name)s is assigned.", name=reviewer.name), operations.assign, application, reviewer, actor=_me()
    )
    if assigned and not _reads(reviewer, application):
        # Allowed (a panel needs only one reader of the language), but said: staff may not know.
        flash(
            _(
                "%(name)s does not read %(language)s, the language of this application: make sure another "
                "reviewer on its panel does.",
                name=reviewer.name,
                language=LANGUAGE_NAMES.get(application.language, application.language),
            ),
            "warning",
        )
    return redirect(url_for("reviews.application_reviews", application_id=application.id))


@bp.route("/staff/applications/<int:application_id>/reviews")
@staff_required
def application_reviews(application_id):
    application = get_visible_or_404(Application, application_id)
    assignments = db.session.scalars(
        db.select(Assignment).where(Assignment.application_id == application.id).order_by(Assignment.id)
    ).all()
    if request.args.get("format") == "csv":
        return _review_summary_csv(application, assignments)
    return _application_reviews_page(application, assignments)


def _reads(reviewer, application):
    profile = reviewer.reviewer_profile
    return profile is None or application.language in profile.language_list


def _application_reviews_page(application, assignments=None, *, consensus_form=None, status=200):
    """The reviews of an application; after a refused consensus, its form with what was typed and why."""
    if assignments is None:
        assignments = db.session.scalars(
            db.select(Assignment).where(Assignment.application_id == application.id).order_by(Assignment.id)
        ).all()
    call = application.call
    result = application_result(application)
    pool = [u for u in operations.reviewer_pool() if u.id not in {a.reviewer_id for a in assignments}]
    jury = {j.reviewer_id for j in jurors_of(call)}
    # The call's jurors first; the rest of the pool is listed, marked, and refused with the reason.
    pool.sort(key=lambda u: u.id not in jury)
    choices = [
        (
            u.id,
            u.name
            + (
                ""
                if not conflict_reasons(u.reviewer_profile, application, call.conflict_same_country)
                else " " + _("(conflict)")
            )
            + ("" if u.id in jury else " " + _("(not on the jury)"))
            + ("" if _reads(u, application) else " " + _("(does not read its language)")),
        )
        for u in pool
    ]
    assign_form = AssignForm()
    assign_form.reviewer.choices = choices

    if consensus_form is None:
        consensus = db.session.get(PanelConsensus, application.id)
        consensus_form = ConsensusForm(
            formdata=None, data={"score": consensus.score, "note": consensus.note} if consensus else None
        )
    return render_template(
        "reviews/application.html",
        application=application,
        call=call,
        assignments=assignments,
        result=result,
        assign_form=assign_form,
        consensus_form=consensus_form,
        reopen_form=ReopenForm(),
        language=str(get_locale()),
    ), status


def _review_summary_csv(application, assignments):
    out = io.StringIO()
    writer = csv_writer(out)
    criteria = application.call.criteria
    writer.writerow(
        ["reference", "reviewer", "state", "recommendation", "score_0_100"]
        + [f"criterion_{c.position}_{c.name_in('en')}" for c in criteria]
        + ["comment_for_applicant"]
    )
    for a in assignments:
        review = a.review
        by_criterion = {s.criterion_id: s for s in review.scores} if review else {}
        cells = []
        for c in criteria:
            s = by_criterion.get(c.id)
            cells.append("cannot judge" if s and s.cannot_judge else (s.score if s and s.score is not None else ""))
        writer.writerow(
            [
                application.reference,
                a.reviewer.name,
                a.state,
                review.recommendation if review else "",
                review.score if review and review.score is not None else "",
            ]
            + cells
            + [review.comment_applicant if review else ""]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={application.reference.lower()}-reviews.csv"},
    )


@bp.route("/staff/applications/<int:application_id>/consensus", methods=["POST"])
@staff_required
def consensus(application_id):
    application = get_visible_or_404(Application, application_id)
    form = ConsensusForm()
    if not form.validate_on_submit():
        if form.csrf_token.errors:
            abort(400)
        # Said next to the score, with the score and the note as typed.
        return _application_reviews_page(application, consensus_form=form, status=400)
    try:
        operations.record_consensus(application, actor=_me(), score=form.score.data, note=form.note.data)
    except Refused as refusal:
        db.session.rollback()
        if not refusal.apply_to(form):
            form.form_errors.append(refusal.message)
        return _application_reviews_page(application, consensus_form=form, status=400)
    flash(_("Consensus recorded."), "success")
    return redirect(url_for("reviews.application_reviews", application_id=application.id))


@bp.route("/staff/assignments/<int:assignment_id>/remove", methods=["POST"])
@staff_required
def remove_from_panel(assignment_id):
    assignment = db.session.get(Assignment, assignment_id) or abort(404)
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for taking this reviewer off the panel."), "error")
    else:
        act(
            _("%(name)s is no longer on this panel.", name=assignment.reviewer.name),
            operations.remove_from_panel,
            assignment,
            actor=_me(),
            reason=form.reason.data,
        )
    return redirect(url_for("reviews.application_reviews", application_id=assignment.application_id))


@bp.route("/staff/assignments/<int:assignment_id>/reopen", methods=["POST"])
@staff_required
def reopen(assignment_id):
    assignment = db.session.get(Assignment, assignment_id) or abort(404)
    form = ReopenForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for reopening."), "error")
    else:
        act(_("The review is reopened."), operations.reopen, assignment, actor=_me(), reason=form.reason.data)
    return redirect(url_for("reviews.application_reviews", application_id=assignment.application_id))


@bp.route("/staff/calls/<int:call_id>/ranking")
@staff_required
def ranking(call_id):
    call = get_visible_or_404(Call, call_id)
    passing, failing, unscored = call_results(call)
    if request.args.get("format") == "csv":
        return _ranking_csv(call, passing, failing)
    # The whole ranking is computed; the page shows RANKING_PAGE_SIZE rows of it (passing in rank
    # order, then those below a threshold), the CSV all of them.
    ranked = [(rank, r) for rank, r in enumerate(passing, start=1)] + [(None, r) for r in failing]
    listing = ListPage(ranked, request.args.get("page", 1, type=page_number), current_app.config["RANKING_PAGE_SIZE"])
    return render_template(
        "reviews/ranking.html",
        call=call,
        listing=listing,
        passing=[(rank, r) for rank, r in listing.items if rank is not None],
        failing=[r for rank, r in listing.items if rank is None],
        any_passing=bool(passing),
        any_failing=bool(failing),
        unscored=unscored,
        language=str(get_locale()),
    )


def _ranking_csv(call, passing, failing):
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(
        [
            "rank",
            "reference",
            "city",
            "title",
            "requested_eur",
            "reviews",
            "mean",
            "consensus",
            "ranking_score",
            "normalised",
            "spread",
            "disagreement",
            "passes",
        ]
        + [f"criterion_{c.position}_mean" for c in call.criteria]
    )

    for rank, result in enumerate(passing + failing, start=1):
        a = result.application
        writer.writerow(
            [
                rank if result.passes else "",
                a.reference,
                a.member.name,
                a.title,
                cents_to_decimal(a.requested_cents),
                len(result.scores),
                result.mean,
                result.consensus.score if result.consensus else "",
                result.ranking_score,
                result.normalised if result.normalised is not None else "",
                result.spread,
                "yes" if result.disagreement else "no",
                "yes" if result.passes else "no",
            ]
            + [result.criterion_means.get(c.id, "") for c in call.criteria]
        )
    return Response(
        "\ufeff" + out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={call.code.lower()}-ranking.csv"},
    )


@bp.route("/staff/reviewers")
@staff_required
def pool():
    from collections import Counter

    reviewers = operations.reviewer_pool()
    load = Counter(
        r
        for (r,) in db.session.execute(
            db.select(Assignment.reviewer_id).where(Assignment.state.in_(ASSIGNMENT_WORKFLOW.states_with("open")))
        )
    )
    offers = {
        o.user_id: o
        for o in db.session.scalars(
            sa.select(ExpertOffer).where(ExpertOffer.user_id.in_([r.id for r in reviewers] or [-1]))
        )
    }
    new_offers = db.session.scalar(sa.select(sa.func.count(ExpertOffer.id)).where(ExpertOffer.state == "new"))
    return render_template("reviews/pool.html", reviewers=reviewers, load=load, offers=offers, new_offers=new_offers)


# -- experts offer to review (public) and staff answer ------------------------------------------


@bp.route("/experts/offer", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def offer():
    form = ExpertOfferForm()
    if form.validate_on_submit():
        made = attempt(
            form,
            operations.offer_to_review,
            name=form.name.data,
            email=form.email.data,
            gender=form.gender.data,
            country=form.country.data,
            region=form.region.data,
            languages=form.languages.data,
            expertise=form.expertise.data,
            affiliation=form.affiliation.data,
            cv=(form.cv.data.filename, form.cv.data.read()),
            language=str(get_locale()),
        )
        if made is not None:
            return render_template("reviews/offer_sent.html", offer=made)
    status = 400 if request.method == "POST" else 200
    return render_template("reviews/offer.html", form=form), status


@bp.route("/staff/reviewers/offers")
@staff_required
def offers():
    state = request.args.get("state", "")
    stmt = sa.select(ExpertOffer).order_by(ExpertOffer.created_at.desc(), ExpertOffer.id.desc())
    if state in OFFER_STATES:
        stmt = stmt.where(ExpertOffer.state == state)
    listing = paginate(stmt, request.args.get("page", 1, type=page_number), current_app.config["PAGE_SIZE"])
    return render_template(
        "reviews/offers.html", listing=listing, state=state, states=OFFER_STATES, regions=REGIONS, genders=GENDERS
    )


def _offer_page(offer, decline_form=None, status=200):
    return render_template(
        "reviews/offer_detail.html",
        offer=offer,
        decline_form=decline_form or DeclineOfferForm(),
        regions=REGIONS,
        genders=GENDERS,
    ), status


@bp.route("/staff/reviewers/offers/<int:offer_id>")
@staff_required
def offer_detail(offer_id):
    return _offer_page(get_visible_or_404(ExpertOffer, offer_id))


@bp.route("/staff/reviewers/offers/<int:offer_id>/cv")
@staff_required
def offer_cv(offer_id):
    return send_document(get_visible_or_404(ExpertOffer, offer_id).cv)


@bp.route("/staff/reviewers/offers/<int:offer_id>/accept", methods=["POST"])
@staff_required
def accept_offer(offer_id):
    offer = get_visible_or_404(ExpertOffer, offer_id)
    act(
        _("%(name)s is invited to join the reviewer pool.", name=offer.name),
        operations.accept_offer,
        offer,
        actor=_me(),
    )
    return redirect(url_for("reviews.offer_detail", offer_id=offer.id))


@bp.route("/staff/reviewers/offers/<int:offer_id>/decline", methods=["POST"])
@staff_required
def decline_offer(offer_id):
    offer = get_visible_or_404(ExpertOffer, offer_id)
    form = DeclineOfferForm()
    if form.validate_on_submit():
        if attempt(form, operations.decline_offer, offer, actor=_me(), reason=form.reason.data) is not None:
            flash(_("The offer is declined; %(name)s is told by e-mail.", name=offer.name), "success")
            return redirect(url_for("reviews.offer_detail", offer_id=offer.id))
    return _offer_page(offer, form, 400)


# -- the jury of a call --------------------------------------------------------------------------


def _jury_page(call, *, add_form=None, rule_form=None, confirm_form=None, row_errors=None, row_typed=None, status=200):
    """The jury page; after a refused row (`row_errors`), that row shows what was typed (`row_typed`)."""
    jury = jury_of(call)
    jurors = jurors_of(call)
    on_jury = {j.reviewer_id for j in jurors}
    add_form = add_form or JurorForm()
    add_form.reviewer.choices = [(u.id, u.name) for u in operations.reviewer_pool() if u.id not in on_jury]
    rule_form = rule_form or JuryRuleForm(
        data={
            "min_women_percent": jury.min_women_percent,
            "min_men_percent": jury.min_men_percent,
            "min_regions": jury.min_regions,
        }
    )
    return render_template(
        "reviews/jury.html",
        call=call,
        jury=jury,
        jurors=jurors,
        composition=balance(jury, jurors),
        loads=call_loads(call),
        today=fund_today(),
        add_form=add_form,
        rule_form=rule_form,
        confirm_form=confirm_form or ConfirmJuryForm(),
        row_errors=row_errors or {},
        row_typed=row_typed or {},
        regions=REGIONS,
        genders=GENDERS,
    ), status


@bp.route("/staff/calls/<int:call_id>/jury")
@staff_required
def jury(call_id):
    return _jury_page(get_visible_or_404(Call, call_id))


@bp.route("/staff/calls/<int:call_id>/jury/add", methods=["POST"])
@staff_required
def add_juror(call_id):
    call = get_visible_or_404(Call, call_id)
    form = JurorForm()
    if form.validate_on_submit():
        reviewer = db.session.get(operations.User, form.reviewer.data) if form.reviewer.data else None
        made = attempt(
            form,
            operations.add_juror,
            call,
            reviewer,
            actor=_me(),
            max_load=form.max_load.data,
            unavailable_from=form.unavailable_from.data,
            unavailable_until=form.unavailable_until.data,
        )
        if made is not None:
            flash(_("%(name)s is on the jury.", name=reviewer.name), "success")
            return redirect(url_for("reviews.jury", call_id=call.id))
    return _jury_page(call, add_form=form, status=400)


@bp.route("/staff/calls/<int:call_id>/jury/rule", methods=["POST"])
@staff_required
def jury_rule(call_id):
    call = get_visible_or_404(Call, call_id)
    form = JuryRuleForm()
    if form.validate_on_submit():
        made = attempt(
            form,
            operations.set_jury_rule,
            call,
            actor=_me(),
            min_women_percent=form.min_women_percent.data,
            min_men_percent=form.min_men_percent.data,
            min_regions=form.min_regions.data,
        )
        if made is not None:
            flash(_("The balance rule is saved."), "success")
            return redirect(url_for("reviews.jury", call_id=call.id))
    return _jury_page(call, rule_form=form, status=400)


@bp.route("/staff/calls/<int:call_id>/jury/confirm", methods=["POST"])
@staff_required
def confirm_jury(call_id):
    call = get_visible_or_404(Call, call_id)
    form = ConfirmJuryForm()
    if form.validate_on_submit():
        made = attempt(form, operations.confirm_jury, call, actor=_me(), reason=form.reason.data)
        if made is not None:
            flash(_("The jury is confirmed."), "success")
            return redirect(url_for("reviews.jury", call_id=call.id))
    return _jury_page(call, confirm_form=form, status=400)


@bp.route("/staff/jurors/<int:juror_id>", methods=["POST"])
@staff_required
def update_juror(juror_id):
    juror = get_visible_or_404(Juror, juror_id)
    form = JurorTermsForm(request.form)
    try:
        form.validate_or_refuse()
        operations.update_juror(
            juror,
            actor=_me(),
            max_load=form.max_load.data,
            unavailable_from=form.unavailable_from.data,
            unavailable_until=form.unavailable_until.data,
        )
    except Refused as refusal:
        db.session.rollback()
        return _jury_page(
            juror.call, row_errors={juror.id: refusal.message}, row_typed={juror.id: request.form}, status=400
        )
    flash(_("%(name)s: load and availability saved.", name=juror.reviewer.name), "success")
    return redirect(url_for("reviews.jury", call_id=juror.call_id))


@bp.route("/staff/jurors/<int:juror_id>/remove", methods=["POST"])
@staff_required
def remove_juror(juror_id):
    juror = get_visible_or_404(Juror, juror_id)
    call_id, name = juror.call_id, juror.reviewer.name
    act(_("%(name)s is no longer on the jury.", name=name), operations.remove_juror, juror, actor=_me())
    return redirect(url_for("reviews.jury", call_id=call_id))
