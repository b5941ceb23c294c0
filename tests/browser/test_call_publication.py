"""Staff create, preview and publish the demo call in the browser; a visitor then finds it."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from fundapp.calls import demo

pytestmark = pytest.mark.browser


@pytest.fixture
def demo_without_call(app):
    result = app.test_cli_runner().invoke(args=["fund", "demo", "--without-calls"])
    assert result.exit_code == 0, result.output


def test_staff_create_preview_and_publish_the_demo_call_and_a_visitor_sees_it(demo_without_call, live_server, browser):
    staff = browser.new_context(locale="en-GB", timezone_id="Europe/Madrid").new_page()
    staff.goto(f"{live_server}/login")
    staff.get_by_label("E-mail").fill("staff@fundapp.test")
    staff.get_by_label("Password").fill("demo-staff-pass")
    staff.get_by_role("button", name="Sign in").click()
    staff.wait_for_url(f"{live_server}/")

    staff.get_by_role("link", name="Manage calls").click()
    expect(staff.get_by_text("No calls yet.")).to_be_visible()
    staff.get_by_role("link", name="New call").click()
    madrid = ZoneInfo("Europe/Madrid")
    now = datetime.now(madrid)
    staff.get_by_label("Code").fill(demo.CODE)
    staff.get_by_label("Theme (English)").fill("Local care systems")
    staff.get_by_label("Theme (French)").fill("Systèmes locaux de soins")
    staff.get_by_label("Contact address for applicants").fill("fund@metropolis.org")
    for code, language in [("en", "English"), ("fr", "French")]:
        staff.get_by_label(f"Title ({language})").fill(demo.TEXTS["title"][code])
        staff.get_by_label(f"Summary ({language})").fill(demo.TEXTS["summary"][code])
        staff.get_by_label(f"Full text ({language})").fill(demo.TEXTS["body"][code])
    staff.get_by_label("Opens (in the call's timezone)").fill((now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    staff.get_by_label("Closes (in the call's timezone)").fill(
        (now + timedelta(weeks=8)).replace(hour=17, minute=0).strftime("%Y-%m-%dT%H:%M")
    )
    staff.get_by_label("From SDC").fill("700,000")
    staff.get_by_label("From OSF").fill("100,000")
    staff.get_by_role("button", name="Save the call").click()
    expect(staff.get_by_text("Call LCS-2025 saved.")).to_be_visible()
    expect(staff.get_by_text("Add at least one criterion.")).to_be_visible()

    for name, weight in demo.CRITERIA[:2]:
        staff.get_by_role("link", name="Add a criterion").click()
        staff.get_by_label("Name (English)").fill(name["en"])
        staff.get_by_label("Name (French)").fill(name["fr"])
        staff.get_by_label("Weight").fill(str(weight))
        staff.get_by_role("button", name="Save").click()
        expect(staff.get_by_text("Criterion saved.")).to_be_visible()

    staff.get_by_role("link", name="Preview as the public sees it").click()
    expect(staff.get_by_text("Preview: this is how the public sees the call")).to_be_visible()
    expect(staff.get_by_role("heading", name="Local Care Systems 2025")).to_be_visible()
    staff.get_by_role("link", name="Français").click()
    expect(staff.get_by_role("heading", name="Systèmes locaux de soins 2025")).to_be_visible()
    staff.get_by_role("link", name="Back to the call").click()

    staff.get_by_role("button", name="Publish").click()
    expect(staff.get_by_text("The call is now “Published”.")).to_be_visible()

    visitor = browser.new_context(locale="en-GB").new_page()
    visitor.goto(f"{live_server}/calls/")
    visitor.get_by_role("link", name="Local Care Systems 2025").click()
    expect(visitor.get_by_role("heading", name="Local Care Systems 2025")).to_be_visible()
    expect(visitor.get_by_text("Applications close on")).to_be_visible()
    expect(visitor.get_by_text("Relevance for the local care system")).to_be_visible()
    expect(visitor.locator(".local-time")).to_be_visible()  # the deadline on the visitor's own clock too
