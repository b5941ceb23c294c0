"""The shapes of the JSON API's inputs and outputs (marshmallow): the OpenAPI document is generated
from them, and responses are dumped through them, so the document and the answers cannot drift.

Conventions: ids are the database ids; money is integer cents with its currency (`EUR`); instants
are UTC in ISO 8601 with `+00:00`; days are ISO dates; states are their codes, never a label.
"""

from marshmallow import Schema, ValidationError, fields, validate

from ..applications.models import APPLICATION_WORKFLOW
from ..awards.models import GRANT_WORKFLOW
from ..calls.models import CALL_WORKFLOW
from ..core.catalogue import lazy_gettext as _l
from ..core.forms import EARLIEST_YEAR, LATEST_YEAR, plausible_date
from ..core.inputs import DB_INT_MAX

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 50
CURRENCY = "EUR"


class StrictSchema(Schema):
    class Meta:
        ordered = True


# -- inputs ----------------------------------------------------------------------------------------
# The reasons a parameter is refused, in the reader's language (Accept-Language): lazy strings,
# formatted by marshmallow when the request is refused, so each is read in the request's locale.

WHOLE_NUMBER = {"invalid": _l("Give a whole number."), "required": _l("This parameter is needed.")}
ISO_DAY = {"invalid": _l("Give a day as YYYY-MM-DD."), "required": _l("This parameter is needed.")}


def _range(low, high):
    return validate.Range(min=low, max=high, error=_l("Give a whole number from {min} to {max}."))


def _one_of(choices):
    return validate.OneOf(choices, error=_l("Give one of: {choices}."))


def _plausible_day(day):
    """A day the fund could have known (the pages' own range for dates)."""
    if not plausible_date(day):
        # A list: marshmallow keeps a lone message only if it is a str, and this one is lazy.
        raise ValidationError(
            [_l("Give a date between %(first)d and %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR)]
        )


class PageArgs(StrictSchema):
    page = fields.Integer(
        load_default=1,
        validate=_range(1, DB_INT_MAX),
        error_messages=WHOLE_NUMBER,
        metadata={"description": "Page number, from 1. A page beyond the last answers an empty `items` list."},
    )
    per_page = fields.Integer(
        load_default=DEFAULT_PER_PAGE,
        validate=_range(1, MAX_PER_PAGE),
        error_messages=WHOLE_NUMBER,
        metadata={"description": f"Items per page, 1 to {MAX_PER_PAGE}."},
    )


def _id_filter(description):
    return fields.Integer(
        validate=_range(1, DB_INT_MAX), error_messages=WHOLE_NUMBER, metadata={"description": description}
    )


class CallListArgs(PageArgs):
    state = fields.String(
        validate=_one_of(CALL_WORKFLOW.state_names()),
        metadata={"description": "Only the calls in this state."},
    )


class FundedProjectArgs(PageArgs):
    call_id = _id_filter("Only the projects funded by this call.")


class ApplicationListArgs(PageArgs):
    call_id = _id_filter("Only the applications to this call.")
    state = fields.String(
        validate=_one_of(APPLICATION_WORKFLOW.state_names()),
        metadata={"description": "Only the applications in this state (as the reader sees it)."},
    )


class GrantListArgs(PageArgs):
    call_id = _id_filter("Only the grants of this call.")
    state = fields.String(
        validate=_one_of(GRANT_WORKFLOW.state_names()),
        metadata={"description": "Only the grants in this state."},
    )


class DonorFiguresArgs(StrictSchema):
    donor_id = fields.Integer(
        required=True,
        validate=_range(1, DB_INT_MAX),
        error_messages=WHOLE_NUMBER,
        metadata={"description": "The donor whose figures are wanted."},
    )
    start = fields.Date(
        validate=_plausible_day,
        error_messages=ISO_DAY,
        metadata={"description": f"First day of the period (default {EARLIEST_YEAR}-01-01), up to {LATEST_YEAR}."},
    )
    end = fields.Date(
        validate=_plausible_day,
        error_messages=ISO_DAY,
        metadata={"description": f"Last day of the period (default: today), from {EARLIEST_YEAR} to {LATEST_YEAR}."},
    )


# -- outputs ---------------------------------------------------------------------------------------


def _cents(description):
    return fields.Integer(required=True, metadata={"description": description + " (integer cents)"})


def _currency():
    return fields.String(required=True, validate=validate.OneOf([CURRENCY]), metadata={"example": CURRENCY})


def _instant(description, **kw):
    return fields.AwareDateTime(
        format="iso", default_timezone=None, metadata={"description": description + " (UTC, ISO 8601)"}, **kw
    )


class TextsSchema(StrictSchema):
    en = fields.String(required=True)
    fr = fields.String(required=True)
    es = fields.String(required=True)


class CallSchema(StrictSchema):
    id = fields.Integer(required=True)
    code = fields.String(required=True)
    title = fields.Nested(TextsSchema, required=True, metadata={"description": "The title in each language."})
    summary = fields.Nested(TextsSchema, required=True)
    state = fields.String(required=True, validate=validate.OneOf(CALL_WORKFLOW.state_names()))
    opens_at = _instant("Applications open", required=True)
    closes_at = _instant("Deadline", required=True)
    timezone = fields.String(required=True, metadata={"description": "The call's timezone (IANA)."})
    cap_cents = _cents("The most one grant may be")
    currency = _currency()


class ApplicationSchema(StrictSchema):
    id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    reference = fields.String(required=True, allow_none=True, metadata={"description": "None while a draft."})
    title = fields.String(required=True)
    language = fields.String(required=True)
    state = fields.String(
        required=True,
        validate=validate.OneOf(APPLICATION_WORKFLOW.state_names()),
        metadata={"description": "The state as the reader's pages show it: a city reads a decision once told."},
    )
    member_id = fields.Integer(required=True)
    city = fields.String(required=True)
    country = fields.String(required=True)
    requested_cents = _cents("Asked of the fund")
    cofunding_cents = _cents("Brought by the city and its partners")
    currency = _currency()
    submitted_at = _instant("First sent", required=True, allow_none=True)


def _decimal(description):
    return fields.String(
        required=True, allow_none=True, metadata={"format": "decimal", "description": description + " (exact decimal)"}
    )


class ReviewAggregateSchema(StrictSchema):
    application_id = fields.Integer(required=True)
    reference = fields.String(required=True, allow_none=True)
    rank = fields.Integer(required=True, allow_none=True, metadata={"description": "None below a threshold."})
    reviews_scored = fields.Integer(required=True, metadata={"description": "Submitted reviews with a score."})
    mean = _decimal("The mean of the reviews' scores, 0-100")
    spread = _decimal("The highest score less the lowest")
    consensus = _decimal("The panel's consensus score, when recorded")
    disagreement = fields.Boolean(required=True)
    passes = fields.Boolean(required=True)


class ReviewSummarySchema(StrictSchema):
    call_id = fields.Integer(required=True)
    ranked = fields.List(fields.Nested(ReviewAggregateSchema), required=True)
    below_threshold = fields.List(fields.Nested(ReviewAggregateSchema), required=True)
    unscored = fields.List(fields.Integer(), required=True, metadata={"description": "Application ids."})


class GrantSchema(StrictSchema):
    id = fields.Integer(required=True)
    application_id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    reference = fields.String(required=True, allow_none=True)
    title = fields.String(required=True)
    member_id = fields.Integer(required=True)
    city = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(GRANT_WORKFLOW.state_names()))
    amount_cents = _cents("Granted")
    paid_cents = _cents("Paid so far")
    returned_cents = _cents("Given back to the envelope")
    currency = _currency()
    created_at = _instant("Awarded", required=True)
    accepted_at = _instant("Accepted by the city", required=True, allow_none=True)
    ended_at = _instant("Ended", required=True, allow_none=True)


class PaymentSchema(StrictSchema):
    id = fields.Integer(required=True)
    grant_id = fields.Integer(required=True)
    tranche = fields.Integer(required=True, metadata={"description": "The tranche's position, from 1."})
    amount_cents = _cents("Paid")
    currency = _currency()
    paid_on = fields.Date(required=True)
    reference = fields.String(required=True)
    recorded_at = _instant("Recorded", required=True)


class ReportSchema(StrictSchema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    number = fields.Integer(required=True, allow_none=True)
    approved_at = _instant("Approved", required=True, allow_none=True)
    progress = fields.String(required=True)
    results = fields.String(required=True)


class FundedProjectSchema(StrictSchema):
    grant_id = fields.Integer(required=True)
    call_id = fields.Integer(required=True)
    call_code = fields.String(required=True)
    call_title = fields.String(required=True)
    city = fields.String(required=True)
    country = fields.String(required=True)
    region = fields.String(required=True)
    partners = fields.List(fields.String(), required=True)
    title = fields.String(required=True)
    summary = fields.String(required=True)
    language = fields.String(required=True)
    amount_cents = _cents("Granted")
    currency = _currency()
    starts_on = fields.Date(required=True, allow_none=True)
    ends_on = fields.Date(required=True, allow_none=True)
    state = fields.String(required=True)
    awarded_at = _instant("Awarded", required=True, allow_none=True)
    accepted_at = _instant("Accepted", required=True, allow_none=True)
    reports = fields.List(fields.Nested(ReportSchema), required=True)


class FiguresContributionSchema(StrictSchema):
    amount_original_cents = _cents("Pledged, in its own currency")
    original_currency = fields.String(required=True)
    eur_cents = _cents("Pledged, in euros")
    currency = _currency()
    pledged_on = fields.Date(required=True, allow_none=True)
    received_on = fields.Date(required=True, allow_none=True)


class FiguresGrantSchema(StrictSchema):
    grant_id = fields.Integer(required=True, allow_none=True)
    reference = fields.String(required=True)
    city = fields.String(required=True)
    region = fields.String(required=True)
    state = fields.String(required=True)
    amount_cents = _cents("Allocated from the donor's contributions")
    paid_cents = _cents("Paid from the donor's contributions")
    currency = _currency()


class DonorFiguresSchema(StrictSchema):
    donor_id = fields.Integer(required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    currency = _currency()
    contributed_cents = _cents("Pledged")
    received_cents = _cents("Received by the end")
    allocated_cents = _cents("Allocated to grants")
    committed_cents = _cents("Allocated and not yet paid")
    unallocated_cents = _cents("Not allocated")
    paid_in_period_cents = _cents("Paid in the period")
    paid_to_date_cents = _cents("Paid by the end")
    contributions = fields.List(fields.Nested(FiguresContributionSchema), required=True)
    grants = fields.List(fields.Nested(FiguresGrantSchema), required=True)
    by_region = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    payments_by_month = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    reached = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


def page_schema(item_schema, name):
    """The schema of one page of a list: {"items": [...], "page", "per_page", "total"}."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema), required=True),
            "page": fields.Integer(required=True),
            "per_page": fields.Integer(required=True),
            "total": fields.Integer(required=True, metadata={"description": "Items in the whole list."}),
        },
        name=name,
    )


class ApiErrorDetailSchema(StrictSchema):
    status = fields.Integer(required=True)
    message = fields.String(required=True)
    field = fields.String(metadata={"description": "The query parameter at fault, when one is."})


class ApiErrorSchema(StrictSchema):
    error = fields.Nested(ApiErrorDetailSchema, required=True)
