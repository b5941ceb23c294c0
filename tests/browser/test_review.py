"""A reviewer declares no conflict, scores, submits, and then sees the other scores."""

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.browser


@pytest.fixture
def assigned(app):
    from fundapp.calls.models import Call
    from fundapp.extensions import db
    from fundapp.members.models import Member
    from fundapp.reviews import operations

    from ..reviews.conftest import eligible_application, make_reviewer, scores_for, user_by_email

    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        bogota = db.session.scalar(sa.select(Member).where(Member.name == "Bogotá"))
        application = eligible_application(call.id, bogota, title="Manzanas del cuidado")
        admin = user_by_email("admin@fundapp.test")
        colleague = make_reviewer("second@pool.example", gender="man", name="Second Reviewer")
        first = operations.assign(application, colleague, actor=admin)
        operations.declare(first, "accept", actor=colleague)
        operations.save_review(
            first,
            actor=colleague,
            scores=scores_for(call.id, [3, 3, 3, 3, 3]),
            comment_applicant="",
            comment_staff="",
            recommendation="fund_with_changes",
            submit=True,
        )
        operations.assign(application, user_by_email("reviewer@fundapp.test"), actor=admin)
        return application.reference


def test_a_reviewer_declares_scores_submits_and_sees_the_other_scores(assigned, live_server, browser):
    page = browser.new_context(locale="en-GB").new_page()
    page.goto(f"{live_server}/login")
    page.get_by_label("E-mail").fill("reviewer@fundapp.test")
    page.get_by_label("Password").fill("demo-reviewer-pass")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/")
    page.get_by_role("link", name="Your reviews").first.click()
    page.get_by_role("link", name=assigned).click()
    assert page.get_by_text("Declare any conflict of interest").is_visible()
    assert page.get_by_text("The problem text").count() == 0
    page.locator("#no-conflict").click()
    assert page.get_by_text("You can now read and score the application.").is_visible()
    assert page.get_by_text("The problem text").first.is_visible()

    inputs = page.locator("input[name^=score_]")
    for i, value in enumerate(["4", "4.5", "3", "5", "4"]):
        inputs.nth(i).fill(value)
    page.locator("#recommendation-select").select_option("fund")
    page.locator("#comment_applicant").fill("A clear plan with strong partners.")
    page.locator("#submit-review").click()
    assert page.get_by_text("Review submitted.").is_visible()
    other = page.locator("#other-reviews")
    assert other.is_visible()
    assert "60.00" in other.inner_text() and "Fund with changes" in other.inner_text()
