from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.accounts.models import User
from fundapp.applications.models import Application, Partner
from fundapp.calls.models import Call
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db

from ..calls.conftest import fund, make_call, staff  # noqa: F401
from ..helpers import make_member, make_user

REGIONS = ["africa", "asia_pacific", "eurasia_middle_east", "europe", "latin_america_caribbean", "north_america"]


@pytest.fixture
def review_call(app, fund, staff):  # noqa: F811
    """A published call in its review phase, with the demo criteria (weights 25, 25, 20, 15, 15 on 0-5)."""
    call_id = make_call(app, fund, publish=True)
    with app.app_context():
        call = db.session.get(Call, call_id)
        call.review_due_at = utcnow() + timedelta(days=20)
        db.session.commit()
    return call_id


def make_reviewer(email, *, gender="woman", region="europe", country="ES", languages="en", affiliation=None, name=None):
    user = make_user(email, "reviewer", name=name)
    profile = user.reviewer_profile
    profile.gender, profile.region, profile.country, profile.languages = gender, region, country, languages
    profile.affiliation_member_id = affiliation
    db.session.commit()
    return user


def eligible_application(call_id, member, *, language="en", partners=(), number=None, submitted_offset=0, title=None):
    """An application that passed screening (made directly: the subject here is the review)."""
    call = db.session.get(Call, call_id)
    last = db.session.scalar(sa.select(sa.func.max(Application.number)).where(Application.call_id == call_id)) or 0
    number = number or last + 1
    application = Application(
        call=call,
        member=member,
        state="eligible",
        language=language,
        number=number,
        reference=f"IFM-{call.code}-{number:03d}",
        first_submitted_at=utcnow() - timedelta(hours=100 - submitted_offset),
        submitted_at=utcnow(),
        cap_cents=call.cap_cents,
        title=title or f"Project of {member.name}",
        summary="Summary",
        problem="The problem text",
        objectives="Objectives",
        activities="Activities",
        requested_cents=80_000_00,
        cofunding_cents=10_000_00,
    )
    application.partners = [Partner(member=p, role="partner") for p in partners]
    db.session.add(application)
    db.session.flush()
    from fundapp.applications.models import Submission
    from fundapp.applications.operations import snapshot

    db.session.add(Submission(application=application, version_no=1, data=snapshot(application)))
    db.session.commit()
    return application


def scores_for(call_id, values):
    """{criterion id: (Decimal or None, cannot judge, comment)} from a list in criterion order."""
    call = db.session.get(Call, call_id)
    return {c.id: (None if v is None else Decimal(str(v)), v is None, "") for c, v in zip(call.criteria, values)}


def user_by_email(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


@pytest.fixture
def cities_for_review(app):
    with app.app_context():
        return {
            "bogota": make_member("Bogotá", "CO", "latin_america_caribbean").id,
            "medellin": make_member("Medellín", "CO", "latin_america_caribbean").id,
            "lagos": make_member("Lagos", "NG", "africa").id,
            "paris": make_member("Paris", "FR", "europe").id,
        }
