"""Member cities: staff list, search, edit and import them; a city sees only itself."""

import io

import pytest
import sqlalchemy as sa

from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.members.models import Member
from fundapp.members.operations import import_bundled_members

from ..helpers import count, make_member, make_user, text

pytestmark = pytest.mark.sqlite


@pytest.fixture
def staff(app, make_client):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    c = make_client()
    c.login("staff@fund.example")
    return c


def test_the_bundled_list_has_the_160_members_with_their_accents(app):
    with app.app_context():
        assert import_bundled_members() == (160, 0)
        assert import_bundled_members() == (0, 0)  # idempotent
        names = set(db.session.scalars(sa.select(Member.name)))
        assert {"Chișinău", "Muğla Metropolitan Municipality", "São Paulo", "Yaoundé", "Malé"} <= names
        associate = db.session.scalars(sa.select(Member).where(Member.membership == "associate")).all()
        assert [m.name for m in associate] == ["Guangzhou Academy of Social Sciences"]
        assert count(Member, Member.region == "africa") > 0


def test_an_applicant_cannot_open_another_members_page(app, make_client):
    with app.app_context():
        own = make_member("Bogotá", "CO", "latin_america_caribbean")
        other = make_member("Medellín", "CO", "latin_america_caribbean")
        make_user("focal@bogota.example", "applicant", member=own)
        own_id, other_id = own.id, other.id
    focal = make_client()
    focal.login("focal@bogota.example")
    assert focal.get(f"/members/{own_id}").status_code == 200
    assert focal.get(f"/members/{other_id}").status_code == 404
    assert focal.get("/members/99999").status_code == 404
    assert focal.get(f"/members/{other_id}/edit").status_code == 403
    assert focal.get("/members/").status_code == 403


def test_reviewers_and_anonymous_visitors_see_no_member_page(app, make_client):
    with app.app_context():
        member_id = make_member().id
        make_user("rev@x.example", "reviewer")
    reviewer = make_client()
    reviewer.login("rev@x.example")
    assert reviewer.get(f"/members/{member_id}").status_code == 404
    anonymous = make_client().get(f"/members/{member_id}")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]


def test_staff_search_and_filter_by_region_with_pagination(app, staff):
    with app.app_context():
        import_bundled_members()
    page = text(staff.get("/members/?q=paulo"))
    assert "São Paulo" in page and "Abidjan" not in page
    page = text(staff.get("/members/?region=africa"))
    assert "Abidjan" in page and "Montréal" not in page
    first = text(staff.get("/members/"))
    assert "160 results" in first and 'rel="next"' in first
    second = text(staff.get("/members/?page=2"))
    assert "Page 2 of 4" in second


def test_staff_create_and_edit_a_member_with_an_audit_entry(app, staff):
    response = staff.post(
        "/members/new",
        {"name": "Tshwane", "country": "za", "region": "africa", "membership": "full", "dues_paid_through": "2026"},
        token_from="/members/new",
    )
    assert response.status_code == 302
    with app.app_context():
        member = db.session.scalar(sa.select(Member).where(Member.name == "Tshwane"))
        assert member.country == "ZA" and member.dues_paid_through == 2026
        member_id = member.id
    response = staff.post(
        f"/members/{member_id}/edit",
        {"name": "Tshwane", "country": "ZA", "region": "africa", "membership": "full", "dues_paid_through": "2027"},
        token_from="/members/new",
    )
    assert response.status_code == 302
    with app.app_context():
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "member.update"))
        assert entry.before["dues_paid_through"] == 2026 and entry.after["dues_paid_through"] == 2027


def test_bad_member_input_is_refused_next_to_the_field_and_kept(app, staff):
    with app.app_context():
        make_member("Barcelona")
    response = staff.post(
        "/members/new",
        {"name": "Atlantis", "country": "XX", "region": "europe", "membership": "full", "dues_paid_through": ""},
        token_from="/members/new",
    )
    assert response.status_code == 400
    assert "“XX” is not an ISO country code." in text(response) and 'value="Atlantis"' in text(response)
    response = staff.post(
        "/members/new",
        {"name": "barcelona", "country": "ES", "region": "europe", "membership": "full"},
        token_from="/members/new",
    )
    assert response.status_code == 400 and "already exists" in text(response)
    with app.app_context():
        assert count(Member) == 1


def test_a_csv_with_a_bad_row_imports_nothing_and_names_the_row(app, staff):
    csv_text = (
        "name,country,region,membership\nLagos,NG,africa,full\nNowhere,QQ,africa,full\nLima,PE,south_america,full\n"
    )
    response = staff.post(
        "/members/import",
        {"file": (io.BytesIO(csv_text.encode()), "members.csv")},
        token_from="/members/import",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    page = text(response)
    assert "Nothing was imported" in page
    assert "<td>3</td><td>“QQ” is not an ISO country code.</td>" in page
    assert "<td>4</td><td>“south_america” is not a Metropolis region.</td>" in page
    with app.app_context():
        assert count(Member) == 0


def test_a_good_csv_creates_and_updates(app, staff):
    with app.app_context():
        make_member("Lagos", "NG", "africa", dues=None)
    csv_text = (
        "name,country,region,membership,dues_paid_through\n"
        "Lagos,NG,africa,full,2026\n"
        "Lima,PE,latin_america_caribbean,full,\n"
    )
    response = staff.post(
        "/members/import",
        {"file": (io.BytesIO(csv_text.encode()), "members.csv")},
        token_from="/members/import",
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context():
        assert count(Member) == 2
        assert db.session.scalar(sa.select(Member.dues_paid_through).where(Member.name == "Lagos")) == 2026


def test_a_csv_without_the_columns_is_refused(app, staff):
    response = staff.post(
        "/members/import",
        {"file": (io.BytesIO(b"city;country\nLagos;NG\n"), "m.csv")},
        token_from="/members/import",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "The file has no column" in text(response)


def test_the_member_list_costs_a_constant_number_of_queries(app, staff):
    from sqlalchemy import event

    with app.app_context():
        import_bundled_members()
        engine = db.engine
    statements = []

    def count_statement(*args):
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count_statement)
    try:
        staff.get("/members/?per_page=50")
        full_page = len(statements)
        statements.clear()
        staff.get("/members/?region=north_america")
        assert len(statements) == full_page
    finally:
        event.remove(engine, "before_cursor_execute", count_statement)
    assert full_page <= 6
