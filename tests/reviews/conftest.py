"""The review phase, built through the operations (tests/factories.py): a call with reviews due three
weeks after it closes, cities whose applications staff screened eligible, a pool of reviewers."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.accounts.models import User
from fundapp.calls import demo
from fundapp.calls.models import Call
from fundapp.extensions import db

from .. import factories as f
from ..calls.conftest import fund, staff  # noqa: F401

REGIONS = ["africa", "asia_pacific", "eurasia_middle_east", "europe", "latin_america_caribbean", "north_america"]


@pytest.fixture
def review_call(app, fund, staff):  # noqa: F811
    """The published demo call (criteria weighted 25, 25, 20, 15, 15 on 0-5), reviews due 3 weeks after it closes."""
    with app.app_context():
        _opens, closes = demo.demo_dates()
        return f.call(review_due_at=closes + timedelta(weeks=3)).id


def make_reviewer(
    email, name=None, *, gender="woman", region="europe", country="ES", languages="en", affiliation=None, language="en"
):
    """A reviewer of the pool, its profile set by the accounts operation; `affiliation`: a member."""
    return f.reviewer(
        email,
        name or email.split("@")[0].replace(".", " ").title(),
        gender=gender,
        region=region,
        country=country,
        languages=languages,
        affiliation=affiliation,
        language=language,
    )


def eligible(call_id, city, **kw):
    """The id of `city`'s application, written by its focal point, submitted and screened eligible."""
    return f.eligible(city, the_call=db.session.get(Call, call_id), **kw).id


def problem_of(city, **kw):
    """The problem statement `city`'s application carries (only a reviewer who declared may read it)."""
    return f.proposal(city, **kw).problem


def scores_for(call_id, values):
    """{criterion id: (Decimal or None, cannot judge, comment)} from a list in criterion order."""
    call = db.session.get(Call, call_id)
    return {c.id: (None if v is None else Decimal(str(v)), v is None, "") for c, v in zip(call.criteria, values)}


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email))
