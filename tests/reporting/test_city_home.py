"""A city's home page lists the grant reports it has to write, the soonest due first."""

import re

import sqlalchemy as sa

from fundapp.extensions import db
from fundapp.reporting.models import GrantReport

from ..factories import PASSWORD
from ..helpers import text


def test_the_city_home_page_lists_its_reports_to_write_and_not_another_citys(app, funded, make_client):
    bogota_grant, montreal_grant = funded
    with app.app_context():
        mine = db.session.scalars(
            sa.select(GrantReport).where(GrantReport.grant_id == bogota_grant).order_by(GrantReport.due_on)
        ).all()
        theirs = db.session.scalars(sa.select(GrantReport.id).where(GrantReport.grant_id == montreal_grant)).all()
        assert mine and theirs
        due = [(r.id, r.due_on) for r in mine if r.state in ("due", "changes_requested")]
    city = make_client()
    city.login("focal@bogota.example", PASSWORD)  # reads Spanish
    page = text(city.get("/"))
    listed = page.split('id="reports-to-write">', 1)[1].split("</ul>", 1)[0]
    assert "Informes por redactar" in page
    assert [int(i) for i in re.findall(r'href="/reports/(\d+)"', listed)] == [i for i, _d in due][:5]
    assert "IFM-LCS-2025-" in listed and ("vence el" in listed or "vencido desde el" in listed)
    for other in theirs:
        assert f'href="/reports/{other}"' not in page
