"""Staff award the top two demo applications EUR 100,000 each, send the letters, the city accepts."""

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from .pages import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def ranked(app, demo_accounts):
    """Three applications of EUR 100,000 fully reviewed (Bogotá first, Montréal, then Dakar), no decision."""
    from fundapp.extensions import db

    from .. import factories
    from .pages import demo_user

    with app.app_context():
        staff = demo_user("staff@fundapp.test")
        call = factories.call(actor=staff)
        applications = [
            factories.reviewed(
                "Bogotá", [5] * 5, the_call=call, by=staff, focal=demo_user("city@fundapp.test"), requested=100_000_00
            ),
            factories.reviewed("Montréal", [4.5] * 5, the_call=call, by=staff, requested=100_000_00),
            factories.reviewed("Dakar", [3] * 5, the_call=call, by=staff, language="en", requested=100_000_00),
        ]
        db.session.commit()
        return call.id, [a.reference for a in applications]


def test_staff_award_the_top_two_send_the_letters_and_the_city_accepts(ranked, app, live_server, browser):
    call_id, refs = ranked
    staff = sign_in(browser, live_server, "staff@fundapp.test")
    staff.goto(f"{live_server}/staff/calls/{call_id}/decisions")
    expect(staff.locator("tr.fits")).to_have_count(3)  # EUR 800,000 holds all three at EUR 100,000
    # Staff award only the top two: the third goes to the reserve list.
    staff.locator(f"#decide-{_id(app, refs[0])} select[name=kind]").select_option("award")
    staff.locator(f"#decide-{_id(app, refs[0])} button[type=submit]").click()
    expect(staff.get_by_text(f"{refs[0]}: Award recorded.")).to_be_visible()
    staff.locator(f"#decide-{_id(app, refs[1])} button[type=submit]").click()
    expect(staff.get_by_text(f"{refs[1]}: Award recorded.")).to_be_visible()
    staff.locator(f"#decide-{_id(app, refs[2])} select[name=kind]").select_option("reserve")
    staff.locator(f"#decide-{_id(app, refs[2])} button[type=submit]").click()
    expect(staff.get_by_text(f"{refs[2]}: Reserve list recorded.")).to_be_visible()
    expect(staff.locator("[data-figure=committed]")).to_have_text("€200,000.00")
    expect(staff.locator("[data-figure=remaining]")).to_have_text("€600,000.00")
    # Until its letter is sent, the city is not told: no grant link, and the grant page is not there.
    city = sign_in(browser, live_server, "city@fundapp.test", locale="es-ES")
    city.goto(f"{live_server}/applications/")
    assert city.locator("a[data-link=grant]").count() == 0
    assert city.goto(f"{live_server}/applications/{_id(app, refs[0])}/grant").status == 404
    for ref in refs[:2]:
        staff.locator(f"#decide-{_id(app, ref)} button.send-letter").click()
        expect(staff.get_by_text("is being sent")).to_be_visible()

    from fundapp.awards.models import Letter
    from fundapp.extensions import db

    from ..helpers import run_jobs

    run_jobs(app)  # the RQ worker renders and e-mails the letters
    with app.app_context():
        assert [letter.status for letter in db.session.scalars(sa.select(Letter))] == ["sent", "sent"]
    city.goto(f"{live_server}/applications/")
    # The letter is sent: the city's list shows the award and links to the grant.
    city.locator(f"a[href='/applications/{_id(app, refs[0])}/grant'][data-link=grant]").click()
    city.wait_for_url("**/grants/*")
    city.locator("#bank_details").fill("Bogotá D.C. · IBAN CO12 3456 7890")
    city.locator("#accept-grant").click()
    expect(city.locator("#accept-grant")).to_have_count(0)  # accepted: nothing left to accept
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
