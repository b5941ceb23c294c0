"""Staff award the top two demo applications EUR 100,000 each, send the letters, the city accepts."""

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.browser


@pytest.fixture
def ranked(app):
    from fundapp.applications.models import Application
    from fundapp.calls.models import Call
    from fundapp.extensions import db
    from fundapp.members.models import Member

    from ..awards.conftest import score_all
    from ..reviews.conftest import eligible_application

    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        call = db.session.scalar(sa.select(Call))
        ids = []
        for name in ("Bogotá", "Montréal", "Dakar"):
            member = db.session.scalar(sa.select(Member).where(Member.name == name))
            application = eligible_application(call.id, member, language="es" if name == "Bogotá" else "en")
            application.requested_cents = 100_000_00
            application.state = "reviewed"
            ids.append(application.id)
        db.session.commit()
        from ..helpers import make_user

        make_user(
            "focal@montreal.example",
            "applicant",
            member=db.session.scalar(sa.select(Member).where(Member.name == "Montréal")),
        )
        refs = [db.session.get(Application, i).reference for i in ids]
        call_id = call.id
    score_all(app, call_id, ids, [[5] * 5, [4.5] * 5, [3] * 5], staff_email="staff@fundapp.test")
    return call_id, refs


def _login(browser, live_server, email, password, locale="en-GB"):
    page = browser.new_context(locale=locale).new_page()
    page.goto(f"{live_server}/login")
    page.locator("[name=email]").fill(email)
    page.locator("[name=password]").fill(password)
    page.locator("form[action='/login'] button[type=submit], form:not([action]) button[type=submit]").last.click()
    page.wait_for_url(f"{live_server}/")
    return page


def test_staff_award_the_top_two_send_the_letters_and_the_city_accepts(ranked, app, live_server, browser):
    call_id, refs = ranked
    staff = _login(browser, live_server, "staff@fundapp.test", "demo-staff-pass")
    staff.goto(f"{live_server}/staff/calls/{call_id}/decisions")
    assert staff.locator("tr.fits").count() == 3  # EUR 800,000 holds all three at EUR 100,000
    # Staff award only the top two: the third goes to the reserve list.
    staff.locator(f"#decide-{_id(app, refs[0])} select[name=kind]").select_option("award")
    staff.locator(f"#decide-{_id(app, refs[0])} button[type=submit]").click()
    assert staff.get_by_text(f"{refs[0]}: Award recorded.").is_visible()
    staff.locator(f"#decide-{_id(app, refs[1])} button[type=submit]").click()
    assert staff.get_by_text(f"{refs[1]}: Award recorded.").is_visible()
    staff.locator(f"#decide-{_id(app, refs[2])} select[name=kind]").select_option("reserve")
    staff.locator(f"#decide-{_id(app, refs[2])} button[type=submit]").click()
    assert staff.locator("[data-figure=committed]").inner_text() == "€200,000.00"
    assert staff.locator("[data-figure=remaining]").inner_text() == "€600,000.00"
    for ref in refs[:2]:
        staff.locator(f"#decide-{_id(app, ref)} button.send-letter").click()
        assert staff.get_by_text("is being sent").is_visible()

    from fundapp.awards.models import Letter
    from fundapp.extensions import db

    from ..helpers import run_jobs

    run_jobs(app)  # the RQ worker renders and e-mails the letters
    with app.app_context():
        assert [letter.status for letter in db.session.scalars(sa.select(Letter))] == ["sent", "sent"]
    city = _login(browser, live_server, "city@fundapp.test", "demo-city-pass", locale="es-ES")
    city.goto(f"{live_server}/applications/")
    city.goto(f"{live_server}/applications/{_id(app, refs[0])}/grant")
    city.locator("#bank_details").fill("Bogotá D.C. · IBAN CO12 3456 7890")
    city.locator("#accept-grant").click()
    city.wait_for_load_state()
    assert city.locator("#grant-state").inner_text() != ""
    with app.app_context():
        from fundapp.awards.models import Grant

        grant = db.session.scalar(sa.select(Grant).order_by(Grant.id))
        assert grant.application.member.name == "Bogotá"
        assert grant.state == "accepted" and grant.tranches[0].is_due and grant.bank_details.startswith("Bogotá")


def _id(app, reference):
    from fundapp.applications.models import Application
    from fundapp.extensions import db

    with app.app_context():
        return db.session.scalar(sa.select(Application.id).where(Application.reference == reference))
