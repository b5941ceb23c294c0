"""English, French and Spanish: the user's choice, else the browser, else English."""

import pytest

from .helpers import make_member, make_user, text

pytestmark = pytest.mark.sqlite


def test_the_french_interface_shows_french_text(app, client):
    page = text(client.get("/login", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert '<html lang="fr">' in page
    assert "Fonds international pour les métropoles" in page
    assert "Mot de passe" in page


def test_the_spanish_interface_shows_spanish_text(app, client):
    page = text(client.get("/login", headers={"Accept-Language": "es"}))
    assert "Fondo Internacional para las Metrópolis" in page and "Contraseña" in page


def test_english_is_the_default(app, client):
    page = text(client.get("/login", headers={"Accept-Language": "de"}))
    assert '<html lang="en">' in page and "Password" in page


def test_the_switcher_is_remembered_for_visitors(app, client):
    client.post("/language", {"language": "es", "next": "/login"})
    page = text(client.get("/login", headers={"Accept-Language": "fr"}))
    assert '<html lang="es">' in page


def test_a_users_language_wins_and_the_switcher_saves_it(app, make_client):
    with app.app_context():
        make_user("focal@x.example", "applicant", member=make_member(), language="fr")
    c = make_client()
    c.login("focal@x.example")
    assert '<html lang="fr">' in text(c.get("/", headers={"Accept-Language": "es"}))
    c.post("/language", {"language": "es"})
    again = make_client()
    again.login("focal@x.example")
    assert '<html lang="es">' in text(again.get("/"))


def test_money_is_formatted_in_the_viewers_locale(app):
    from flask_babel import force_locale

    from fundapp.core.money import format_eur

    with app.test_request_context():
        with force_locale("en"):
            assert format_eur(100_000_00) == "€100,000.00"
        with force_locale("fr"):
            assert format_eur(100_000_00).replace("\u202f", " ").replace("\xa0", " ") == "100 000,00 €"
        with force_locale("es"):
            assert format_eur(100_000_01).replace("\xa0", " ") == "100.000,01 €"


def test_money_parsing_never_goes_through_floats():
    from fundapp.core.money import MoneyError, parse_eur

    # As typed in English, French and Spanish: the decimals are never lost or multiplied.
    for typed, cents in [
        ("100,000.00", 100_000_00),
        ("100000.01", 100_000_01),
        ("0.1", 10),
        ("100 000,50", 100_000_50),
        ("100.000,01", 100_000_01),
        ("100000,5", 100_000_50),
        ("€ 1.234,56", 1_234_56),
        ("100,000", 100_000_00),
        ("100.000", 100_000_00),
        ("1\u202f000,00", 1_000_00),
    ]:
        assert parse_eur(typed) == cents, typed
    for bad in [
        "",
        "abc",
        "100000.001",
        "100000,001",
        "1,2,3",
        "12.34.56",
        "NaN",
        "inf",
        ".5",
        "9" * 30,
        "1" + "0" * 13,
    ]:
        with pytest.raises(MoneyError):
            parse_eur(bad)
