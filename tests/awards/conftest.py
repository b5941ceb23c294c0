import pytest
import sqlalchemy as sa

from fundapp.calls.models import Call, CallFunding
from fundapp.extensions import db

from ..calls.conftest import fund, make_call, staff  # noqa: F401
from ..helpers import make_member, make_user
from ..reviews.conftest import eligible_application


@pytest.fixture
def awards_call(app, fund, staff):  # noqa: F811
    """The demo call: SDC EUR 700,000 and OSF EUR 100,000 in its envelope, published."""
    return make_call(app, fund, publish=True)


def reviewed(
    call_id, name, *, region="latin_america_caribbean", country="CO", requested=100_000_00, language="en", focal=None
):
    """An application whose reviews are in (made directly: the subject here is the decision)."""
    member = make_member(name, country, region, dues=2026)
    application = eligible_application(call_id, member, language=language)
    application.requested_cents = requested
    application.state = "reviewed"
    if focal:
        make_user(focal, "applicant", member=member, language=language)
    db.session.commit()
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


def score_all(app, call_id, application_ids, values_per_application, staff_email="staff@fund.example"):
    """One submitted review per application with the given criterion scores, so they rank."""
    from fundapp.applications.models import Application
    from fundapp.reviews import operations as reviews

    from ..reviews.conftest import make_reviewer, scores_for, user_by_email

    with app.app_context():
        reviewer = user_by_email("scorer@pool.example") or make_reviewer("scorer@pool.example")
        for application_id, values in zip(application_ids, values_per_application):
            assignment = reviews.assign(
                db.session.get(Application, application_id), reviewer, actor=user_by_email(staff_email)
            )
            reviews.declare(assignment, "accept", actor=reviewer)
            errors = reviews.save_review(
                assignment,
                actor=reviewer,
                scores=scores_for(call_id, values),
                comment_applicant="Strong on care services.",
                comment_staff="(private)",
                recommendation="fund",
                submit=True,
            )
            assert errors == {}
