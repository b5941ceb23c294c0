"""Two-step verification in the browser: the programme's staff must enrol at their next sign-in
(scan or type the key, confirm a code, keep the recovery codes), then sign in with a code from the
app, and with a recovery code once."""

import pyotp
import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages import DEMO_PASSWORDS

pytestmark = pytest.mark.browser
STAFF = "staff@fundapp.test"


def _password(browser, live_server):
    context = browser.new_context(locale="en-GB", timezone_id="Europe/Madrid")
    context.set_default_timeout(15000)
    page = context.new_page()
    page.goto(f"{live_server}/login")
    page.locator("main [name=email]").fill(STAFF)
    page.locator("main [name=password]").fill(DEMO_PASSWORDS[STAFF])
    page.locator("main form button[type=submit]").click()
    return page


def _last_step(app):
    from fundapp.accounts.models import User
    from fundapp.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(User.totp_last_step).where(User.email == STAFF))


def test_staff_enrol_then_sign_in_with_the_app_and_with_a_recovery_code(app, demo_accounts, live_server, browser):
    app.config["MFA_REQUIRED"] = True

    # The first sign-in with the password alone leads to the enrolment, not to the fund.
    page = _password(browser, live_server)
    page.wait_for_url(f"{live_server}/login/enrol")
    expect(page.get_by_role("heading", name="Set up two-step verification")).to_be_visible()
    expect(page.get_by_role("img", name="QR code to add fundapp to your authenticator app")).to_be_visible()
    page.goto(f"{live_server}/staff/calls")
    assert "/login" in page.url  # nothing of the fund before the second step
    page.goto(f"{live_server}/login/enrol")
    secret = page.locator("#mfa-secret").inner_text().replace(" ", "")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill("123 456")
    page.get_by_role("button", name="Turn on two-step verification").click()
    expect(page.locator(".has-error")).to_contain_text("not the one the app shows now")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-step verification").click()
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("link", name="I have kept them: continue").click()
    page.wait_for_url(f"{live_server}/")
    page.context.close()

    # Next time: the password, then a code from the app.
    page = _password(browser, live_server)
    page.wait_for_url(f"{live_server}/login/verify")
    code = pyotp.TOTP(secret).at((_last_step(app) + 1) * 30)
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(code)
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(f"{live_server}/")
    page.context.close()

    # A lost phone: a recovery code signs in once.
    page = _password(browser, live_server)
    page.wait_for_url(f"{live_server}/login/verify")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(codes[3])
    page.get_by_role("button", name="Verify and sign in").click()
    page.wait_for_url(f"{live_server}/")
    expect(page.get_by_text("You signed in with a recovery code: 9 are left.")).to_be_visible()
    page.context.close()
    page = _password(browser, live_server)
    page.wait_for_url(f"{live_server}/login/verify")
    page.get_by_label("Code from your authenticator app, or a recovery code").fill(codes[3])
    page.get_by_role("button", name="Verify and sign in").click()
    expect(page.locator(".has-error")).to_contain_text("already used")
    page.context.close()
