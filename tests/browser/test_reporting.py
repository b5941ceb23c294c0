"""The city submits its interim report, staff approve it, and staff download the SDC report."""

import pytest
import sqlalchemy as sa

from ..reporting.conftest import funded  # noqa: F401

pytestmark = pytest.mark.browser


def _login(browser, live_server, email, password, locale="en-GB"):
    page = browser.new_context(locale=locale, accept_downloads=True).new_page()
    page.goto(f"{live_server}/login")
    page.locator("[name=email]").fill(email)
    page.locator("[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/")
    return page


def test_city_reports_staff_approve_and_download_the_sdc_report(funded, app, live_server, browser):  # noqa: F811
    from fundapp.extensions import db
    from fundapp.reporting.models import GrantReport

    from ..helpers import run_jobs

    with app.app_context():
        report = db.session.scalar(
            sa.select(GrantReport).where(GrantReport.grant_id == funded[0], GrantReport.kind == "interim")
        )
        report_id = report.id
        lines = [line.id for line in report.grant.application.budget_lines]

    city = _login(browser, live_server, "city@fundapp.test", "demo-city-pass", locale="es-ES")
    city.goto(f"{live_server}/grants/{funded[0]}")
    city.locator("a[data-report=interim]").click()
    city.locator("#progress").fill("Dos manzanas del cuidado abiertas.")
    city.locator("#reached_women").fill("540")
    city.locator("#reached_men").fill("60")
    city.locator("#activities_held").fill("12")
    city.locator(f"[name=spent_{lines[0]}]").fill("30.000,00")
    city.locator(f"[name=spent_{lines[1]}]").fill("12.000")
    city.locator("#submit-report").click()
    city.wait_for_url(f"**/reports/{report_id}")
    assert city.locator("#submit-report").count() == 0  # sent: no longer editable

    staff = _login(browser, live_server, "staff@fundapp.test", "demo-staff-pass")
    staff.goto(f"{live_server}/staff/reports?state=submitted")
    staff.locator(f"a[href='/reports/{report_id}']").click()
    staff.locator("#approve-report").click()
    assert staff.get_by_text("Report approved; the tranche tied to it is now due.").is_visible()
    staff.goto(f"{live_server}/grants/{funded[0]}")
    assert "due" in staff.locator("tr[data-tranche='2']").inner_text()

    staff.goto(f"{live_server}/donor-reports")
    staff.locator("select[name=donor]").select_option(label="SDC · Swiss Agency for Development and Cooperation")
    staff.locator("#build-report").click()
    assert staff.locator("#report-progress").is_visible()
    run_jobs(app)
    staff.reload()
    with staff.expect_download() as info:
        staff.locator("#download-pdf").click()
    data = open(info.value.path(), "rb").read()
    assert data.startswith(b"%PDF")
    import io

    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "Bogotá" in text and "Montréal" in text
