"""The language menu changes nothing until its button is pressed (WCAG 3.2.2): moving through the
options with the keyboard neither leaves the page nor changes the saved language."""

import pytest
from playwright.sync_api import expect

from fundapp.accounts.models import User
from fundapp.extensions import db

from ..helpers import make_user
from .pages import sign_in

pytestmark = pytest.mark.browser

EMAIL = "claire@montreal.example"


def _saved_language(app):
    with app.app_context():
        language = db.session.scalar(db.select(User.language).filter_by(email=EMAIL))
        db.session.remove()
        return language


@pytest.fixture
def person(app):
    with app.app_context():
        make_user(EMAIL, "staff", name="Claire Tremblay", language="en")
        db.session.remove()


def test_an_arrow_key_on_the_language_menu_changes_nothing_until_the_button(app, person, live_server, browser):
    page = sign_in(browser, live_server, EMAIL)
    page.goto(f"{live_server}/jobs")
    navigations = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url) if frame == page.main_frame else None)
    menu = page.locator("#language-select")
    assert menu.get_attribute("data-autosubmit") is None

    menu.focus()
    page.keyboard.press("ArrowDown")  # English -> Français, the way a keyboard user reads the list
    expect(menu).to_have_value("fr")  # the key did move the choice...
    page.wait_for_timeout(700)  # ...and a submit on change would have left the page by now
    assert navigations == [] and page.url == f"{live_server}/jobs"
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Background jobs")
    assert _saved_language(app) == "en"

    button = page.locator("#language-change")
    expect(button).to_be_visible()
    expect(button).to_have_text("Change")
    button.click()
    page.wait_for_url(f"{live_server}/jobs")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.locator("h1")).to_have_text("Tâches en arrière-plan")
    expect(page.locator("#language-change")).to_have_text("Changer")
    expect(page.locator("#language-select")).to_have_value("fr")
    assert _saved_language(app) == "fr"
    page.context.close()


def test_the_language_menu_works_without_javascript(app, person, live_server, browser):
    page = sign_in(browser, live_server, EMAIL, java_script_enabled=False)
    page.goto(f"{live_server}/outbox")
    page.locator("#language-select").select_option("es")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("#language-change").click()
    page.wait_for_url(f"{live_server}/outbox")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Bandeja de salida de correo")
    assert _saved_language(app) == "es"
    page.context.close()
