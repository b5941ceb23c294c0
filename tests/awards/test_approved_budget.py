"""The approved budget: an award fixes one amount per budget line (the request scaled to the award,
or as staff set it on the decision board); the grant page shows it; reports compare spending with it."""

import re

import sqlalchemy as sa

from fundapp.applications.models import BudgetLine
from fundapp.awards import operations
from fundapp.awards.models import ApprovedBudgetLine, Decision, Grant
from fundapp.calls.models import Call
from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.reporting.models import GrantReport

from .. import factories as f
from ..helpers import count, text
from .conftest import ledger

BOARD = "/staff/calls/{call}/decisions"

# Bogotá asks EUR 100,000 over three lines.
BUDGET = [
    ("personnel", "Coordinadoras de las manzanas del cuidado", 41_666_67, 12_000_00),
    ("services", "Formación de cuidadoras", 33_333_33, 3_000_00),
    ("equipment", "Mobiliario de las manzanas", 25_000_00, 0),
]


def _bogota(app, awards_call):
    with app.app_context():
        application = f.reviewed_with_budget("Bogotá", BUDGET, the_call=db.session.get(Call, awards_call))
        lines = [line.id for line in application.budget_lines]
        return application.id, lines


def _decide(staff, call_id, application_id, **fields):
    return staff.post(
        f"/staff/applications/{application_id}/decide",
        {"kind": "award", **fields},
        token_from=BOARD.format(call=call_id),
        follow_redirects=True,
    )


def _approved(application_id):
    db.session.expire_all()
    grant = db.session.scalar(sa.select(Grant).where(Grant.application_id == application_id))
    return [(line.budget_line_id, line.amount_cents) for line in grant.approved_lines]


def test_by_default_the_request_is_scaled_to_the_award_to_the_cent(app, awards_call, staff):
    application_id, lines = _bogota(app, awards_call)
    page = text(_decide(staff, awards_call, application_id, amount="88000"))
    assert "Award recorded." in page
    with app.app_context():
        approved = _approved(application_id)
        # 88% of each line; the cent rounding leaves over goes to the largest remainder (personnel).
        assert approved == [(lines[0], 36_666_67), (lines[1], 29_333_33), (lines[2], 22_000_00)]
        assert sum(cents for _line, cents in approved) == 88_000_00
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "decision.award"))
        assert entry.after["approved_budget"] == {str(line): cents for line, cents in approved}


def test_default_scaling_always_adds_up_to_the_award(app, awards_call):
    """Awkward amounts over awkward lines: the parts are whole cents, each within a cent of its
    exact share, and they add up to the award exactly."""
    with app.app_context():
        application = f.reviewed_with_budget(
            "Montréal",
            [
                ("personnel", "Aidantes rémunérées", 33_333_33, 6_000_00),
                ("services", "Répit pour les aidantes", 33_333_33, 6_000_00),
                ("communication", "Campagne « Le soin, c’est du travail »", 33_333_34, 0),
            ],
            the_call=db.session.get(Call, awards_call),
        )
        for amount in (1, 2, 99_999_99, 88_000_00, 66_666_67, 100_000_00):
            parts = operations.default_approved_budget(application, amount)
            assert sum(parts.values()) == amount
            for line in application.budget_lines:
                exact = amount * line.requested_cents / application.requested_cents
                assert abs(parts[line.id] - exact) < 1


def test_staff_set_the_approved_budget_when_awarding(app, awards_call, staff):
    application_id, lines = _bogota(app, awards_call)
    fields = {f"line_{lines[0]}": "41,666.67", f"line_{lines[1]}": "26,333.33", f"line_{lines[2]}": "20000"}
    page = text(_decide(staff, awards_call, application_id, amount="88000", **fields))
    assert "Award recorded." in page
    with app.app_context():
        assert _approved(application_id) == [(lines[0], 41_666_67), (lines[1], 26_333_33), (lines[2], 20_000_00)]


def _nothing_decided(application_id, call_id):
    db.session.expire_all()
    assert count(Decision, Decision.application_id == application_id) == 0
    assert count(Grant) == 0 and count(ApprovedBudgetLine) == 0
    assert count(AuditEntry, AuditEntry.action.like("decision.%")) == 0
    assert sum(committed for _amount, committed, _paid in ledger(call_id).values()) == 0


def _budget_error(page, application_id):
    match = re.search(rf'id="budget-error-{application_id}">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


def test_an_approved_budget_that_does_not_add_up_to_the_award_is_refused_next_to_it(app, awards_call, staff):
    application_id, lines = _bogota(app, awards_call)
    fields = {f"line_{lines[0]}": "41666.67", f"line_{lines[1]}": "26333.32", f"line_{lines[2]}": "20000"}
    response = _decide(staff, awards_call, application_id, amount="88000", conditions="Informe trimestral", **fields)
    assert response.status_code == 400
    page = text(response)
    assert _budget_error(page, application_id) == (
        "The approved budget adds up to €87,999.99, not the €88,000.00 awarded."
    )
    # What staff typed is still there.
    assert 'value="26333.32"' in page and 'value="88000"' in page and 'value="Informe trimestral"' in page
    with app.app_context():
        _nothing_decided(application_id, awards_call)

    response = _decide(staff, awards_call, application_id, amount="88000", **{f"line_{lines[0]}": "mucho"})
    assert response.status_code == 400
    assert _budget_error(text(response), application_id) == "Give each line of the approved budget in euros."
    with app.app_context():
        _nothing_decided(application_id, awards_call)

    # A line left empty counts as nothing: the others must carry the whole award.
    response = _decide(staff, awards_call, application_id, amount="88000", **{f"line_{lines[0]}": "88000"})
    assert response.status_code == 200
    with app.app_context():
        assert _approved(application_id) == [(lines[0], 88_000_00), (lines[1], 0), (lines[2], 0)]


def test_the_operation_refuses_a_line_of_another_application(app, awards_call):
    application_id, lines = _bogota(app, awards_call)
    with app.app_context():
        other = f.reviewed("Quito", the_call=db.session.get(Call, awards_call))
        foreign = other.budget_lines[0].id
        from fundapp.core.errors import Refused

        application = db.session.get(BudgetLine, lines[0]).application
        try:
            operations.decide(
                application,
                "award",
                actor=f.staff(),
                amount_cents=88_000_00,
                budget={lines[0]: 68_000_00, foreign: 20_000_00},
            )
        except Refused as refusal:
            assert refusal.field == "budget"
            assert str(refusal.message) == "The approved budget may only use the lines of the request."
        else:
            raise AssertionError("a line of Quito's budget was approved on Bogotá's grant")
        db.session.rollback()
        _nothing_decided(application_id, awards_call)


def test_the_grant_page_shows_the_approved_budget_to_staff_and_to_the_city(app, awards_call, staff, make_client):
    application_id, lines = _bogota(app, awards_call)
    _decide(staff, awards_call, application_id, amount="88000")
    with app.app_context():
        grant = db.session.scalar(sa.select(Grant).where(Grant.application_id == application_id))
        grant_id = grant.id
        f.s.send_letter(grant.decision, f.staff())
    for client in (staff, _city(make_client)):
        page = text(client.get(f"/grants/{grant_id}"))
        table = page[page.index('id="approved-budget"') :]
        assert "Coordinadoras de las manzanas del cuidado" in table
        rows = re.findall(r'data-line="(\d+)">.*?data-figure="approved">(.*?)</td>', table, re.S)
        assert [(int(line), _cents(shown)) for line, shown in rows] == [
            (lines[0], 36_666_67),
            (lines[1], 29_333_33),
            (lines[2], 22_000_00),
        ]


def _cents(shown):
    """Cents of an amount as a page shows it in any language (€36,666.67, 36.666,67 €, -€6,666.67)."""
    digits = int(re.sub(r"\D", "", shown))
    return -digits if re.search(r"[-−]", shown) else digits


def _city(make_client):
    client = make_client()
    client.login("focal@bogota.example", f.PASSWORD)
    return client


def test_a_report_compares_spending_with_the_approved_budget_not_the_request(app, awards_call, staff, make_client):
    """EUR 88,000 awarded of EUR 100,000 asked: Bogotá reports EUR 30,000 spent on personnel. The
    variance is against the EUR 36,666.67 approved for it (not the EUR 41,666.67 requested), on the
    city's report page and on the page staff review it on."""
    application_id, lines = _bogota(app, awards_call)
    _decide(staff, awards_call, application_id, amount="88000")
    with app.app_context():
        grant = db.session.scalar(sa.select(Grant).where(Grant.application_id == application_id))
        f.s.send_letter(grant.decision, f.staff())
        f.s.accept(grant.decision, f.focal_point("Bogotá"))
        report_id = db.session.scalar(
            sa.select(GrantReport.id).where(GrantReport.grant_id == grant.id, GrantReport.kind == "interim")
        )
    city = _city(make_client)
    url = f"/reports/{report_id}"
    response = city.post(
        url,
        {
            "progress": "Dos manzanas del cuidado abiertas.",
            "results": "410 cuidadoras formadas.",
            "difficulties": "",
            "reached_women": "1450",
            "reached_men": "410",
            "reached_other": "25",
            "activities_held": "4",
            "dimensions": ["recognise", "redistribute"],
            f"spent_{lines[0]}": "30000",
            f"spent_{lines[1]}": "29333.33",
            f"spent_{lines[2]}": "25000",
            "submit_report": "1",
        },
        token_from=url,
    )
    assert response.status_code == 302, text(response)
    with app.app_context():
        report = db.session.get(GrantReport, report_id)
        variances = {e.budget_line_id: e.variance_cents for e in report.expenditures}
        assert variances == {lines[0]: -6_666_67, lines[1]: 0, lines[2]: 3_000_00}
        assert report.approved_cents == 88_000_00
    for client in (city, staff):
        page = text(client.get(url))
        rows = dict(
            (int(line), (approved, variance))
            for line, approved, variance in re.findall(
                r'data-line="(\d+)">.*?data-figure="approved">(.*?)</td>.*?data-figure="variance">(.*?)</td>',
                page,
                re.S,
            )
        )
        shown = {line: (_cents(approved), _cents(variance)) for line, (approved, variance) in rows.items()}
        assert shown == {lines[0]: (36_666_67, -6_666_67), lines[1]: (29_333_33, 0), lines[2]: (22_000_00, 3_000_00)}
        total = re.search(r'data-figure="approved-total">(.*?)</td>', page).group(1)
        assert _cents(total) == 88_000_00
        # The request is not what spending is compared with.
        assert not re.search(r"41[.,]666[.,]67", page)


def test_revising_an_award_takes_its_approved_budget_with_it(app, awards_call, staff):
    application_id, _lines = _bogota(app, awards_call)
    _decide(staff, awards_call, application_id, amount="88000")
    with app.app_context():
        decision = db.session.scalar(sa.select(Decision).where(Decision.application_id == application_id))
        operations.revise(decision, actor=f.staff(), reason="Importe a revisar con el comité")
        assert count(ApprovedBudgetLine) == 0 and count(Grant) == 0
