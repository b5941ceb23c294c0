"""Staff set up calls through the pages; every bad input is refused on its field, nothing saved."""

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from fundapp.calls.models import Call, Criterion
from fundapp.core.models import AuditEntry
from fundapp.core.timeutil import utcnow
from fundapp.extensions import db
from fundapp.funding import operations as funding
from fundapp.funding.models import CallFunding

from ..helpers import count, make_user, text
from .conftest import call_form, get_call, make_call


def _field_error(page, field_id):
    """The error text shown under a field (the macro gives it the id <field>-error)."""
    import re

    match = re.search(rf'id="{field_id}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


@pytest.mark.sqlite
def test_staff_create_a_call_with_its_envelope_from_both_donors(app, fund, staff):
    response = staff.post("/staff/calls/new", call_form(fund), token_from="/staff/calls/new")
    assert response.status_code == 302, text(response)
    with app.app_context():
        call = get_call()
        assert call.state == "draft" and call.cap_cents == 100_000_00
        assert call.envelope_cents == 800_000_00
        assert {f.contribution.donor.short_name: f.amount_cents for f in call.funding} == {
            "SDC": 700_000_00,
            "OSF": 100_000_00,
        }
        assert call.title == {"en": "Local Care Systems 2025", "fr": "Systèmes locaux de soins 2025"}
        assert call.min_cofunding_pct == Decimal("10.00") and call.required_documents == [
            "Letter of support",
            "Detailed budget",
        ]
        # French names in the same order; no Spanish ones, so Spanish readers see the English.
        assert call.document_translations == {"fr": ["Lettre de soutien", "Budget détaillé"]}
        assert call.documents_in("es") == [("Letter of support",) * 2, ("Detailed budget",) * 2]
        assert call.theme_in("fr") == "Systèmes locaux de soins" and call.theme_in("es") == call.theme
        # 30 days from now at the same wall-clock minute in Madrid, stored in UTC
        assert call.closes_at.tzinfo is not None and call.closes_at > utcnow() + timedelta(days=29)
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "call.create"))
        assert entry.after["funding"] == {str(fund["SDC"]): 700_000_00, str(fund["OSF"]): 100_000_00}


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        (
            {"closes_at": "2025-01-01T10:00", "opens_at": "2025-02-01T10:00"},
            "closes_at",
            "The call must close after it opens.",
        ),
        (
            {"opens_at": "2026-03-01T10:00", "closes_at": "2026-03-01T10:00"},
            "closes_at",
            "The call must close after it opens.",
        ),
        ({"cap": "900000"}, "cap", "The fund’s largest grant is €100,000.00"),
        ({"cap": "100000.001"}, "cap", "Use at most two decimals (cents)."),
        ({"cap": "-5"}, "cap", "The amount cannot be negative."),
        ({"cap": "a lot"}, "cap", "Enter an amount in euros"),
        ({"min_grant": "150000"}, "min_grant", "The minimum grant cannot be above the cap."),
        (
            {"project_start_earliest": "2026-01-01", "project_start_latest": "2026-02-01"},
            "project_start_latest",
            "The latest start cannot be before the call closes",
        ),
        (
            {"duration_min_months": "12", "duration_max_months": "6"},
            "duration_max_months",
            "The longest duration cannot be shorter than the shortest.",
        ),
        (
            {"title_en": "", "summary_en": "", "body_en": "", "title_fr": "", "summary_fr": "", "body_fr": ""},
            "title_en",
            "Write the call in at least one language",
        ),
        ({"body_fr": ""}, "body_fr", "Give the title, summary and full text in this language"),
        ({"code": "lcs 2025!"}, "code", "Use 3 to 30 capital letters"),
        ({"min_cofunding_pct": "100"}, "min_cofunding_pct", "The co-funding share is a percentage"),
        ({"eligible_memberships": None}, "eligible_memberships", "Choose which kinds of members may apply."),
        ({"tranche_schedule": "acceptance:50, final_report:40"}, "tranche_schedule", "add up to 100"),
        ({"tranche_schedule": "signature:100"}, "tranche_schedule", "Tranches are paid on acceptance"),
        ({"tranche_schedule": "acceptance:half"}, "tranche_schedule", "condition:percent"),
        (
            {"required_documents_es": "Carta de apoyo"},
            "required_documents_es",
            "Give the documents in the same order as in English, one per line: 2 lines.",
        ),
    ],
)
def test_bad_call_input_is_refused_on_its_field_and_nothing_is_saved(app, fund, staff, overrides, field, message):
    data = call_form(fund, **overrides)
    response = staff.post("/staff/calls/new", data, token_from="/staff/calls/new")
    assert response.status_code == 400
    page = text(response)
    error = _field_error(page, field)
    assert error and message in error, f"{field}: {error!r}"
    assert 'value="LCS-2025"' in page or overrides.get("code")  # the rest of the input is kept
    with app.app_context():
        assert (
            count(Call) == 0 and count(CallFunding) == 0 and count(AuditEntry, AuditEntry.action == "call.create") == 0
        )


def test_every_problem_of_a_call_is_marked_in_one_save(app, fund, staff):
    """Closing before opening, a maximum duration below the minimum, tranches not adding up to 100
    and a threshold above 100: all beside their fields after one save, not one per save."""
    data = call_form(
        fund,
        closes_at="2020-01-01T17:00",
        duration_min_months="12",
        duration_max_months="6",
        tranche_schedule="acceptance:50, final_report:40",
        overall_threshold="120",
    )
    response = staff.post("/staff/calls/new", data, token_from="/staff/calls/new")
    assert response.status_code == 400
    page = text(response)
    for field, message in (
        ("closes_at", "The call must close after it opens."),
        ("duration_max_months", "The longest duration cannot be shorter than the shortest."),
        ("tranche_schedule", "add up to 100"),
        ("overall_threshold", "The overall threshold is a score from 0 to 100."),
    ):
        error = _field_error(page, field)
        assert error and message in error, f"{field}: {error!r}"
    with app.app_context():
        assert count(Call) == 0
    # With a field the form itself refuses (an empty contact address), the rules' problems are
    # marked in the same save.
    response = staff.post("/staff/calls/new", {**data, "contact_email": ""}, token_from="/staff/calls/new")
    page = text(response)
    assert _field_error(page, "contact_email")
    for field in ("closes_at", "duration_max_months", "tranche_schedule", "overall_threshold"):
        assert _field_error(page, field), field


def test_an_envelope_larger_than_the_unallocated_contributions_is_refused(app, fund, staff):
    make_call(app, fund, code="EARLIER-2024", funding_cents={fund["SDC"]: 650_000_00})
    response = staff.post("/staff/calls/new", call_form(fund), token_from="/staff/calls/new")
    assert response.status_code == 400
    error = _field_error(text(response), f"fund_{fund['SDC']}")
    assert "SDC has €50,000.00 left to allocate; the envelope asks for €700,000.00." == error
    with app.app_context():
        assert count(Call) == 1
        response = staff.post(
            "/staff/calls/new", call_form(fund, **{f"fund_{fund['SDC']}": "50000.01"}), token_from="/staff/calls/new"
        )
        assert response.status_code == 400
        response = staff.post(
            "/staff/calls/new", call_form(fund, **{f"fund_{fund['SDC']}": "50000.00"}), token_from="/staff/calls/new"
        )
        assert response.status_code == 302
        assert get_call().envelope_cents == 150_000_00


def test_editing_a_call_keeps_its_own_money_available_to_it(app, fund, staff):
    call_id = make_call(app, fund)
    response = staff.post(
        f"/staff/calls/{call_id}/edit", call_form(fund, theme="Care"), token_from=f"/staff/calls/{call_id}/edit"
    )
    assert response.status_code == 302
    with app.app_context():
        assert get_call().theme == "Care" and get_call().envelope_cents == 800_000_00


def test_a_contribution_restricted_to_a_region_funds_only_a_call_for_that_region(app, fund, staff):
    with app.app_context():
        from fundapp.funding.models import Donor

        osf = db.session.scalar(sa.select(Donor).where(Donor.short_name == "OSF"))
        restricted = funding.add_contribution(
            osf, actor=None, amount_original_cents=50_000_00, restriction_region="africa"
        ).id
    data = call_form(fund, **{f"fund_{restricted}": "50000", "cap": "50000"})
    response = staff.post("/staff/calls/new", data, token_from="/staff/calls/new")
    assert "restricted to Africa" in _field_error(text(response), f"fund_{restricted}")
    data.update(eligible_regions=["africa"], **{f"fund_{fund['SDC']}": "", f"fund_{fund['OSF']}": ""})
    response = staff.post("/staff/calls/new", data, token_from="/staff/calls/new")
    assert response.status_code == 302


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"weight": "0"}, "weight", "The weight must be more than zero."),
        ({"weight": "-2"}, "weight", "The weight must be more than zero."),
        ({"scale_min": "5", "scale_max": "5"}, "scale_max", "The top of the scale must be above its bottom."),
        ({"scale_min": "6", "scale_max": "5"}, "scale_max", "The top of the scale must be above its bottom."),
        ({"scale_step": "0.3"}, "scale_step", "The step must divide the scale evenly"),
        ({"threshold": "7"}, "threshold", "The threshold must lie on the scale."),
        ({"name_en": ""}, "name_en", "Name the criterion in at least one language."),
        ({"weight": "heavy"}, "weight", "Enter a number"),
    ],
)
def test_bad_criteria_are_refused_on_their_field(app, fund, staff, values, field, message):
    call_id = make_call(app, fund, criteria=False)
    data = {"name_en": "Relevance", "weight": "1", "scale_min": "0", "scale_max": "5", "scale_step": "0.5"}
    data.update(values)
    url = f"/staff/calls/{call_id}/criteria/new"
    response = staff.post(url, data, token_from=url)
    assert response.status_code == 400
    assert message in (_field_error(text(response), field) or "")
    with app.app_context():
        assert count(Criterion) == 0


@pytest.mark.sqlite
def test_staff_add_edit_and_remove_a_criterion(app, fund, staff):
    call_id = make_call(app, fund, criteria=False)
    url = f"/staff/calls/{call_id}/criteria/new"
    response = staff.post(
        url,
        {
            "name_en": "Relevance",
            "name_fr": "Pertinence",
            "weight": "30",
            "scale_min": "0",
            "scale_max": "5",
            "scale_step": "0.5",
            "threshold": "2.5",
        },
        token_from=url,
    )
    assert response.status_code == 302
    with app.app_context():
        criterion = db.session.scalar(sa.select(Criterion))
        assert criterion.name == {"en": "Relevance", "fr": "Pertinence"} and criterion.threshold == Decimal("2.5")
        criterion_id = criterion.id
    url = f"/staff/calls/{call_id}/criteria/{criterion_id}"
    assert (
        staff.post(
            url,
            {"name_en": "Relevance", "weight": "40", "scale_min": "0", "scale_max": "10", "scale_step": "1"},
            token_from=url,
        ).status_code
        == 302
    )
    with app.app_context():
        assert db.session.get(Criterion, criterion_id).scale_max == Decimal(10)
    assert staff.post(f"{url}/delete", {}, token_from=url).status_code == 302
    with app.app_context():
        assert count(Criterion) == 0


def _lock(app, call_id):
    """Bogotá submits an application: from then on the call's cap and criteria are fixed."""
    from .. import factories as f

    with app.app_context():
        f.submitted("Bogotá", the_call=db.session.get(Call, call_id))
        assert db.session.get(Call, call_id).locked_at is not None


def test_once_an_application_is_submitted_the_cap_and_criteria_are_locked(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    _lock(app, call_id)
    edit = f"/staff/calls/{call_id}/edit"
    response = staff.post(edit, call_form(fund, cap="90000"), token_from=edit)
    assert response.status_code == 400
    assert "The grant cap cannot change: applications have been submitted" in _field_error(text(response), "cap")
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert call.cap_cents == 100_000_00
        criterion_id = call.criteria[0].id
        weights = [c.weight for c in call.criteria]
    url = f"/staff/calls/{call_id}/criteria/{criterion_id}"
    response = staff.post(
        url,
        {"name_en": "X", "weight": "99", "scale_min": "0", "scale_max": "5", "scale_step": "0.5"},
        token_from=f"/staff/calls/{call_id}",
    )
    assert response.status_code == 400 and "The criteria cannot change" in text(response)
    response = staff.post(f"{url}/delete", {}, token_from=f"/staff/calls/{call_id}", follow_redirects=True)
    assert "The criteria cannot change" in text(response)
    response = staff.post(
        f"/staff/calls/{call_id}/criteria/new",
        {"name_en": "New", "weight": "1", "scale_min": "0", "scale_max": "5", "scale_step": "1"},
        token_from=f"/staff/calls/{call_id}",
    )
    assert response.status_code == 400
    with app.app_context():
        call = db.session.get(Call, call_id)
        assert [c.weight for c in call.criteria] == weights
    page = text(staff.get(f"/staff/calls/{call_id}"))
    assert "The criteria cannot change: applications have been submitted to this call." in page
    # Other parts stay editable: the deadline can still move.
    response = staff.post(edit, call_form(fund, theme="Local care systems (extended)"), token_from=edit)
    assert response.status_code == 302


def test_a_closed_call_cannot_be_edited(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    staff.post(
        f"/staff/calls/{call_id}/state",
        {"action": "close", "reason": "ended early"},
        token_from=f"/staff/calls/{call_id}",
    )
    response = staff.post(
        f"/staff/calls/{call_id}/edit",
        call_form(fund, theme="Other"),
        token_from=f"/staff/calls/{call_id}",
        follow_redirects=True,
    )
    assert "can no longer be edited" in text(response)
    with app.app_context():
        assert db.session.get(Call, call_id).theme == "Local care systems"


@pytest.mark.sqlite
def test_duplicating_a_call_starts_a_draft_with_its_criteria_and_no_money(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    response = staff.post(f"/staff/calls/{call_id}/duplicate", {}, token_from=f"/staff/calls/{call_id}")
    assert response.status_code == 302
    with app.app_context():
        copy = db.session.scalar(sa.select(Call).where(Call.code == "LCS-2025-COPY"))
        assert copy.state == "draft" and copy.funding == [] and len(copy.criteria) == 5
        assert copy.title == get_call().title and copy.closes_at - get_call().closes_at == timedelta(days=365)


@pytest.mark.sqlite
def test_only_staff_reach_the_call_management_pages(app, fund, make_client):
    from ..helpers import make_member

    with app.app_context():
        make_user("focal@x.example", "applicant", member=make_member())
        make_user("staff@fund.example", "staff")
    call_id = make_call(app, fund)
    focal = make_client()
    focal.login("focal@x.example")
    for url in [
        "/staff/calls",
        "/staff/calls/new",
        f"/staff/calls/{call_id}",
        f"/staff/calls/{call_id}/preview",
        "/staff/donors/",
    ]:
        assert focal.get(url).status_code == 403, url
    assert focal.post(f"/staff/calls/{call_id}/state", {"action": "publish"}).status_code == 403
    with app.app_context():
        assert db.session.get(Call, call_id).state == "draft"


def test_a_contribution_cannot_drop_below_what_calls_hold(app, fund, staff):
    make_call(app, fund)
    url = f"/staff/donors/contributions/{fund['OSF']}/edit"
    response = staff.post(url, {"amount": "90000", "currency": "EUR", "restriction_region": ""}, token_from=url)
    assert response.status_code == 400 and "Calls already hold €100,000.00 of this contribution" in text(response)


@pytest.mark.sqlite
def test_a_swiss_franc_contribution_keeps_its_amount_rate_and_euros(app, staff):
    with app.app_context():
        donor = funding.create_donor(actor=None, name="Swiss Agency for Development and Cooperation", short_name="SDC")
        donor_id = donor.id
    url = f"/staff/donors/{donor_id}/contributions/new"
    response = staff.post(
        url, {"amount": "100000", "currency": "chf", "rate_to_eur": "", "restriction_region": ""}, token_from=url
    )
    assert response.status_code == 400 and "Give the exchange rate used" in text(response)
    response = staff.post(
        url, {"amount": "100000", "currency": "CHF", "rate_to_eur": "1.0634", "restriction_region": ""}, token_from=url
    )
    assert response.status_code == 302
    with app.app_context():
        from fundapp.funding.models import Contribution

        c = db.session.scalar(sa.select(Contribution))
        assert (c.amount_original_cents, c.currency, c.rate_to_eur, c.eur_cents) == (
            100_000_00,
            "CHF",
            Decimal("1.063400"),
            106_340_00,
        )
