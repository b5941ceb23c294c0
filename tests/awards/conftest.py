"""Decisions on applications whose reviews are in, built through the operations (tests/factories.py)."""

import pytest
import sqlalchemy as sa

from fundapp.calls.models import Call
from fundapp.extensions import db
from fundapp.funding.models import CallFunding

from .. import factories as f
from ..calls.conftest import fund, staff  # noqa: F401


@pytest.fixture
def awards_call(app, fund, staff):  # noqa: F811
    """The demo call: SDC EUR 700,000 and OSF EUR 100,000 in its envelope, published."""
    with app.app_context():
        return f.call().id


def awards_call_with(app, **overrides):
    """The demo call with other rules or another envelope (`envelope={"SDC": cents, "OSF": cents}`)."""
    with app.app_context():
        return f.call(**overrides).id


def reviewed(call_id, city, marks=None, *, focal=None, language=None, requested=100_000_00, **kw):
    """The id of `city`'s application, written by its focal point (`focal`: its e-mail address),
    screened eligible, and scored by a full panel (`marks` in criterion order, 4-4-3.5-4-3.5 unless given)."""
    person = f.focal_point(city, focal, language=language)
    application = f.reviewed(
        city,
        marks,
        the_call=db.session.get(Call, call_id),
        focal=person,
        language=language,
        requested=requested,
        **kw,
    )
    return application.id


def ledger(call_id):
    """{donor short name: (amount, committed, paid)} of the call's envelope lines."""
    lines = db.session.scalars(sa.select(CallFunding).where(CallFunding.call_id == call_id)).all()
    db.session.expire_all()
    return {
        line.contribution.donor.short_name: (line.amount_cents, line.committed_cents, line.paid_cents) for line in lines
    }


def staff_user():
    from fundapp.accounts.operations import find_user_by_email

    return find_user_by_email("staff@fund.example")


def get_call(call_id):
    return db.session.get(Call, call_id)
