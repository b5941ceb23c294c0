from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.errors import Refused
from ..core.forms import act
from ..core.i18n import valid_country
from ..core.inputs import page_number
from ..core.permissions import admin_required, get_visible_or_404, staff_required
from ..core.urls import safe_redirect_target
from ..extensions import db, limiter
from ..funding.models import Donor
from ..funding.queries import donor_choices
from ..members.models import REGIONS, Member
from ..members.queries import member_choices
from . import mfa, operations, throttle
from .forms import (
    AcceptInvitationForm,
    AccessTokenForm,
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    InviteForm,
    LanguageForm,
    LoginForm,
    MfaCodeForm,
    NewPasswordForm,
    ProfileForm,
    ReviewerProfileForm,
    RolesForm,
)
from .models import ROLE_LABELS, AccessToken, Invitation, User, wall_clock
from .queries import access_tokens_in_use, access_tokens_of, invitations_page, users_page

bp = Blueprint("accounts", __name__)


def _clear_session():
    """A new session for the next step of signing in, keeping only the language chosen with the
    switcher (the pages of the second step are in it); returns that language."""
    chosen = session.get("language")
    session.clear()
    if chosen:
        session["language"] = chosen
    return chosen


def _sign_in(user, chosen_language=None):
    """Sign the user in. A language chosen with the switcher before signing in is the one they
    want now: it becomes their account's, as the switcher does once they are signed in."""
    if chosen_language and chosen_language != user.language:
        try:
            operations.set_language(user, chosen_language)
        except Refused:
            pass
    operations.start_session(user, user_agent=request.user_agent.string, address=request.remote_addr or "")
    login_user(user)
    session.permanent = True


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        email = operations.normalize_email(form.email.data)
        config = current_app.config
        # Counted before the password is checked: parallel guesses cannot get past the limit.
        if not throttle.take("login-address", request.remote_addr or "-", config["LOGIN_LIMIT_PER_ADDRESS"]):
            abort(429)
        if not throttle.take("login-account", email, config["LOGIN_LIMIT_PER_ACCOUNT"]):
            operations.lock_out(email)
            abort(429)
        user = operations.authenticate(email, form.password.data)
        if user is None:
            operations.record_login_failure(email)
            form.password.errors = [_("The e-mail address or the password is not right.")]
        else:
            throttle.clear("login-account", email, config["LOGIN_LIMIT_PER_ACCOUNT"])
            operations.keep_hash_current(user, form.password.data)
            target = safe_redirect_target(request.args.get("next"))
            if user.mfa_enabled_at or operations.mfa_required(user):
                # The password was right; the second step decides. Nothing is signed in yet.
                _clear_session()
                session["mfa_pending"] = {
                    "user": user.id,
                    "generation": user.session_token,
                    "at": int(wall_clock().timestamp()),
                    "next": target,
                    "password_ok": True,
                }
                if user.mfa_enabled_at is None:
                    session["mfa_secret"] = mfa.new_secret()
                    return redirect(url_for("accounts.mfa_enrol"))
                return redirect(url_for("accounts.mfa_verify"))
            operations.record_login(user)
            _sign_in(user, _clear_session())
            flash(_("Welcome, %(name)s.", name=user.name), "success")
            return redirect(target or url_for("home.index"))
    return render_template("accounts/login.html", form=form)


# A password checked this long ago no longer opens the second step: sign in again.
MFA_PENDING_SECONDS = 10 * 60


def _pending_user():
    """The person whose password was right and who now owes the second step, or None."""
    pending = session.get("mfa_pending") or {}
    if not pending or int(wall_clock().timestamp()) - pending.get("at", 0) > MFA_PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user") or 0)
    if user is None or not user.active or user.session_token != pending.get("generation"):
        return None
    return user


def _finish_sign_in(user):
    target = (session.get("mfa_pending") or {}).get("next")
    operations.record_login(user)
    _sign_in(user, _clear_session())
    flash(_("Welcome, %(name)s.", name=user.name), "success")
    return target


@bp.route("/login/verify", methods=["GET", "POST"])
def mfa_verify():
    user = _pending_user()
    if user is None or user.mfa_enabled_at is None:
        flash(_("Sign in again: the second step waits ten minutes at most."), "info")
        return redirect(url_for("accounts.login"))
    form = MfaCodeForm()
    if form.validate_on_submit():
        if not throttle.take("mfa", str(user.id), current_app.config["MFA_LIMIT"]):
            abort(429)
        try:
            how = operations.verify_second_factor(user, form.code.data)
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form)
        else:
            throttle.clear("mfa", str(user.id), current_app.config["MFA_LIMIT"])
            target = _finish_sign_in(user)
            if how == "recovery":
                flash(
                    ngettext(
                        "You signed in with a recovery code: %(num)d is left. Make new ones on your account page.",
                        "You signed in with a recovery code: %(num)d are left. Make new ones on your account page.",
                        operations.recovery_codes_left(user),
                    ),
                    "info",
                )
            return redirect(target or url_for("home.index"))
    return render_template("accounts/mfa_verify.html", form=form), 400 if form.errors else 200


def _enrolment_page(form, secret, email, status=200):
    uri = mfa.provisioning_uri(email, secret)
    return render_template(
        "accounts/mfa_enrol.html",
        form=form,
        qr=mfa.qr_svg_data_uri(uri),
        secret=mfa.grouped(secret),
        required=session.get("mfa_pending") is not None,
    ), status


@bp.route("/login/enrol", methods=["GET", "POST"])
def mfa_enrol():
    """A person whose role needs two-step verification sets it up before being signed in."""
    user = _pending_user()
    secret = session.get("mfa_secret")
    if user is None or not secret or user.mfa_enabled_at is not None:
        flash(_("Sign in again: the second step waits ten minutes at most."), "info")
        return redirect(url_for("accounts.login"))
    form = MfaCodeForm()
    if form.validate_on_submit():
        try:
            codes = operations.enable_mfa(user, secret, form.code.data)
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form)
        else:
            _finish_sign_in(user)
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=True)
    return _enrolment_page(form, secret, user.email, 400 if form.errors else 200)


@bp.route("/account/mfa", methods=["GET", "POST"])
@login_required
def mfa_setup():
    """Anyone signed in may turn on two-step verification."""
    user = current_user._get_current_object()
    if user.mfa_enabled_at is not None:
        return redirect(url_for("accounts.account") + "#mfa")
    if not session.get("mfa_secret"):
        # Kept until enrolment succeeds: reloading the page shows the same key.
        session["mfa_secret"] = mfa.new_secret()
    form = MfaCodeForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            codes = operations.enable_mfa(user, session["mfa_secret"], form.code.data)
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form)
        else:
            session.pop("mfa_secret", None)
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=True)
    return _enrolment_page(form, session["mfa_secret"], user.email, 400 if form.errors else 200)


@bp.route("/account/mfa/recovery-codes", methods=["POST"])
@login_required
def mfa_recovery_codes():
    form = MfaCodeForm(prefix="recovery")
    if form.validate_on_submit():
        try:
            codes = operations.new_recovery_codes(current_user._get_current_object(), form.code.data)
        except Refused as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
        else:
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=False)
    return redirect(url_for("accounts.account") + "#mfa")


@bp.route("/account/mfa/disable", methods=["POST"])
@login_required
def mfa_disable():
    form = MfaCodeForm(prefix="disable")
    if form.validate_on_submit():
        act(
            _("Two-step verification is off."),
            operations.disable_mfa,
            current_user._get_current_object(),
            form.code.data,
        )
    return redirect(url_for("accounts.account") + "#mfa")


@bp.route("/users/<int:user_id>/mfa/reset", methods=["POST"])
@admin_required
def reset_user_mfa(user_id):
    user = get_visible_or_404(User, user_id)
    act(
        _("Two-step verification of %(name)s is reset: they set it up again at their next sign-in.", name=user.name),
        operations.reset_mfa,
        user,
        actor=current_user._get_current_object(),
    )
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    user = current_user._get_current_object()
    operations.logout(user)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.email.data)
        return render_template("accounts/reset_sent.html", email=form.email.data)
    return render_template("accounts/forgot_password.html", form=form)


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token):
    reset, problem = operations.find_reset(token)
    if problem is not None:
        return render_template("accounts/link_invalid.html", kind="reset", problem=problem), 410
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            operations.reset_password(token, form.password.data)
        except Refused as refusal:
            db.session.rollback()
            if not refusal.apply_to(form):
                return render_template("accounts/link_invalid.html", kind="reset", problem="used"), 410
        else:
            flash(_("Your password is changed. Sign in with the new one."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset_password.html", form=form, user=reset.user)


@bp.route("/invitation/<token>", methods=["GET", "POST"])
def accept_invitation(token):
    invitation, problem = operations.find_invitation(token)
    if problem is not None:
        return render_template("accounts/link_invalid.html", kind="invitation", problem=problem), 410
    if operations.find_user_by_email(invitation.email) is not None:
        return _accept_invitation_with_account(token, invitation)
    if session.get("language") is None and invitation.language != str(get_locale()):
        # The page in the language the invitation was sent in, unless the visitor chose another.
        session["language"] = invitation.language
        refresh()
    form = AcceptInvitationForm()
    if request.method == "GET":
        form.name.data = invitation.name
    if form.validate_on_submit():
        try:
            user = operations.accept_invitation(token, name=form.name.data, password=form.password.data)
        except Refused as refusal:
            db.session.rollback()
            if not refusal.apply_to(form):
                return render_template("accounts/link_invalid.html", kind="invitation", problem="used"), 410
        else:
            session.clear()
            _sign_in(user)
            operations.record_login(user)  # their first sign-in: the users page says when
            flash(_("Welcome to the International Fund for Metropolises."), "success")
            return redirect(url_for("home.index"))
    return render_template("accounts/accept_invitation.html", form=form, invitation=invitation)


def _accept_invitation_with_account(token, invitation):
    """The address has an account: its owner signs in as usual, then takes the role here."""
    signed_in_as_invited = current_user.is_authenticated and current_user.email == invitation.email
    form = ConfirmForm()
    if signed_in_as_invited and form.validate_on_submit():
        try:
            operations.accept_invitation_as(token, current_user._get_current_object())
        except Refused as refusal:
            db.session.rollback()
            flash(refusal.message, "error")
        else:
            flash(_("The role of %(role)s is added to your account.", role=invitation.role_label), "success")
            return redirect(url_for("home.index"))
    return render_template(
        "accounts/accept_invitation_existing.html",
        form=form,
        invitation=invitation,
        signed_in_as_invited=signed_in_as_invited,
        login_url=url_for("accounts.login", next=url_for("accounts.accept_invitation", token=token)),
    )


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user, prefix="profile")
    password_form = ChangePasswordForm(prefix="password")
    if form.validate_on_submit():
        try:
            operations.update_profile(
                user,
                name=form.name.data,
                language=form.language.data,
                timezone=form.timezone.data,
                gender=form.gender.data or None,
                actor=user,
            )
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(form)
        else:
            flash(_("Your account is saved."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(form, password_form, user)


def _account_page(form, password_form, user, status=200, token_form=None):
    access_tokens, more_tokens = access_tokens_of(user.id)
    return render_template(
        "accounts/account.html",
        form=form,
        password_form=password_form,
        token_form=token_form or AccessTokenForm(prefix="token", formdata=None),
        access_tokens=access_tokens,
        more_tokens=more_tokens,
        user=user,
        sessions=operations.active_sessions(user),
        this_session=g.get("user_session"),
        session_idle=operations.idle_timeout(user),
        mfa_required=operations.mfa_required(user),
        recovery_left=operations.recovery_codes_left(user) if user.mfa_enabled_at else 0,
        recovery_form=MfaCodeForm(prefix="recovery"),
        disable_form=MfaCodeForm(prefix="disable"),
        end_form=ConfirmForm(prefix="sessions"),
    ), status


@bp.route("/account/tokens", methods=["POST"])
@login_required
def create_access_token():
    """The new token is shown once, in the answer to this POST: never in a redirect, the session or
    a flashed message (the session is a cookie)."""
    user = current_user._get_current_object()
    token_form = AccessTokenForm(prefix="token")
    if token_form.validate_on_submit():
        try:
            token, raw = operations.create_access_token(
                user, actor=user, name=token_form.name.data, days=token_form.days.data
            )
        except Refused as refusal:
            db.session.rollback()
            if not refusal.apply_to(token_form):
                token_form.form_errors.append(refusal.message)
        else:
            return render_template("accounts/access_token_created.html", token=token, raw=raw)
    return _account_page(
        ProfileForm(obj=user, prefix="profile", formdata=None),
        ChangePasswordForm(prefix="password", formdata=None),
        user,
        status=400,
        token_form=token_form,
    )


def _revoke_access_token(token, back):
    act(
        lambda: _("The access token “%(name)s” is revoked: it no longer opens the API.", name=token.name),
        operations.revoke_access_token,
        token,
        actor=current_user._get_current_object(),
    )
    return redirect(back)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke_access_token(token_id):
    token = db.session.get(AccessToken, token_id)
    if token is None or token.user_id != current_user.id:
        abort(404)
    return _revoke_access_token(token, url_for("accounts.account") + "#tokens")


@bp.route("/users/<int:user_id>/tokens/<int:token_id>/revoke", methods=["POST"])
@admin_required
def revoke_user_access_token(user_id, token_id):
    user = get_visible_or_404(User, user_id)
    token = db.session.get(AccessToken, token_id)
    if token is None or token.user_id != user.id:
        abort(404)
    return _revoke_access_token(token, url_for("accounts.user_detail", user_id=user_id) + "#user-tokens")


@bp.route("/account/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions():
    form = ConfirmForm(prefix="sessions")
    if form.validate_on_submit() and g.get("user_session") is not None:
        ended = operations.end_other_sessions(current_user._get_current_object(), g.user_session)
        flash(
            ngettext("%(num)d other session was signed out.", "%(num)d other sessions were signed out.", ended),
            "success",
        )
    return redirect(url_for("accounts.account"))


@bp.route("/users/<int:user_id>/sessions/end", methods=["POST"])
@admin_required
def end_user_sessions(user_id):
    user = get_visible_or_404(User, user_id)
    act(
        _("Every session of %(name)s has been signed out.", name=user.name),
        operations.end_user_sessions,
        user,
        actor=current_user._get_current_object(),
    )
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/account/password", methods=["POST"])
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ProfileForm(obj=user, prefix="profile")
    password_form = ChangePasswordForm(prefix="password")
    if password_form.validate_on_submit():
        try:
            operations.change_password(user, password_form.current_password.data, password_form.new_password.data)
        except Refused as refusal:
            db.session.rollback()
            refusal.apply_to(password_form)
        else:
            # This browser carries on in a new session; every other session is signed out.
            _sign_in(user)
            flash(_("Your password is changed. Other sessions have been signed out."), "success")
            return redirect(url_for("accounts.account"))
    return _account_page(form, password_form, user)


@bp.route("/language", methods=["POST"])
def set_language():
    form = LanguageForm()
    if form.validate_on_submit():
        session["language"] = form.language.data
        if current_user.is_authenticated:
            operations.set_language(current_user._get_current_object(), form.language.data)
    return redirect(safe_redirect_target(request.form.get("next")) or url_for("home.index"))


# -- staff: people ---------------------------------------------------------------------------


@bp.route("/users")
@staff_required
def users():
    q = request.args.get("q", "").strip()
    role = request.args.get("role", "")
    page = users_page(
        q=q,
        role=role if role in ROLE_LABELS else "",
        page=request.args.get("page", 1, type=page_number),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("accounts/users.html", page=page, q=q, role=role, role_labels=ROLE_LABELS)


def _invite_form():
    form = InviteForm()
    allowed = (
        ROLE_LABELS
        if current_user.has_role("admin")
        else {k: v for k, v in ROLE_LABELS.items() if k in operations.INVITABLE_BY_STAFF}
    )
    form.role.choices = list(allowed.items())
    form.member.choices = [(0, "—")] + member_choices()
    form.donor.choices = [(0, "—")] + donor_choices()
    return form


@bp.route("/users/invite", methods=["GET", "POST"])
@staff_required
def invite():
    form = _invite_form()
    if form.validate_on_submit():
        member = db.session.get(Member, form.member.data) if form.member.data else None
        donor = db.session.get(Donor, form.donor.data) if form.donor.data else None
        try:
            invitation, _token = operations.invite(
                actor=current_user._get_current_object(),
                email=form.email.data,
                name=form.name.data,
                role=form.role.data,
                member=member,
                donor=donor,
                language=form.language.data,
            )
        except Refused as refusal:
            db.session.rollback()
            if not refusal.apply_to(form):
                flash(refusal.message, "error")
        else:
            flash(_("Invitation sent to %(email)s.", email=invitation.email), "success")
            return redirect(url_for("accounts.invitations"))
    return render_template("accounts/invite.html", form=form)


@bp.route("/invitations")
@staff_required
def invitations():
    page = invitations_page(
        page=request.args.get("page", 1, type=page_number), per_page=current_app.config["PAGE_SIZE"]
    )
    return render_template("accounts/invitations.html", page=page)


@bp.route("/invitations/<int:invitation_id>/revoke", methods=["POST"])
@staff_required
def revoke_invitation(invitation_id):
    invitation = db.session.get(Invitation, invitation_id) or abort(404)
    act(_("Invitation revoked."), operations.revoke_invitation, invitation, actor=current_user._get_current_object())
    return redirect(url_for("accounts.invitations"))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@staff_required
def user_detail(user_id):
    user = get_visible_or_404(User, user_id)
    roles_form = RolesForm(
        prefix="roles",
        data={
            "roles": sorted(g.role for g in user.grants),
            "member": (user.member.id if user.member else 0),
            "donor": (user.donor.id if user.donor else 0),
        },
    )
    roles_form.member.choices = [(0, "—")] + member_choices()
    roles_form.donor.choices = [(0, "—")] + donor_choices()
    profile_form = None
    if user.reviewer_profile is not None:
        p = user.reviewer_profile
        profile_form = ReviewerProfileForm(
            prefix="reviewer",
            data={
                "gender": p.gender,
                "region": p.region or "",
                "country": p.country or "",
                "languages": p.language_list,
                "expertise": p.expertise,
                "affiliation": p.affiliation,
                "affiliation_member": p.affiliation_member_id or 0,
            },
        )
        profile_form.region.choices = [("", "—")] + [(k, str(v)) for k, v in REGIONS.items()]
        profile_form.affiliation_member.choices = [(0, "—")] + member_choices()
    return render_template(
        "accounts/user.html",
        user=user,
        roles_form=roles_form,
        profile_form=profile_form,
        role_labels=ROLE_LABELS,
        sessions=operations.active_sessions(user),
        access_tokens=_tokens_for_admin(user),
    )


def _tokens_for_admin(user):
    """An administrator sees the person's access tokens in use, to revoke one (a leak, a departure)."""
    return access_tokens_in_use(user.id) if current_user.has_role("admin") else []


@bp.route("/users/<int:user_id>/roles", methods=["POST"])
@admin_required
def update_roles(user_id):
    user = get_visible_or_404(User, user_id)
    form = RolesForm(prefix="roles")
    form.member.choices = [(0, "—")] + member_choices()
    form.donor.choices = [(0, "—")] + donor_choices()
    if form.validate_on_submit():
        member = db.session.get(Member, form.member.data) if form.member.data else None
        donor = db.session.get(Donor, form.donor.data) if form.donor.data else None
        act(
            _("Roles saved."),
            operations.set_roles,
            user,
            [(r, member, donor) for r in form.roles.data],
            actor=current_user._get_current_object(),
        )
    else:
        flash(_("The roles could not be saved."), "error")
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/users/<int:user_id>/active", methods=["POST"])
@admin_required
def set_active(user_id):
    user = get_visible_or_404(User, user_id)
    active = request.form.get("active") == "1"
    act(
        _("Account activated.") if active else _("Account deactivated."),
        operations.set_active,
        user,
        active,
        actor=current_user._get_current_object(),
    )
    return redirect(url_for("accounts.user_detail", user_id=user_id))


@bp.route("/users/<int:user_id>/reviewer", methods=["POST"])
@staff_required
def update_reviewer(user_id):
    user = get_visible_or_404(User, user_id)
    if user.reviewer_profile is None:
        abort(404)
    form = ReviewerProfileForm(prefix="reviewer")
    form.region.choices = [("", "—")] + [(k, str(v)) for k, v in REGIONS.items()]
    form.affiliation_member.choices = [(0, "—")] + member_choices()
    if form.validate_on_submit() and (not form.country.data or valid_country(form.country.data)):
        operations.update_reviewer_profile(
            user,
            actor=current_user._get_current_object(),
            gender=form.gender.data,
            region=form.region.data or None,
            country=(form.country.data or "").upper() or None,
            languages=",".join(form.languages.data),
            expertise=form.expertise.data,
            affiliation=form.affiliation.data,
            affiliation_member_id=form.affiliation_member.data or None,
        )
        flash(_("Reviewer profile saved."), "success")
        return redirect(url_for("accounts.user_detail", user_id=user_id))
    if form.country.data and not valid_country(form.country.data):
        form.country.errors = list(form.country.errors) + [_("Not an ISO country code.")]
    roles_form = RolesForm(prefix="roles")
    roles_form.member.choices = [(0, "—")] + member_choices()
    roles_form.donor.choices = [(0, "—")] + donor_choices()
    return render_template(
        "accounts/user.html",
        user=user,
        roles_form=roles_form,
        profile_form=form,
        role_labels=ROLE_LABELS,
        sessions=operations.active_sessions(user),
        access_tokens=_tokens_for_admin(user),
    ), 400
