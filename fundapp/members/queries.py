import sqlalchemy as sa

from ..core.pagination import paginate
from ..extensions import db
from .models import Member


def member_choices():
    return [(m.id, m.name) for m in db.session.execute(sa.select(Member.id, Member.name).order_by(Member.name))]


def members_page(stmt_filter, *, q="", region="", page=1, per_page=50):
    stmt = sa.select(Member).where(stmt_filter).order_by(Member.name)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(sa.or_(sa.func.lower(Member.name).like(like), sa.func.lower(Member.country).like(like)))
    if region:
        stmt = stmt.where(Member.region == region)
    return paginate(stmt, page=page, per_page=per_page)


def all_members():
    return db.session.scalars(sa.select(Member).order_by(Member.name)).all()
