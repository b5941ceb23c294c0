"""One commit per request, per job, per command (core/transactions.py): operations flush, the
boundary commits once, and a refusal or an error leaves nothing behind."""

import pytest
import sqlalchemy as sa

from fundapp.core.errors import Refused
from fundapp.core.jobs import enqueue, job, run_job
from fundapp.core.models import JobRecord
from fundapp.core.transactions import boundary
from fundapp.extensions import db
from fundapp.members import operations as members
from fundapp.members.models import Member

from ..helpers import commits, count


def _member(name, country="CO"):
    return members.create_member(
        actor=None,
        name=name,
        country=country,
        region="latin_america_caribbean",
        membership="full",
        dues_paid_through=2026,
    )


def _seen_elsewhere(app, name):
    """Whether another connection (another request, a worker) sees the member: only once committed."""
    with app.app_context(), db.engine.connect() as other:
        return other.scalar(sa.select(sa.func.count()).select_from(Member).where(Member.name == name)) == 1


@job("tests.two_members")
def two_members():
    _member("Medellín")
    _member("Bogotá")


@job("tests.member_then_failure")
def member_then_failure():
    _member("Cali")
    raise RuntimeError("the second step failed")


def test_inside_a_boundary_operations_flush_and_the_end_commits_them_together(app):
    with app.app_context():
        with boundary():
            _member("Medellín")
            _member("São Paulo", country="BR")
            assert count(Member) == 2  # the request itself reads what it wrote
            assert not _seen_elsewhere(app, "Medellín")  # nobody else does before the commit
        assert _seen_elsewhere(app, "Medellín") and _seen_elsewhere(app, "São Paulo")


def test_a_boundary_that_raises_keeps_nothing(app):
    with app.app_context():
        with pytest.raises(Refused), boundary():
            _member("Medellín")
            _member("MEDELLÍN")  # the same city again: refused after the first was written
        assert count(Member) == 0
    assert not _seen_elsewhere(app, "Medellín")


def test_outside_a_boundary_an_operation_commits_its_own_work(app):
    with app.app_context(), commits(app) as made:
        _member("Medellín")
        assert len(made) == 1 and _seen_elsewhere(app, "Medellín")


def test_nested_boundaries_are_one_transaction(app):
    with app.app_context(), commits(app) as made:
        with boundary():
            _member("Medellín")
            with boundary():
                _member("Bogotá")
            assert not _seen_elsewhere(app, "Bogotá")
        assert len(made) == 1


def test_a_job_commits_its_work_with_its_record_done(app):
    with app.app_context():
        record_id = enqueue("tests.two_members").id
        db.session.commit()
    with app.app_context(), commits(app) as made:
        run_job(record_id)
        # The claim (so two workers never run it twice), then the work and the record, together.
        assert len(made) == 2
    with app.app_context():
        assert db.session.get(JobRecord, record_id).status == "done" and count(Member) == 2


def test_a_job_that_fails_keeps_none_of_its_work(app):
    with app.app_context():
        record_id = enqueue("tests.member_then_failure").id
        db.session.commit()
    with app.app_context():
        with pytest.raises(RuntimeError):
            run_job(record_id)
    with app.app_context():
        record = db.session.get(JobRecord, record_id)
        assert record.status in ("retrying", "failed") and record.error == "RuntimeError: the second step failed"
        assert count(Member) == 0
