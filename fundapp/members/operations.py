"""Every change to members: create, edit, and the all-or-nothing CSV import."""

import csv
import io
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale

from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.errors import Refused
from ..core.i18n import LANGUAGE_NAMES, valid_country
from ..core.inputs import folded, has_unstorable
from ..core.timeutil import is_valid_timezone
from ..core.transactions import done
from ..extensions import db
from .models import MEMBERSHIPS, REGIONS, Member
from .timezones import zone_for

LANGUAGES = tuple(LANGUAGE_NAMES)

MEMBERS_CSV = Path(__file__).resolve().parent / "metropolis_members_2024.csv"
CSV_COLUMNS = ("name", "country", "region", "membership")
FIELDS = ["name", "country", "region", "membership", "dues_paid_through", "timezone"]


def _region_code(text):
    """A region as its code ("europe"), also when given by its name in English, French or
    Spanish ("Europe", "Amérique latine et Caraïbes"), as a spreadsheet may have it."""
    if text in REGIONS:
        return text
    wanted = folded(text)
    for code, label in REGIONS.items():
        if wanted == folded(code.replace("_", " ")):
            return code
        for language in LANGUAGES:
            with force_locale(language):
                if wanted == folded(str(label)):
                    return code
    return text


def _clean(name, country, region, membership, dues_paid_through, timezone=None):
    """Normalised values, or Refused naming the field at fault.

    With no timezone given, the city's zone follows from its country (and name, where the
    country has several zones); the fund's zone where even that is unknown.
    """
    name = (name or "").strip()
    country = (country or "").strip().upper()
    region = (region or "").strip()
    membership = (membership or "").strip() or "full"
    if not name:
        raise Refused(_l("The name is required."), field="name")
    if len(name) > 160:
        raise Refused(_l("The name is longer than 160 characters."), field="name")
    if not valid_country(country):
        raise Refused(_l("“%(code)s” is not an ISO country code.", code=country), field="country")
    region = _region_code(region)
    if region not in REGIONS:
        raise Refused(
            _l(
                "“%(region)s” is not a Metropolis region: use one of %(regions)s.",
                region=region,
                regions=", ".join(REGIONS),
            ),
            field="region",
        )
    if membership not in MEMBERSHIPS:
        raise Refused(
            _l("Membership must be full or associate, not “%(value)s”.", value=membership), field="membership"
        )
    if dues_paid_through in ("", None):
        dues_paid_through = None
    else:
        try:
            dues_paid_through = int(dues_paid_through)
        except (TypeError, ValueError):
            raise Refused(_l("The dues year must be a year such as 2025."), field="dues_paid_through") from None
        if not 1900 <= dues_paid_through <= 2200:
            raise Refused(_l("The dues year must be a year such as 2025."), field="dues_paid_through")
    timezone = (timezone or "").strip() or zone_for(country, name) or current_app.config["FUND_TIMEZONE"]
    if not is_valid_timezone(timezone):
        raise Refused(_l("“%(zone)s” is not a timezone such as America/Bogota.", zone=timezone), field="timezone")
    return dict(
        name=name,
        country=country,
        region=region,
        membership=membership,
        dues_paid_through=dues_paid_through,
        timezone=timezone,
    )


def _name_taken(name, except_id=None):
    stmt = sa.select(Member.id).where(sa.func.lower(Member.name) == name.lower())
    if except_id is not None:
        stmt = stmt.where(Member.id != except_id)
    return db.session.scalar(stmt) is not None


def create_member(*, actor, **values):
    values = _clean(**values)
    if _name_taken(values["name"]):
        raise Refused(_l("A member with this name already exists."), field="name")
    member = Member(**values)
    db.session.add(member)
    db.session.flush()
    audit.record(
        "member.create",
        member,
        after=audit.snapshot(member, FIELDS),
        actor=actor,
        summary=f"member {member.name} created",
    )
    done()
    return member


def update_member(member, *, actor, **values):
    values = _clean(**values)
    if _name_taken(values["name"], except_id=member.id):
        raise Refused(_l("A member with this name already exists."), field="name")
    before = audit.snapshot(member, FIELDS)
    for key, value in values.items():
        setattr(member, key, value)
    after = audit.snapshot(member, FIELDS)
    if before != after:
        audit.record(
            "member.update", member, before=before, after=after, actor=actor, summary=f"member {member.name} edited"
        )
    done()
    return member


class ImportRefused(Refused):
    """The CSV had bad rows; `errors` lists (line number, reason). Nothing was imported."""


def parse_members_csv(text):
    """Rows as clean dicts, or ImportRefused with every bad row and its reason."""
    bad = [n for n, line in enumerate(text.splitlines(), start=1) if has_unstorable(line)]
    if bad:
        raise ImportRefused(
            _l("The file holds control characters (such as NUL): save it again as a CSV text file."),
            errors=[(n, _l("This line holds a control character.")) for n in bad[:20]],
        )
    text = text.lstrip("\ufeff")
    try:
        # Semicolons where a French or Spanish spreadsheet saves its CSV files with them.
        header = text.split("\n", 1)[0]
        delimiter = ";" if header.count(";") > header.count(",") else ("\t" if "\t" in header else ",")
        return _parse_rows(csv.DictReader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as error:
        raise ImportRefused(_l("The file is not a CSV file fundapp can read."), errors=[(0, str(error))]) from None


def _parse_rows(reader):
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRefused(
            _l("The file has no column %(columns)s.", columns=", ".join(missing)),
            errors=[(1, _l("Expected the columns: %(columns)s.", columns=", ".join(CSV_COLUMNS)))],
        )
    rows, errors, seen = [], [], {}
    for index, raw in enumerate(reader, start=2):
        try:
            row = _clean(
                raw.get("name"),
                raw.get("country"),
                raw.get("region"),
                raw.get("membership"),
                raw.get("dues_paid_through"),
                raw.get("timezone"),
            )
        except Refused as refusal:
            errors.append((index, refusal.message))
            continue
        # A file without a timezone column leaves the zones staff set as they are.
        row["zone_given"] = bool((raw.get("timezone") or "").strip())
        row["line"] = index
        key = row["name"].lower()
        if key in seen:
            errors.append((index, _l("“%(name)s” is already on line %(line)d.", name=row["name"], line=seen[key])))
            continue
        seen[key] = index
        rows.append(row)
    if errors:
        raise ImportRefused(_l("Nothing was imported: %(n)d line(s) need correcting.", n=len(errors)), errors=errors)
    if not rows:
        raise ImportRefused(_l("The file has no members."), errors=[])
    return rows


def import_members(text, *, actor=None):
    """Create new members and update existing ones (matched by name), all or nothing.

    Returns (created, updated). A dues year or a timezone in the file replaces the stored one; a
    file without that column leaves what is stored as it was.
    """
    rows = parse_members_csv(text)
    members = db.session.scalars(sa.select(Member)).all()
    existing = {m.name.lower(): m for m in members}
    # A name that differs from a member's only by its accents is a mistyping of it, not a new city.
    lookalikes = {folded(m.name): m for m in members}
    mistyped = [
        (
            row["line"],
            _l("“%(name)s” is spelled “%(member)s” in fundapp: use that name.", name=row["name"], member=other.name),
        )
        for row in rows
        if row["name"].lower() not in existing and (other := lookalikes.get(folded(row["name"]))) is not None
    ]
    if mistyped:
        raise ImportRefused(
            _l("Nothing was imported: %(n)d line(s) need correcting.", n=len(mistyped)), errors=mistyped
        )
    created = updated = 0
    for row in rows:
        zone_given = row.pop("zone_given")
        row.pop("line")
        member = existing.get(row["name"].lower())
        if member is None:
            db.session.add(Member(**row))
            created += 1
            continue
        before = audit.snapshot(member, FIELDS)
        for key in ("name", "country", "region", "membership"):
            setattr(member, key, row[key])
        if zone_given:
            member.timezone = row["timezone"]
        if row["dues_paid_through"] is not None:
            member.dues_paid_through = row["dues_paid_through"]
        if audit.snapshot(member, FIELDS) != before:
            updated += 1
    audit.record(
        "member.import",
        object_type="Member",
        after={"created": created, "updated": updated, "rows": len(rows)},
        actor=actor,
        summary=f"member import: {created} created, {updated} updated",
    )
    done()
    return created, updated


def import_bundled_members(actor=None):
    return import_members(MEMBERS_CSV.read_text(encoding="utf-8"), actor=actor)


def record_dues_where_missing(year, *, actor=None):
    """Demo data: members with no dues on record are taken as paid through `year`."""
    members = db.session.scalars(sa.select(Member).where(Member.dues_paid_through.is_(None))).all()
    for member in members:
        member.dues_paid_through = year
    if members:
        audit.record(
            "member.dues_bulk",
            object_type="Member",
            after={"year": year, "members": len(members)},
            actor=actor,
            summary=f"dues recorded through {year} for {len(members)} members",
        )
    done()
    return len(members)
