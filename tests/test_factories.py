"""The factories walk the real operations: each stage is reached the way real use reaches it."""

import pytest
import sqlalchemy as sa

from fundapp.core.models import AuditEntry
from fundapp.extensions import db

from . import factories as f

pytestmark = pytest.mark.sqlite


def test_a_grant_walked_from_draft_to_the_second_tranche_due(app):
    with app.app_context():
        grant = f.interim_approved("Montréal", partners=["Dakar"])
        application = grant.application
        assert application.language == "fr" and application.partners[0].member.name == "Dakar"
        assert application.dimensions == ["recognise", "redistribute"]
        assert [d.requirement for d in application.documents] == application.call.required_documents
        assert application.reference == "IFM-LCS-2025-001" and len(application.submissions) == 1
        assert grant.applicant_label and grant.paid_cents == 40_000_00
        assert [t.is_due for t in grant.tranches] == [False, True, False]
        actions = set(db.session.scalars(sa.select(AuditEntry.action)))
        # Each stage left the audit entry its operation writes.
        for action in (
            "application.start",
            "application.submit",
            "application.mark_eligible",
            "assignment.accept",
            "review.submit",
            "decision.award",
            "letter.send",
            "grant.accept",
            "payment.record",
            "grant_report.approve",
        ):
            assert action in actions, action


def test_a_reviewed_application_has_a_full_panel_with_every_review_in(app):
    with app.app_context():
        application = f.reviewed("São Paulo", f.WEAK)
        panel = f.s.assignments_of(application)
        assert len(panel) == application.call.reviewers_per_application
        assert all(a.is_done and a.review.score is not None for a in panel)


def test_cities_come_from_the_member_list_and_call_edits_go_through_the_operation(app):
    with app.app_context():
        chisinau = f.member("Chișinău")  # not in CITIES: country and region from the bundled list
        assert (chisinau.country, chisinau.region) == ("MD", "europe")
        assert f.focal_point("Medellín").email == "focal@medellin.example" and f.slug("São Paulo") == "saopaulo"
        assert len(f.real_members("north_america")) >= 5
        the_call = f.call()
        f.edit_call(the_call, reviewers_see_others=False, envelope={"SDC": 500_000_00, "OSF": 100_000_00})
        assert the_call.reviewers_see_others is False
        assert sorted(line.amount_cents for line in the_call.funding) == [100_000_00, 500_000_00]
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "call.update")) == 1
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEntry.action == "member.create")) == 2
