"""A reviewer declares no conflict, scores, submits, and then sees the other scores."""

import pytest
from playwright.sync_api import expect

from .pages import sign_in

pytestmark = pytest.mark.browser

PROBLEM = "Las mujeres de Bogotá dedican diez horas diarias a cuidados no remunerados."


@pytest.fixture
def assigned(app, demo_accounts):
    """Bogotá's eligible application: a colleague has scored it (3 out of 5 everywhere), and the
    demo reviewer is assigned but has not declared yet."""
    from fundapp import scenarios as s
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context():
        admin = demo_user("admin@fundapp.test")
        call = factories.call(actor=demo_user("staff@fundapp.test"))
        application = factories.eligible("Bogotá", the_call=call, by=admin, focal=demo_user("city@fundapp.test"))
        assert application.problem == PROBLEM
        colleague = factories.reviewer("second@pool.example", "Second Reviewer", gender="man", country="SE")
        first = s.assign(application, colleague, admin)
        s.review(first, [3, 3, 3, 3, 3], recommendation="fund_with_changes")
        s.assign(application, demo_user("reviewer@fundapp.test"), admin)
        db.session.commit()
        return application.reference


def test_a_reviewer_declares_scores_submits_and_sees_the_other_scores(assigned, live_server, browser):
    page = sign_in(browser, live_server, "reviewer@fundapp.test")
    page.get_by_role("link", name="Your reviews").first.click()
    page.get_by_role("link", name=assigned).click()
    expect(page.get_by_text("Declare any conflict of interest")).to_be_visible()
    assert page.get_by_text(PROBLEM).count() == 0
    page.locator("#no-conflict").click()
    expect(page.get_by_text("You can now read and score the application.")).to_be_visible()
    expect(page.get_by_text(PROBLEM).first).to_be_visible()

    inputs = page.locator("input[name^=score_]")
    for i, value in enumerate(["4", "4.5", "3", "5", "4"]):
        inputs.nth(i).fill(value)
    page.locator("#recommendation-select").select_option("fund")
    page.locator("#comment_applicant").fill("A clear plan with strong partners.")
    page.locator("#submit-review").click()
    expect(page.get_by_text("Review submitted.")).to_be_visible()
    other = page.locator("#other-reviews")
    expect(other).to_be_visible()
    assert "60.00" in other.inner_text() and "Fund with changes" in other.inner_text()


def test_marks_typed_when_the_session_ended_are_offered_back_after_signing_in_again(
    assigned, app, live_server, browser
):
    """The reviewer scores in their spare time; meanwhile their session ends (here an administrator
    signs them out). Saving leads to the sign-in page, then back to the review, where what they
    typed is offered back from the device; restored and saved, nothing is offered any more."""
    from .pages import end_sessions, send_and_sign_in_again

    page = sign_in(browser, live_server, "reviewer@fundapp.test")
    page.get_by_role("link", name="Your reviews").first.click()
    page.get_by_role("link", name=assigned).click()
    page.locator("#no-conflict").click()
    review_url = page.url
    marks = ["4", "4.5", "3", "5", "4"]
    inputs = page.locator("input[name^=score_]")
    for i, value in enumerate(marks):
        inputs.nth(i).fill(value)
    page.locator("#comment_applicant").fill("Un plan claro, con socios sólidos en Medellín.")
    end_sessions(app, "reviewer@fundapp.test")
    send_and_sign_in_again(page, page.get_by_role("button", name="Save draft"), "reviewer@fundapp.test", review_url)
    offer = page.locator("[data-kept-for=review-form]")
    expect(offer).to_be_visible()
    assert page.locator("#comment_applicant").input_value() == ""  # the server never had it
    offer.get_by_role("button", name="Restore this copy").click()
    assert [inputs.nth(i).input_value() for i in range(len(marks))] == marks
    assert page.locator("#comment_applicant").input_value() == "Un plan claro, con socios sólidos en Medellín."

    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("Draft saved.")).to_be_visible()
    assert page.locator("#comment_applicant").input_value() == "Un plan claro, con socios sólidos en Medellín."
    expect(page.locator("[data-kept-for=review-form]")).to_be_hidden()
    page.reload()
    expect(page.locator("[data-kept-for=review-form]")).to_be_hidden()
