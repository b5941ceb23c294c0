from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from fundapp.calls import demo
from fundapp.calls import operations as calls
from fundapp.calls.models import Call
from fundapp.demo import DONORS
from fundapp.extensions import db
from fundapp.funding import operations as funding

from ..helpers import make_user

MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture
def fund(app):
    """The two real donors and their contributions; returns {short_name: contribution_id}."""
    with app.app_context():
        names = {d["short_name"]: d["name_translations"] for d in DONORS}
        sdc = funding.create_donor(
            actor=None,
            name="Swiss Agency for Development and Cooperation",
            short_name="SDC",
            name_translations=names["SDC"],
        )
        osf = funding.create_donor(
            actor=None, name="Open Society Foundations", short_name="OSF", name_translations=names["OSF"]
        )
        a = funding.add_contribution(sdc, actor=None, amount_original_cents=700_000_00)
        b = funding.add_contribution(osf, actor=None, amount_original_cents=100_000_00)
        return {"SDC": a.id, "OSF": b.id}


@pytest.fixture
def staff(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    client = make_client()
    client.login("staff@fund.example")
    return client


def local(dt):
    return dt.astimezone(MADRID).strftime("%Y-%m-%dT%H:%M")


def call_form(fund, **overrides):
    """What staff type into the new-call form for the demo call (overridable field by field)."""
    now = datetime.now(MADRID).replace(second=0, microsecond=0)
    data = {
        "code": "LCS-2025",
        "theme": "Local care systems",
        "contact_email": "fund@metropolis.org",
        "title_en": demo.TEXTS["title"]["en"],
        "summary_en": demo.TEXTS["summary"]["en"],
        "body_en": demo.TEXTS["body"]["en"],
        "title_fr": demo.TEXTS["title"]["fr"],
        "summary_fr": demo.TEXTS["summary"]["fr"],
        "body_fr": demo.TEXTS["body"]["fr"],
        "title_es": "",
        "summary_es": "",
        "body_es": "",
        "timezone": "Europe/Madrid",
        "opens_at": local(now - timedelta(days=1)),
        "closes_at": local(now + timedelta(days=30)),
        "cap": "100000",
        "min_grant": "",
        "duration_min_months": "6",
        "duration_max_months": "24",
        "min_cofunding_pct": "10",
        "eligible_memberships": ["full"],
        "dues_required": "y",
        "one_application_per_lead": "y",
        "partners_allowed": "y",
        "required_documents": "Letter of support\nDetailed budget",
        "required_documents_fr": "Lettre de soutien\nBudget détaillé",
        "required_documents_es": "",
        "theme_fr": "Systèmes locaux de soins",
        "theme_es": "",
        "overall_threshold": "60",
        "reviewers_per_application": "3",
        f"fund_{fund['SDC']}": "700000",
        f"fund_{fund['OSF']}": "100000",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def make_call(
    app,
    fund,
    *,
    code="LCS-2025",
    opens_at=None,
    closes_at=None,
    regions=(),
    memberships=("full",),
    criteria=True,
    publish=False,
    funding_cents=None,
    dues_required=True,
):
    """A call made through the operations (for tests whose subject is not the form)."""
    from fundapp.accounts.operations import find_user_by_email

    with app.test_request_context():
        values = demo.call_values()
        values.update(
            code=code,
            eligible_regions=list(regions),
            eligible_memberships=list(memberships),
            dues_required=dues_required,
        )
        if opens_at is not None:
            values["opens_at"] = opens_at
        if closes_at is not None:
            values["closes_at"] = closes_at
        actor = find_user_by_email("staff@fund.example")
        money = funding_cents if funding_cents is not None else {fund["SDC"]: 700_000_00, fund["OSF"]: 100_000_00}
        call = calls.save_call(None, actor=actor, values=values, funding=money)
        if criteria:
            for name, weight in demo.CRITERIA:
                calls.save_criterion(call, None, actor=actor, values=demo.criterion_values(name, weight))
        if publish:
            calls.publish_call(call, actor=actor)
        return call.id


def get_call(code="LCS-2025"):
    return db.session.scalar(sa.select(Call).where(Call.code == code))
