"""What a donor's officer reads of a grant its donor pays: its own donor's money, and the reports
the programme team approved; never another donor's lines, a report still being written or under
review, or the letter addressed to the city."""

from datetime import date
from decimal import Decimal

from fundapp.awards.models import Grant
from fundapp.core.timeutil import clock_at
from fundapp.extensions import db
from fundapp.reporting.models import GrantReport

from .. import factories as f
from ..helpers import PASSWORD, text
from .conftest import on


def test_the_donor_sees_its_own_lines_and_approved_reports_only(app, funded, make_client):
    bogota_grant, _montreal = funded
    with app.app_context():
        grant = db.session.get(Grant, bogota_grant)
        focal = f.focal_point("Bogotá")
        with clock_at(on(date(2026, 11, 25))):
            interim = f.s.report(
                grant,
                focal,
                "interim",
                progress="Dos manzanas del cuidado abiertas; la tercera abre en marzo.",
                results="410 cuidadoras formadas en Kennedy y Bosa.",
                difficulties="Retrasos en la obra de la manzana de Usme.",
                reached=(1450, 410, 25),
                spent_share=Decimal("0.4"),
            )
        interim_id = interim.id
        lines = {al.call_funding.contribution.donor.short_name for al in grant.allocations}
        assert lines == {"SDC", "OSF"}  # a grant paid by both donors
        db.session.remove()

    officer = make_client()
    officer.login("officer@sdc.example", PASSWORD)
    page = text(officer.get(f"/grants/{bogota_grant}"))
    allocation = page.split('id="allocation"', 1)[1].split("</table>", 1)[0]
    assert "SDC" in allocation and "OSF" not in allocation
    assert "/letters/" not in page  # the letter is the city's: the link would only lead to a 404
    # Sent, not approved yet: not listed, and not readable by its address.
    assert f"/reports/{interim_id}" not in page and "<h2>Reports</h2>" not in page  # no empty heading
    assert officer.get(f"/reports/{interim_id}").status_code == 404

    staff = make_client()
    staff.login("staff@fund.example", PASSWORD)
    staff_page = text(staff.get(f"/grants/{bogota_grant}"))
    staff_allocation = staff_page.split('id="allocation"', 1)[1].split("</table>", 1)[0]
    assert "SDC" in staff_allocation and "OSF" in staff_allocation  # staff see every line
    with app.app_context():
        with clock_at(on(date(2026, 11, 26))):
            f.s.approve(db.session.get(GrantReport, interim_id), f.staff())
        db.session.remove()

    page = text(officer.get(f"/grants/{bogota_grant}"))
    assert f"/reports/{interim_id}" in page
    report = text(officer.get(f"/reports/{interim_id}"))
    assert "410 cuidadoras formadas en Kennedy y Bosa." in report


def test_the_donor_dashboard_links_each_grant_and_says_its_figures_are_the_donors_share(app, funded, make_client):
    """From its dashboard the donor's officer reaches each grant its donor funds (by the
    reference), and reads the amounts as its donor's share of a grant other donors may fund too."""
    bogota_grant, montreal_grant = funded
    officer = make_client()
    officer.login("officer@sdc.example", PASSWORD)  # reads French
    page = text(officer.get("/donor"))
    for grant_id in (bogota_grant, montreal_grant):
        assert f'<a href="/grants/{grant_id}">' in page
        assert officer.get(f"/grants/{grant_id}").status_code == 200
    assert "que finance SDC" in page and "Part financée" in page
