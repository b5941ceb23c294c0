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


def test_a_language_chosen_before_signing_in_is_kept_after_it(app, make_client):
    """Chosen on the sign-in page: the pages after it are in that language, and it becomes the
    account's (as the switcher does once signed in); without a choice, the account's stays."""
    with app.app_context():
        make_user("focal@x.example", "applicant", member=make_member(), language="en")
    c = make_client()
    c.post("/language", {"language": "es", "next": "/login"})
    response = c.login("focal@x.example")
    page = text(c.get(response.headers["Location"]))
    assert '<html lang="es">' in page and "Le damos la bienvenida" in page
    again = make_client()
    again.login("focal@x.example")
    assert '<html lang="es">' in text(again.get("/", headers={"Accept-Language": "fr"}))


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


def _spaces(text):
    """Babel's French grouping and percent spaces (narrow and plain no-break) as plain spaces."""
    return text.replace("\u202f", " ").replace("\xa0", " ")


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", ["62.66", "12,345.60", "0.5", "5", "—"]),
        ("fr", ["62,66", "12 345,60", "0,5", "5", "—"]),
        ("es", ["62,66", "12.345,60", "0,5", "5", "—"]),
    ],
)
def test_the_decimal_filter_writes_numbers_in_the_readers_language(app, language, expected):
    from decimal import Decimal

    from flask_babel import force_locale

    with app.test_request_context(), force_locale(language):
        number = app.jinja_env.filters["decimal"]
        shown = [
            number(Decimal("62.66")),
            number(Decimal("12345.6")),
            number(Decimal("0.5"), 0, 2),  # a scale step: as many decimals as it has, up to two
            number(Decimal("5.00"), 0, 2),
            number("—"),  # a placeholder for "no value" is left as it is
        ]
        assert [_spaces(s) for s in shown] == expected
        assert number(None) == ""


@pytest.mark.parametrize(
    "language, expected",
    [("en", ["25%", "33.3%", "0%"]), ("fr", ["25 %", "33,3 %", "0 %"]), ("es", ["25 %", "33,3 %", "0 %"])],
)
def test_the_percent_filter_takes_a_share_out_of_100(app, language, expected):
    from decimal import Decimal

    from flask_babel import force_locale

    with app.test_request_context(), force_locale(language):
        percent = app.jinja_env.filters["percent"]
        shown = [percent(Decimal("25.0")), percent(Decimal("33.3")), percent(0)]
        assert [_spaces(s) for s in shown] == expected
        assert "." not in percent(Decimal("25.0"))


@pytest.mark.parametrize(
    "language, expected",
    [("en", "100,000.00"), ("fr", "100 000,00"), ("es", "100.000,00")],
)
def test_the_eur_input_filter_writes_what_the_money_parser_reads_back(app, language, expected):
    from flask_babel import force_locale

    from fundapp.core.money import parse_eur

    with app.test_request_context(), force_locale(language):
        eur_input = app.jinja_env.filters["eur_input"]
        assert _spaces(eur_input(100_000_00)) == expected
        assert "€" not in eur_input(100_000_00)
        # What a page prints, Babel's no-break spaces included, reads back to the same cents.
        for cents in [100_000_00, 36_666_67, 1_234_56, 999_99, 5, 0, 12_345_678_90]:
            shown = eur_input(cents)
            assert parse_eur(shown) == cents, (language, shown)
        assert eur_input(None) == ""
    if language == "fr":
        with app.test_request_context(), force_locale("fr"):
            assert "\u202f" in app.jinja_env.filters["eur_input"](100_000_00)  # Babel's narrow no-break space


def test_the_eur_plain_filter_is_a_machine_number(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("fr"):
        assert app.jinja_env.filters["eur_plain"](60_000_00) == "60000.00"
        assert app.jinja_env.filters["eur_plain"](5) == "0.05"


@pytest.mark.parametrize("language, expected", [("en", "Jan 27, 2027"), ("fr", "27 janv. 2027"), ("es", "27 ene 2027")])
def test_the_day_filter_writes_dates_and_iso_strings_in_the_readers_language(app, language, expected):
    import datetime

    from flask_babel import force_locale

    with app.test_request_context(), force_locale(language):
        day = app.jinja_env.filters["day"]
        assert day(datetime.date(2027, 1, 27)) == expected
        assert day("2027-01-27") == expected  # a date kept as ISO text in an application's snapshot
        assert day(None) == "" and day("") == ""


@pytest.mark.parametrize(
    "language, money, decimal",
    [("en", "100,000.00", "2.5"), ("fr", "100 000,00", "2,5"), ("es", "100.000,00", "2,5")],
)
def test_form_fields_show_values_in_the_readers_language_and_read_them_back(app, language, money, decimal):
    """A money or decimal field shows what is stored as the reader writes it (a weight of 2.5, a cap
    of 100,000) and reads that text back to the same value."""
    from decimal import Decimal

    from flask_babel import force_locale
    from flask_wtf import FlaskForm
    from werkzeug.datastructures import MultiDict

    from fundapp.core.forms import DecimalText, MoneyField

    class Form(FlaskForm):
        class Meta:
            csrf = False

        cap = MoneyField()
        weight = DecimalText()

    with app.test_request_context(), force_locale(language):
        shown = Form(data={"cap": 100_000_00, "weight": Decimal("2.50")})
        assert _spaces(shown.cap._value()) == money and shown.weight._value() == decimal
        posted = Form(MultiDict({"cap": shown.cap._value(), "weight": shown.weight._value()}))
        assert posted.validate(), posted.errors
        assert posted.cap.data == 100_000_00 and posted.weight.data == Decimal("2.5")
        # Both marks in one number: the last is the decimal one ("1.234,5" in Spanish, "1,234.5" in English).
        assert Form(MultiDict({"weight": "1.234,5"})).weight.data == Decimal("1234.5")
        assert Form(MultiDict({"weight": "1,234.5"})).weight.data == Decimal("1234.5")


def test_a_grant_s_state_agrees_with_a_grant_not_with_an_account(app):
    """ "Active" of a grant is "Activa" in Spanish (una subvención), "Activo" of an account: the grant's
    states carry the "grant state" context."""
    from flask_babel import force_locale, gettext

    from fundapp.awards.models import GRANT_WORKFLOW

    with app.test_request_context(), force_locale("es"):
        assert str(GRANT_WORKFLOW.staff_label("active")) == "Activa"
        assert str(GRANT_WORKFLOW.staff_label("closed")) == "Cerrada"
        assert gettext("Active") == "Activo"
    with app.test_request_context(), force_locale("fr"):
        assert str(GRANT_WORKFLOW.staff_label("active")) == "Active"
        assert str(GRANT_WORKFLOW.staff_label("closed")) == "Clôturée"


def test_values_typed_one_per_row_are_read_by_the_shared_fields(app):
    """The board's split and budget lines, the scenario's amounts and a review's scores: one field
    per row (`<prefix><id>`), read like any other form field, what cannot be read said per row."""
    from decimal import Decimal

    from werkzeug.datastructures import MultiDict

    from fundapp.core.forms import DecimalText, amounts_by_key, typed_by_key

    with app.test_request_context():
        posted = MultiDict({"line_3": "40 000,50", "line_7": "", "line_9": "mucho", "line_x": "1", "other_3": "5"})
        values, errors = amounts_by_key(posted, "line_")
        assert values == {3: 4_000_050, 7: None, 9: None}
        assert list(errors) == [9] and "Enter an amount in euros" in str(errors[9])
        # The rows expected: one not posted is empty, one posted but not expected is not read.
        assert amounts_by_key(posted, "line_", [3, 11]) == ({3: 4_000_050, 11: None}, {})
        scores, errors = typed_by_key(
            MultiDict({"score_1": "3,5", "score_2": "4.25", "score_3": "tres", "score_4": "1e999999999"}),
            "score_",
            DecimalText,
        )
        # A number past the decimal context ("1e999999999") is refused like any other, not a 500.
        assert scores == {1: Decimal("3.5"), 2: Decimal("4.25"), 3: None, 4: None} and list(errors) == [3, 4]


def test_instants_and_days_read_as_babel_writes_them_in_every_language_and_zone(app):
    """format_instant and format_day look Babel's patterns up once per locale: what they write is
    what babel.dates writes, for every named format, language and zone, across a year's hours
    (the usual "medium" form with Babel's short time: to the minute, no seconds)."""
    import datetime
    import random

    from babel.dates import format_date, format_datetime, format_time, get_datetime_format
    from flask_babel import force_locale

    from fundapp.core.i18n import format_day, format_instant
    from fundapp.core.timeutil import in_zone

    draw = random.Random(2026)
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    instants = [start + datetime.timedelta(minutes=draw.randrange(366 * 24 * 60)) for _ in range(300)]
    zones = ["Europe/Madrid", "America/Bogota", "Asia/Kolkata", "Africa/Abidjan", "Pacific/Auckland"]
    with app.test_request_context():
        for language in ("en", "fr", "es"):
            with force_locale(language):
                for n, instant in enumerate(instants):
                    zone = zones[n % len(zones)]
                    local = in_zone(instant, zone).replace(tzinfo=None)
                    for fmt in ("short", "long", "full"):
                        expected = f"{format_datetime(local, fmt, locale=language)} ({zone})"
                        assert format_instant(instant, zone, fmt) == expected
                    medium = (
                        get_datetime_format("medium", locale=language)
                        .replace("'", "")
                        .replace("{0}", format_time(local.time(), "short", locale=language))
                        .replace("{1}", format_date(local.date(), "medium", locale=language))
                    )
                    assert format_instant(instant, zone) == f"{medium} ({zone})"
                    assert ":" in medium and medium.count(":") == 1  # hours and minutes, no seconds
                    assert format_day(local.date()) == format_date(local.date(), "medium", locale=language)


def test_templates_translate_in_the_locale_forced_for_a_message(app):
    """The templates' catalogue follows force_locale (an e-mail in its recipient's language) and
    comes back to the reader's afterwards."""
    from flask import render_template_string
    from flask_babel import force_locale

    template = "{{ _('Password') }} / {{ ngettext('%(num)d result', '%(num)d results', 2) }}"
    with app.test_request_context(headers={"Accept-Language": "fr"}):
        assert render_template_string(template) == "Mot de passe / 2 résultats"
        with force_locale("es"):
            assert render_template_string(template) == "Contraseña / 2 resultados"
        assert render_template_string(template) == "Mot de passe / 2 résultats"
    with app.app_context():  # outside a request: English
        assert render_template_string(template) == "Password / 2 results"


@pytest.mark.parametrize(
    "language, typed, expected",
    [
        ("es", "1.450", 1450),
        ("es", "1 450", 1450),
        ("es", "12.000.000", 12000000),
        ("fr", "1\u202f450", 1450),
        ("fr", "1 450", 1450),
        ("en", "1,450", 1450),
        ("en", "1450", 1450),
        ("es", "-5", -5),
        ("es", "1,5", None),  # a decimal, not a count
        ("en", "1.450", None),  # in English, a decimal
        ("es", "14.50", None),  # not grouped by thousands
        ("fr", "1_000", None),
        ("fr", "٣", None),
        ("es", "mil", None),
    ],
)
def test_counts_are_read_as_the_reader_writes_them(app, language, typed, expected):
    from flask_babel import force_locale

    from fundapp.core.i18n import parse_count

    with app.test_request_context(), force_locale(language):
        if expected is None:
            with pytest.raises(ValueError):
                parse_count(typed)
        else:
            assert parse_count(typed) == expected


def test_languages_are_named_not_coded():
    """A reviewer's languages ("en,fr") and an application's ("es") read as their names."""
    from fundapp.core.i18n import language_names

    assert language_names("en,fr") == "English, Français"
    assert language_names(["es"]) == "Español"
    assert language_names("") == "—"


def test_wtforms_own_messages_are_in_each_readers_language_request_by_request(app, make_client):
    """WTForms' built-in messages come from its catalogue of the request's language (read once per
    language, not per request): a French and a Spanish member of staff, requests interleaved."""
    with app.app_context():
        make_user("rene.leveque@fund.example", "staff", language="fr", name="René Lévêque")
        make_user("ines.nunez@fund.example", "staff", language="es", name="Inés Núñez")
    french, spanish = make_client(), make_client()
    french.login("rene.leveque@fund.example")
    spanish.login("ines.nunez@fund.example")
    invite = {"name": "Zoé", "email": "zoe@fund.example", "role": "staff", "member": 0, "donor": 0, "language": "fr"}
    for _ in range(2):
        for client, expected, other in (
            (french, "pas un choix valide", "Opción inválida"),
            (spanish, "Opción inválida", "pas un choix valide"),
        ):
            page = text(client.post("/users/invite", invite, token_from="/users/invite"))
            assert expected in page and other not in page and "Not a valid choice" not in page


def test_timezones_are_offered_by_country_in_the_readers_language_and_a_legacy_one_is_kept(app, make_client):
    """The account's timezone select names each zone's country in the reader's language
    ("Colombie · America/Bogota"), without the legacy aliases; a zone set before that is one of
    them stays listed and selected, and a name that is no zone is refused, changing nothing."""
    import sqlalchemy as sa

    from fundapp.accounts.models import User
    from fundapp.extensions import db

    from . import factories as f

    with app.app_context():
        f.focal_point("Montréal", "focal@montreal.example", language="fr", name="Élodie Gagnon")
    city = make_client()
    city.login("focal@montreal.example", f.PASSWORD)
    page = text(city.get("/account"))
    assert '<option value="America/Bogota">Colombie · America/Bogota</option>' in page
    assert 'value="US/Eastern"' not in page and 'value="Etc/GMT+5"' not in page
    # "États-Unis" among the E's, not after "Zimbabwe".
    assert page.index("Espagne · Europe/Madrid") < page.index("États-Unis · America/New_York") < page.index("Éthiopie")
    form = {"profile-name": "Élodie Gagnon", "profile-language": "fr", "profile-timezone": "US/Eastern"}
    assert city.post("/account", form, token_from="/account").status_code == 302
    page = text(city.get("/account"))
    assert '<option selected value="US/Eastern">US/Eastern</option>' in page
    refused = city.post("/account", {**form, "profile-timezone": "Mars/Olympus_Mons"}, token_from="/account")
    assert refused.status_code in (200, 400) and "pas un choix valide" in text(refused)
    with app.app_context():
        assert db.session.scalar(sa.select(User.timezone).where(User.email == "focal@montreal.example")) == "US/Eastern"
