"""A partner city's focal point signs in, finds Bogotá's request, confirms with a letter of
commitment, and reads the project (issue 16, item 3)."""

import pytest
from playwright.sync_api import expect

from .pages import pdf_file, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def asked(app, demo_accounts):
    """Bogotá (the demo city) drafts its application naming Medellín (the demo partner) as partner."""
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context():
        call = factories.call(actor=demo_user("staff@fundapp.test"))
        application = factories.draft(
            "Bogotá", the_call=call, focal=demo_user("city@fundapp.test"), partners=("Medellín",)
        )
        db.session.commit()
        return application.id, application.title


def test_a_partner_confirms_with_a_letter_and_sees_the_project(asked, app, live_server, browser):
    application_id, title = asked
    page = sign_in(browser, live_server, "partner@fundapp.test", timezone_id="America/Bogota")
    card = page.locator("#partner-requests")
    expect(card).to_contain_text(title)
    card.get_by_role("link", name=title).click()
    page.wait_for_url(f"**/applications/{application_id}")
    expect(page.locator("#partner-view")).to_be_visible()
    expect(page.locator("#my-answer")).to_have_attribute("data-partner-state", "asked")
    page.locator("#confirm-partnership input[type=file]").set_input_files(pdf_file("carta-compromiso.pdf"))
    page.locator("#confirm-partnership button[type=submit]").click()
    page.wait_for_url(f"**/applications/{application_id}")
    expect(page.locator("#my-answer")).to_have_attribute("data-partner-state", "confirmed")
    expect(page.locator("#my-answer a[href$='/letter']")).to_be_visible()
    # The project, read-only: its text, and no way to change it.
    expect(page.locator("main")).to_contain_text("Servicios de cuidado cerca de casa")
    assert page.locator("main a[href$='/edit']").count() == 0
    assert page.goto(f"{live_server}/applications/{application_id}/edit").status == 404
