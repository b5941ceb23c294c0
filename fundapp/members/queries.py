import sqlalchemy as sa

from ..core.inputs import LIKE_ESCAPE, contains_pattern
from ..core.pagination import paginate
from ..extensions import db
from .models import Member


def member_choices():
    """(id, name) of every member, in the order people read names ("Área" with the A's, not after Z)."""
    return [
        (m.id, m.name)
        for m in db.session.execute(sa.select(Member.id, Member.name).order_by(Member.sort_name, Member.name))
    ]


def members_page(stmt_filter, *, q="", region="", page=1, per_page=50):
    stmt = sa.select(Member).where(stmt_filter).order_by(Member.sort_name, Member.name)
    if q:
        # Without accents or case: "cucuta" finds "Área Metropolitana de Cúcuta".
        like = contains_pattern(q)
        stmt = stmt.where(
            sa.or_(
                Member.sort_name.like(like, escape=LIKE_ESCAPE),
                sa.func.lower(Member.country).like(like, escape=LIKE_ESCAPE),
            )
        )
    if region:
        stmt = stmt.where(Member.region == region)
    return paginate(stmt, page=page, per_page=per_page)


def all_members():
    return db.session.scalars(sa.select(Member).order_by(Member.sort_name, Member.name)).all()
