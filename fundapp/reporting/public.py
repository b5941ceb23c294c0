"""The projects the fund finances, as the public reads them: only those whose lead city consented to
publication when it accepted its grant (or since, on its grant page), of a public call, in a state
where the grant is real (accepted, under way, closed: never offered, declined or cancelled); their
reports only when the city consented to those too and staff approved them.

The public pages, the JSON API (/api/v1/funded-projects) and the 360Giving open data read these rows,
so the consent rule lives here once. A page costs a constant number of queries: the count, the
page's grants, then their partners and their reports, each in one query.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask import has_request_context
from flask_babel import get_locale

from ..applications.models import PARTNER_WORKFLOW, Application, Partner
from ..awards.models import GRANT_WORKFLOW, Decision, Grant
from ..calls.models import CALL_WORKFLOW, Call, localized
from ..extensions import db
from ..members.models import REGIONS, Member
from .models import REPORT_KINDS, REPORT_WORKFLOW, GrantReport

MAX_PER_PAGE = 500


@dataclass(frozen=True)
class PublishedReport:
    id: int
    kind: str  # "interim" or "final" (REPORT_KINDS)
    number: int | None  # the interim report's number in the grant's schedule (None: the only one)
    approved_at: datetime  # UTC
    progress: str
    results: str

    @property
    def kind_label(self):
        return REPORT_KINDS.get(self.kind, self.kind)


@dataclass(frozen=True)
class FundedProject:
    grant_id: int
    call_id: int
    call_code: str
    call_title: str  # in the language asked for (the reader's), else English, else any
    city: str
    country: str  # ISO 3166-1 alpha-2 code of the lead city
    region: str  # the Metropolis region's code (members.models.REGIONS)
    partners: tuple[str, ...]  # the partner cities' names, but those that declined to take part
    title: str  # as the city wrote it, in `language`
    summary: str
    language: str  # the language of the title and summary ("en", "fr", "es")
    amount_cents: int  # the amount awarded, in euro cents
    currency: str  # "EUR"
    starts_on: date | None  # the project's planned start
    ends_on: date | None  # its planned last day (start + duration in months - 1 day)
    state: str  # the grant's state code: accepted, active or closed (GRANT_WORKFLOW)
    awarded_at: datetime  # UTC: the award decision
    accepted_at: datetime | None  # UTC: the city's acceptance
    reports: tuple[PublishedReport, ...]
    # Beyond the fields above, for the open data and the API:
    member_id: int  # the lead city (its identifier in the open data)
    reference: str  # the application's reference ("LCS-2025-003")
    duration_months: int | None
    paid_cents: int  # what the fund has paid on the grant so far
    call_timezone: str  # the call's timezone: the award day is the day there
    modified_at: datetime  # UTC: the last change of what is published here

    @property
    def state_label(self):
        """The grant's state as the public reads it, in the reader's language."""
        return GRANT_WORKFLOW.applicant_label(self.state)

    @property
    def region_label(self):
        return REGIONS.get(self.region, self.region)


def _reader_language(language):
    if language:
        return language
    return str(get_locale()) if has_request_context() else "en"


def published_filter():
    """The SQL condition of a published project (on Grant joined to its Application and Call)."""
    return sa.and_(
        Grant.publish_project.is_(True),
        Grant.state.in_(GRANT_WORKFLOW.states_with("public")),
        Call.state.in_(CALL_WORKFLOW.states_with("public")),
    )


def _statement(call_id=None, grant_id=None):
    stmt = (
        sa.select(
            Grant.id,
            Grant.state,
            Grant.amount_cents,
            Grant.paid_cents,
            Grant.accepted_at,
            Grant.ended_at,
            Grant.publish_reports,
            Grant.publication_changed_at,
            Decision.decided_at,
            Application.id.label("application_id"),
            Application.reference,
            Application.title,
            Application.summary,
            Application.language,
            Application.start_date,
            Application.duration_months,
            Call.id.label("call_id"),
            Call.code.label("call_code"),
            Call.title.label("call_titles"),
            Call.timezone.label("call_timezone"),
            Member.id.label("member_id"),
            Member.name.label("city"),
            Member.country,
            Member.region,
        )
        .select_from(Grant)
        .join(Decision, Decision.id == Grant.decision_id)
        .join(Application, Application.id == Grant.application_id)
        .join(Call, Call.id == Application.call_id)
        .join(Member, Member.id == Application.member_id)
        .where(published_filter())
    )
    if call_id is not None:
        stmt = stmt.where(Call.id == call_id)
    if grant_id is not None:
        stmt = stmt.where(Grant.id == grant_id)
    return stmt


def _partners_of(application_ids):
    """{application id: (partner city names...)}, in the order the lead named them; one query."""
    if not application_ids:
        return {}
    rows = db.session.execute(
        sa.select(Partner.application_id, Member.name)
        .join(Member, Member.id == Partner.member_id)
        .where(
            Partner.application_id.in_(application_ids),
            sa.or_(Partner.state.is_(None), Partner.state.not_in(PARTNER_WORKFLOW.states_with("declined"))),
        )
        .order_by(Partner.application_id, Partner.id)
    ).all()
    partners = {}
    for application_id, name in rows:
        partners.setdefault(application_id, []).append(name)
    return {key: tuple(names) for key, names in partners.items()}


def _reports_of(grant_ids):
    """{grant id: (PublishedReport...)}: the approved reports of grants whose city consented to
    publishing them, in their schedule's order; one query."""
    if not grant_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            GrantReport.grant_id,
            GrantReport.id,
            GrantReport.kind,
            GrantReport.number,
            GrantReport.approved_at,
            GrantReport.progress,
            GrantReport.results,
        )
        .where(
            GrantReport.grant_id.in_(grant_ids),
            GrantReport.state.in_(REPORT_WORKFLOW.states_with("counted")),
            GrantReport.approved_at.is_not(None),
        )
        .order_by(GrantReport.grant_id, GrantReport.position, GrantReport.due_on, GrantReport.id)
    ).all()
    reports = {}
    for grant_id, *values in rows:
        reports.setdefault(grant_id, []).append(PublishedReport(*values))
    return {key: tuple(items) for key, items in reports.items()}


def _ends_on(starts_on, months):
    if starts_on is None or not months:
        return None
    return starts_on + relativedelta(months=months) - timedelta(days=1)


def _projects(rows, language):
    partners = _partners_of([row.application_id for row in rows])
    reports = _reports_of([row.id for row in rows if row.publish_reports])
    projects = []
    for row in rows:
        published = reports.get(row.id, ())
        changes = [row.decided_at, row.accepted_at, row.ended_at, row.publication_changed_at]
        changes += [r.approved_at for r in published]
        projects.append(
            FundedProject(
                grant_id=row.id,
                call_id=row.call_id,
                call_code=row.call_code,
                call_title=localized(row.call_titles, language)[0],
                city=row.city,
                country=row.country,
                region=row.region,
                partners=partners.get(row.application_id, ()),
                title=row.title,
                summary=row.summary,
                language=row.language,
                amount_cents=row.amount_cents,
                currency="EUR",
                starts_on=row.start_date,
                ends_on=_ends_on(row.start_date, row.duration_months),
                state=row.state,
                awarded_at=row.decided_at,
                accepted_at=row.accepted_at,
                reports=published,
                member_id=row.member_id,
                reference=row.reference or "",
                duration_months=row.duration_months,
                paid_cents=row.paid_cents,
                call_timezone=row.call_timezone,
                modified_at=max(c for c in changes if c is not None),
            )
        )
    return projects


def funded_projects(*, call_id=None, page=1, per_page=50, language=None):
    """(the page's published projects, how many there are in all), ordered by award date then grant.

    `call_id`: only that call's; `language`: the language of the call titles (default: the reader's)."""
    per_page = max(1, min(int(per_page), MAX_PER_PAGE))
    page = max(1, int(page))
    stmt = _statement(call_id=call_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery()))
    if not total:
        return [], 0
    rows = db.session.execute(
        stmt.order_by(Decision.decided_at, Grant.id).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return _projects(rows, _reader_language(language)), total


def all_funded_projects(*, call_id=None, language=None):
    """Every published project, page after page (the open data)."""
    page, projects = 1, []
    while True:
        rows, total = funded_projects(call_id=call_id, page=page, per_page=MAX_PER_PAGE, language=language)
        projects.extend(rows)
        if len(projects) >= total or not rows:
            return projects
        page += 1


def funded_project(grant_id, *, language=None):
    """The published project of this grant, or None (not published, or no such grant)."""
    rows = db.session.execute(_statement(grant_id=grant_id)).all()
    if not rows:
        return None
    return _projects(rows, _reader_language(language))[0]


def calls_with_projects(*, language=None):
    """[(call id, code, title)] of the public calls that have published projects: the page's filter."""
    language = _reader_language(language)
    rows = db.session.execute(
        sa.select(Call.id, Call.code, Call.title)
        .where(
            Call.id.in_(
                sa.select(Application.call_id)
                .join(Grant, Grant.application_id == Application.id)
                .join(Call, Call.id == Application.call_id)
                .where(published_filter())
            )
        )
        .order_by(Call.opens_at.desc(), Call.id)
    ).all()
    return [(row.id, row.code, localized(row.title, language)[0]) for row in rows]


def last_change():
    """The last time a city gave or withdrew its consent, or a grant with consent given once ended:
    with the rows' own `modified_at`, the open data's Last-Modified. None when nobody ever chose."""
    changed, ended = db.session.execute(
        sa.select(sa.func.max(Grant.publication_changed_at), sa.func.max(Grant.ended_at)).where(
            Grant.publication_changed_at.is_not(None)
        )
    ).one()
    instants = [i for i in (changed, ended) if i is not None]
    return max(instants) if instants else None
