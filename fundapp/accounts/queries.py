import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..core.pagination import paginate
from ..extensions import db
from .models import Invitation, RoleGrant, User


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
