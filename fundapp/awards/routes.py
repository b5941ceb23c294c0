import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..applications import operations as applications_ops
from ..applications.models import Application
from ..applications.routes import back_to_list, bulk_selection, discussed_or_404, new_message_form, staff_list_page
from ..calls.models import Call
from ..core.documents import send_document
from ..core.errors import Refused
from ..core.forms import act, amounts_by_key
from ..core.inputs import db_int, page_number
from ..core.kept import kept_form_saved
from ..core.models import AuditEntry
from ..core.permissions import get_visible_or_404, staff_required
from ..extensions import db
from . import operations
from .forms import AcceptanceForm, DecisionForm, PaymentForm, PublicationForm, ReasonForm, ReserveAwardForm
from .letters import letter_download_name
from .models import GRANT_WORKFLOW, Decision, Grant, Letter, Tranche
from .queries import BOARD_LIST_SIZE, board, decide_page, scenario_page, shown_decisions

bp = Blueprint("awards", __name__)


def _me():
    return current_user._get_current_object()


def _tranche_of(grant, raw):
    """The tranche whose id was posted, or None when there is no such tranche (the operation
    refuses a tranche of another grant)."""
    try:
        tranche = db.session.get(Tranche, db_int(raw))
    except (TypeError, ValueError):
        return None
    return tranche


def _scenario_amounts(formdata, unread=None):
    """{application id: cents} of the amounts staff set in the funding scenario (`amount_<id>`);
    one that cannot be read is left as proposed, and staff are told why (in `unread`, when given:
    {application id: why}, shown on its row)."""
    amounts, errors = amounts_by_key(formdata, "amount_")
    if errors:
        flash(
            _("An amount in the scenario was left as proposed: %(reason)s", reason=next(iter(errors.values()))), "error"
        )
        if unread is not None:
            unread.update(errors)
    return {key: cents for key, cents in amounts.items() if cents is not None}


@bp.route("/staff/calls/<int:call_id>/decisions")
@staff_required
def decision_board(call_id):
    call = get_visible_or_404(Call, call_id)
    unread = {}
    adjusted = _scenario_amounts(request.args, unread)
    # What was typed in each amount, shown back on a row whose amount the scenario could not take.
    typed_amounts = {
        int(key[len("amount_") :]): value
        for key, value in request.args.items()
        if key.startswith("amount_") and key[len("amount_") :].isdigit()
    }
    return _board_page(call, adjusted, unread=unread, typed_amounts=typed_amounts)


def _board_page(call, adjusted=None, *, errors=None, typed=None, unread=None, typed_amounts=None, status=200):
    """The decision board; after a refused decision, its messages next to the fields of that
    application's form (`errors`: {application id: {field: message}}) and what staff typed kept.
    `unread`: why the scenario's amounts that could not be read were left as proposed, and
    `typed_amounts` what was typed: both shown on their rows."""
    adjusted = adjusted or {}
    data = board(call, adjusted)
    errors = errors or {}
    decide = decide_page(data, request.args.get("decide_page", 1, type=page_number), showing=next(iter(errors), None))
    scenario = scenario_page(data, request.args.get("page", 1, type=page_number))
    return render_template(
        "awards/board.html",
        call=call,
        board=data,
        adjusted=adjusted,
        decisions=shown_decisions(scenario, decide),
        decide=decide,
        card_link=_card_links(call, decide["page_of"]),
        scenario=scenario,
        errors=errors,
        typed=typed or {},
        unread=unread or {},
        typed_amounts=typed_amounts or {},
        listed=BOARD_LIST_SIZE,
    ), status


def _card_links(call, page_of):
    """card_link(application id): the board's address on the page of that application's decision
    card (the scenario as shown kept). A scenario page's hundred rows link to a few pages of
    cards: each address is built once."""
    built = {}

    def card_link(application_id):
        page = page_of[application_id]
        if page not in built:
            built[page] = url_for("awards.decision_board", call_id=call.id, **dict(request.args, decide_page=page))
        return built[page]

    return card_link


def _approved_budget_from(form, application):
    """{budget line id: cents} typed on the board (None: all empty, the request scaled to the award)."""
    budget, errors = amounts_by_key(form, "line_", [line.id for line in application.budget_lines])
    if errors:
        raise Refused(_("Give each line of the approved budget in euros."), field="budget")
    if all(cents is None for cents in budget.values()):
        return None
    return {line_id: cents or 0 for line_id, cents in budget.items()}


@bp.route("/staff/applications/<int:application_id>/decide", methods=["POST"])
@staff_required
def decide(application_id):
    application = get_visible_or_404(Application, application_id)
    form = DecisionForm(request.form)
    kind = form.kind.data or ""
    split, split_errors = amounts_by_key(request.form, "split_")  # each funding line's share
    split = {line_id: cents for line_id, cents in split.items() if cents is not None} or None
    try:
        form.validate_or_refuse()
        amount = form.amount.data
        if kind == "award" and amount is None:
            raise Refused(_("Give the amount to award, in euros."), field="amount")
        if split_errors:
            raise Refused(_("Give each part of the split in euros."), field="split")
        budget = _approved_budget_from(request.form, application) if kind == "award" else None
        decision = operations.decide(
            application,
            kind,
            actor=_me(),
            amount_cents=amount,
            conditions=form.conditions.data or "",
            reason=form.reason.data or "",
            split=split,
            budget=budget,
        )
    except Refused as refusal:
        db.session.rollback()
        # Shown next to its field in this application's form, what staff typed kept; else on top.
        if refusal.field not in ("amount", "budget", "reason", "conditions"):
            flash(refusal.message, "error")
        call = db.session.get(Call, application.call_id)
        return _board_page(
            call,
            errors={application.id: {refusal.field or "": refusal.message}},
            typed={application.id: request.form.to_dict()},
            status=400,
        )
    else:
        flash(
            _("%(reference)s: %(kind)s recorded.", reference=application.reference, kind=decision.kind_label), "success"
        )
    return redirect(url_for("awards.decision_board", call_id=application.call_id))


@bp.route("/staff/calls/<int:call_id>/decide-batch", methods=["POST"])
@staff_required
def decide_batch(call_id):
    call = get_visible_or_404(Call, call_id)
    chosen = _batch_awards(request.form.getlist("award"))
    confirmed = _batch_awards(request.form.getlist("out_of_rank"))  # ticked one by one by staff
    # The scenario as the page showed it (its amounts), to tell which awards jump the rank order.
    adjusted = _scenario_amounts(request.form)
    adjusted.update(chosen)
    adjusted.update(confirmed)
    out_of_rank = {row.result.application.id: row.result.application for row in board(call, adjusted)["jumping"]}
    jumping = [out_of_rank[application_id] for application_id in chosen if application_id in out_of_rank]
    if jumping:
        references = ", ".join(application.reference for application in jumping)
        flash(
            _(
                "%(references)s fits only because a higher-ranked application does not: tick it under “out of rank"
                " order” to award it. Nothing was recorded.",
                references=references,
            ),
            "error",
        )
        return redirect(url_for("awards.decision_board", call_id=call.id))
    awards = {}
    for application_id, cents in [*chosen.items(), *confirmed.items()]:
        application = db.session.get(Application, application_id)
        if application is not None and application.call_id == call.id:
            awards[application] = cents
    try:
        done = len(operations.decide_batch(call, awards, actor=_me()))
    except Refused as refusal:
        db.session.rollback()
        flash(refusal.message, "error")
        return redirect(url_for("awards.decision_board", call_id=call.id))
    flash(_("%(n)d awards recorded.", n=done), "success" if done else "error")
    return redirect(url_for("awards.decision_board", call_id=call.id))


def _batch_awards(values):
    """{application id: cents} from the batch form's "id:cents" values, in the order given."""
    awards = {}
    for value in values:
        application_id, _sep, raw = value.partition(":")
        if application_id.isdigit() and raw.isdigit():
            awards.setdefault(int(application_id), int(raw))
    return awards


@bp.route("/staff/applications/<int:application_id>/award-from-reserve", methods=["POST"])
@staff_required
def award_from_reserve(application_id):
    """Money came back: award an application of the reserve list (a new decision, a new letter)."""
    application = get_visible_or_404(Application, application_id)
    form = ReserveAwardForm(request.form)
    try:
        form.validate_or_refuse()
        operations.award_from_reserve(
            application,
            actor=_me(),
            amount_cents=form.amount.data,
            conditions=form.conditions.data or "",
            out_of_rank=form.out_of_rank.data,
        )
    except Refused as refusal:
        db.session.rollback()
        if refusal.field not in ("amount", "out_of_rank"):
            flash(refusal.message, "error")
        return _board_page(
            db.session.get(Call, application.call_id),
            errors={application.id: {refusal.field or "": refusal.message}},
            typed={application.id: request.form.to_dict()},
            status=400,
        )
    flash(
        _(
            "%(reference)s is awarded from the reserve list. Send the award letter: the city is told with it.",
            reference=application.reference,
        ),
        "success",
    )
    return redirect(url_for("awards.decision_board", call_id=application.call_id) + f"#decide-{application.id}")


def _decision_or_404(decision_id):
    decision = db.session.get(Decision, decision_id)
    if decision is None or not decision.application.can_view(current_user):
        abort(404)
    return decision


@bp.route("/staff/decisions/<int:decision_id>/revise", methods=["POST"])
@staff_required
def revise(decision_id):
    decision = _decision_or_404(decision_id)
    act(
        _("Decision revised; any money it held is back in the envelope."),
        operations.revise,
        decision,
        actor=_me(),
        reason=ReasonForm(request.form).reason.data or "",
    )
    return redirect(url_for("awards.decision_board", call_id=decision.application.call_id))


@bp.route("/staff/decisions/<int:decision_id>/letter.pdf")
@staff_required
def preview_letter(decision_id):
    decision = _decision_or_404(decision_id)
    return Response(
        operations.render_letter(decision),
        mimetype="application/pdf",
        headers={"Content-Disposition": f"inline; filename={decision.application.reference}-preview.pdf"},
    )


@bp.route("/staff/decisions/<int:decision_id>/send", methods=["POST"])
@staff_required
def send_letter(decision_id):
    decision = _decision_or_404(decision_id)
    act(
        _("The letter to %(city)s is being sent.", city=decision.application.member.name),
        operations.send_letter,
        decision,
        actor=_me(),
    )
    return redirect(url_for("awards.decision_board", call_id=decision.application.call_id))


@bp.route("/staff/calls/<int:call_id>/applications/letters", methods=["POST"])
@staff_required
def bulk_letters(call_id):
    """The decision letters of the decided applications selected on the staff list: all or none."""
    call = get_visible_or_404(Call, call_id)
    form, applications = bulk_selection(call)
    try:
        letters = operations.send_letters(call, applications, actor=_me())
    except Refused as refusal:
        db.session.rollback()
        return staff_list_page(call, bulk_form=form, refusal=refusal, status=400)
    flash(
        ngettext("%(num)d decision letter is being sent.", "%(num)d decision letters are being sent.", len(letters)),
        "success",
    )
    return back_to_list(call)


@bp.route("/letters/<int:letter_id>.pdf")
@login_required
def letter(letter_id):
    letter = db.session.get(Letter, letter_id)
    if letter is None or letter.document is None or not letter.decision.application.can_view(current_user):
        abort(404)
    return send_document(letter.document, letter_download_name(letter.decision, str(get_locale())))


# -- grants ------------------------------------------------------------------------------------


@bp.route("/grants/<int:grant_id>")
@login_required
def grant(grant_id):
    return _grant_page(get_visible_or_404(Grant, grant_id))


def _grant_page(grant, *, posted=None, errors=None, typed=None, status=200, message_form=None):
    """The grant's page; after a refused form (`posted`: which one), its messages next to its
    fields and what was typed kept."""
    history = (
        db.session.scalars(
            db.select(AuditEntry)
            .where(
                # The grant's entries and its application's: never another grant's with the id of
                # this one's application, nor the reverse.
                sa.or_(
                    sa.and_(AuditEntry.object_type == "Grant", AuditEntry.object_id == str(grant.id)),
                    sa.and_(AuditEntry.object_type == "Application", AuditEntry.object_id == str(grant.application_id)),
                )
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(50)
        ).all()
        if current_user.has_role("staff")
        else []
    )
    return render_template(
        "awards/grant.html",
        grant=grant,
        history=history,
        workflow=GRANT_WORKFLOW,
        is_city=grant.application.member_id in current_user.member_ids(),
        as_partner=grant.application.sees_as_partner(current_user),
        payment_dates=operations.payment_dates(grant) if grant.accepted_at else None,
        posted=posted,
        errors=errors or {},
        typed=typed or {},
        # The application's thread, for its city and staff only (never a donor who may see the grant).
        can_discuss=grant.application.can_discuss(current_user),
        message_form=message_form or new_message_form(),
        allocations=grant.allocations_seen_by(current_user),
        # The reports this reader may open (a donor's officer: the approved ones; a partner: none).
        reports=[report for report in grant.reports if report.can_view(current_user)],
    ), status


def _refused(grant, posted, refusal, default_field):
    """Back to the grant's page with the refusal next to its field in the form `posted`."""
    db.session.rollback()
    db.session.refresh(grant)
    errors = {}
    for message, field in refusal.problems:  # each problem beside its field, a field's problems together
        field = field or default_field
        errors[field] = f"{errors[field]} {message}" if field in errors else message
    return _grant_page(
        grant,
        posted=posted,
        errors=errors,
        typed=request.form.to_dict(),
        status=400,
    )


@bp.route("/grants/<int:grant_id>/messages", methods=["POST"])
@login_required
def post_message(grant_id):
    """A message in the thread of the grant's application, written on the grant's page."""
    grant = get_visible_or_404(Grant, grant_id)
    application = discussed_or_404(grant.application)
    form = new_message_form(request.form)
    if not form.validate_on_submit():
        abort(400)  # only a missing or stale token: the operation checks the message itself
    try:
        applications_ops.post_message(application, actor=_me(), body=form.body.data)
    except Refused as refusal:
        db.session.rollback()
        db.session.refresh(grant)
        if not refusal.apply_to(form):  # said next to the message field, what was typed kept
            form.body.errors = list(form.body.errors) + [refusal.message]
        return _grant_page(grant, message_form=form, status=400)
    kept_form_saved(f"message-{application.id}")
    flash(_("Message sent."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id) + "#messages")


@bp.route("/applications/<int:application_id>/grant")
@login_required
def city_grant(application_id):
    """The link of the award e-mail and of the city's pages: the grant, once the letter is sent.
    Before that (or with no award) the city finds nothing here; staff are told why."""
    application = get_visible_or_404(Application, application_id)
    decision = operations.current_decision(application)
    grant = decision.grant if decision is not None else None
    if grant is not None and grant.can_view(current_user):
        return redirect(url_for("awards.grant", grant_id=grant.id))
    if current_user.has_role("staff"):
        flash(
            _(
                "%(reference)s has no grant: it is “%(state)s”.",
                reference=application.reference,
                state=application.staff_label,
            ),
            "info",
        )
        return redirect(url_for("applications.staff_detail", application_id=application.id))
    abort(404)


def _grant_to_act_on_or_404(grant_id):
    """A grant the user may act on: a partner city sees the grant, read-only; to it, the grant's
    actions do not exist (404)."""
    grant = get_visible_or_404(Grant, grant_id)
    if grant.application.sees_as_partner(current_user):
        abort(404)
    return grant


@bp.route("/grants/<int:grant_id>/accept", methods=["POST"])
@login_required
def accept(grant_id):
    grant = _grant_to_act_on_or_404(grant_id)
    form = AcceptanceForm(request.form)
    try:
        operations.accept_grant(
            grant,
            actor=_me(),
            bank_details=form.bank_details.data or "",
            publish_project=form.publish_project.data,
            publish_reports=form.publish_reports.data,
        )
    except Refused as refusal:
        return _refused(grant, "accept", refusal, "bank_details")
    flash(_("Thank you: the grant is accepted. The first payment is now due."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id))


@bp.route("/grants/<int:grant_id>/publication", methods=["POST"])
@login_required
def publication(grant_id):
    """The lead city gives or withdraws its consent to publish its project and approved reports."""
    grant = _grant_to_act_on_or_404(grant_id)
    form = PublicationForm(request.form)
    try:
        operations.set_publication(
            grant, actor=_me(), publish_project=form.publish_project.data, publish_reports=form.publish_reports.data
        )
    except Refused as refusal:
        return _refused(grant, "publication", refusal, "publish_project")
    if grant.publish_project:
        flash(_("Your choice is saved: the project is on the fund's public page and in its open data."), "success")
    else:
        flash(_("Your choice is saved: the project is not published."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id) + "#publication")


@bp.route("/staff/grants/<int:grant_id>/payments", methods=["POST"])
@staff_required
def pay(grant_id):
    grant = get_visible_or_404(Grant, grant_id)
    form = PaymentForm(request.form)
    try:
        if not form.validate():  # what could not be read, and every rule the rest breaks, at once
            unread = form.first_errors()
            problems = [(message, field) for field, message in unread.items()]
            problems += operations.payment_problems(
                grant,
                _tranche_of(grant, form.tranche.data),
                amount_cents=form.amount.data,
                paid_on=form.paid_on.data,
                reference=form.reference.data or "",
                unread=unread,
            )
            raise Refused(problems[0][0], field=problems[0][1], errors=problems)
        operations.record_payment(
            grant,
            _tranche_of(grant, form.tranche.data),
            actor=_me(),
            amount_cents=form.amount.data,
            paid_on=form.paid_on.data,
            reference=form.reference.data or "",
        )
    except Refused as refusal:
        return _refused(grant, "pay", refusal, "amount")
    flash(_("Payment recorded."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id))


@bp.route("/staff/grants/<int:grant_id>/cancel", methods=["POST"])
@staff_required
def cancel(grant_id):
    grant = get_visible_or_404(Grant, grant_id)
    try:
        operations.cancel_grant(grant, actor=_me(), reason=ReasonForm(request.form).reason.data or "")
    except Refused as refusal:
        return _refused(grant, "cancel", refusal, "reason")
    flash(_("The grant is cancelled; the unspent money is back in the envelope."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id))


@bp.route("/staff/grants/<int:grant_id>/close", methods=["POST"])
@staff_required
def close(grant_id):
    grant = get_visible_or_404(Grant, grant_id)
    try:
        operations.close_grant(grant, actor=_me(), reason=ReasonForm(request.form).reason.data or "")
    except Refused as refusal:
        return _refused(grant, "close", refusal, "reason")
    flash(_("The grant is closed; what was not paid is back in the envelope."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id))


@bp.route("/grants/<int:grant_id>/decline", methods=["POST"])
@login_required
def decline(grant_id):
    grant = _grant_to_act_on_or_404(grant_id)
    try:
        operations.decline_grant(grant, actor=_me(), reason=ReasonForm(request.form).reason.data or "")
    except Refused as refusal:
        return _refused(grant, "decline", refusal, "reason")
    flash(_("Your city has declined the grant. The programme team has been told."), "success")
    return redirect(url_for("awards.grant", grant_id=grant.id))
