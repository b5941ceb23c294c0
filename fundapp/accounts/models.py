"""Users and what they may do: roles (a user may hold several), reviewer profiles, tokens."""

import hashlib
import secrets
import threading
from datetime import datetime, timezone

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.permissions import ROLES
from ..core.timeutil import UTCDateTime, utcnow
from ..extensions import db
from ..members.models import REGIONS

ROLE_LABELS = {
    "applicant": _l("City focal point"),
    "reviewer": _l("Reviewer"),
    "staff": _l("Programme staff"),
    "admin": _l("Administrator"),
    "donor": _l("Donor officer"),
}

GENDERS = {
    "woman": _l("Woman"),
    "man": _l("Man"),
    "other": _l("Other"),
    "undisclosed": _l("Prefers not to say"),
}


class _OneAtATime:
    """argon2id at OWASP's recommended parameters (Password Storage Cheat Sheet): 19 MiB of memory,
    2 iterations, 1 lane; hashes made with other parameters are rehashed at the next sign-in.

    One hash at a time in a process: each holds its 19 MiB while it runs, so a web worker's four
    threads signing people in at once would hold 76 MiB; one after another they hold 19, and the
    processor, which is the real limit, does the same work (the other worker processes hash too).
    """

    def __init__(self):
        self._argon2 = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self._lock = threading.Lock()

    def hash(self, password):
        with self._lock:
            return self._argon2.hash(password)

    def verify(self, hashed, password):
        with self._lock:
            return self._argon2.verify(hashed, password)

    def check_needs_rehash(self, hashed):
        return self._argon2.check_needs_rehash(hashed)


_hasher = _OneAtATime()


_hash_of_nothing = None


def check_against_nothing(password):
    """Spend what checking a real password costs, for an address with no account."""
    global _hash_of_nothing
    if _hash_of_nothing is None:
        _hash_of_nothing = _hasher.hash(secrets.token_urlsafe(16))
    try:
        _hasher.verify(_hash_of_nothing, password)
    except (VerificationError, InvalidHashError):
        pass
    return False


def new_token():
    return secrets.token_urlsafe(32)


def token_digest(token):
    """Tokens are stored as digests: a leaked table gives no working link."""
    return hashlib.sha256(token.encode()).hexdigest()


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    timezone: Mapped[str] = mapped_column(sa.String(64), nullable=False, default="Europe/Madrid")
    # Optional (None: not given); counted in the fund's figures by gender, never shown to others.
    gender: Mapped[str | None] = mapped_column(sa.String(20))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    active: Mapped[bool] = mapped_column(nullable=False, default=True)
    # Part of the login session: rotating it signs out every session of this user.
    session_token: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True, default=new_token)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    last_login_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # Two-step verification (TOTP, RFC 6238): the shared secret once enrolment is confirmed, and the
    # last time step used, so one code cannot sign in twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    mfa_enabled_at: Mapped[object | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)

    grants = relationship("RoleGrant", back_populates="user", lazy="selectin", cascade="all, delete-orphan")
    reviewer_profile = relationship(
        "ReviewerProfile", back_populates="user", uselist=False, cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("language IN ('en', 'fr', 'es')", name="language_known"),
        sa.CheckConstraint(f"gender IS NULL OR gender IN {tuple(GENDERS)!r}", name="gender_known"),
    )

    def __str__(self):
        return self.name

    # -- flask-login -------------------------------------------------------------------------
    is_anonymous = False

    @property
    def is_authenticated(self):
        return True

    @property
    def is_active(self):
        return self.active

    def get_id(self):
        # Set by accounts.operations.start_session for the browser signing in: "generation:token".
        return getattr(self, "login_ident", None) or self.session_token

    def rotate_session_token(self):
        self.session_token = new_token()

    # -- passwords ---------------------------------------------------------------------------
    def set_password(self, password):
        self.password_hash = _hasher.hash(password)

    def check_password(self, password):
        if not self.password_hash:
            return False
        try:
            return _hasher.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def password_needs_rehash(self):
        return bool(self.password_hash) and _hasher.check_needs_rehash(self.password_hash)

    # -- roles -------------------------------------------------------------------------------
    def role_names(self):
        names = {g.role for g in self.grants}
        if "admin" in names:
            names.add("staff")
        return names

    def has_role(self, *roles):
        return bool(self.role_names() & set(roles))

    def member_ids(self):
        return [g.member_id for g in self.grants if g.role == "applicant" and g.member_id]

    def donor_ids(self):
        return [g.donor_id for g in self.grants if g.role == "donor" and g.donor_id]

    @property
    def member(self):
        for g in self.grants:
            if g.role == "applicant":
                return g.member
        return None

    @property
    def donor(self):
        for g in self.grants:
            if g.role == "donor":
                return g.donor
        return None

    # -- access ------------------------------------------------------------------------------
    def can_view(self, user):
        return bool(user and user.is_authenticated and (user.id == self.id or user.has_role("staff")))

    @classmethod
    def visible_to(cls, user):
        return sa.true() if user.has_role("staff") else cls.id == user.id


def wall_clock():
    """The real time, never a replayed one: how long a browser has been signed in is not history."""
    return datetime.now(timezone.utc)


class UserSession(db.Model):
    """One signed-in browser: its own token (stored as a digest), when it began and was last seen.

    It ends when its owner signs out everywhere, ends it from the account page, an admin ends the
    user's sessions, or it outlives the absolute lifetime or the inactivity timeout. `generation`
    is the user's session_token when it began: rotating that token ends every session at once.
    """

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    generation: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=wall_clock, nullable=False)
    last_seen_at: Mapped[object] = mapped_column(UTCDateTime, default=wall_clock, nullable=False)
    ended_at: Mapped[object | None] = mapped_column(UTCDateTime)
    ended_because: Mapped[str | None] = mapped_column(sa.String(20))
    user_agent: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    address: Mapped[str] = mapped_column(sa.String(45), nullable=False, default="")

    user = relationship("User")


class RecoveryCode(db.Model):
    """A one-time code that replaces the authenticator app once (a lost phone); kept as a digest."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    code_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False)
    used_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=wall_clock, nullable=False)


class RoleGrant(db.Model):
    """One role of one user; applicant roles name the member city, donor roles the donor."""

    __tablename__ = "role_grant"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"), index=True)
    donor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donor.id"), index=True)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user = relationship("User", back_populates="grants")
    member = relationship("Member", lazy="joined")
    donor = relationship("Donor", lazy="joined")

    __table_args__ = (
        sa.UniqueConstraint("user_id", "role", name="uq_role_grant_user_role"),
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        sa.CheckConstraint("(role = 'applicant') = (member_id IS NOT NULL)", name="applicant_has_member"),
        sa.CheckConstraint("(role = 'donor') = (donor_id IS NOT NULL)", name="donor_has_donor"),
    )

    @property
    def label(self):
        return ROLE_LABELS.get(self.role, self.role)


class ReviewerProfile(db.Model):
    """What the conflict checks and panel balance need to know about a reviewer."""

    __tablename__ = "reviewer_profile"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    gender: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="undisclosed")
    region: Mapped[str | None] = mapped_column(sa.String(40))
    country: Mapped[str | None] = mapped_column(sa.String(2))
    expertise: Mapped[str] = mapped_column(sa.Text, nullable=False, default="")
    languages: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="en")
    affiliation: Mapped[str] = mapped_column(sa.String(200), nullable=False, default="")
    affiliation_member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"), index=True)

    user = relationship("User", back_populates="reviewer_profile")
    affiliation_member = relationship("Member")

    __table_args__ = (sa.CheckConstraint(f"gender IN {tuple(GENDERS)!r}", name="gender_known"),)

    @property
    def language_list(self):
        return [x for x in self.languages.split(",") if x]

    @property
    def gender_label(self):
        return GENDERS.get(self.gender, self.gender)

    @property
    def region_label(self):
        return REGIONS.get(self.region, self.region) if self.region else None


class Invitation(db.Model):
    """An e-mailed link that lets a new city focal point or reviewer set a password."""

    __tablename__ = "invitation"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), nullable=False, index=True)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    role: Mapped[str] = mapped_column(sa.String(20), nullable=False)
    member_id: Mapped[int | None] = mapped_column(sa.ForeignKey("member.id"))
    donor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("donor.id"))
    language: Mapped[str] = mapped_column(sa.String(5), nullable=False, default="en")
    token_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    expires_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    accepted_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # A newer invitation to the same address replaces this one: its link no longer works.
    replaced_at: Mapped[object | None] = mapped_column(UTCDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id"))
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    member = relationship("Member")
    donor = relationship("Donor")
    invited_by = relationship("User", foreign_keys=[invited_by_id])

    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        sa.CheckConstraint("(role = 'applicant') = (member_id IS NOT NULL)", name="applicant_has_member"),
        sa.CheckConstraint("(role = 'donor') = (donor_id IS NOT NULL)", name="donor_has_donor"),
        sa.CheckConstraint("(accepted_at IS NULL) = (user_id IS NULL)", name="accepted_has_user"),
    )

    @property
    def role_label(self):
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def status(self):
        if self.accepted_at:
            return "accepted"
        if self.revoked_at:
            return "revoked"
        if self.replaced_at:
            return "replaced"
        if self.expires_at <= utcnow():
            return "expired"
        return "pending"


class PasswordReset(db.Model):
    """A single-use, expiring password reset link."""

    __tablename__ = "password_reset"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    token_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    expires_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    used_at: Mapped[object | None] = mapped_column(UTCDateTime)
    # A newer link, or a password changed another way, replaces this one.
    replaced_at: Mapped[object | None] = mapped_column(UTCDateTime)
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)

    user = relationship("User")


ACCESS_TOKEN_SCOPES = {"read": _l("Read only")}
ACCESS_TOKEN_STATUS_LABELS = {
    "active": _l("Active"),
    "expired": _l("Expired"),
    "revoked": _l("Revoked"),
}
# How long a new token works, in days, and what the form offers first.
ACCESS_TOKEN_DAYS = (30, 90, 365)
ACCESS_TOKEN_DEFAULT_DAYS = 90
ACCESS_TOKEN_NAME_MAX = 100
# "fa_" and 43 characters of secrets.token_urlsafe(32): 256 random bits.
ACCESS_TOKEN_MARK = "fa_"
# What lists show of a token so that its owner recognises it: the mark and 8 characters.
ACCESS_TOKEN_PREFIX_LENGTH = 11


def new_access_token():
    return ACCESS_TOKEN_MARK + secrets.token_urlsafe(32)


class AccessToken(db.Model):
    """A personal access token for the JSON API, in place of signing in: read-only, expiring.

    Only the SHA-256 digest of the token is kept (a fast hash suits 256 random bits, and the API
    checks a token on every request); the owner sees the token once, when it is created, and then
    recognises it by its name and its first characters (`prefix`).
    """

    __tablename__ = "access_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(sa.String(ACCESS_TOKEN_NAME_MAX), nullable=False)
    token_digest: Mapped[str] = mapped_column(sa.String(64), nullable=False, unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    scope: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="read")
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    expires_at: Mapped[object] = mapped_column(UTCDateTime, nullable=False)
    last_used_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[object | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    user = relationship("User", foreign_keys=[user_id])

    __table_args__ = (
        sa.CheckConstraint(f"scope IN ({', '.join(repr(s) for s in ACCESS_TOKEN_SCOPES)})", name="scope_known"),
        sa.CheckConstraint("revoked_by_id IS NULL OR revoked_at IS NOT NULL", name="revoker_only_when_revoked"),
    )

    @property
    def status(self):
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= utcnow():
            return "expired"
        return "active"

    @property
    def is_active(self):
        return self.status == "active"

    @property
    def status_label(self):
        return ACCESS_TOKEN_STATUS_LABELS[self.status]

    @property
    def scope_label(self):
        return ACCESS_TOKEN_SCOPES.get(self.scope, self.scope)


# What the audit log calls this feature's actions, in the reader's language.
audit.name_actions(
    {
        "user.create": _l("Account created"),
        "user.update": _l("Account updated"),
        "user.roles": _l("Roles changed"),
        "user.activate": _l("Account reactivated"),
        "user.deactivate": _l("Account deactivated"),
        "user.language": _l("Language changed"),
        "user.login": _l("Signed in"),
        "user.login_failed": _l("Sign-in refused"),
        "user.login_locked": _l("Sign-in paused after failed attempts"),
        "user.logout": _l("Signed out"),
        "user.password_change": _l("Password changed"),
        "user.password_reset": _l("Password reset"),
        "user.demo_reset": _l("Demo account reset"),
        "password_reset.request": _l("Password reset asked for"),
        "invitation.create": _l("Invitation sent"),
        "invitation.accept": _l("Invitation accepted"),
        "invitation.revoke": _l("Invitation withdrawn"),
        "session.end_all": _l("Every session ended"),
        "session.end_others": _l("Other sessions ended"),
        "session.expire": _l("Session ended by time"),
        "mfa.enable": _l("Two-step verification turned on"),
        "mfa.disable": _l("Two-step verification turned off"),
        "mfa.failed": _l("Two-step code refused"),
        "mfa.recovery_codes": _l("New recovery codes made"),
        "mfa.recovery_used": _l("Recovery code used"),
        "mfa.reset": _l("Two-step verification reset"),
        "token.created": _l("Access token created"),
        "token.revoked": _l("Access token revoked"),
        "reviewer_profile.update": _l("Reviewer profile updated"),
        "reviewer_profile.from_offer": _l("Reviewer profile made from an offer"),
    }
)

# What the audit log calls this feature's objects, and the page of each that has one.
audit.name_objects(
    {
        "User": (_l("Account"), "accounts.user_detail", "user_id"),
        "UserSession": _l("Session"),
        "RecoveryCode": _l("Recovery code"),
        "RoleGrant": _l("Role"),
        "ReviewerProfile": _l("Reviewer profile"),
        "Invitation": _l("Invitation"),
        "PasswordReset": _l("Password reset"),
        "AccessToken": _l("Access token"),
    }
)
