"""The read-only JSON API under /api/v1, documented by the OpenAPI document generated from this
code (flask-smorest and apispec) at /api/v1/openapi.json, and readable at /api/v1/docs.

Every object is reached through the same permission and query functions as the pages
(`get_visible_or_404` and the models' `can_view`, `viewable_applications`, `viewable_grants`,
`reviewed_application_ids`, `call_results`, `figures`), so a role sees through the API exactly what
it sees on the pages; what is outside its scope is a 404, as there.

Errors are JSON {"error": {"status", "message", "field"?}}: 400 names the query parameter at fault
(webargs' validation status is set to 400, not 422), 401 for a missing, wrong, revoked or expired
token, 404 outside the reader's scope, 429 when throttled. The site's HTML error pages are left as
they are: flask-smorest's app-wide error handler is not registered (FundApi), the API blueprint has
its own, and the app's error pages answer JSON only for paths under /api/.
"""

from datetime import date

import sqlalchemy as sa
from flask import Blueprint as FlaskBlueprint
from flask import current_app, render_template, url_for
from flask_smorest import Api
from flask_smorest import Blueprint as SmorestBlueprint
from flask_smorest.spec.plugins import integerconverter2paramschema
from sqlalchemy.orm import joinedload, selectinload
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException

from ..applications.models import Application
from ..applications.queries import viewable_applications
from ..awards.models import Grant, Payment
from ..awards.queries import viewable_grants
from ..calls.models import Call
from ..core.catalogue import lazy_gettext as _l
from ..core.forms import EARLIEST_YEAR
from ..core.inputs import DatabaseIntConverter
from ..core.permissions import get_visible_or_404
from ..core.timeutil import utcnow
from ..extensions import db, limiter
from ..funding.models import Donor
from ..reporting import public
from ..reporting.queries import figures
from ..reviews.queries import call_results, reviewed_application_ids
from . import schemas as s
from .auth import ApiError, api_user, error_response, identify, signed_in_user

DEFAULT_RATE_LIMIT = "120/minute"


class Parser(FlaskParser):
    """A query parameter out of range is a 400 (webargs' default is 422)."""

    DEFAULT_VALIDATION_STATUS = 400


class ApiBlueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = Parser()


class FundApi(Api):
    """flask-smorest's Api without its app-wide HTTPException handler (the site's HTML error pages
    stay as they are) and without the catch-all "default" response in every operation (each
    operation declares the statuses it answers)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self):
        pass


bp = ApiBlueprint(
    "api_v1",
    __name__,
    url_prefix="/api/v1",
    description="The fund's data, read-only. Public: calls and funded projects; with a token, what your role sees.",
)
docs_bp = FlaskBlueprint("api_docs", __name__)

ERROR_DESCRIPTIONS = {
    400: "A query parameter is not accepted: `error.field` names it.",
    401: "No token where one is needed, or a token that is wrong, revoked or expired.",
    404: "Not found, or outside what your role may see.",
    429: "Too many requests: wait and try again.",
}
PUBLIC = [{}, {"bearerAuth": []}]
PROTECTED = [{"bearerAuth": []}]


def errors(*codes):
    """Declare the JSON error responses an operation may answer."""

    def decorator(view):
        for code in reversed(codes):
            view = bp.alt_response(code, schema=s.ApiErrorSchema, description=ERROR_DESCRIPTIONS[code])(view)
        return view

    return decorator


# -- errors ----------------------------------------------------------------------------------------


def _validation_field(messages):
    """The first parameter named in webargs' {location: {field: [messages]}}."""
    for location in ("query", "path", "json"):
        found = messages.get(location) if isinstance(messages, dict) else None
        if isinstance(found, dict) and found:
            name = next(iter(found))
            detail = found[name]
            return name, detail[0] if isinstance(detail, list) and detail else str(detail)
    return None, None


def _http_error(error):
    if isinstance(error, ApiError):
        return error.get_response()
    messages = (getattr(error, "data", None) or {}).get("messages")
    if messages:
        field, detail = _validation_field(messages)
        if field:
            return error_response(400, _l("“%(field)s” is not accepted: %(reason)s", field=field, reason=detail), field)
    code = error.code or 500
    if code == 404:
        return error_response(404, _l("Not found."))
    if code == 429:
        return error_response(429, _l("Too many requests: wait a minute and try again."))
    return error_response(code, error.description or error.name)


# By code too: Flask prefers the app's handlers for a code (its HTML pages) to a blueprint's for a class.
for _code in (400, 401, 403, 404, 405, 413, 429, HTTPException):
    bp.register_error_handler(_code, _http_error)


def json_error_for_api_paths(code, path):
    """For the app's error pages: the JSON body of an error under /api/ (no route, 405, 429, 500)."""
    if not path.startswith("/api/"):
        return None
    messages = {
        404: _l("Not found."),
        405: _l("This method is not allowed here: the API only reads (GET)."),
        429: _l("Too many requests: wait a minute and try again."),
        500: _l("Something went wrong on our side; nothing was changed."),
    }
    return error_response(code, messages.get(code, _l("This request could not be handled.")))


# -- helpers ---------------------------------------------------------------------------------------


def _page(stmt, page, per_page, dump):
    """One page of `stmt` (a select of one entity, ordered): a page beyond the last is empty."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(per_page).offset((page - 1) * per_page)).unique().all()
    return {"items": [dump(r) for r in rows], "page": page, "per_page": per_page, "total": total}


def _decimal(value):
    return None if value is None else str(value)


def _texts(values):
    values = values or {}
    return {lang: values.get(lang) or "" for lang in ("en", "fr", "es")}


def dump_call(call):
    return {
        "id": call.id,
        "code": call.code,
        "title": _texts(call.title),
        "summary": _texts(call.summary),
        "state": call.state,
        "opens_at": call.opens_at,
        "closes_at": call.closes_at,
        "timezone": call.timezone,
        "cap_cents": call.cap_cents,
        "currency": s.CURRENCY,
    }


def _application_state(application, user):
    """The state the reader's pages show: staff read the workflow's state, a city (and a reviewer)
    the state the city is told (Application.city_state hides a decision until its letter)."""
    return application.state if user.has_role("staff") else application.city_state


def dump_application(user):
    def dump(application):
        return {
            "id": application.id,
            "call_id": application.call_id,
            "reference": application.reference,
            "title": application.title or "",
            "language": application.language,
            "state": _application_state(application, user),
            "member_id": application.member_id,
            "city": application.member.name,
            "country": application.member.country,
            "requested_cents": application.requested_cents,
            "cofunding_cents": application.cofunding_cents,
            "currency": s.CURRENCY,
            "submitted_at": application.first_submitted_at,
        }

    return dump


def dump_grant(grant):
    application = grant.application
    return {
        "id": grant.id,
        "application_id": grant.application_id,
        "call_id": application.call_id,
        "reference": application.reference,
        "title": application.title or "",
        "member_id": application.member_id,
        "city": application.member.name,
        "state": grant.state,
        "amount_cents": grant.amount_cents,
        "paid_cents": grant.paid_cents,
        "returned_cents": grant.returned_cents,
        "currency": s.CURRENCY,
        "created_at": grant.created_at,
        "accepted_at": grant.accepted_at,
        "ended_at": grant.ended_at,
    }


def dump_payment(payment):
    return {
        "id": payment.id,
        "grant_id": payment.grant_id,
        "tranche": payment.tranche.position,
        "amount_cents": payment.amount_cents,
        "currency": s.CURRENCY,
        "paid_on": payment.paid_on,
        "reference": payment.reference,
        "recorded_at": payment.recorded_at,
    }


def _application_condition(user):
    """What `user` may open: the pages' own rule (viewable_applications) and, for a reviewer, the
    applications their review pages show."""
    reviewed = reviewed_application_ids(user)
    condition = viewable_applications(user)
    if reviewed:
        condition = sa.or_(condition, Application.id.in_(sorted(reviewed)))
    return condition


def _visible_application_or_404(application_id, user):
    application = db.session.get(Application, application_id)
    if application is None or not (application.can_view(user) or application.id in reviewed_application_ids(user)):
        raise ApiError(404, _l("Not found."))
    return application


def _grant_or_404(grant_id, user):
    return get_visible_or_404(Grant, grant_id, user=user)


# -- calls (public) --------------------------------------------------------------------------------


@bp.route("/calls")
@bp.doc(security=PUBLIC, summary="Calls for proposals")
@bp.arguments(s.CallListArgs, location="query", as_kwargs=True)
@bp.response(200, s.page_schema(s.CallSchema, "CallPage"))
@errors(400, 401, 429)
def calls(page, per_page, state=None):
    """The calls you may see, oldest first: every public call (open, closed, in review, decided);
    staff also see drafts and archived calls."""
    user = api_user()
    stmt = sa.select(Call).where(Call.visible_to(user)).order_by(Call.id)
    if state:
        stmt = stmt.where(Call.state == state)
    return _page(stmt, page, per_page, dump_call)


@bp.route("/calls/<int:call_id>")
@bp.doc(security=PUBLIC, summary="One call")
@bp.response(200, s.CallSchema)
@errors(401, 404, 429)
def call(call_id):
    """A call, as its public page shows it (staff: any call)."""
    return dump_call(get_visible_or_404(Call, call_id, user=api_user()))


@bp.route("/calls/<int:call_id>/review-summary")
@bp.doc(security=PROTECTED, summary="Reviews' aggregates of a call (staff)")
@bp.response(200, s.ReviewSummarySchema)
@errors(401, 404, 429)
def review_summary(call_id):
    """Per application of the call, the submitted reviews' aggregates as the staff ranking shows
    them: the ranked applications in rank order, those below a threshold, the unscored ones.
    Staff only; anyone else gets a 404."""
    user = signed_in_user()
    if not user.has_role("staff"):
        raise ApiError(404, _l("Not found."))
    the_call = get_visible_or_404(Call, call_id, user=user)
    passing, failing, unscored = call_results(the_call)

    def row(result, rank):
        return {
            "application_id": result.application.id,
            "reference": result.application.reference,
            "rank": rank,
            "reviews_scored": len(result.scores),
            "mean": _decimal(result.mean),
            "spread": _decimal(result.spread),
            "consensus": _decimal(result.consensus.score if result.consensus is not None else None),
            "disagreement": result.disagreement,
            "passes": result.passes,
        }

    return {
        "call_id": the_call.id,
        "ranked": [row(r, rank) for rank, r in enumerate(passing, start=1)],
        "below_threshold": [row(r, None) for r in failing],
        "unscored": [a.id for a in unscored],
    }


# -- funded projects (public) ----------------------------------------------------------------------


def dump_project(project):
    return {
        "grant_id": project.grant_id,
        "call_id": project.call_id,
        "call_code": project.call_code,
        "call_title": project.call_title,
        "city": project.city,
        "country": project.country,
        "region": project.region,
        "partners": list(project.partners),
        "title": project.title,
        "summary": project.summary,
        "language": project.language,
        "amount_cents": project.amount_cents,
        "currency": project.currency,
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "state": project.state,
        "awarded_at": project.awarded_at,
        "accepted_at": project.accepted_at,
        "reports": [
            {
                "id": r.id,
                "kind": r.kind,
                "number": r.number,
                "approved_at": r.approved_at,
                "progress": r.progress,
                "results": r.results,
            }
            for r in project.reports
        ],
    }


@bp.route("/funded-projects")
@bp.doc(security=PUBLIC, summary="Funded projects")
@bp.arguments(s.FundedProjectArgs, location="query", as_kwargs=True)
@bp.response(200, s.page_schema(s.FundedProjectSchema, "FundedProjectPage"))
@errors(400, 401, 429)
def funded_projects(page, per_page, call_id=None):
    """The projects the fund has funded and publishes (the public funded projects page), by award
    date: the city's project, the amount, the approved reports."""
    api_user()
    rows, total = public.funded_projects(call_id=call_id, page=page, per_page=per_page)
    return {"items": [dump_project(p) for p in rows], "page": page, "per_page": per_page, "total": total}


@bp.route("/funded-projects/<int:grant_id>")
@bp.doc(security=PUBLIC, summary="One funded project")
@bp.response(200, s.FundedProjectSchema)
@errors(401, 404, 429)
def funded_project(grant_id):
    """A published project, by its grant's id; a 404 when the grant is not published."""
    project = public.funded_project(grant_id)
    if project is None:
        raise ApiError(404, _l("Not found."))
    return dump_project(project)


# -- applications ----------------------------------------------------------------------------------


@bp.route("/applications")
@bp.doc(security=PROTECTED, summary="Applications you may see")
@bp.arguments(s.ApplicationListArgs, location="query", as_kwargs=True)
@bp.response(200, s.page_schema(s.ApplicationSchema, "ApplicationPage"))
@errors(400, 401, 429)
def applications(page, per_page, call_id=None, state=None):
    """Staff: every application once sent. A city's focal points: their city's applications
    (drafts included) and those their city is asked to take part in as a partner. A reviewer: the
    applications their review pages show (assigned, declared free of conflict). Others: none.
    The `state` filter reads the state as you see it."""
    user = signed_in_user()
    stmt = (
        sa.select(Application)
        .where(_application_condition(user))
        .options(joinedload(Application.member))
        .order_by(Application.id)
    )
    if call_id is not None:
        stmt = stmt.where(Application.call_id == call_id)
    if state:
        # The state as the reader sees it: staff the workflow's, others the one the city is told.
        stmt = stmt.where((Application.state if user.has_role("staff") else Application.city_state) == state)
    return _page(stmt, page, per_page, dump_application(user))


@bp.route("/applications/<int:application_id>")
@bp.doc(security=PROTECTED, summary="One application")
@bp.response(200, s.ApplicationSchema)
@errors(401, 404, 429)
def application(application_id):
    """An application you may see (see the list); otherwise a 404."""
    user = signed_in_user()
    return dump_application(user)(_visible_application_or_404(application_id, user))


# -- grants and payments ---------------------------------------------------------------------------


@bp.route("/grants")
@bp.doc(security=PROTECTED, summary="Grants you may see")
@bp.arguments(s.GrantListArgs, location="query", as_kwargs=True)
@bp.response(200, s.page_schema(s.GrantSchema, "GrantPage"))
@errors(400, 401, 429)
def grants(page, per_page, call_id=None, state=None):
    """Staff: every grant. A city (lead or partner): its grants once the award letter is sent.
    A donor's officers: the grants paid from the donor's contributions."""
    user = signed_in_user()
    stmt = (
        sa.select(Grant)
        .join(Application, Application.id == Grant.application_id)
        .where(viewable_grants(user))
        .options(joinedload(Grant.application).joinedload(Application.member))
        .order_by(Grant.id)
    )
    if call_id is not None:
        stmt = stmt.where(Application.call_id == call_id)
    if state:
        stmt = stmt.where(Grant.state == state)
    return _page(stmt, page, per_page, dump_grant)


@bp.route("/grants/<int:grant_id>")
@bp.doc(security=PROTECTED, summary="One grant")
@bp.response(200, s.GrantSchema)
@errors(401, 404, 429)
def grant(grant_id):
    """A grant you may see (see the list); otherwise a 404."""
    return dump_grant(_grant_or_404(grant_id, signed_in_user()))


@bp.route("/grants/<int:grant_id>/payments")
@bp.doc(security=PROTECTED, summary="Payments of a grant")
@bp.arguments(s.PageArgs, location="query", as_kwargs=True)
@bp.response(200, s.page_schema(s.PaymentSchema, "PaymentPage"))
@errors(400, 401, 404, 429)
def payments(grant_id, page, per_page):
    """The payments made on a grant you may see, in the order they were recorded."""
    the_grant = _grant_or_404(grant_id, signed_in_user())
    stmt = (
        sa.select(Payment)
        .where(Payment.grant_id == the_grant.id)
        .options(selectinload(Payment.tranche))
        .order_by(Payment.id)
    )
    return _page(stmt, page, per_page, dump_payment)


# -- donor figures ---------------------------------------------------------------------------------


@bp.route("/donor-figures")
@bp.doc(security=PROTECTED, summary="A donor's figures")
@bp.arguments(s.DonorFiguresArgs, location="query", as_kwargs=True)
@bp.response(200, s.DonorFiguresSchema)
@errors(400, 401, 404, 429)
def donor_figures(donor_id, start=None, end=None):
    """The figures of the donor dashboard over [start, end]: contributions, allocations, payments,
    grants. Staff: any donor; a donor's officers: their own donor; anyone else: 404. Dates between
    2000 and 2100, the end not before the start."""
    user = signed_in_user()
    donor = db.session.get(Donor, donor_id)
    if donor is None or not donor.can_view(user):
        raise ApiError(404, _l("Not found."))
    start = start or date(EARLIEST_YEAR, 1, 1)
    end = end or utcnow().date()
    if end < start:
        raise ApiError(400, _l("The period ends before it starts."), "end")
    data = figures(donor, start, end)
    return {
        "donor_id": donor.id,
        "start": start,
        "end": end,
        "currency": s.CURRENCY,
        "contributed_cents": data.contributed_cents,
        "received_cents": data.received_cents,
        "allocated_cents": data.allocated_cents,
        "committed_cents": data.committed_cents,
        "unallocated_cents": data.unallocated_cents,
        "paid_in_period_cents": data.paid_in_period_cents,
        "paid_to_date_cents": data.paid_to_date_cents,
        "contributions": [
            {
                "amount_original_cents": c.amount_original_cents,
                "original_currency": c.currency,
                "eur_cents": c.eur_cents,
                "currency": s.CURRENCY,
                "pledged_on": c.pledged_on,
                "received_on": c.received_on,
            }
            for c in data.contributions
        ],
        "grants": [
            {
                "grant_id": line.grant_id,
                "reference": line.reference or "",
                "city": line.city,
                "region": line.region,
                "state": line.state,
                "amount_cents": line.amount_cents,
                "paid_cents": line.paid_cents,
                "currency": s.CURRENCY,
            }
            for line in data.grants
        ],
        "by_region": dict(sorted(data.by_region.items())),
        "payments_by_month": dict(sorted(data.payments_by_month.items())),
        "reached": dict(data.reached),
    }


# -- the readable page ------------------------------------------------------------------------------


@docs_bp.route("/api/v1/docs")
def docs():
    """The OpenAPI document as a page: each operation's method, path, summary, parameters and
    responses, rendered on the server (no script, nothing from elsewhere)."""
    spec = current_app.extensions["fundapp_api"].spec.to_dict()
    operations = []
    for path, item in spec.get("paths", {}).items():
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operations.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "description": op.get("description", ""),
                    "parameters": item.get("parameters", []) + op.get("parameters", []),
                    "responses": sorted(op.get("responses", {}).items()),
                    "needs_token": {} not in op.get("security", [{}]),
                }
            )
    return render_template(
        "api/docs.html",
        spec=spec,
        operations=operations,
        openapi_url=url_for("api-docs.openapi_json"),
    )


# -- wiring ----------------------------------------------------------------------------------------


def _rate_limit():
    return current_app.config.get("API_RATE_LIMIT") or DEFAULT_RATE_LIMIT


def _has_token():
    from flask import request

    # A request with a token is counted per token by accounts.tokens (API_TOKEN_REQUESTS_PER_TOKEN).
    return "Authorization" in request.headers


bp.before_request(identify)
limiter.limit(_rate_limit, exempt_when=_has_token)(bp)


def init_app(app):
    app.config.setdefault("API_TITLE", "fundapp API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "Read-only JSON API of the fund. Public endpoints answer without a token; the "
                    "others need a personal access token (create one on your account page) sent as "
                    "`Authorization: Bearer <token>`. Lists answer `{items, page, per_page, total}` "
                    "(`page` from 1, `per_page` 1 to 100, default 50; a page beyond the last is an "
                    "empty list). Ids are the database ids; money is integer cents with its currency; "
                    "instants are UTC ISO 8601; errors are `{error: {status, message, field?}}`."
                )
            },
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    api = FundApi(app)
    api.register_converter(DatabaseIntConverter, integerconverter2paramschema)
    api.register_blueprint(bp)
    app.register_blueprint(docs_bp)
    app.extensions["fundapp_api"] = api
