"""An expert offers to review on the public page, staff accept, the expert sets a password, staff seat
them on a balanced jury of the call and assign, and the expert scores and submits a review."""

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages import pdf_file, sign_in

pytestmark = pytest.mark.browser

EXPERT = "nomvula.dlamini@wits.example"
PASSWORD = "care systems in johannesburg"


@pytest.fixture
def call_with_application(app, demo_accounts):
    """The demo call, four reviewers a panel, and Bogotá's application screened eligible."""
    from .. import factories
    from .pages import demo_user

    with app.app_context():
        staff = demo_user("staff@fundapp.test")
        call = factories.call(actor=staff, reviewers_per_application=4)
        application = factories.eligible("Bogotá", the_call=call, by=staff, focal=demo_user("city@fundapp.test"))
        from fundapp.extensions import db

        db.session.commit()
        return call.id, application.reference


def _invitation_link(app):
    from fundapp.core.models import OutboxMessage
    from fundapp.extensions import db

    with app.app_context():
        body = db.session.scalar(
            sa.select(OutboxMessage.body).where(
                OutboxMessage.template == "invitation", OutboxMessage.to_email == EXPERT
            )
        )
    return re.search(r"/invitation/[\w-]+", body).group(0)


def test_an_expert_offers_is_accepted_sits_on_the_jury_and_reviews(app, call_with_application, live_server, browser):
    call_id, reference = call_with_application

    # A visitor, not signed in, follows the footer link and offers to review.
    context = browser.new_context(locale="en-GB", timezone_id="Africa/Johannesburg")
    context.set_default_timeout(15000)
    visitor = context.new_page()
    visitor.goto(f"{live_server}/calls/")
    visitor.locator("footer a[href='/experts/offer']").click()
    visitor.get_by_label("Full name").fill("Nomvula Dlamini")
    visitor.get_by_label("E-mail address").fill(EXPERT)
    visitor.get_by_label("Gender").select_option("woman")
    visitor.get_by_label("Country").select_option("ZA")
    visitor.get_by_label("Region").select_option("africa")
    visitor.get_by_label("English").check()
    visitor.get_by_label("Español").check()
    visitor.get_by_label("Your expertise").fill("Municipal care services, informal settlements, gender budgeting.")
    visitor.get_by_label("Affiliation (optional)").fill("University of the Witwatersrand")
    visitor.get_by_label("Your CV (PDF)").set_input_files(pdf_file("cv-dlamini.pdf", "Nomvula Dlamini — CV"))
    visitor.get_by_role("button", name="Send my offer").click()
    expect(visitor.get_by_role("heading", name="Thank you for your offer")).to_be_visible()

    # Staff read the offer in the pool's offers and accept it.
    staff = sign_in(browser, live_server, "staff@fundapp.test")
    staff.goto(f"{live_server}/staff/reviewers")
    staff.get_by_role("link", name="Offers to review").click()
    staff.get_by_role("link", name="Nomvula Dlamini").click()
    expect(staff.get_by_role("link", name="cv-nomvula-dlamini.pdf")).to_be_visible()
    staff.get_by_role("button", name="Accept and invite as a reviewer").click()
    expect(staff.get_by_text("Nomvula Dlamini is invited to join the reviewer pool.")).to_be_visible()

    # The expert follows the invitation and sets a password.
    visitor.goto(live_server + _invitation_link(app))
    visitor.locator("main [name=password]").fill(PASSWORD)
    visitor.locator("main [name=confirm]").fill(PASSWORD)
    visitor.get_by_role("button", name="Create my account").click()
    expect(visitor.get_by_text("Welcome to the International Fund for Metropolises.")).to_be_visible()
    context.close()

    # Staff seat a balanced jury: two women, two men, four regions; it confirms without a reason.
    staff.goto(f"{live_server}/staff/calls/{call_id}/jury")
    for name in ("Nomvula Dlamini", "Rania Reviewer", "Tomás Herrera", "Jean-Pierre Lavoie"):
        staff.get_by_label("Reviewer", exact=True).select_option(label=name)
        staff.get_by_role("button", name="Add to the jury").click()
        expect(staff.get_by_text(f"{name} is on the jury.")).to_be_visible()
    expect(staff.get_by_text("2 of 4 women (50%) — rule: at least 40%")).to_be_visible()
    expect(staff.get_by_text("The jury meets its balance rule.")).to_be_visible()
    staff.get_by_role("button", name="Confirm the jury").click()
    expect(staff.get_by_text("The jury is confirmed.")).to_be_visible()

    # The automatic proposal draws from the jury: the four jurors make the application's panel.
    staff.goto(f"{live_server}/staff/calls/{call_id}/assign")
    expect(staff.locator("table").get_by_text("Nomvula Dlamini")).to_be_visible()
    assert staff.locator("table").get_by_text("Mei Lin").count() == 0  # in the pool, not on the jury
    staff.get_by_role("button", name="Confirm and notify the reviewers").click()
    expect(staff.get_by_text("4 assignments made")).to_be_visible()

    # The expert signs in, declares no conflict, scores and submits.
    expert = sign_in(browser, live_server, EXPERT, PASSWORD)
    expert.get_by_role("link", name="Your reviews").first.click()
    expert.get_by_role("link", name=reference).click()
    expert.locator("#no-conflict").click()
    expect(expert.get_by_text("You can now read and score the application.")).to_be_visible()
    inputs = expert.locator("input[name^=score_]")
    for i, value in enumerate(["4", "4.5", "4", "3.5", "4"]):
        inputs.nth(i).fill(value)
    expert.locator("#recommendation-select").select_option("fund")
    expert.locator("#comment_applicant").fill("Strong partners; the care hubs answer a real need.")
    expert.locator("#submit-review").click()
    expect(expert.get_by_text("Review submitted.")).to_be_visible()

    from fundapp.accounts import operations as accounts
    from fundapp.reviews.models import Assignment

    with app.app_context():
        user = accounts.find_user_by_email(EXPERT)
        profile = user.reviewer_profile
        assert (profile.gender, profile.region, profile.country, profile.languages) == (
            "woman",
            "africa",
            "ZA",
            "en,es",
        )
        from fundapp.extensions import db

        mine = db.session.scalar(sa.select(Assignment).where(Assignment.reviewer_id == user.id))
        assert mine.is_done and mine.review.score is not None
