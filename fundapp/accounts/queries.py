import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.pagination import paginate
from ..core.timeutil import utcnow
from ..extensions import db
from .models import AccessToken, Invitation, RoleGrant, User


def users_page(*, q="", role="", page=1, per_page=50):
    stmt = sa.select(User).options(selectinload(User.grants)).order_by(User.name, User.id)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(User.name).like(like), User.email.like(like)))
    if role:
        stmt = stmt.where(User.id.in_(sa.select(RoleGrant.user_id).where(RoleGrant.role == role)))
    return paginate(stmt, page=page, per_page=per_page)


def invitations_page(*, page=1, per_page=50):
    stmt = sa.select(Invitation).order_by(Invitation.created_at.desc(), Invitation.id.desc())
    return paginate(stmt, page=page, per_page=per_page)


def focal_points(member_id):
    """The active users who speak for a member city."""
    return db.session.scalars(
        sa.select(User)
        .join(RoleGrant)
        .where(RoleGrant.role == "applicant", RoleGrant.member_id == member_id, User.active.is_(True))
        .order_by(User.id)
    ).all()


def staff_users():
    """The active programme staff (and administrators), to be told of what needs their attention."""
    return db.session.scalars(
        sa.select(User)
        .where(
            User.active.is_(True),
            User.id.in_(sa.select(RoleGrant.user_id).where(RoleGrant.role.in_(("staff", "admin")))),
        )
        .order_by(User.id)
    ).all()


def _token_in_use():
    return sa.and_(AccessToken.revoked_at.is_(None), AccessToken.expires_at > utcnow())


def access_tokens_of(user_id, *, limit=20):
    """(tokens, more): a person's access tokens, those in use first (10 at most), then the most
    recently created revoked or expired ones; `more` says older ones are left out."""
    rows = db.session.scalars(
        sa.select(AccessToken)
        .where(AccessToken.user_id == user_id)
        .order_by(sa.case((_token_in_use(), 0), else_=1), AccessToken.created_at.desc(), AccessToken.id.desc())
        .limit(limit + 1)
    ).all()
    return rows[:limit], len(rows) > limit


def access_tokens_in_use(user_id):
    """The tokens of a person that work now (an administrator's view of the account)."""
    return db.session.scalars(
        sa.select(AccessToken)
        .where(AccessToken.user_id == user_id, _token_in_use())
        .order_by(AccessToken.created_at.desc(), AccessToken.id.desc())
    ).all()
