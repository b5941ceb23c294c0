"""Issue 16, item 5: each call sets its report schedule and its indicators; cities give targets when they
apply and report the values reached against them; an overdue report reminds the city and shows on the
staff dashboard. Built through the pages, on dates in the past (clock_at replays them)."""

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from dateutil.relativedelta import relativedelta
from flask_babel import force_locale

from fundapp.applications.models import Application
from fundapp.awards.models import Grant
from fundapp.calls.models import Call, CallIndicator, ReportStep
from fundapp.core.i18n import format_day
from fundapp.core.jobs import run_due_jobs
from fundapp.core.mail import OutboxMessage
from fundapp.core.timeutil import clock_at
from fundapp.extensions import db
from fundapp.reporting.dashboard import fund_dashboard
from fundapp.reporting.models import GrantReport

from .. import factories as f
from ..factories import PASSWORD
from ..helpers import count, text

MADRID = ZoneInfo("Europe/Madrid")
UTC = ZoneInfo("UTC")
# The call opens 400 days ago: its projects start about 344 days ago, so the report due at month 6 of
# the project is long overdue today and the final one (21 months after the start) is still to come.
T0 = datetime.combine(datetime.now(MADRID).date() - timedelta(days=400), time(10), MADRID)


def _error(page, field_id):
    match = re.search(rf'id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


def _cell_error(page, key):
    """The message shown beside a hand-drawn input (the report page)."""
    match = re.search(rf'name="{re.escape(key)}".*?<p class="error"[^>]*>(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


@pytest.fixture
def lcs(app):
    """The Local Care Systems call, published 400 days ago, with its criteria and the fund's default
    schedule; staff (Sofía Martínez) and Bogotá's focal point (Spanish). Returns the call's id."""
    with app.app_context():
        with clock_at(T0):
            f.staff()
            f.focal_point("Bogotá")
            call_id = f.call().id
        db.session.remove()
    return call_id


def _staff(make_client):
    client = make_client()
    client.login("staff@fund.example", PASSWORD)
    return client


def _set_up_the_call(app, client, call_id):
    """Staff replace the default interim report by one on a date and one at month 6, keep the final report
    (three months after the end) and add two indicators, one counted by gender, in three languages."""
    with app.app_context():
        call = db.session.get(Call, call_id)
        earliest, _latest = call.start_window()
        default_interim = next(s.id for s in call.report_steps if s.kind == "interim")
        final = next(s.id for s in call.report_steps if s.kind == "final")
    on_a_date = earliest + relativedelta(months=4)
    url = f"/staff/calls/{call_id}"
    assert client.post(f"{url}/report-steps/{default_interim}/delete", token_from=url).status_code == 302
    new = f"{url}/report-steps/new"
    assert client.post(new, {"due_mode": "date", "due_on": on_a_date.isoformat()}, token_from=new).status_code == 302
    assert client.post(new, {"due_mode": "month", "due_month": "6"}, token_from=new).status_code == 302
    edit = f"{url}/report-steps/{final}"
    assert client.post(edit, {"months_after_end": "3"}, token_from=edit).status_code == 302
    add = f"{url}/indicators/new"
    carers = {
        "name_en": "Carers trained",
        "name_fr": "Aidantes formées",
        "name_es": "Cuidadoras formadas",
        "unit_en": "people",
        "unit_fr": "personnes",
        "unit_es": "personas",
        "by_gender": "y",
    }
    hours = {
        "name_en": "Hours of care provided",
        "name_fr": "Heures de soin assurées",
        "name_es": "Horas de cuidado prestadas",
        "unit_en": "hours of care",
    }
    for values in (carers, hours):
        assert client.post(add, values, token_from=add).status_code == 302
    page = text(client.get(url))
    assert "Carers trained" in page and "Hours of care provided" in page and "hours of care" in page
    assert "Month 6 of the project" in page and "3 months after the project ends" in page
    assert "Halfway through the project" not in page
    return earliest, on_a_date


def test_a_call_sets_its_reports_and_indicators_and_the_city_reports_against_its_targets(app, lcs, make_client):
    with clock_at(T0 + timedelta(hours=1)):
        staff = _staff(make_client)
        earliest, on_a_date = _set_up_the_call(app, staff, lcs)
    with app.app_context():
        call = db.session.get(Call, lcs)
        assert sorted((s.kind, s.due_mode) for s in call.report_steps) == [
            ("final", "final"),
            ("interim", "date"),
            ("interim", "month"),
        ]
        carers, hours = call.indicators
        assert carers.name == {"en": "Carers trained", "fr": "Aidantes formées", "es": "Cuidadoras formadas"}
        assert (carers.unit, carers.by_gender) == ({"en": "people", "fr": "personnes", "es": "personas"}, True)
        assert (hours.unit, hours.by_gender) == ({"en": "hours of care"}, False)
        assert (carers.unit_in("es"), hours.unit_in("es")) == ("personas", "hours of care")  # English when not given
        carers_id, hours_id = carers.id, hours.id

    # Bogotá (in Spanish) gives its targets in the application's form.
    with clock_at(T0 + timedelta(days=1)):
        with app.app_context():
            drafted = f.draft("Bogotá", the_call=db.session.get(Call, lcs))
            # The scenario's draft starts from targets of its own (a tenth of the people it expects to reach).
            application_id, first_targets = drafted.id, drafted.indicator_targets
            assert first_targets == {
                str(carers_id): {"women": 120, "men": 30, "other": 2},
                str(hours_id): {"total": 15200},
            }
            db.session.remove()
        city = make_client()
        city.login("focal@bogota.example", PASSWORD)
        edit = f"/applications/{application_id}/edit"
        page = text(city.get(edit))
        assert "Cuidadoras formadas" in page and "Horas de cuidado prestadas" in page
        version = re.search(r'name="version"[^>]*value="(\d+)"', page).group(1)
        targets = {
            f"indicator_targets-{carers_id}-women": "300",
            f"indicator_targets-{carers_id}-men": "40",
            f"indicator_targets-{carers_id}-other": "5",
            f"indicator_targets-{hours_id}-total": "12000",
        }
        # A negative target is refused beside its input, and nothing of the targets is saved.
        refused = city.post(
            edit,
            {"version": version, "present": "indicators", **targets, f"indicator_targets-{carers_id}-men": "-40"},
            token_from=edit,
        )
        assert refused.status_code == 400
        # In Bogotá's focal point's language: "A target cannot be negative."
        assert "Una meta no puede ser negativa." in (_error(text(refused), f"indicator_targets-{carers_id}-men") or "")
        assert 'value="-40"' in text(refused)  # what was typed is kept
        with app.app_context():
            assert db.session.get(Application, application_id).indicator_targets == first_targets
        # Not a number: refused beside its input too.
        garbled = city.post(
            edit,
            {"version": version, "present": "indicators", **targets, f"indicator_targets-{hours_id}-total": "doce mil"},
            token_from=edit,
        )
        assert garbled.status_code == 400
        assert _error(text(garbled), f"indicator_targets-{hours_id}-total")
        with app.app_context():
            assert db.session.get(Application, application_id).indicator_targets == first_targets
        saved = city.post(edit, {"version": version, "present": "indicators", **targets}, token_from=edit)
        assert saved.status_code == 302, text(saved)
        with app.app_context():
            application = db.session.get(Application, application_id)
            assert application.indicator_targets == {
                str(carers_id): {"women": 300, "men": 40, "other": 5},
                str(hours_id): {"total": 12000},
            }
            # Submitted, screened, reviewed, awarded and accepted through the operations.
            focal = f.focal_point("Bogotá")
            f.s.submit(application, focal)
            f.s.screen(application, f.staff())
            for person in f.panel(application.call.reviewers_per_application):
                f.s.assign(application, person, f.staff())
            f.s.review_all(application, f.STRONG, comment="Plan claro.", recommendation="fund")
            grant = f.s.accept(f.s.award(application, f.staff()), focal)
            grant_id = grant.id
            start, months = application.start_date, application.duration_months
            assert start == earliest and months == 18
            reports = sorted(grant.reports, key=lambda r: r.position)
            assert [(r.kind, r.number, r.due_on) for r in reports] == [
                ("interim", 1, on_a_date),
                ("interim", 2, start + relativedelta(months=6)),
                ("final", None, start + relativedelta(months=18 + 3)),
            ]
            first_id, second_id, _final_id = (r.id for r in reports)
            line_ids = [line.id for line in application.budget_lines]
            db.session.remove()
        # Staff read the targets on the submitted application.
        staff = _staff(make_client)
        page = text(staff.get(f"/staff/applications/{application_id}"))
        assert 'id="indicator-targets"' in page and "Carers trained" in page and "12,000" in page

    # The city reports the values reached on the first interim report, against its targets.
    with clock_at(datetime.combine(on_a_date - timedelta(days=2), time(11), MADRID)):
        city = make_client()
        city.login("focal@bogota.example", PASSWORD)
        url = f"/reports/{first_id}"
        page = text(city.get(url))
        assert "Informe intermedio 1" in page and "Cuidadoras formadas" in page
        values = {
            "progress": "Dos manzanas del cuidado abiertas en Ciudad Bolívar y Kennedy.",
            f"indicator_values-{carers_id}-women": "280",
            f"indicator_values-{carers_id}-men": "31",
            f"indicator_values-{carers_id}-other": "2",
            f"indicator_values-{hours_id}-total": "4100",
            **{f"spent_{line_id}": "10000" for line_id in line_ids},
        }
        refused = city.post(url, {**values, f"indicator_values-{hours_id}-total": "-1"}, token_from=url)
        assert refused.status_code == 400
        assert (
            _cell_error(text(refused), f"indicator_values-{hours_id}-total")
            == "Un valor alcanzado no puede ser negativo."
        )
        with app.app_context():
            report = db.session.get(GrantReport, first_id)
            assert (report.indicator_values, report.progress, report.state) == ({}, "", "due")
        # Sent with three values left out: each is marked, the problem named once above the form.
        left_out = {k: v for k, v in values.items() if not k.startswith(f"indicator_values-{carers_id}-")}
        refused = city.post(url, {**left_out, "submit_report": "1"}, token_from=url)
        assert refused.status_code == 400
        page = text(refused)
        for part in ("women", "men", "other"):
            assert re.search(rf'name="indicator_values-{carers_id}-{part}"[^>]*aria-invalid="true"', page), part
        summary = page.split('id="report-problems"', 1)[1].split("</div>", 1)[0]
        assert summary.count("Indique el valor alcanzado para cada indicador.") == 1, summary
        sent = city.post(url, {**values, "submit_report": "1"}, token_from=url)
        assert sent.status_code == 302, text(sent)
        with app.app_context():
            report = db.session.get(GrantReport, first_id)
            assert report.state == "submitted"
            assert report.indicator_values == {
                str(carers_id): {"women": 280, "men": 31, "other": 2},
                str(hours_id): {"total": 4100},
            }
        # Staff see the target and the value reached side by side, then approve: the tranche "on approval
        # of the interim report" follows the first interim report.
        staff = _staff(make_client)
        page = text(staff.get(url))
        rows = re.findall(
            r'<tr data-indicator="(\d+)" data-part="(\w+)">.*?data-figure="target">([^<]*)</td>.*?value="([^"]*)"',
            page,
            re.S,
        )
        assert rows == [
            (str(carers_id), "women", "300", "280"),
            (str(carers_id), "men", "40", "31"),
            (str(carers_id), "other", "5", "2"),
            (str(hours_id), "total", "12,000", "4,100"),  # both in the reader's language
        ]
        assert staff.post(f"/staff/reports/{first_id}/review", {"action": "approve"}, token_from=url).status_code == 302
        with app.app_context():
            grant = db.session.get(Grant, grant_id)
            assert [t.condition for t in grant.tranches if t.due_since is not None] == [
                "acceptance",
                "interim_report",
            ]

    # The second interim report (month 6) is never sent: the city is reminded the day after it was due,
    # then weekly, four times in all, in Spanish.
    second_due = earliest + relativedelta(months=6)
    for week in range(6):
        with clock_at(datetime.combine(second_due + timedelta(days=1 + 7 * week), time(9), UTC)):
            run_due_jobs(app)
    with app.app_context():
        mails = db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.template == "report_overdue").order_by(OutboxMessage.id)
        ).all()
        assert [(m.to_email, m.language) for m in mails] == [("focal@bogota.example", "es")] * 4
        with app.test_request_context(), force_locale("es"):
            due_in_spanish = format_day(second_due)
        assert due_in_spanish in mails[0].subject and due_in_spanish in mails[0].body
        # In Spanish, singular then plural: "1 day ago", "8 days ago", "22 days ago".
        assert "hace 1 día," in mails[0].body and "hace 8 días," in mails[1].body and "hace 22 días," in mails[3].body
        assert f"/reports/{second_id}" in mails[0].body
        # Its "due on" reminder, run only once the day had passed (the clock jumped past it), is not
        # sent beside the overdue ones.
        assert not db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"report-reminder:{second_id}:%"))
        ).all()
        reference = db.session.get(Application, application_id).reference

    # Today it is long overdue, and the staff dashboard lists it with its city, due date and days overdue.
    staff = _staff(make_client)
    page = text(staff.get("/dashboard"))
    section = page[page.index('id="overdue-reports"') :]
    section = section[: section.index("</section>")]
    today = datetime.now(MADRID).date()
    assert re.search(r'data-figure="overdue-count">1<', section)
    assert "Bogotá" in section and reference in section and "Interim report 2" in section
    assert f'data-figure="days-overdue">{(today - second_due).days}<' in section
    assert f'data-report="{first_id}"' not in section  # sent before it was due
    # Nor is the overdue report among those due in the coming weeks (the final one is months away).
    coming = page[page.index('id="reports-due"') :]
    coming = coming[: coming.index("</section>")]
    assert f'data-report="{second_id}"' not in coming and "None." in coming

    # The list comes in a fixed number of queries: its rows carry their city, reference and label, so
    # reading them queries nothing more.
    with app.app_context():
        statements = []

        def listener(*_args):
            statements.append(1)

        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            with app.test_request_context():
                data = fund_dashboard()
                before = len(statements)
                shown = [(o.city, o.reference, str(o.report.kind_label), o.days) for o in data["overdue"]]
                assert len(statements) == before
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        assert shown == [("Bogotá", reference, "Interim report 2", (today - second_due).days)]
        assert data["overdue_count"] == 1


@pytest.mark.parametrize(
    "path, values, field, message",
    [
        (
            "indicators/new",
            {"name_fr": "Aidantes formées", "unit_en": "people"},
            "name_en",
            "Name the indicator in English.",
        ),
        (
            "indicators/new",
            {"name_en": "Carers trained", "unit_en": "p" * 41},
            "unit_en",
            "41 characters, for at most 40",
        ),
        ("indicators/new", {"name_en": "Carers trained", "unit_fr": "personnes"}, "unit_en", "unit in English"),
        ("report-steps/new", {"due_mode": "month", "due_month": "25"}, "due_month", "at most 24 months"),
        ("report-steps/new", {"due_mode": "month", "due_month": "0"}, "due_month", "at most 24 months"),
        ("report-steps/new", {"due_mode": "date", "due_on": "FAR"}, "due_on", "after the final report"),
        ("report-steps/new", {"due_mode": "date", "due_on": "EARLY"}, "due_on", "at the earliest"),
        ("report-steps/FINAL", {"months_after_end": "30"}, "months_after_end", "0 to 24 months"),
        # The default schedule's interim report is due halfway: a second one then is refused.
        ("report-steps/new", {"due_mode": "half"}, "due_mode", "already has an interim report due then"),
    ],
)
def test_bad_indicators_and_schedule_steps_are_refused_beside_their_field(
    app, lcs, make_client, path, values, field, message
):
    with app.app_context():
        call = db.session.get(Call, lcs)
        earliest, _latest = call.start_window()
        final = next(s for s in call.report_steps if s.kind == "final")
        schedule_before = sorted((s.kind, s.due_on, s.due_month, s.months_after_end) for s in call.report_steps)
    values = dict(values)
    if values.get("due_on") == "FAR":
        # The shortest project (6 months) starting on the earliest day has its final report 8 months in.
        values["due_on"] = (earliest + relativedelta(months=8)).isoformat()
    elif values.get("due_on") == "EARLY":
        values["due_on"] = (earliest - timedelta(days=1)).isoformat()
    path = path.replace("FINAL", str(final.id))
    with clock_at(T0 + timedelta(hours=2)):
        staff = _staff(make_client)
        url = f"/staff/calls/{lcs}/{path}"
        response = staff.post(url, values, token_from=url)
    assert response.status_code == 400
    assert message in (_error(text(response), field) or ""), text(response)
    with app.app_context():
        call = db.session.get(Call, lcs)
        assert count(CallIndicator) == 0
        assert sorted((s.kind, s.due_on, s.due_month, s.months_after_end) for s in call.report_steps) == schedule_before
        assert count(ReportStep) == 2


def test_a_new_call_and_its_copy_owe_the_funds_default_reports(app, lcs):
    with app.app_context():
        call = db.session.get(Call, lcs)
        assert sorted((s.kind, s.due_mode, s.months_after_end) for s in call.report_steps) == [
            ("final", "final", 2),
            ("interim", "half", None),
        ]
        copy = f.s.calls.duplicate_call(call, actor=f.staff())
        assert sorted((s.kind, s.due_mode, s.months_after_end) for s in copy.report_steps) == [
            ("final", "final", 2),
            ("interim", "half", None),
        ]


def _summary_links(page):
    """[(href, message)] of the editor's error summary."""
    summary = page.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', summary)


def test_the_editors_summary_names_each_refused_figure_once_and_links_to_it(app, lcs, make_client):
    """Bogotá saves a negative target and a negative number of women reached: the summary lists each
    problem once, each linking to an element of the page (the target's own input), in Spanish."""
    with clock_at(T0 + timedelta(hours=1)):
        _set_up_the_call(app, _staff(make_client), lcs)
    with clock_at(T0 + timedelta(days=1)):
        with app.app_context():
            call = db.session.get(Call, lcs)
            application_id = f.draft("Bogotá", the_call=call).id
            carers_id = call.indicators[0].id
            db.session.remove()
        city = make_client()
        city.login("focal@bogota.example", PASSWORD)
        edit = f"/applications/{application_id}/edit"
        version = re.search(r'name="version"[^>]*value="(\d+)"', text(city.get(edit))).group(1)
        refused = city.post(
            edit,
            {
                "version": version,
                "present": "indicators",
                "beneficiaries_women": "-1200",
                f"indicator_targets-{carers_id}-women": "300",
                f"indicator_targets-{carers_id}-men": "-40",
                "next": "edit",
            },
            token_from=edit,
        )
        assert refused.status_code == 400
        page = text(refused)
        links = _summary_links(page)
        messages = [message for _anchor, message in links]
        assert messages.count("Una meta no puede ser negativa.") == 1, links
        assert len(links) == len(set(links)) == 2, links
        assert (f"indicator_targets-{carers_id}-men", "Una meta no puede ser negativa.") in links
        for anchor, _message in links:
            assert re.search(rf'\bid="{re.escape(anchor)}"', page), anchor
        assert 'href="#indicator_targets"' not in page
