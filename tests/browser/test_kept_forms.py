"""Text typed in a form that leaves its page once sent (a message, a new call) is kept on the device
when the session ends before it is sent: offered back after signing in again, and dropped once
the server has it."""

import pytest
from playwright.sync_api import expect

from .pages import sign_in

pytestmark = pytest.mark.browser

MESSAGE = "Bonjour, pouvez-vous préciser le cofinancement de la Ville de Medellín ?\n\nMerci d’avance."


@pytest.fixture
def submitted(app, demo_accounts):
    """Bogotá's application, sent: staff and the city write to each other on it."""
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context():
        call = factories.call(actor=demo_user("staff@fundapp.test"))
        application = factories.submitted("Bogotá", the_call=call, focal=demo_user("city@fundapp.test"))
        db.session.commit()
        return application.id


def test_a_message_typed_when_the_session_ended_is_offered_back_and_dropped_once_sent(
    submitted, app, live_server, browser
):
    from .pages import end_sessions, send_and_sign_in_again

    page = sign_in(browser, live_server, "staff@fundapp.test")
    url = f"{live_server}/staff/applications/{submitted}"
    page.goto(url)
    page.locator("#message-body").fill(MESSAGE)
    end_sessions(app, "staff@fundapp.test")
    send_and_sign_in_again(page, page.get_by_role("button", name="Send the message"), "staff@fundapp.test", url)
    offer = page.locator("[data-kept-for=message-form]")
    expect(offer).to_be_visible()
    assert page.locator("#message-body").input_value().strip() == ""  # the server never had it
    offer.get_by_role("button", name="Restore this copy").click()
    assert page.locator("#message-body").input_value() == MESSAGE

    page.get_by_role("button", name="Send the message").click()
    expect(page.get_by_text("Message sent.")).to_be_visible()
    expect(page.locator(".message-body").last).to_contain_text("préciser le cofinancement")
    expect(page.locator("[data-kept-for=message-form]")).to_be_hidden()
    page.reload()
    expect(page.locator("[data-kept-for=message-form]")).to_be_hidden()
