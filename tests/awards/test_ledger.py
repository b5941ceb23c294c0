"""Every money move is a dated, append-only ledger entry, and the lines' totals are the entries' sums."""

import importlib.util
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from fundapp.awards import operations
from fundapp.awards.models import Grant
from fundapp.core.errors import Refused
from fundapp.core.timeutil import clock_at
from fundapp.extensions import db
from fundapp.funding import ledger
from fundapp.funding.models import CallFunding, LedgerEntry, LedgerIsAppendOnly

from .. import factories as f
from ..helpers import count

MADRID = ZoneInfo("Europe/Madrid")


def on(day, hour=10, minute=0):
    """`hour`:`minute` in Barcelona on `day`, as an instant."""
    return datetime.combine(day, time(hour, minute), MADRID)


def entries(*where):
    """[(kind, donor, cents, day, grant id)] in the order they were written."""
    db.session.expire_all()
    rows = db.session.scalars(sa.select(LedgerEntry).where(*where).order_by(LedgerEntry.id)).all()
    return [(e.kind, e.contribution.donor.short_name, e.amount_cents, e.on, e.grant_id) for e in rows]


def lines():
    db.session.expire_all()
    return {
        line.contribution.donor.short_name: (line.amount_cents, line.committed_cents, line.paid_cents)
        for line in db.session.scalars(sa.select(CallFunding))
    }


@pytest.fixture
def bogota(app):
    """The Local Care Systems call (SDC EUR 700,000, OSF EUR 100,000) opened on 1 September 2026, and
    Bogotá's grant of EUR 100,000 awarded and accepted on 1 October: its id."""
    with app.app_context():
        with clock_at(on(date(2026, 9, 1))):
            f.fund()
            f.staff()
            f.call()
        with clock_at(on(date(2026, 10, 1))):
            grant = f.accepted("Bogotá", partners=["Medellín"])
        return grant.id


@pytest.mark.sqlite
def test_each_move_is_an_entry_dated_in_the_funds_timezone_and_the_lines_equal_their_entries(app, bogota):
    with app.app_context():
        grant = db.session.get(Grant, bogota)
        staff = f.staff()
        award = [
            ("commit", "SDC", 87_500_00, date(2026, 10, 1), bogota),
            ("commit", "OSF", 12_500_00, date(2026, 10, 1), bogota),
        ]
        assert entries() == award
        first = db.session.scalar(sa.select(LedgerEntry).order_by(LedgerEntry.id))
        assert first.actor_id == staff.id and first.application_id == grant.application_id
        assert ledger.mismatches() == []

        # Recorded on 20 November, paid on the 18th: the payment is dated by its paid_on.
        with clock_at(on(date(2026, 11, 20))):
            operations.record_payment(
                grant,
                grant.tranches[0],
                actor=staff,
                amount_cents=40_000_00,
                paid_on=date(2026, 11, 18),
                reference="SDC-2026-0042",
            )
        paid = [
            ("payment", "SDC", 35_000_00, date(2026, 11, 18), bogota),
            ("payment", "OSF", 5_000_00, date(2026, 11, 18), bogota),
        ]
        assert entries() == award + paid
        assert ledger.mismatches() == []

        # Cancelled at half past midnight in Barcelona on 30 November (still the 29th in UTC): the
        # return is dated the 30th, the fund's day.
        with clock_at(on(date(2026, 11, 30), 0, 30)):
            operations.cancel_grant(
                db.session.get(Grant, bogota), actor=staff, reason="The city council was dissolved."
            )
        returned = [
            ("return", "SDC", 52_500_00, date(2026, 11, 30), bogota),
            ("return", "OSF", 7_500_00, date(2026, 11, 30), bogota),
        ]
        assert entries() == award + paid + returned
        assert lines() == {"SDC": (700_000_00, 35_000_00, 35_000_00), "OSF": (100_000_00, 5_000_00, 5_000_00)}
        assert ledger.mismatches() == []
        assert ledger.entry_totals() == {
            line.id: (line.committed_cents, line.paid_cents) for line in db.session.scalars(sa.select(CallFunding))
        }


@pytest.mark.sqlite
def test_a_revised_award_keeps_its_commitment_and_its_release_as_history(app, bogota):
    with app.app_context():
        with clock_at(on(date(2026, 10, 2))):
            decision = f.awarded("Montréal", 60_000_00, letter=False)
            grant_id = decision.grant.id
        with clock_at(on(date(2026, 10, 9))):
            operations.revise(decision, actor=f.staff(), reason="The amount was typed wrong.")
        assert db.session.get(Grant, grant_id) is None  # the grant row goes; its entries stay
        assert entries(LedgerEntry.grant_id == grant_id) == [
            ("commit", "SDC", 52_500_00, date(2026, 10, 2), grant_id),
            ("commit", "OSF", 7_500_00, date(2026, 10, 2), grant_id),
            ("release", "SDC", 52_500_00, date(2026, 10, 9), grant_id),
            ("release", "OSF", 7_500_00, date(2026, 10, 9), grant_id),
        ]
        assert lines() == {"SDC": (700_000_00, 87_500_00, 0), "OSF": (100_000_00, 12_500_00, 0)}
        assert ledger.mismatches() == []


def test_a_refused_payment_or_award_writes_no_entry_and_moves_nothing(app, bogota):
    with app.app_context():
        grant = db.session.get(Grant, bogota)
        before_entries, before_lines = entries(), lines()
        with pytest.raises(Refused, match="Only €40,000.00 is due"):
            operations.record_payment(
                grant,
                grant.tranches[0],
                actor=f.staff(),
                amount_cents=40_000_01,
                paid_on=date(2026, 11, 18),
                reference="X",
            )
        db.session.rollback()
        assert entries() == before_entries and lines() == before_lines

        # An award for more than the envelope has left.
        with clock_at(on(date(2026, 10, 5))):
            application = f.reviewed("Dakar", f.STRONG)
            f.edit_call(application.call, envelope={"SDC": 140_000_00, "OSF": 50_000_00})
        application = f.s.get_application(application.id)
        with pytest.raises(Refused, match="Only €90,000.00 is left"):
            operations.decide(application, "award", actor=f.staff(), amount_cents=100_000_00)
        db.session.rollback()
        assert entries() == before_entries
        assert lines() == {"SDC": (140_000_00, 87_500_00, 0), "OSF": (50_000_00, 12_500_00, 0)}
        assert ledger.mismatches() == []


@pytest.mark.sqlite
def test_the_orm_refuses_to_change_or_delete_an_entry(app, bogota):
    with app.app_context():
        entry = db.session.scalar(sa.select(LedgerEntry).order_by(LedgerEntry.id))
        entry.amount_cents = 1
        with pytest.raises(LedgerIsAppendOnly):
            db.session.flush()
        db.session.rollback()
        entry = db.session.scalar(sa.select(LedgerEntry).order_by(LedgerEntry.id))
        db.session.delete(entry)
        with pytest.raises(LedgerIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        assert entries()[0] == ("commit", "SDC", 87_500_00, date(2026, 10, 1), bogota)
        assert count(LedgerEntry) == 2


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ledger_entry SET amount_cents = amount_cents + 100",
        "UPDATE ledger_entry SET \"on\" = DATE '2026-01-01'",
        "DELETE FROM ledger_entry",
    ],
)
def test_postgresql_refuses_to_change_or_delete_an_entry(app, bogota, statement):
    with app.app_context():
        before = entries()
        with pytest.raises(sa.exc.DBAPIError, match="ledger entries are never changed or deleted"):
            db.session.execute(sa.text(statement))
        db.session.rollback()
        assert entries() == before


@pytest.mark.sqlite
def test_the_check_finds_a_line_moved_without_its_entry(app, bogota):
    with app.app_context():
        db.session.execute(sa.text("UPDATE call_funding SET paid_cents = paid_cents + 1"))
        db.session.commit()
        found = ledger.mismatches()
        assert sorted((paid, by_entries) for _line, (_c, paid), (_ec, by_entries) in found) == [(1, 0), (1, 0)]


def _migration():
    path = Path(__file__).resolve().parents[2] / "migrations" / "versions" / "0014_ledger_entries.py"
    spec = importlib.util.spec_from_file_location("migration_0014", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.sqlite
def test_the_migration_gives_money_moved_before_it_the_entries_the_operations_write(app, bogota):
    """A database from before revision 0014: its grants get their commit, return and payment entries."""
    with app.app_context():
        grant = db.session.get(Grant, bogota)
        with clock_at(on(date(2026, 11, 20))):
            f.s.pay_due(grant, f.staff(), paid_on=date(2026, 11, 18))
        with clock_at(on(date(2026, 11, 30), 0, 30)):
            operations.cancel_grant(
                db.session.get(Grant, bogota), actor=f.staff(), reason="The city council was dissolved."
            )
        written = sorted(entries())
        db.session.remove()  # the session's read locks would keep TRUNCATE waiting
        with db.engine.begin() as conn:
            # As before the revision (TRUNCATE fires no row trigger; SQLite has none).
            conn.execute(
                sa.text("DELETE FROM ledger_entry" if conn.dialect.name == "sqlite" else "TRUNCATE ledger_entry")
            )
            _migration().backfill(conn)
        assert sorted(entries()) == written
        assert ledger.mismatches() == []
