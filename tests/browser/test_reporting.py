"""The city submits its interim report, staff approve it, and staff download the SDC report."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages import OUTSIDE, PHONE, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def funded(app, demo_accounts):
    """Two grants of EUR 100,000 (Bogotá, the demo city, and Montréal), accepted, first tranche paid ten
    days ago (a donor report covers days that have ended)."""
    from datetime import timedelta

    from fundapp.core.timeutil import clock_at, utcnow
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context(), clock_at(utcnow() - timedelta(days=10)):
        staff = demo_user("staff@fundapp.test")
        call = factories.call(actor=staff)
        grants = [
            factories.paid_first_tranche(
                "Bogotá", the_call=call, by=staff, focal=demo_user("city@fundapp.test"), requested=100_000_00
            ),
            factories.paid_first_tranche(
                "Montréal", the_call=call, by=staff, requested=100_000_00, dimensions=("reward",), marks=[4] * 5
            ),
        ]
        db.session.commit()
        return [grant.id for grant in grants]


def test_city_reports_staff_approve_and_download_the_sdc_report(funded, app, live_server, browser):
    from fundapp.extensions import db
    from fundapp.reporting.models import GrantReport

    from ..helpers import run_jobs

    with app.app_context():
        report = db.session.scalar(
            sa.select(GrantReport).where(GrantReport.grant_id == funded[0], GrantReport.kind == "interim")
        )
        report_id = report.id
        lines = [line.id for line in report.grant.application.budget_lines]

    city = sign_in(browser, live_server, "city@fundapp.test", locale="es-ES")
    city.goto(f"{live_server}/grants/{funded[0]}")
    city.locator("a[data-report=interim]").click()
    city.locator("#progress").fill("Dos manzanas del cuidado abiertas.")
    city.locator("#reached_women").fill("540")
    city.locator("#reached_men").fill("60")
    city.locator("#activities_held").fill("12")
    city.locator(f"[name=spent_{lines[0]}]").fill("30.000,00")
    city.locator(f"[name=spent_{lines[1]}]").fill("12.000")
    city.locator("#submit-report").click()
    expect(city.locator("#submit-report")).to_have_count(0)  # sent: no longer editable
    # And it looks so: a note at the top, the fields muted and without a resize handle.
    expect(city.locator("#read-only-note")).to_be_visible()
    style = city.evaluate(
        "() => { const s = getComputedStyle(document.getElementById('progress')); return [s.resize, s.backgroundColor]; }"
    )
    assert style[0] == "none" and style[1] != "rgb(255, 255, 255)", style
    assert city.url.endswith(f"/reports/{report_id}")

    staff = sign_in(browser, live_server, "staff@fundapp.test", accept_downloads=True)
    staff.goto(f"{live_server}/staff/reports?state=submitted")
    staff.locator(f"a[href='/reports/{report_id}']").click()
    staff.locator("#approve-report").click()
    expect(staff.get_by_text("Report approved; the tranche tied to it is now due.")).to_be_visible()
    staff.goto(f"{live_server}/grants/{funded[0]}")
    assert "due" in staff.locator("tr[data-tranche='2']").inner_text()

    staff.goto(f"{live_server}/donor-reports")
    staff.locator("select[name=donor]").select_option(label="SDC · Swiss Agency for Development and Cooperation")
    staff.locator("#build-report").click()
    expect(staff.locator("#report-progress")).to_be_visible()
    run_jobs(app)
    # No reload by hand: the page follows the build and shows the report once it is ready.
    expect(staff.locator("#download-pdf")).to_be_visible(timeout=15000)
    with staff.expect_download() as info:
        staff.locator("#download-pdf").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Bogotá" in text and "Montréal" in text


@pytest.fixture
def measured(app, demo_accounts):
    """Bogotá's grant (the demo city's) of a call measuring the demo's indicators (carers trained, by
    gender; hours of care), first tranche paid: the grant's id."""
    from datetime import timedelta

    from fundapp import demo
    from fundapp.calls import operations as calls
    from fundapp.core.timeutil import clock_at, utcnow
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context(), clock_at(utcnow() - timedelta(days=10)):
        staff = demo_user("staff@fundapp.test")
        call = factories.call(actor=staff)
        for indicator in demo._indicators():
            calls.save_indicator(call, None, actor=staff, values=indicator)
        grant = factories.paid_first_tranche(
            "Bogotá", the_call=call, by=staff, focal=demo_user("city@fundapp.test"), requested=100_000_00
        )
        db.session.commit()
        return grant.id


def _interim_report(app, grant_id):
    from fundapp.extensions import db
    from fundapp.reporting.models import GrantReport

    with app.app_context():
        report = db.session.scalar(
            sa.select(GrantReport).where(GrantReport.grant_id == grant_id, GrantReport.kind == "interim")
        )
        return report.id, [line.id for line in report.grant.application.budget_lines]


def test_the_report_tables_fit_a_390_px_phone_with_their_errors(measured, app, live_server, browser):
    """On a phone the indicators' values reached and the expenditure (amount spent, variance) are
    within the screen, each under its column's name, with the errors of a refused sending."""
    report_id, lines = _interim_report(app, measured)
    city = sign_in(browser, live_server, "city@fundapp.test", locale="es-ES", viewport=PHONE)
    city.goto(f"{live_server}/reports/{report_id}")
    city.locator(f"[name=spent_{lines[0]}]").fill("30.000,00")
    city.locator(f"[name=spent_{lines[1]}]").fill("doce mil")
    city.locator("[name^=indicator_values-]").first.fill("-3")
    city.locator("#submit-report").click()
    expect(city.locator("#report-problems")).to_be_visible()
    tables = "#indicator-table input, #indicator-table .error, #expenditure-table input, #expenditure-table .error"
    assert city.locator("#indicator-table input").count() >= 1
    assert city.locator("#indicator-table .error, #expenditure-table .error").count() == 2
    assert city.evaluate(OUTSIDE, tables) == []
    for figure in ("approved", "variance"):
        cell = city.locator(f"#expenditure-table [data-figure={figure}]").first
        box = cell.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390, figure
    spent = city.locator(f"[name=spent_{lines[0]}]")
    assert spent.input_value() == "30.000,00"
    label = city.evaluate("(el) => getComputedStyle(el.parentElement, '::before').content", spent.element_handle())
    assert "Gastado (EUR)" in label
    city.context.close()
