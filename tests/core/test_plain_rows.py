"""core.rows.plain_rows reads rows as the session's own queries do: after the autoflush, so a
request's pending writes are seen, and not inside `no_autoflush`."""

import pytest
import sqlalchemy as sa

from fundapp.core.rows import plain_rows
from fundapp.extensions import db
from fundapp.members.models import Member
from tests import factories as f

pytestmark = pytest.mark.sqlite


def test_plain_rows_see_the_pending_writes_the_orm_query_would(app):
    with app.app_context():
        city_id = f.member("Ciudad de México").id
        db.session.commit()
        names = sa.select(Member.name).where(Member.id == city_id)
        city = db.session.get(Member, city_id)
        city.name = "Ciudad de México (CDMX)"  # pending: not flushed yet
        with db.session.no_autoflush:
            assert [tuple(r) for r in plain_rows(names)] == [("Ciudad de México",)]
            assert db.session.execute(names).all() == [("Ciudad de México",)]
        assert [tuple(r) for r in plain_rows(names)] == [("Ciudad de México (CDMX)",)]
        assert db.session.execute(names).all() == [("Ciudad de México (CDMX)",)]
        db.session.rollback()
        assert [tuple(r) for r in plain_rows(names)] == [("Ciudad de México",)]
