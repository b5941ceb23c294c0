"""Each demo user signs in through the real login page and sees their role's home page."""

import pytest
from playwright.sync_api import expect

from fundapp.demo import DEMO_USERS

pytestmark = pytest.mark.browser

EXPECTED_CARDS = {
    "admin@fundapp.test": ["staff", "admin"],
    "staff@fundapp.test": ["staff"],
    "city@fundapp.test": ["applicant"],
    # Medellín's focal point, asked by Bogotá to take part in its projects: the requests' card too.
    "partner@fundapp.test": ["applicant", "partner"],
    "reviewer@fundapp.test": ["reviewer"],
    "reviewer2@fundapp.test": ["reviewer"],
    "donor@fundapp.test": ["donor"],
}


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output


def test_each_demo_role_signs_in_and_sees_its_home_page(demo, live_server, browser):
    # One demo fund for every account: building it is the slow part.
    for user in DEMO_USERS:
        sign_in_and_out(live_server, browser, user)


def sign_in_and_out(live_server, browser, user):
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill(user["email"])
    page.get_by_label("Password").fill(user["password"])
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    cards = page.locator("section.card[data-role]")
    roles = [cards.nth(i).get_attribute("data-role") for i in range(cards.count())]
    assert roles == EXPECTED_CARDS[user["email"]]
    expect(page.locator("nav").get_by_text(user["name"])).to_be_visible()
    if "applicant" in user["roles"]:
        assert user["member"] in page.content()
    if "donor" in user["roles"]:
        # The donor's name in the page's language (the demo donor officer reads French).
        assert "Direction du développement et de la coopération" in page.content()
    page.locator("form[action='/logout'] button").click()
    page.wait_for_url(f"{live_server}/login")
    context.close()


def test_a_wrong_password_in_the_browser_keeps_the_email_and_says_why(demo_accounts, live_server, page):
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill("staff@fundapp.test")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("The e-mail address or the password is not right.")).to_be_visible()
    assert page.get_by_label("E-mail").input_value() == "staff@fundapp.test"
