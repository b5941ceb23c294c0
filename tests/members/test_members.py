"""Member cities: staff list, search, edit and import them; a city sees only itself."""

import io

import pytest
import sqlalchemy as sa

from fundapp.core.models import AuditEntry
from fundapp.extensions import db
from fundapp.members.models import Member
from fundapp.members.operations import import_bundled_members

from ..helpers import count, fewest_statements, make_member, make_user, text

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


def test_a_country_typed_in_full_and_a_bad_year_are_each_refused_once_and_kept(app, staff):
    page = text(staff.get("/members/new"))
    country_input = (
        page.split('name="country"')[0].rsplit("<input", 1)[1] + page.split('name="country"')[1].split(">")[0]
    )
    assert "maxlength" not in country_input  # "Colombia" is not cut to "Co" without a word
    response = staff.post(
        "/members/new",
        {
            "name": "Cúcuta",
            "country": "Colombia",
            "region": "latin_america_caribbean",
            "membership": "full",
            "dues_paid_through": "dos mil",
        },
        token_from="/members/new",
    )
    assert response.status_code == 400
    page = text(response)
    assert 'value="Colombia"' in page and 'value="dos mil"' in page
    dues_error = page.split('id="dues_paid_through-error">')[1].split("</p>")[0]
    assert dues_error == "Not a valid integer value."  # said once, not followed by the range


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
    assert "<td>4</td><td>“south_america” is not a Metropolis region: use one of africa, asia_pacific" in page
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


def test_a_csv_saved_by_a_french_spreadsheet_is_read(app, staff):
    """Semicolons, a byte-order mark and regions by their names (in French or English): read as
    the file means them. A name that differs from a member's only by its accents is refused."""
    with app.app_context():
        make_member("Medellín", "CO", "latin_america_caribbean")
    csv_text = (
        "\ufeffname;country;region;membership;dues_paid_through\r\n"
        "Área Metropolitana de Cúcuta;CO;Amérique latine et Caraïbes;full;2026\r\n"
        "Lyon;FR;Europe;associate;\r\n"
    )

    def post(body):
        return staff.post(
            "/members/import",
            {"file": (io.BytesIO(body.encode()), "membres.csv")},
            token_from="/members/import",
            content_type="multipart/form-data",
        )

    assert post(csv_text).status_code == 302
    with app.app_context():
        regions = dict(db.session.execute(sa.select(Member.name, Member.region)).all())
        assert regions["Área Metropolitana de Cúcuta"] == "latin_america_caribbean" and regions["Lyon"] == "europe"
    refused = post("name;country;region;membership\r\nMedellin;CO;latin_america_caribbean;full\r\n")
    assert refused.status_code == 400
    assert "<td>2</td><td>“Medellin” is spelled “Medellín” in fundapp: use that name.</td>" in text(refused)
    with app.app_context():
        assert count(Member) == 3
    # Listed as people read names: "Área…" with the A's, before "Lyon" and "Medellín".
    page = text(staff.get("/members/"))
    assert page.index("Área Metropolitana de Cúcuta") < page.index("Lyon") < page.index("Medellín")
    # Found without its accents.
    found = text(staff.get("/members/?q=cucuta"))
    assert "Área Metropolitana de Cúcuta" in found and "Lyon" not in found


def test_a_csv_without_the_columns_is_refused(app, staff):
    response = staff.post(
        "/members/import",
        {"file": (io.BytesIO(b"city;country\nLagos;NG\n"), "m.csv")},
        token_from="/members/import",
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and "The file has no column" in text(response)


def test_the_member_list_costs_a_constant_number_of_queries(app, staff):
    with app.app_context():
        import_bundled_members()
    full_page, _page = fewest_statements(app, staff, "/members/?per_page=50")
    assert fewest_statements(app, staff, "/members/?region=north_america")[0] == full_page
    assert full_page <= 6


def test_a_member_city_keeps_its_own_clock_from_its_country(app, staff):
    with app.app_context():
        import_bundled_members()
        zones = dict(db.session.execute(sa.select(Member.name, Member.timezone)).tuples().all())
    assert zones["Bogotá"] == "America/Bogota"
    assert zones["São Paulo"] == "America/Sao_Paulo" and zones["Belém do Pará"] == "America/Belem"
    assert zones["Mexico City"] == "America/Mexico_City" and zones["Tijuana"] == "America/Tijuana"
    assert zones["Makassar"] == "Asia/Makassar" and zones["Jakarta"] == "Asia/Jakarta"
    assert zones["Barcelona"] == "Europe/Madrid" and zones["Montréal"] == "America/Toronto"
    assert all(zones.values())

    # Staff set another zone; an import without the column keeps it, one with the column sets it.
    with app.app_context():
        tijuana = db.session.scalar(sa.select(Member).where(Member.name == "Tijuana"))
        tijuana_id = tijuana.id
    response = staff.post(
        f"/members/{tijuana_id}/edit",
        {
            "name": "Tijuana",
            "country": "MX",
            "region": "latin_america_caribbean",
            "membership": "full",
            "timezone": "America/Los_Angeles",
        },
        token_from=f"/members/{tijuana_id}/edit",
    )
    assert response.status_code == 302
    for csv_text, expected in (
        ("name,country,region,membership\nTijuana,MX,latin_america_caribbean,full\n", "America/Los_Angeles"),
        (
            "name,country,region,membership,timezone\nTijuana,MX,latin_america_caribbean,full,America/Tijuana\n",
            "America/Tijuana",
        ),
    ):
        response = staff.post(
            "/members/import",
            {"file": (io.BytesIO(csv_text.encode()), "members.csv")},
            token_from="/members/import",
            content_type="multipart/form-data",
        )
        assert response.status_code == 302
        with app.app_context():
            assert db.session.get(Member, tijuana_id).timezone == expected


def test_a_zone_that_does_not_exist_is_refused_and_changes_nothing(app, staff):
    with app.app_context():
        lagos_id = make_member("Lagos", "NG", "africa").id
        assert db.session.get(Member, lagos_id).timezone == "Africa/Lagos"
    response = staff.post(
        f"/members/{lagos_id}/edit",
        {"name": "Lagos", "country": "NG", "region": "africa", "membership": "full", "timezone": "Africa/Atlantis"},
        token_from=f"/members/{lagos_id}/edit",
    )
    assert response.status_code == 400
    assert "“Africa/Atlantis” is not a timezone such as America/Bogota." in text(response)
    with app.app_context():
        assert db.session.get(Member, lagos_id).timezone == "Africa/Lagos"
