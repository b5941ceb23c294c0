"""Any dated sequence of awards, revisions, letters and acceptances, declines, reports, payments,
cancellations and closings keeps the ledger exact, and the report of every past period stays put.

After every step the lines' totals equal their entries. At the end, for every month of the
sequence (and from its start to the end of every month): SDC + OSF = the fund to the cent, the
fund's figures agree with the envelope, and the report of the period built the day it ended is
the report built after everything that came later.
"""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from fundapp.applications.models import Application
from fundapp.awards import operations
from fundapp.awards.models import GRANT_WORKFLOW, Grant
from fundapp.core.errors import Refused
from fundapp.core.jobs import jobs_in_process
from fundapp.core.timeutil import clock_at
from fundapp.extensions import db
from fundapp.funding import ledger
from fundapp.funding.models import CallFunding, Donor
from fundapp.reporting.models import REPORT_WORKFLOW
from fundapp.reporting.queries import figures

from .. import factories as f

MADRID = ZoneInfo("Europe/Madrid")
CITIES = ["Bogotá", "Dakar", "Montréal", "Seoul"]
START = date(2025, 1, 13)  # the call opens; every step comes after, each on its own day
ENVELOPE = {"SDC": 150_000_00, "OSF": 50_000_00}  # room for two grants of EUR 100,000, not three
MONEY = ["contributed_cents", "received_cents", "allocated_cents", "paid_in_period_cents", "paid_to_date_cents"]

# Team C's operations, when they exist: the city declines an offered grant; staff close one.
OPTIONAL = {"decline": hasattr(operations, "decline_grant"), "close": hasattr(operations, "close_grant")}

STEPS = st.lists(
    st.tuples(
        st.integers(0, len(CITIES) - 1),  # whose application
        st.integers(0, 99),  # which of the moves its state allows
        st.integers(1, 100_000_00),  # the amount awarded or paid (sometimes more than allowed)
        st.integers(0, 40),  # days after the step before
        st.sampled_from([9, 23]),  # the hour in Barcelona
    ),
    min_size=6,
    max_size=20,
)


# -- one fresh fund per example: built once, restored in SQL -------------------------------------


def _tables():
    return list(db.metadata.sorted_tables)


class Saved(dict):
    """Every table's rows (kept short in a failure report)."""

    def __repr__(self):
        return f"<the fund as built: {sum(len(rows) for rows in self.values())} rows>"


def _capture():
    with db.engine.connect() as conn:
        return Saved({t.name: [dict(r._mapping) for r in conn.execute(sa.select(t))] for t in _tables()})


def _restore(saved):
    """Back to the fund as built: TRUNCATE (which fires no row trigger) and the rows put back."""
    tables = _tables()
    db.session.remove()  # no read lock of this session may keep TRUNCATE waiting
    with db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t.name}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        for table in tables:
            if saved[table.name]:
                conn.execute(table.insert(), saved[table.name])
        for table in tables:
            if "id" in table.c and isinstance(table.c.id.type, sa.Integer):
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
                    )
                )
    db.session.remove()


def _at(day, hour=10):
    return datetime.combine(day, time(hour), MADRID)


@pytest.fixture
def base(app):
    """The SDC and OSF contributions, the call (opened on START) and four applications reviewed."""
    with app.app_context():
        with jobs_in_process(), clock_at(_at(START)):
            f.fund()
            f.staff()
            call = f.call(envelope=ENVELOPE)
            for city in CITIES:
                f.reviewed(city, f.STRONG, the_call=call, partners=(), dimensions=("recognise", "redistribute"))
        saved = _capture()
        db.session.remove()
    return saved


# -- the steps -----------------------------------------------------------------------------------


def _moves(decision, grant):
    """What the state tables offer on this application now (as the pages do)."""
    if decision is None:
        return ["award"]
    moves = [] if decision.letter_sent_at is not None else ["revise"]
    if grant is None:
        return moves
    for action, roles in (
        ("accept", {"applicant"}),
        ("decline", {"applicant"}),
        ("cancel", {"staff"}),
        ("close", {"staff"}),
    ):
        if GRANT_WORKFLOW.can(grant.state, action, roles) and OPTIONAL.get(action, True):
            moves.append(action)
    # Payments and reports weigh more: a grant's life is mostly those, before it ends.
    if GRANT_WORKFLOW.has(grant.state, "payable"):
        moves += ["pay"] * 3
    if GRANT_WORKFLOW.has(grant.state, "reportable"):
        moves += ["report"] * 2
    return moves


def _step(city, choice, cents, day):
    """One move on `city`'s application, chosen among those its state allows; returns its name."""
    staff = f.staff()
    focal = f.focal_point(city)
    application = db.session.scalar(sa.select(Application).where(Application.member_id == f.member(city).id))
    decision = operations.current_decision(application)
    grant = decision.grant if decision is not None else None
    moves = _moves(decision, grant)
    if not moves:
        return "nothing to do"
    action = moves[choice % len(moves)]
    try:
        return _do(action, application, decision, grant, staff, focal, cents, day)
    except Refused:
        db.session.rollback()  # refused: nothing moved (the checks after each step say so)
        return f"{action}: refused"


def _do(action, application, decision, grant, staff, focal, cents, day):
    if action == "award":
        # Sometimes more than the envelope has left: refused, nothing moves.
        operations.decide(application, "award", actor=staff, amount_cents=min(cents, application.requested_cents))
    elif action == "revise":
        operations.revise(decision, actor=staff, reason="Revised in the property test.")
    elif action in ("accept", "decline"):
        if decision.letter_sent_at is None:
            f.s.send_letter(decision, staff)
        if action == "accept":
            operations.accept_grant(grant, actor=focal, bank_details="IBAN ES91 2100 0418 4502 0005 1332")
        else:
            operations.decline_grant(grant, actor=focal, reason="The council chose another programme.")
    elif action == "pay":
        tranche = next((t for t in grant.tranches if t.is_due), None)
        if tranche is None:
            return "pay: nothing due"
        # An odd amount is paid within what is due; an even one may be more (refused).
        amount = min(cents, tranche.outstanding_cents) if cents % 2 else cents
        operations.record_payment(
            grant, tranche, actor=staff, amount_cents=amount, paid_on=day, reference=f"PAY-{day.isoformat()}"
        )
    elif action == "report":
        duty = next((r for r in grant.reports if REPORT_WORKFLOW.has(r.state, "editable")), None)
        if duty is None:
            return "report: none to write"
        report = f.s.report(grant, focal, duty.kind, progress="Care hubs open.", reached=(120, 40, 3))
        f.s.approve(report, staff)
    elif action == "cancel":
        operations.cancel_grant(grant, actor=staff, reason="Cancelled in the property test.")
    elif action == "close":
        # Without a reason when the grant has run its course; else staff give one.
        reason = "" if grant.complete else "Closed early in the property test."
        operations.close_grant(grant, actor=staff, reason=reason)
    return action


# -- the periods ---------------------------------------------------------------------------------


def _month_ends(first, last):
    ends, day = [], first
    while True:
        end = (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        ends.append(end)
        if end >= last:
            return ends
        day = end + timedelta(days=1)


def _periods(month_end):
    return [(month_end.replace(day=1), month_end), (START, month_end)]


def _reports(periods):
    donors = {d.short_name: d for d in db.session.scalars(sa.select(Donor))}
    return {
        (period, who): figures(donors.get(who), *period).snapshot()
        for period in periods
        for who in ("SDC", "OSF", None)
    }


def _check_sums(period, reports):
    sdc, osf, fund = (reports[(period, who)] for who in ("SDC", "OSF", None))
    for name in MONEY:
        assert sdc[name] + osf[name] == fund[name], (period, name)
    assert fund["contributed_cents"] == 800_000_00
    for key in ("by_region", "payments_by_month"):
        for k in fund[key]:
            assert sdc[key].get(k, 0) + osf[key].get(k, 0) == fund[key][k], (period, key, k)
    for line in fund["grants"]:
        parts = [g for r in (sdc, osf) for g in r["grants"] if g["grant_id"] == line["grant_id"]]
        assert sum(g["amount_cents"] for g in parts) == line["amount_cents"], (period, line)
        assert sum(g["paid_cents"] for g in parts) == line["paid_cents"], (period, line)
        assert line["state"] in GRANT_WORKFLOW.state_names()
    assert 0 <= fund["paid_to_date_cents"] <= fund["allocated_cents"] <= sum(ENVELOPE.values())


def _check_lines():
    db.session.expire_all()
    assert ledger.mismatches() == []
    for line in db.session.scalars(sa.select(CallFunding)):
        assert 0 <= line.paid_cents <= line.committed_cents <= line.amount_cents
    for grant in db.session.scalars(sa.select(Grant)):
        assert grant.paid_cents + grant.returned_cents <= grant.amount_cents
        assert sum(a.paid_cents for a in grant.allocations) == grant.paid_cents


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=STEPS)
def test_every_period_reconciles_and_never_changes_after_later_movements(app, base, steps):
    with app.test_request_context(), jobs_in_process():
        _restore(base)
        day, days = START, []
        for _index, _choice, _cents, gap, _hour in steps:
            day = day + timedelta(days=1 + gap)
            days.append(day)
        assert datetime.combine(days[-1], time(23), MADRID) < datetime.now(MADRID)
        month_ends = _month_ends(START, days[-1])
        built = {}  # each period's reports, built the day it ended, before anything that came later

        def build(end):
            built.update(_reports(_periods(end)))
            # Built on its last day, the fund's report from the start is the envelope as it stands.
            fund, lines = built[((START, end), None)], db.session.scalars(sa.select(CallFunding)).all()
            assert fund["allocated_cents"] == sum(line.committed_cents for line in lines)
            assert fund["paid_to_date_cents"] == sum(line.paid_cents for line in lines)

        ends = iter(month_ends)
        end = next(ends)
        for (index, choice, cents, _gap, hour), day in zip(steps, days):
            while end < day:
                build(end)
                end = next(ends)
            with clock_at(_at(day, hour)):
                outcome = _step(CITIES[index], choice, cents, day)
            event(outcome)  # --hypothesis-show-statistics says how often each move happened
            _check_lines()
        for end in [end, *ends]:
            build(end)
        rebuilt = _reports([p for end in month_ends for p in _periods(end)])
        for end in month_ends:
            for period in _periods(end):
                _check_sums(period, rebuilt)
                for who in ("SDC", "OSF", None):
                    assert rebuilt[(period, who)] == built[(period, who)], (period, who)
