"""A donor officer finds its own donor's reports from the home page, and only those."""

import pytest

from fundapp.reporting import operations as reporting

from .. import factories as f
from ..helpers import text

pytestmark = pytest.mark.sqlite


def test_the_donor_home_page_leads_to_its_own_reports_only(app, make_client):
    with app.app_context():
        contributions = f.fund()
        sdc, osf = contributions["SDC"].donor, contributions["OSF"].donor
        f.user("officer@sdc.example", "donor", name="Rahel Gerber", language="fr", donor=sdc)
        staff = f.staff()
        from datetime import date

        own = reporting.request_donor_report(
            actor=staff, donor=sdc, start=date(2025, 10, 1), end=date(2026, 9, 30), language="fr"
        ).id
        other = reporting.request_donor_report(
            actor=staff, donor=osf, start=date(2025, 10, 1), end=date(2026, 9, 30), language="en"
        ).id
    client = make_client()
    client.login("officer@sdc.example")
    home = text(client.get("/"))
    assert f'href="/donor-reports/{own}"' in home and f'href="/donor-reports/{other}"' not in home
    assert "1 oct. 2025" in home  # the period in the reader's language
    assert client.get(f"/donor-reports/{own}").status_code == 200
    assert client.get(f"/donor-reports/{other}").status_code == 404
