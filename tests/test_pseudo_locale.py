"""Every word on every page comes from the catalogue or from what people typed (issue 14, item 9).

A pseudo-locale is generated from the message catalogue: each message becomes "⟦Ŝàvéd àt %(time)s⟧",
accented and bracketed, placeholders kept. Every demo role (and a visitor) then reads every page
it can reach in that locale, and each visible text is checked: once the bracketed parts are taken
out, what is left must be what people typed (the demo fund's own data: names, titles, references),
or what Babel wrote for the locale (dates, numbers, countries, months), or a timezone's name.
A word left over is a string that bypasses the catalogue; an ISO date or a number with a decimal
point is a date or a number formatted by hand.

The pseudo-locale borrows Portuguese ("pt") for Babel's formats: commas for decimals, day-month
dates ("3 de dez. de 2026"), so a hand-formatted "60000.00" or "2026-12-03" stands out.
"""

import re
import shutil
from collections.abc import Mapping
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import available_timezones

import pytest
import sqlalchemy as sa
from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from fundapp.demo import DEMO_USERS
from fundapp.extensions import db

from .test_crawl import crawl

pytestmark = pytest.mark.sqlite

PSEUDO = "pt"
POT = Path(__file__).resolve().parents[1] / "fundapp" / "translations" / "messages.pot"
OPEN, CLOSE = "⟦", "⟧"
ACCENTS = str.maketrans("aeiouAEIOUcnsyCNSY", "àéîõüÀÉÎÕÜçñšýÇÑŠÝ")
# What must come through unchanged: placeholders (Python and the scripts' "{time}"), tags, entities.
KEEP = re.compile(r"(%\([a-z_]+\)[sdfi]|%%|%[sd]|\{[a-z_]+\}|<[^>]+>|&[#a-z0-9]+;)")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
POINT_DECIMAL = re.compile(r"(?<![\d.])\d+\.\d{1,2}(?![\d.])")  # not a version or an address
WORD = re.compile(r"[^\W\d_]{2,}")
# Words that are the same in every language: names of the languages in their own tongue (the
# language menu), formats and standards, the association's name.
UNIVERSAL = {
    "English", "Français", "Español", "PDF", "CSV", "XLSX", "EUR", "IBAN", "Metropolis", "Atom",
    "iCalendar", "UTC", "MFA", "TOTP", "ISO",
}  # fmt: skip


def _pseudo(text):
    parts = KEEP.split(text)
    return OPEN + "".join(p if KEEP.fullmatch(p) else p.translate(ACCENTS) for p in parts) + CLOSE


def _pseudo_catalogue(directory):
    template = read_po(POT.open("rb"))
    catalog = Catalog(locale=PSEUDO)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, tuple):  # every plural form of the locale, the last one repeated
            forms = [_pseudo(m) for m in message.id]
            string = tuple(forms[min(i, len(forms) - 1)] for i in range(catalog.num_plurals))
        else:
            string = _pseudo(message.id)
        catalog.add(message.id, string, context=message.context, flags=message.flags)
    target = directory / PSEUDO / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as handle:
        write_mo(handle, catalog)


# Not read as the interface's words: scripts and styles, codes (an MFA secret, a job's name), and
# what a page shows verbatim as it was recorded (the audit log's entries, the user agent).
SKIPPED = ("script", "style", "code", "kbd")


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside scripts and styles, and the words of buttons,
    labels for assistive technologies and placeholders."""

    def __init__(self):
        super().__init__()
        self.chunks, self._skip = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in SKIPPED or "data-verbatim" in attrs:
            self._skip.append(tag)
        elif self._skip and tag == self._skip[-1]:
            self._skip.append(tag)  # the same tag nested inside a skipped one
        for name in ("aria-label", "placeholder", "title"):
            if attrs.get(name):
                self.chunks.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.chunks.append(attrs["value"])

    def handle_endtag(self, tag):
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.chunks.append(data)


MARKED = re.compile(re.escape(OPEN) + "[^" + OPEN + CLOSE + "]*" + re.escape(CLOSE))


def _unmarked(html):
    parser = _Text()
    parser.feed(html)
    for chunk in parser.chunks:
        rest, count = chunk, 1
        while count:  # innermost first: a message may hold another (a deadline in a sentence)
            rest, count = MARKED.subn(" ", rest)
        if rest.strip():
            yield chunk.strip(), rest


def _problems(html, allowed):
    """[(text, what is wrong in it)] of a page read in the pseudo-locale."""
    found = []
    for chunk, rest in _unmarked(html):
        bad = [w for w in WORD.findall(rest) if w not in allowed]
        bad += [f"ISO date {m}" for m in ISO_DATE.findall(rest)]
        bad += [f"decimal point {m}" for m in POINT_DECIMAL.findall(rest)]
        if bad:
            found.append((chunk, bad))
    return found


def test_the_check_finds_words_dates_and_numbers_outside_the_catalogue():
    """The check is not blind: what bypasses the catalogue, or is formatted by hand, is found;
    messages (nested too), people's words, codes and verbatim records pass."""
    page = (
        '<html lang="pt"><body><h1>⟦Àpplîçàtîõñš⟧</h1><p>⟦Thé çàll çlõšéš õñ ⟦3 de dez. de 2026⟧⟧</p>'
        "<p>Bogotá · Submit before 2026-12-03</p><td>60000.00</td><td>60.000,00 €</td>"
        "<code>user.login</code><span data-verbatim>staff signed in</span>"
        '<button aria-label="Close">×</button><script>var x = "Hidden";</script></body></html>'
    )
    found = dict(_problems(page, {"Bogotá", "de", "dez"}))
    assert found == {
        "Bogotá · Submit before 2026-12-03": ["Submit", "before", "ISO date 2026-12-03"],
        "60000.00": ["decimal point 60000.00"],
        "Close": ["Close"],
    }


def _typed_words():
    """Every word people typed into the demo fund (any text column of any table)."""
    words = set()
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, (sa.String, sa.Text, sa.JSON))]
        if not columns:
            continue
        for row in db.session.execute(sa.select(*columns)):
            for text in _leaves(list(row)):
                words.update(WORD.findall(text))
    return words


def _babel_words():
    """What Babel writes for the pseudo-locale's formats: months, days, eras, countries, currency."""
    locale = Locale.parse(PSEUDO)
    words = set()
    for names in (locale.months, locale.days, locale.eras, locale.day_periods):
        for text in _leaves(names):
            words.update(WORD.findall(text))
    words.update(w for name in locale.territories.values() for w in WORD.findall(name))
    words.update(WORD.findall(" ".join(str(p) for p in locale.datetime_formats.values())))
    words.update({"de", "às"})  # "3 de dez. de 2026 às 13:22"
    return words


def _leaves(value):
    """Every text inside a value: a JSON column's dicts and lists, Babel's nested locale data."""
    if isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _leaves(item)
    elif value is not None:
        yield str(value)


def _zone_words():
    return {w for zone in available_timezones() for w in WORD.findall(zone)}


@pytest.fixture
def pseudo_locale(app, tmp_path):
    _pseudo_catalogue(tmp_path)
    babel = app.extensions["babel"]
    babel.translation_directories.append(str(tmp_path))
    # Every request reads the pseudo-locale (people's saved languages are en, fr or es).
    choose = babel.locale_selector
    babel.locale_selector = lambda: PSEUDO
    yield
    babel.locale_selector = choose
    babel.translation_directories.remove(str(tmp_path))
    shutil.rmtree(tmp_path, ignore_errors=True)


@pytest.fixture
def demo_fund(app):
    result = app.test_cli_runner().invoke(args=["fund", "demo"])
    assert result.exit_code == 0, result.output


def test_every_word_of_every_page_comes_from_the_catalogue_or_from_people(app, demo_fund, pseudo_locale, make_client):
    with app.app_context():
        known = _babel_words() | _zone_words() | UNIVERSAL
    problems, pages = {}, 0
    for email, password in [(None, None)] + [(u["email"], u["password"]) for u in DEMO_USERS]:
        client = make_client()
        if email:
            client.login(email, password)
        with app.app_context():
            allowed = known | _typed_words()  # what this sign-in recorded too (its browser, its address)
        role = email or "anonymous"
        for url, html in _pages(client, role):
            pages += 1
            assert f'<html lang="{PSEUDO}">' in html, f"{role}: {url} is not in the pseudo-locale"
            for chunk, bad in _problems(html, allowed):
                problems.setdefault(chunk[:120], (role, url, bad))
    assert pages > 100, pages  # every role walked its pages
    assert not problems, "text outside the catalogue (role, page, words):\n" + "\n".join(
        f"  {chunk!r}  ({role} {url}: {bad})" for chunk, (role, url, bad) in sorted(problems.items())
    )


def _pages(client, role):
    """(url, html) of every page `client` reaches, as the crawl of tests/test_crawl.py walks them."""
    seen = []
    original = client.get

    def get(url, **kwargs):
        response = original(url, **kwargs)
        if response.status_code == 200 and response.content_type.startswith("text/html"):
            seen.append((url, response.get_data(as_text=True)))
        return response

    client.get = get
    _visited, failures = crawl(client, role)
    assert not failures, failures
    return seen
