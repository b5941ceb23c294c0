"""Every change to reports: duties, the city's report, staff approval, donor reports (by a job)."""

from datetime import datetime, timedelta, timezone

import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import force_locale

from ..applications.models import BudgetLine
from ..awards.models import GRANT_WORKFLOW
from ..awards.operations import city_users, grant_accepted, grant_ended, make_due
from ..calls.models import default_report_steps, ordered_steps
from ..core import audit
from ..core.catalogue import lazy_gettext as _l
from ..core.documents import generated_document, make_document
from ..core.errors import Refused
from ..core.forms import EARLIEST_YEAR, LATEST_YEAR, plausible_date
from ..core.i18n import lazy_day
from ..core.jobs import enqueue, job
from ..core.mail import queue_mail
from ..core.states import TransitionError
from ..core.timeutil import utcnow
from ..core.transactions import commit_now, done
from ..core.urls import external_url
from ..extensions import db
from ..funding import operations as funding
from ..funding.ledger import fund_today
from ..funding.queries import ledger_closed_through
from .exports import to_csv, to_pdf, to_xlsx
from .models import REPORT_WORKFLOW, DonorReport, Expenditure, GrantReport, ReportDocument
from .queries import Figures, figures

REMIND_BEFORE = timedelta(days=7)


@grant_accepted.connect
def create_duties(grant, actor=None, **_kwargs):
    """One report per step of the call's report schedule (by default an interim report halfway
    through the project and the final one two months after its end), each with its reminders: a
    week before it is due, and the day after it while it is overdue."""
    application = grant.application
    start = application.start_date or utcnow().date()
    months = application.duration_months or 12
    steps = ordered_steps(application.call.report_steps) or default_report_steps()
    end = start + relativedelta(months=months)
    final_steps = [step for step in steps if step.kind == "final"]
    interim = sorted(
        # An interim report never falls after the project's end (a month beyond a short project's
        # duration): it is then due as the project ends.
        (min(step.due_date(start, months), end), index)
        for index, step in enumerate(steps)
        if step.kind == "interim"
    )
    duties = [("interim", due, n + 1 if len(interim) > 1 else None) for n, (due, _i) in enumerate(interim)]
    duties += [("final", step.due_date(start, months), None) for step in final_steps[:1]]
    for position, (kind, due, number) in enumerate(duties, start=1):
        report = GrantReport(
            grant=grant, kind=kind, due_on=due, position=position, number=number, state=REPORT_WORKFLOW.initial
        )
        db.session.add(report)
        db.session.flush()
        remind_at = due - REMIND_BEFORE
        run_at = datetime(remind_at.year, remind_at.month, remind_at.day, 8, tzinfo=timezone.utc)
        if run_at > utcnow():
            enqueue("reporting.remind", report_id=report.id, run_at=run_at, dedupe_key=f"report-reminder:{report.id}")
        _schedule_overdue_reminder(report, 1, due + timedelta(days=1))


# The city is reminded of a report it has not sent the day after its due date, then weekly: at most
# OVERDUE_REMINDERS times.
OVERDUE_REMINDERS = 4
OVERDUE_EVERY = timedelta(days=7)


def _schedule_overdue_reminder(report, n, day):
    run_at = datetime(day.year, day.month, day.day, 8, tzinfo=timezone.utc)
    enqueue(
        "reporting.remind_overdue",
        report_id=report.id,
        n=n,
        run_at=max(run_at, utcnow()),
        dedupe_key=f"report-overdue:{report.id}:{n}",
    )


@grant_ended.connect
def end_duties(grant, actor=None, **_kwargs):
    """The grant was declined, cancelled or closed: its reports not yet approved are no longer due
    (so no list shows them due and no reminder goes out), in the transaction that ended it."""
    open_states = REPORT_WORKFLOW.states_allowing("cancel", {"system"})
    reports = db.session.scalars(
        sa.select(GrantReport)
        .where(GrantReport.grant_id == grant.id, GrantReport.state.in_(open_states))
        .order_by(GrantReport.id)
        .with_for_update(of=GrantReport)
        .execution_options(populate_existing=True)
    ).all()
    for report in reports:
        REPORT_WORKFLOW.apply(
            report,
            "cancel",
            actor,
            roles={"system"},
            summary=f"{grant.application.reference}: {report.kind} report no longer due",
        )
        report.updated_at = utcnow()


def _check_city(report, actor):
    if report.grant.application.member_id not in actor.member_ids():
        raise Refused(_l("Only the grantee city writes this report."))
    if not GRANT_WORKFLOW.has(report.grant.state, "reportable"):
        raise Refused(_l("No report is written on a grant that is “%(state)s”.", state=report.grant.staff_label))
    if not report.is_editable:
        raise Refused(_l("This report cannot be changed now."))


FIELDS = [
    "progress",
    "results",
    "difficulties",
    "reached_women",
    "reached_men",
    "reached_other",
    "activities_held",
    "dimensions",
]


def _indicator_values(report, figures):
    """{indicator id: {part: number}} for the call's indicators (what else was posted is left out)."""
    cleaned = {}
    for indicator in report.grant.application.call.indicators:
        given = (figures or {}).get(str(indicator.id)) or {}
        cleaned[str(indicator.id)] = {part: given.get(part) for part in indicator.parts}
    return cleaned


def report_problems(report, values, spent):
    """[(message, field)]: every figure of a report's save that cannot be stored (a negative figure,
    an expenditure on no line of the grant's budget), all at once. The page asks too when its own
    fields were refused, so that a save marks everything wrong in one round."""
    problems = []
    for field in ("reached_women", "reached_men", "reached_other", "activities_held"):
        if values.get(field) is not None and values[field] < 0:
            problems.append((_l("Figures cannot be negative."), field))
    for indicator_id, row in _indicator_values(report, values.get("indicator_values")).items():
        for part, value in row.items():
            if value is not None and value < 0:
                problems.append((_l("A value reached cannot be negative."), f"indicator_values-{indicator_id}-{part}"))
    lines = set(
        db.session.scalars(sa.select(BudgetLine.id).where(BudgetLine.application_id == report.grant.application_id))
    )
    for line_id, cents in spent.items():
        if line_id not in lines:
            problems.append((_l("This expenditure is not on a line of the grant's budget."), "expenditure"))
        elif cents is not None and cents < 0:
            problems.append((_l("Expenditure cannot be negative."), f"spent_{line_id}"))
    return problems


def save_report(report, *, actor, values, spent):
    """values: the narrative and indicators (indicator_values: {indicator id: {part: number}});
    spent: {budget line id: cents, or None for a line left empty}. Refused as a whole, every
    problem named, when a figure is negative or a line is not in the grant's budget."""
    _check_city(report, actor)
    problems = report_problems(report, values, spent)
    if problems:
        raise Refused(problems[0][0], field=problems[0][1], errors=problems)
    if "indicator_values" in values:
        report.indicator_values = _indicator_values(report, values["indicator_values"])
    for field in FIELDS:
        if field in values:
            value = values[field]
            setattr(
                report,
                field,
                (value or 0)
                if field not in ("progress", "results", "difficulties", "dimensions")
                else (value if value is not None else ([] if field == "dimensions" else "")),
            )
    existing = {e.budget_line_id: e for e in report.expenditures}
    for line_id, cents in spent.items():
        entry = existing.get(line_id)
        if cents is None:  # left empty: not reported (never a 0 nobody typed)
            if entry is not None:
                report.expenditures.remove(entry)
            continue
        if entry is None:
            entry = Expenditure(budget_line_id=line_id)
            report.expenditures.append(entry)
        entry.spent_cents = cents
    report.updated_at = utcnow()
    audit.record("grant_report.save", report, after={"fields": sorted(values), "lines": len(spent)}, actor=actor)
    done()


def attach_document(report, *, actor, filename, data):
    _check_city(report, actor)
    document = make_document(
        filename=filename,
        data=data,
        actor=actor,
        stored_name=f"{report.grant.application.reference}-{report.kind}-report",
    )
    db.session.add(document)
    report.documents.append(ReportDocument(document=document, original_filename=(filename or "")[:300]))
    done()


def _apply(report, action, actor, **kwargs):
    try:
        REPORT_WORKFLOW.apply(report, action, actor, **kwargs)
    except TransitionError as error:
        raise Refused(str(error), field="reason") from None


def submit_report(report, *, actor):
    _check_city(report, actor)
    problems = []
    if not report.progress.strip():
        problems.append((_l("Describe the progress."), "progress"))
    if report.kind == "final" and not report.results.strip():
        # The final report is what the donors read of the project's results.
        problems.append(
            (_l("Describe the results the project reached: the final report cannot leave them out."), "results")
        )
    reported = {e.budget_line_id for e in report.expenditures}
    if any(line.id not in reported for line in report.grant.application.budget_lines):
        problems.append(
            (_l("Give the expenditure of every budget line (0 where nothing was spent on it)."), "expenditure")
        )
    # Every value left out is marked (the page names the problem once, above the form).
    for row in report.indicator_rows():
        for part in row.indicator.parts:
            if row.reached.get(part) is None:
                problems.append(
                    (_l("Give the value reached for each indicator."), f"indicator_values-{row.indicator.id}-{part}")
                )
    if problems:
        raise Refused(problems[0][0], field=problems[0][1], errors=problems)
    _apply(report, "submit", actor, summary=f"{report.grant.application.reference}: {report.kind} report sent")
    report.submitted_at = utcnow()
    done()


def _first_interim(report):
    return db.session.scalar(
        sa.select(GrantReport.id)
        .where(GrantReport.grant_id == report.grant_id, GrantReport.kind == "interim")
        .order_by(GrantReport.position)
        .limit(1)
    )


def approve_report(report, *, actor):
    """Approval makes the tranche tied to this report due. A call's tranche "on approval of the
    interim report" is tied to the grant's first interim report (the earliest due): approving a
    later interim report pays nothing more."""
    _apply(report, "approve", actor, summary=f"{report.grant.application.reference}: {report.kind} report approved")
    report.approved_at = utcnow()
    if report.kind == "final" or _first_interim(report) == report.id:
        make_due(report.grant, f"{report.kind}_report")
    done()


def request_changes(report, *, actor, message):
    _apply(report, "request_changes", actor, reason=message)
    report.staff_message = (message or "").strip()
    for user in city_users(report.grant.application):
        queue_mail(
            user.email,
            "report_changes",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            reference=report.grant.application.reference,
            message=report.staff_message,
            link=external_url("reporting.city_report", report_id=report.id),
        )
    done()


@job("reporting.remind", label=_l("Remind cities of the reports due"))
def remind(report_id):
    report = db.session.get(GrantReport, report_id)
    if report is None or not report.is_editable or not GRANT_WORKFLOW.has(report.grant.state, "reportable"):
        return "nothing to remind"
    if report.due_on < fund_today():
        # Run late (a worker was down, or the grant was accepted after it was due): "due on" a
        # past day would contradict the overdue reminders, which say how late it is.
        return "past its due date: the overdue reminders follow it"
    for user in city_users(report.grant.application):
        queue_mail(
            user.email,
            "report_reminder",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"report-reminder:{report.id}:{user.id}",
            reference=report.grant.application.reference,
            due_on=report.due_on.isoformat(),
            link=external_url("reporting.city_report", report_id=report.id),
        )
    done()
    return "reminded"


@job("reporting.remind_overdue", label=_l("Remind cities of their overdue reports"))
def remind_overdue(report_id, n):
    """The n-th reminder of a report past its due date and not sent, in each focal point's language;
    the next one follows a week later, up to OVERDUE_REMINDERS."""
    report = db.session.get(GrantReport, report_id)
    if report is None or not report.is_overdue or not GRANT_WORKFLOW.has(report.grant.state, "reportable"):
        return "nothing to remind"
    today = fund_today()
    for user in city_users(report.grant.application):
        with force_locale(user.language):
            kind = str(report.kind_label)
        queue_mail(
            user.email,
            "report_overdue",
            language=user.language,
            reader_timezone=user.timezone,
            to_name=user.name,
            dedupe_key=f"report-overdue:{report.id}:{n}:{user.id}",
            reference=report.grant.application.reference,
            report=kind,
            due_on=report.due_on.isoformat(),
            days=(today - report.due_on).days,
            link=external_url("reporting.city_report", report_id=report.id),
        )
    if n < OVERDUE_REMINDERS:
        _schedule_overdue_reminder(report, n + 1, today + OVERDUE_EVERY)
    done()
    return "reminded"


# -- donor reports -----------------------------------------------------------------------------


def request_donor_report(*, actor, donor, start, end, language):
    if start is None or end is None:
        raise Refused(_l("Give the start and the end of the period."), field="period_start")
    for day, field in ((start, "period_start"), (end, "period_end")):
        if not plausible_date(day):
            raise Refused(
                _l("Give a date between %(first)d and %(last)d.", first=EARLIEST_YEAR, last=LATEST_YEAR), field=field
            )
    if end < start:
        raise Refused(_l("The period ends before it starts."), field="period_end")
    today = fund_today()
    if end >= today:
        # A report closes the ledger through its end: only days that have ended can be closed.
        raise Refused(
            _l(
                "A donor report covers days that have ended: end the period on %(date)s at the latest.",
                date=lazy_day(today - timedelta(days=1)),
            ),
            field="period_end",
        )
    if donor is None and not actor.has_role("staff"):
        raise Refused(_l("Only staff report on the whole fund."))
    if donor is not None and not actor.has_role("staff") and donor.id not in actor.donor_ids():
        raise Refused(_l("You can only ask for your own donor's report."))
    # Closing the books is the programme team's act: a staff report closes the ledger through its
    # end (no later entry can be dated in it, so the report's figures hold); a donor reports on
    # days the team has closed, and closes nothing.
    closes = actor.has_role("staff")
    if not closes:
        closed = ledger_closed_through()
        if closed is None:
            raise Refused(
                _l(
                    "The programme team has not closed the fund's books yet: a donor report covers closed days "
                    "only. Ask the team for a report."
                ),
                field="period_end",
            )
        if end > closed:
            raise Refused(
                _l(
                    "The fund's books are closed through %(date)s: end the period then at the latest, or ask "
                    "the programme team for a later report.",
                    date=lazy_day(closed),
                ),
                field="period_end",
            )
    report = DonorReport(donor=donor, period_start=start, period_end=end, language=language, requested_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    if closes:
        funding.close_ledger(end, actor=actor, reason=f"donor report {report.id}")
    enqueue("reporting.build_donor_report", report_id=report.id, dedupe_key=f"donor-report:{report.id}")
    audit.record(
        "donor_report.request",
        report,
        after={"donor": donor.short_name if donor else "fund", "start": start, "end": end},
        actor=actor,
    )
    done()
    return report


def _store(name, content_type, data):
    document = generated_document(name, data, content_type)
    db.session.add(document)
    return document


@job("reporting.build_donor_report", label=_l("Build a donor report"), timeout=900)
def build_donor_report(report_id):
    """Compute the figures, then write the PDF, the XLSX and the CSV, saying how far it has got."""
    report = db.session.get(DonorReport, report_id)
    if report.status == "done":
        return "already built"
    report.status, report.progress = "running", 5
    # Progress is committed as it goes: the report's page follows it while the job runs, and a
    # retry keeps what an earlier attempt stored.
    commit_now()
    try:
        with force_locale(report.language):
            # The figures are computed once and kept with the report; a retried job builds its files
            # from the same stored figures, and the report's page shows them.
            if report.figures is None:
                data = figures(report.donor, report.period_start, report.period_end)
                report.figures = data.snapshot()
            else:
                data = Figures.from_snapshot(report.figures, donor=report.donor)
            report.progress = 30
            commit_now()
            # The language in the name: the same period asked in two languages gives two files.
            base = (
                f"{(report.donor.short_name if report.donor else 'fund').lower()}"
                f"-{report.period_start}-{report.period_end}-{report.language}"
            )
            # A retried job keeps what an earlier attempt already stored.
            if report.pdf is None:
                report.pdf = _store(f"{base}.pdf", "application/pdf", to_pdf(data, report.language))
            report.progress = 70
            commit_now()
            report.xlsx = _store(
                f"{base}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", to_xlsx(data)
            )
            report.csv = _store(f"{base}.csv", "text/csv", to_csv(data))
        report.status, report.progress, report.finished_at = "done", 100, utcnow()
        done()
    except Exception as exc:
        db.session.rollback()
        report = db.session.get(DonorReport, report_id)
        report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        commit_now()  # kept although the job fails
        raise
    return "built"
