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
