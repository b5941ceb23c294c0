"""Every change to accounts: create, invite, accept, sign in and out, passwords, roles."""

from datetime import timedelta

import sqlalchemy as sa
from blinker import Namespace
from flask import current_app
from sqlalchemy.orm import joinedload

from ..core import audit
from ..core.addresses import check_email_address
from ..core.catalogue import lazy_gettext as _l
from ..core.errors import Refused
from ..core.i18n import lazy_instant
from ..core.mail import queue_mail
from ..core.permissions import ROLES
from ..core.timeutil import utcnow
from ..core.transactions import commit_now, done
from ..core.urls import external_url
from ..extensions import db
from . import mfa, passwords
from .models import (
    ACCESS_TOKEN_DAYS,
    ACCESS_TOKEN_NAME_MAX,
    ACCESS_TOKEN_PREFIX_LENGTH,
    GENDERS,
    AccessToken,
    Invitation,
    PasswordReset,
    RecoveryCode,
    ReviewerProfile,
    RoleGrant,
    User,
    UserSession,
    check_against_nothing,
    new_access_token,
    new_token,
    token_digest,
    wall_clock,
)

PUBLIC_FIELDS = ["email", "name", "language", "timezone", "active"]

signals = Namespace()
# Sent when someone accepts an invitation, inside the transaction: reviews fills the profile of a
# reviewer who offered to review from what they offered (reviews.operations.fill_profile_from_offer).
invitation_accepted = signals.signal("accounts.invitation-accepted")


def normalize_email(email):
    return (email or "").strip().lower()


def find_user_by_email(email, *, roles=True):
    """The account of an address; with roles=False its roles are only loaded when read, so that a
    failed sign-in costs the same queries whether the address has an account or not."""
    stmt = sa.select(User).where(User.email == normalize_email(email))
    if not roles:
        stmt = stmt.options(sa.orm.lazyload(User.grants))
    return db.session.scalar(stmt)


def check_password_strength(password, field="password", *, context=()):
    """Refuse a password that is short, common or built from `context` (the name, the e-mail)."""
    reason = passwords.problem(password, context=context)
    if reason is not None:
        raise Refused(reason, field=field)


def _grant(user, role, member=None, donor=None):
    if role not in ROLES:
        raise Refused(_l("Unknown role."), field="role")
    if role == "applicant" and member is None:
        raise Refused(_l("A city focal point must belong to a member city."), field="member")
    if role == "donor" and donor is None:
        raise Refused(_l("A donor officer must belong to a donor."), field="donor")
    existing = next((g for g in user.grants if g.role == role), None)
    if existing is not None:
        existing.member = member if role == "applicant" else None
        existing.donor = donor if role == "donor" else None
        return existing
    grant = RoleGrant(
        role=role, member=member if role == "applicant" else None, donor=donor if role == "donor" else None
    )
    user.grants.append(grant)
    if role == "reviewer" and user.reviewer_profile is None:
        user.reviewer_profile = ReviewerProfile()
    return grant


def _home_timezone(member):
    """A new account's clock: its member city's zone for a focal point, the fund's otherwise."""
    return member.timezone if member is not None and member.timezone else current_app.config["FUND_TIMEZONE"]


def create_user(*, email, name, roles, password=None, language="en", timezone=None, actor=None, commit=True):
    """roles: [(role, member_or_None, donor_or_None)]."""
    email = normalize_email(email)
    # Forms ask DNS in production; here the rule of the address itself, for every caller.
    check_email_address(email, deliverable=False)
    if find_user_by_email(email) is not None:
        raise Refused(_l("An account with this e-mail address already exists."), field="email")
    if password is not None:
        check_password_strength(password, context=(name, email))
    city = next((m for role, m, _d in roles if role == "applicant" and m is not None), None)
    user = User(email=email, name=name.strip(), language=language, timezone=timezone or _home_timezone(city))
    if password is not None:
        user.set_password(password)
    db.session.add(user)
    for role, member, donor in roles:
        _grant(user, role, member, donor)
    db.session.flush()
    audit.record(
        "user.create",
        user,
        after={**audit.snapshot(user, PUBLIC_FIELDS), "roles": sorted(r for r, _m, _d in roles)},
        summary=f"account created for {email}",
        actor=actor,
    )
    if commit:
        done()
    return user


def authenticate(email, password):
    """The user when the e-mail and password match an active account; None otherwise.

    Every answer costs one password hash, so the time taken does not tell whether the
    address has an account (an unknown one is checked against a hash of nothing).
    """
    user = find_user_by_email(email, roles=False)
    if user is None or not user.password_hash:
        check_against_nothing(password)
        return None
    if not user.check_password(password) or not user.active:
        return None
    return user


def record_login_failure(email):
    """A wrong password or an unknown address: the audit log keeps the attempt."""
    email = normalize_email(email)
    user = find_user_by_email(email, roles=False)
    audit.record("user.login_failed", user, object_type="User", summary=f"failed sign-in as {email}"[:300], actor=None)
    done()


def lock_out(email):
    """Too many attempts on this account: the owner is told, once per window, with a way back in."""
    email = normalize_email(email)
    user = find_user_by_email(email)
    audit.record("user.login_locked", user, object_type="User", summary=f"sign-in paused for {email}"[:300], actor=None)
    if user is not None and user.active:
        window = int(utcnow().timestamp() // LOCKOUT_MAIL_EVERY)
        try:
            with db.session.begin_nested():
                queue_mail(
                    user.email,
                    "login_locked",
                    language=user.language,
                    reader_timezone=user.timezone,
                    to_name=user.name,
                    dedupe_key=f"login-locked:{user.id}:{window}",
                    link=external_url("accounts.forgot_password"),
                )
        except sa.exc.IntegrityError:
            pass  # a parallel attempt has just told the owner
    done()


# One e-mail about a paused sign-in per account in this many seconds at most.
LOCKOUT_MAIL_EVERY = 15 * 60


def keep_hash_current(user, password):
    """The password is only known when it is typed: keep its hash on the current argon2 parameters."""
    if user.password_needs_rehash():
        user.set_password(password)
        done()


def record_login(user):
    """A sign-in completed (after its second step, when there is one)."""
    user.last_login_at = utcnow()
    audit.record("user.login", user, summary=f"{user.email} signed in", actor=user)
    done()


def logout(user):
    """Signing out ends every session of this user, not just this browser's."""
    _end_every_session(user, "signed_out")
    audit.record("user.logout", user, summary=f"{user.email} signed out", actor=user)
    done()


def change_password(user, current_password, new_password):
    if not user.check_password(current_password):
        raise Refused(_l("Your current password is not right."), field="current_password")
    check_password_strength(new_password, field="new_password", context=(user.name, user.email))
    user.set_password(new_password)
    _end_every_session(user, "password")
    _replace_open_resets(user)
    audit.record("user.password_change", user, summary=f"{user.email} changed the password", actor=user)
    done()


def update_profile(user, *, name, language, timezone, actor, gender=None):
    """A person's own account: name, language, timezone, and gender if they choose to give it."""
    before = audit.snapshot(user, PUBLIC_FIELDS)
    if language not in current_app.config["LANGUAGES"]:
        raise Refused(_l("Choose English, French or Spanish."), field="language")
    if gender is not None and gender not in GENDERS:
        raise Refused(_l("Choose one of the genders offered, or leave it empty."), field="gender")
    user.name = name.strip()
    user.language = language
    user.timezone = timezone
    user.gender = gender
    audit.record("user.update", user, before=before, after=audit.snapshot(user, PUBLIC_FIELDS), actor=actor)
    done()


def set_language(user, language):
    if language not in current_app.config["LANGUAGES"]:
        raise Refused(_l("Choose English, French or Spanish."), field="language")
    if user.language != language:
        before = {"language": user.language}
        user.language = language
        audit.record("user.language", user, before=before, after={"language": language}, actor=user)
        done()


def set_active(user, active, *, actor):
    if user.id == actor.id and not active:
        raise Refused(_l("You cannot deactivate your own account."))
    before = {"active": user.active}
    user.active = active
    if not active:
        _end_every_session(user, "deactivated")
    audit.record(
        "user.activate" if active else "user.deactivate", user, before=before, after={"active": active}, actor=actor
    )
    done()


def set_roles(user, roles, *, actor):
    """roles: [(role, member_or_None, donor_or_None)]; replaces what the user holds."""
    if user.id == actor.id and "admin" in user.role_names() and "admin" not in {r for r, _m, _d in roles}:
        raise Refused(_l("You cannot remove your own administrator role."), field="roles")
    before = sorted(g.role for g in user.grants)
    keep = {r for r, _m, _d in roles}
    for grant in list(user.grants):
        if grant.role not in keep:
            user.grants.remove(grant)
    for role, member, donor in roles:
        _grant(user, role, member, donor)
    audit.record("user.roles", user, before={"roles": before}, after={"roles": sorted(keep)}, actor=actor)
    done()


def update_reviewer_profile(user, *, actor, **fields):
    profile = user.reviewer_profile
    if profile is None:
        raise Refused(_l("This user is not a reviewer."))
    before = audit.snapshot(profile)
    for key, value in fields.items():
        setattr(profile, key, value)
    audit.record(
        "reviewer_profile.update", profile, object_id=user.id, before=before, after=audit.snapshot(profile), actor=actor
    )
    done()


# -- invitations -----------------------------------------------------------------------------

INVITABLE_BY_STAFF = ("applicant", "reviewer")


def invite(*, actor, email, name, role, member=None, donor=None, language="en"):
    """Invite a city focal point or a reviewer (admins may invite any role) by e-mail."""
    email = normalize_email(email)
    check_email_address(email, deliverable=False)
    if role not in ROLES:
        raise Refused(_l("Unknown role."), field="role")
    if role not in INVITABLE_BY_STAFF and not actor.has_role("admin"):
        raise Refused(_l("Only an administrator can invite this role."), field="role")
    if role == "applicant" and member is None:
        raise Refused(_l("Choose the member city this focal point works for."), field="member")
    if role == "donor" and donor is None:
        raise Refused(_l("Choose the donor this officer works for."), field="donor")
    existing = find_user_by_email(email)
    if existing is not None and role in existing.role_names():
        raise Refused(_l("This person already has an account with this role."), field="email")
    token = new_token()
    db.session.execute(
        sa.update(Invitation)
        .where(
            Invitation.email == email,
            Invitation.accepted_at.is_(None),
            Invitation.revoked_at.is_(None),
            Invitation.replaced_at.is_(None),
        )
        .values(replaced_at=utcnow())
    )
    invitation = Invitation(
        email=email,
        name=name.strip(),
        role=role,
        member=member if role == "applicant" else None,
        donor=donor if role == "donor" else None,
        language=language,
        token_digest=token_digest(token),
        expires_at=utcnow() + current_app.config["INVITATION_TTL"],
        invited_by_id=actor.id,
    )
    db.session.add(invitation)
    db.session.flush()
    audit.record(
        "invitation.create",
        invitation,
        after={"email": email, "role": role},
        actor=actor,
        summary=f"{email} invited as {role}",
    )
    queue_mail(
        email,
        "invitation",
        language=language,
        to_name=invitation.name,
        link=external_url("accounts.accept_invitation", token=token),
        inviter=actor.name,
        role=role,
        member=member.name if member else None,
        expires_at=invitation.expires_at,
    )
    done()
    return invitation, token


def find_invitation(token):
    """(invitation, problem): problem is None, 'unknown', 'expired', 'used', 'revoked' or 'replaced'."""
    invitation = db.session.scalar(sa.select(Invitation).where(Invitation.token_digest == token_digest(token or "")))
    if invitation is None:
        return None, "unknown"
    if invitation.accepted_at is not None:
        return invitation, "used"
    if invitation.revoked_at is not None:
        return invitation, "revoked"
    if invitation.replaced_at is not None:
        return invitation, "replaced"
    if invitation.expires_at <= utcnow():
        return invitation, "expired"
    return invitation, None


def accept_invitation(token, *, name, password):
    """A new person sets a name and a password; the invited role is theirs."""
    invitation, problem = find_invitation(token)
    if problem is not None:
        raise Refused(_l("This invitation link can no longer be used."))
    if find_user_by_email(invitation.email) is not None:
        # An invitation is never a way to set the password of an account that exists.
        raise Refused(_l("An account with this e-mail address already exists: sign in to accept the invitation."))
    check_password_strength(password, context=(name, invitation.email))
    user = User(
        email=invitation.email,
        name=name.strip(),
        language=invitation.language,
        timezone=_home_timezone(invitation.member if invitation.role == "applicant" else None),
    )
    user.set_password(password)
    db.session.add(user)
    return _claim_invitation(invitation, user)


def accept_invitation_as(token, user):
    """Someone who already has an account, signed in as the invited address, takes the role."""
    invitation, problem = find_invitation(token)
    if problem is not None:
        raise Refused(_l("This invitation link can no longer be used."))
    if user.email != invitation.email:
        raise Refused(
            _l("This invitation is for %(email)s: sign out and sign in with that address.", email=invitation.email)
        )
    return _claim_invitation(invitation, user)


def _claim_invitation(invitation, user):
    _grant(user, invitation.role, invitation.member, invitation.donor)
    db.session.flush()
    # One conditional UPDATE claims the link: a double submit cannot use it twice.
    claimed = db.session.execute(
        sa.update(Invitation)
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow(), user_id=user.id)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Refused(_l("This invitation link can no longer be used."))
    audit.record(
        "invitation.accept",
        invitation,
        after={"user_id": user.id, "role": invitation.role},
        actor=user,
        summary=f"{user.email} accepted the invitation",
    )
    invitation_accepted.send(invitation, user=user)
    done()
    return user


def revoke_invitation(invitation, *, actor):
    if invitation.accepted_at is not None:
        raise Refused(_l("This invitation has already been accepted."))
    invitation.revoked_at = utcnow()
    audit.record("invitation.revoke", invitation, actor=actor, summary=f"invitation of {invitation.email} revoked")
    done()


# -- password reset --------------------------------------------------------------------------


def request_password_reset(email):
    """Send a reset link when the address has an active account; say nothing either way."""
    user = find_user_by_email(email)
    if user is None or not user.active:
        return None
    token = new_token()
    _replace_open_resets(user)
    reset = PasswordReset(
        user=user, token_digest=token_digest(token), expires_at=utcnow() + current_app.config["PASSWORD_RESET_TTL"]
    )
    db.session.add(reset)
    db.session.flush()
    audit.record("password_reset.request", user, actor=user, summary=f"{user.email} asked for a reset link")
    queue_mail(
        user.email,
        "password_reset",
        language=user.language,
        reader_timezone=user.timezone,
        to_name=user.name,
        link=external_url("accounts.reset_password", token=token),
        expires_at=reset.expires_at,
    )
    done()
    return token


def _replace_open_resets(user):
    """Every reset link of this user still open stops working (a newer one, or a new password)."""
    db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None), PasswordReset.replaced_at.is_(None))
        .values(replaced_at=utcnow())
    )


def find_reset(token):
    reset = db.session.scalar(sa.select(PasswordReset).where(PasswordReset.token_digest == token_digest(token or "")))
    if reset is None:
        return None, "unknown"
    if reset.used_at is not None:
        return reset, "used"
    if reset.replaced_at is not None:
        return reset, "replaced"
    if reset.expires_at <= utcnow():
        return reset, "expired"
    return reset, None


def reset_password(token, password):
    reset, problem = find_reset(token)
    if problem is not None:
        raise Refused(_l("This reset link can no longer be used."))
    check_password_strength(password, context=(reset.user.name, reset.user.email))
    claimed = db.session.execute(
        sa.update(PasswordReset)
        .where(PasswordReset.id == reset.id, PasswordReset.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise Refused(_l("This reset link can no longer be used."))
    user = reset.user
    user.set_password(password)
    _end_every_session(user, "password")
    _replace_open_resets(user)
    audit.record("user.password_reset", user, actor=user, summary=f"{user.email} reset the password")
    done()
    return user


def set_demo_password(user, password):
    """Demo data only (never in production): put a demo account back to its printed password."""
    if current_app.config.get("ENV_NAME") == "production":
        raise Refused(_l("Not available in production."))
    if not user.check_password(password) or not user.active:
        user.set_password(password)
        user.active = True
        audit.record("user.demo_reset", user, summary=f"demo password set for {user.email}")
        done()


# -- sessions ---------------------------------------------------------------------------------


def _end_every_session(user, because):
    """Every browser signed in as `user` is signed out (its next request finds no session)."""
    if user.id is not None:
        db.session.execute(
            sa.update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=wall_clock(), ended_because=because)
        )
    user.rotate_session_token()


def start_session(user, *, user_agent="", address=""):
    """A new signed-in browser for `user`: flask-login keeps "generation:token" in its cookie."""
    token = new_token()
    db.session.add(
        UserSession(
            user=user,
            token_digest=token_digest(token),
            generation=user.session_token,
            user_agent=(user_agent or "")[:200],
            address=(address or "")[:45],
        )
    )
    done()
    user.login_ident = f"{user.session_token}:{token}"
    return user.login_ident


def idle_timeout(user):
    config = current_app.config
    return config["SESSION_IDLE_TIMEOUT_STAFF"] if user.has_role("staff", "admin") else config["SESSION_IDLE_TIMEOUT"]


def session_for(ident):
    """(user, session) for a cookie's "generation:token" while the session lives, else (None, None).

    A session past its absolute lifetime or idle beyond its user's timeout is ended here (and the
    audit log says why); one still alive has its last-seen time moved on (once a minute at most).
    """
    generation, _, token = (ident or "").partition(":")
    if not generation or not token:
        return None, None
    # The session, its user and the user's roles in one statement: every signed-in request asks.
    found = (
        db.session.execute(
            sa.select(UserSession, User)
            .join(User, User.id == UserSession.user_id)
            .options(joinedload(User.grants))
            .where(UserSession.token_digest == token_digest(token))
        )
        .unique()
        .first()
    )
    if found is None:
        return None, None
    row, user = found
    if row.ended_at is not None or row.generation != generation:
        return None, None
    if not user.active or user.session_token != generation:
        return None, None
    now = wall_clock()
    because = None
    if now - row.created_at > current_app.config["SESSION_ABSOLUTE_LIFETIME"]:
        because = "lifetime"
    elif now - row.last_seen_at > idle_timeout(user):
        because = "idle"
    if because:
        row.ended_at, row.ended_because = now, because
        audit.record("session.expire", user, summary=f"session of {user.email} ended ({because})", actor=user)
        done()
        return None, None
    if now - row.last_seen_at > SEEN_EVERY:
        row.last_seen_at = now
        done()
    return user, row


SEEN_EVERY = timedelta(minutes=1)


def active_sessions(user):
    """The browsers signed in as `user` now, the most recently seen first."""
    now = wall_clock()
    rows = db.session.scalars(
        sa.select(UserSession)
        .where(
            UserSession.user_id == user.id,
            UserSession.ended_at.is_(None),
            UserSession.generation == user.session_token,
        )
        .order_by(UserSession.last_seen_at.desc())
    ).all()
    lifetime, idle = current_app.config["SESSION_ABSOLUTE_LIFETIME"], idle_timeout(user)
    return [r for r in rows if now - r.created_at <= lifetime and now - r.last_seen_at <= idle]


def end_other_sessions(user, current):
    """From the account page: every other browser signed in as `user` is signed out."""
    ended = db.session.execute(
        sa.update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None), UserSession.id != current.id)
        .values(ended_at=wall_clock(), ended_because="by_user")
    ).rowcount
    audit.record(
        "session.end_others",
        user,
        after={"ended": ended},
        summary=f"{user.email} ended {ended} other session(s)",
        actor=user,
    )
    done()
    return ended


def end_user_sessions(user, *, actor):
    """An administrator signs a user out of every browser (a lost phone, a departure)."""
    if not actor.has_role("admin"):
        raise Refused(_l("Only an administrator can end another person's sessions."))
    _end_every_session(user, "by_admin")
    audit.record("session.end_all", user, summary=f"every session of {user.email} ended", actor=actor)
    done()


# -- two-step verification -----------------------------------------------------------------------


def mfa_required(user):
    """Whether `user` must use two-step verification (staff and admins move donors' money)."""
    config = current_app.config
    return bool(config["MFA_REQUIRED"]) and user.has_role(*config["MFA_REQUIRED_ROLES"])


def enable_mfa(user, secret, code):
    """Enrolment: the code from the app proves it holds `secret`. Returns the recovery codes (shown once)."""
    step = mfa.matching_step(secret, code)
    if step is None:
        raise Refused(
            _l("This code is not the one the app shows now. Check the phone's time and try again."), field="code"
        )
    user.totp_secret = secret
    user.totp_last_step = step
    user.mfa_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    audit.record("mfa.enable", user, summary=f"{user.email} turned on two-step verification", actor=user)
    done()
    return codes


def _replace_recovery_codes(user):
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = mfa.new_recovery_codes()
    for _code, digest in codes:
        db.session.add(RecoveryCode(user_id=user.id, code_digest=digest))
    return [code for code, _digest in codes]


def verify_second_factor(user, code):
    """Sign-in's second step: a code from the app (each one works once) or an unused recovery code.

    Returns "app" or "recovery"; Refused (next to the code) otherwise, and the audit log keeps it.
    """
    if user.totp_secret:
        step = mfa.matching_step(user.totp_secret, code, after=user.totp_last_step)
        if step is not None:
            claimed = db.session.execute(
                sa.update(User)
                .where(User.id == user.id, sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step))
                .values(totp_last_step=step)
            ).rowcount
            if claimed == 1:
                done()
                return "app"
        if mfa.looks_like_recovery_code(code):
            used = db.session.execute(
                sa.update(RecoveryCode)
                .where(
                    RecoveryCode.user_id == user.id,
                    RecoveryCode.code_digest == mfa.recovery_digest(code),
                    RecoveryCode.used_at.is_(None),
                )
                .values(used_at=utcnow())
            ).rowcount
            if used == 1:
                left = recovery_codes_left(user)
                audit.record(
                    "mfa.recovery_used",
                    user,
                    after={"left": left},
                    summary=f"{user.email} signed in with a recovery code",
                    actor=user,
                )
                done()
                return "recovery"
    db.session.rollback()
    audit.record("mfa.failed", user, summary=f"wrong second-step code for {user.email}", actor=None)
    commit_now()  # the failed attempt stays in the audit log although the sign-in is refused
    raise Refused(_l("This code is not right, or it was already used."), field="code")


def recovery_codes_left(user):
    return db.session.scalar(
        sa.select(sa.func.count(RecoveryCode.id)).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def new_recovery_codes(user, code):
    """New recovery codes (the old ones stop working), confirmed by a code from the app."""
    if not user.totp_secret:
        raise Refused(_l("Two-step verification is not on."))
    step = mfa.matching_step(user.totp_secret, code, after=user.totp_last_step)
    if step is None:
        raise Refused(_l("This code is not right, or it was already used."), field="code")
    user.totp_last_step = step
    codes = _replace_recovery_codes(user)
    audit.record("mfa.recovery_codes", user, summary=f"{user.email} made new recovery codes", actor=user)
    done()
    return codes


def disable_mfa(user, code):
    """Someone who is not required to use it turns two-step verification off (with a code)."""
    if mfa_required(user):
        raise Refused(_l("Your role needs two-step verification: it cannot be turned off."))
    if not user.totp_secret or mfa.matching_step(user.totp_secret, code, after=user.totp_last_step) is None:
        raise Refused(_l("This code is not right, or it was already used."), field="code")
    _clear_mfa(user)
    audit.record("mfa.disable", user, summary=f"{user.email} turned off two-step verification", actor=user)
    done()


def _clear_mfa(user):
    user.totp_secret = None
    user.totp_last_step = None
    user.mfa_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset_mfa(user, *, actor):
    """An administrator resets a person's two-step verification (a lost phone and no recovery code):
    every session ends, and the person enrols again at the next sign-in."""
    if not actor.has_role("admin"):
        raise Refused(_l("Only an administrator can reset two-step verification."))
    if user.id == actor.id:
        raise Refused(_l("Ask another administrator to reset your own two-step verification."))
    _clear_mfa(user)
    _end_every_session(user, "mfa_reset")
    audit.record("mfa.reset", user, summary=f"two-step verification of {user.email} reset", actor=actor)
    done()


# -- personal access tokens for the API --------------------------------------------------------

# Tokens a person may hold at once (neither revoked nor expired).
ACCESS_TOKENS_PER_USER = 10
# A token's "last used" is written at most this often: most API requests write nothing.
TOKEN_USE_NOTED_EVERY = timedelta(seconds=60)


def _usable_tokens(user_id):
    now = utcnow()
    return sa.and_(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None), AccessToken.expires_at > now)


def create_access_token(user, *, actor, name, days):
    """A person makes a token for the API for themself. Returns (the token, the raw token): the
    raw token is shown once and kept nowhere, neither in the table (its digest) nor in the audit log."""
    if actor is None or actor.id != user.id:
        raise Refused(_l("Only the owner of an account can create its access tokens."))
    if not user.active:
        raise Refused(_l("This account is deactivated."))
    name = (name or "").strip()
    if not name:
        raise Refused(_l("Give the token a name, so that you recognise it later."), field="name")
    if len(name) > ACCESS_TOKEN_NAME_MAX:
        raise Refused(_l("The name can have at most %(num)d characters.", num=ACCESS_TOKEN_NAME_MAX), field="name")
    if days not in ACCESS_TOKEN_DAYS:
        raise Refused(_l("Choose 30, 90 or 365 days."), field="days")
    # The person's row is locked while counting, so two parallel requests cannot both pass the cap.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    held = db.session.scalar(sa.select(sa.func.count(AccessToken.id)).where(_usable_tokens(user.id)))
    if held >= ACCESS_TOKENS_PER_USER:
        raise Refused(
            _l(
                "You already have %(num)d access tokens in use, the most allowed: revoke one you no longer need first.",
                num=ACCESS_TOKENS_PER_USER,
            )
        )
    raw = new_access_token()
    now = utcnow()
    token = AccessToken(
        user_id=user.id,
        name=name,
        token_digest=token_digest(raw),
        prefix=raw[:ACCESS_TOKEN_PREFIX_LENGTH],
        scope="read",
        created_at=now,
        expires_at=now + timedelta(days=days),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        "token.created",
        token,
        after={
            "user_id": user.id,
            "name": name,
            "prefix": token.prefix,
            "scope": token.scope,
            "expires_at": token.expires_at,
        },
        summary=f"{user.email} created the access token {token.prefix}… ({name})",
        actor=actor,
    )
    done()
    return token, raw


def revoke_access_token(token, *, actor):
    """The token stops working at once; its owner or an administrator revokes it."""
    if actor is None or (actor.id != token.user_id and not actor.has_role("admin")):
        raise Refused(_l("Only the owner of this access token or an administrator can revoke it."))
    if token.revoked_at is not None:
        raise Refused(_l("This access token was already revoked on %(date)s.", date=lazy_instant(token.revoked_at)))
    # One conditional UPDATE: two clicks at once revoke it once, and audit it once.
    revoked = db.session.execute(
        sa.update(AccessToken)
        .where(AccessToken.id == token.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by_id=actor.id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if revoked != 1:
        db.session.refresh(token)
        raise Refused(_l("This access token was already revoked on %(date)s.", date=lazy_instant(token.revoked_at)))
    owner = token.user
    audit.record(
        "token.revoked",
        token,
        after={"user_id": token.user_id, "name": token.name, "prefix": token.prefix},
        summary=f"access token {token.prefix}… ({token.name}) of {owner.email} revoked",
        actor=actor,
    )
    done()


def note_token_use(token):
    """When the token was last used, for its owner's list; written once a minute at most."""
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_USE_NOTED_EVERY:
        token.last_used_at = now
        done()
