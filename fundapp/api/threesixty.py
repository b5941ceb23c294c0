"""The fund's published projects in the 360Giving Data Standard 1.4 (standard.threesixtygiving.org).

One grant record per project whose city consented to publication (reporting.public: the same rule
as the public page), built from the current data on each request. The CSV carries the same
records, flattened with the standard's column titles ("Planned Dates:Start Date": the "title" of
each field in the schema, a sub-field's after its parent's and a colon).

Identifiers: a grant is "<prefix>-<grant id>" and a member city "<prefix>-member-<member id>",
the prefix being the one registered with 360Giving (FUNDAPP_360GIVING_PREFIX); the funder is
FUNDAPP_FUNDER_ORG_ID, named FUNDAPP_FUNDER_NAME. Amounts are euros, exact: the cents as a decimal
number with two places at most (a whole number of euros is written without them).
"""

import io
from decimal import Decimal

from babel import Locale
from flask import current_app

from ..core.exports import CsvWriter
from ..core.timeutil import as_utc, in_zone
from ..core.urls import external_url

STANDARD_VERSION = "1.4"
_COUNTRIES = Locale("en").territories
# Codes CLDR knows (and a member's country may hold) that ISO 3166-1, whose codes the standard's
# countryCode takes, does not assign: such a location is named without its code.
NOT_ISO_3166 = frozenset({"AC", "CP", "CQ", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA", "XB", "XK", "ZZ"})


def euros(cents):
    """Cents as a JSON number of euros, exact: an int for whole euros, else the two-place decimal
    (a float whose shortest form is that decimal, for any amount the fund can hold)."""
    value = Decimal(cents) / 100
    if value == value.to_integral_value():
        return int(value)
    # Up to 15 significant digits a float's shortest spelling is the decimal itself.
    return float(value)


def _instant(value):
    return as_utc(value).isoformat() if value is not None else None


def _prefix():
    return current_app.config["THREESIXTYGIVING_PREFIX"]


def grant_id(project):
    return f"{_prefix()}-{project.grant_id}"


def member_org_id(member_id):
    return f"{_prefix()}-member-{member_id}"


def funder():
    return {"id": current_app.config["FUNDER_ORG_ID"], "name": current_app.config["FUNDER_NAME"]}


def grant_record(project):
    """One 360Giving grant of a reporting.public.FundedProject."""
    modified = _instant(project.modified_at)
    location = {"name": project.city}
    if project.country in _COUNTRIES and project.country not in NOT_ISO_3166:
        location["countryCode"] = project.country
    recipient = {"id": member_org_id(project.member_id), "name": project.city}
    if project.country in _COUNTRIES:
        recipient["addressCountry"] = _COUNTRIES[project.country]
    record = {
        "id": grant_id(project),
        "title": project.title,
        "description": project.summary or project.title,
        "currency": project.currency,
        "amountAwarded": euros(project.amount_cents),
        "amountDisbursed": euros(project.paid_cents),
        # The day of the award where the call is run.
        "awardDate": in_zone(as_utc(project.awarded_at), project.call_timezone).date().isoformat(),
        "url": external_url("reporting.funded_project", grant_id=project.grant_id),
        "recipientOrganization": [recipient],
        "beneficiaryLocation": [location],
        "fundingOrganization": [funder()],
        "grantProgramme": [
            {
                "code": project.call_code,
                "title": project.call_title,
                "url": external_url("calls.public_detail", code=project.call_code),
            }
        ],
        # Every grant of the fund answers a call for proposals open to its member cities.
        "fromOpenCall": "Yes",
        "dateModified": modified,
    }
    if project.starts_on is not None:
        planned = {"startDate": project.starts_on.isoformat()}
        if project.ends_on is not None:
            planned["endDate"] = project.ends_on.isoformat()
        if project.duration_months:
            planned["duration"] = project.duration_months
        record["plannedDates"] = [planned]
    return record


def package(projects, *, modified=None):
    """A 360Giving data package of these projects: {"grants": [...], ...}."""
    data = {
        "grants": [grant_record(p) for p in projects],
        "version": STANDARD_VERSION,
        "title": "International Fund for Metropolises: funded projects",
        "identifier": _prefix(),
        "publisher": {"identifier": current_app.config["FUNDER_ORG_ID"], "name": current_app.config["FUNDER_NAME"]},
        "accessURL": external_url("reporting.funded_projects"),
        "downloadURL": external_url("open_data.threesixty_json"),
    }
    if modified is not None:
        data["modified"] = _instant(modified)
    return data


# The CSV's columns: the standard's title, and where the value is in a grant record.
CSV_COLUMNS = [
    ("Identifier", ("id",)),
    ("Title", ("title",)),
    ("Description", ("description",)),
    ("Currency", ("currency",)),
    ("Amount Awarded", ("amountAwarded",)),
    ("Amount Disbursed", ("amountDisbursed",)),
    ("Award Date", ("awardDate",)),
    ("URL", ("url",)),
    ("Planned Dates:Start Date", ("plannedDates", 0, "startDate")),
    ("Planned Dates:End Date", ("plannedDates", 0, "endDate")),
    ("Planned Dates:Duration (months)", ("plannedDates", 0, "duration")),
    ("Recipient Org:Identifier", ("recipientOrganization", 0, "id")),
    ("Recipient Org:Name", ("recipientOrganization", 0, "name")),
    ("Recipient Org:Country", ("recipientOrganization", 0, "addressCountry")),
    ("Beneficiary Location:Name", ("beneficiaryLocation", 0, "name")),
    ("Beneficiary Location:Country Code", ("beneficiaryLocation", 0, "countryCode")),
    ("Funding Org:Identifier", ("fundingOrganization", 0, "id")),
    ("Funding Org:Name", ("fundingOrganization", 0, "name")),
    ("Grant Programme:Code", ("grantProgramme", 0, "code")),
    ("Grant Programme:Title", ("grantProgramme", 0, "title")),
    ("Grant Programme:URL", ("grantProgramme", 0, "url")),
    ("From An Open Call?", ("fromOpenCall",)),
    ("Last Modified", ("dateModified",)),
]


def _at(record, path):
    value = record
    for step in path:
        try:
            value = value[step]
        except (KeyError, IndexError, TypeError):
            return None
    return value


def _cell(value):
    # Amounts as exact decimals (never a float's spelling in a spreadsheet).
    if isinstance(value, float):
        return Decimal(repr(value))
    return value


def csv_text(records):
    """The grant records as CSV, one row each under the standard's column titles."""
    out = io.StringIO()
    writer = CsvWriter(out)
    writer.writerow([title for title, _path in CSV_COLUMNS])
    for record in records:
        writer.writerow([_cell(_at(record, path)) for _title, path in CSV_COLUMNS])
    return out.getvalue()
