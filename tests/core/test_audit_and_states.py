"""The audit log is written with the change, never rewritten; workflows go through their table."""

import pytest
import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from fundapp.core import audit
from fundapp.core.audit import AuditLogIsAppendOnly
from fundapp.core.models import AuditEntry
from fundapp.core.states import State, Transition, TransitionError, Workflow
from fundapp.extensions import db
from fundapp.members.models import Member

from .. import factories as f
from ..helpers import count, make_member, make_user

DEMO = Workflow(
    "demo",
    states=[
        State("draft", _l("Draft"), _l("Draft")),
        State("published", _l("Published"), _l("Open")),
        State("closed", _l("Closed"), _l("Closed"), final=True),
    ],
    transitions=[
        Transition("draft", "publish", "published", frozenset({"staff"}), _l("Publish")),
        Transition("published", "close", "closed", frozenset({"staff", "system"}), _l("Close"), needs_reason=True),
    ],
)


@pytest.mark.sqlite
def test_an_entry_is_written_in_the_same_transaction_as_the_change(app):
    with app.app_context():
        member = make_member()  # (its creation is on the log already)
        logged = count(AuditEntry)
        # Changed by hand on purpose: the subject is the audit entry riding the change's transaction.
        member.name = "Barcelona (changed)"
        audit.record("member.update", member, before={"name": "Barcelona"}, after={"name": member.name})
        db.session.rollback()
        assert count(AuditEntry) == logged == 1
        assert db.session.get(Member, member.id).name == "Barcelona"


@pytest.mark.sqlite
def test_entries_cannot_be_changed_or_deleted_through_the_app(app):
    with app.app_context():
        entry = audit.record("x.y", object_type="Thing", object_id=1, summary="first")
        db.session.commit()
        entry.summary = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.get(AuditEntry, entry.id))
        with pytest.raises(AuditLogIsAppendOnly):
            db.session.commit()


def test_postgres_refuses_to_rewrite_the_audit_log_even_in_sql(app):
    with app.app_context():
        audit.record("x.y", object_type="Thing", object_id=1, summary="first")
        db.session.commit()
        with pytest.raises(sa.exc.DBAPIError, match="never changed or deleted"):
            db.session.execute(sa.text("UPDATE audit_entry SET summary = 'x'"))
        db.session.rollback()
        with pytest.raises(sa.exc.DBAPIError, match="never changed or deleted"):
            db.session.execute(sa.text("DELETE FROM audit_entry"))
        db.session.rollback()


@pytest.mark.sqlite
def test_staff_browse_the_audit_log_and_others_cannot(app, make_client):
    with app.app_context():
        member = make_member()
        make_user("staff@fund.example", "staff")
        make_user("personnel@fund.example", "staff", language="fr", name="Amélie Dubois")
        make_user("focal@bcn.example", "applicant", member=member)
        audit.record("member.update", member, before={"name": "A"}, after={"name": "B"}, summary="renamed")
        db.session.commit()
        member_id = member.id
    staff = make_client()
    staff.login("staff@fund.example")
    page = staff.get("/audit?object_type=Member").get_data(as_text=True)
    assert "member.update" in page and "renamed" in page
    # The object is named and linked to its page, not given as a class name ("Member 1").
    assert f'<td data-object="Member"><a href="/members/{member_id}">Member city {member_id}</a></td>' in page
    assert '<option value="Member" selected>Member city</option>' in page
    french = make_client()
    french.login("personnel@fund.example")
    page = french.get("/audit?object_type=Member").get_data(as_text=True)
    assert f">Ville membre {member_id}</a>" in page
    focal = make_client()
    focal.login("focal@bcn.example")
    assert focal.get("/audit").status_code == 403


def test_a_transition_moves_the_state_and_writes_an_audit_entry(app):
    class Thing:
        id = 7
        state = "draft"

    with app.test_request_context():
        staff = make_user("staff@fund.example", "staff")
        thing = Thing()
        t = DEMO.apply(thing, "publish", staff)
        db.session.commit()
        assert thing.state == "published" and t.target == "published"
        entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "demo.publish"))
        assert entry.before == {"state": "draft"} and entry.after == {"state": "published"}
        assert entry.actor_id == staff.id and entry.object_id == "7"


def test_a_transition_not_in_the_table_or_not_for_the_role_is_refused(app):
    class Thing:
        id = 1
        state = "draft"

    with app.test_request_context():
        focal = make_user("focal@x.example", "applicant", member=make_member())
        staff = make_user("staff@fund.example", "staff")
        with pytest.raises(TransitionError, match="not allowed"):
            DEMO.apply(Thing(), "publish", focal)
        with pytest.raises(TransitionError, match="cannot be done"):
            DEMO.apply(Thing(), "close", staff)
        thing = Thing()
        DEMO.apply(thing, "publish", staff)
        with pytest.raises(TransitionError, match="reason"):
            DEMO.apply(thing, "close", staff)
        DEMO.apply(thing, "close", None, reason="deadline passed")
        assert thing.state == "closed" and DEMO.is_final("closed")
        assert [t.action for t in DEMO.allowed_actions("draft", {"staff"})] == ["publish"]
        assert str(DEMO.applicant_label("published")) == "Open"


def test_a_table_with_unknown_states_or_duplicate_rows_is_refused_at_import():
    states = [State("a", "A", "A"), State("b", "B", "B")]
    with pytest.raises(ValueError):
        Workflow("bad", states, [Transition("a", "go", "zzz", frozenset({"staff"}), "Go")])
    with pytest.raises(ValueError):
        Workflow(
            "bad",
            states,
            [
                Transition("a", "go", "b", frozenset({"staff"}), "Go"),
                Transition("a", "go", "a", frozenset({"staff"}), "Go"),
            ],
        )


def test_every_workflow_step_has_a_name_for_the_log_not_its_button(app):
    """The audit log says what happened ("Call published"), not the button that did it ("Publish"):
    each feature names its workflow's steps for the history."""
    from fundapp.applications.models import APPLICATION_WORKFLOW, PARTNER_WORKFLOW
    from fundapp.awards.models import GRANT_WORKFLOW
    from fundapp.calls.models import CALL_WORKFLOW
    from fundapp.reporting.models import REPORT_WORKFLOW
    from fundapp.reviews.models import ASSIGNMENT_WORKFLOW

    named_by_button = [
        f"{workflow.name}.{t.action}"
        for workflow in (
            APPLICATION_WORKFLOW,
            PARTNER_WORKFLOW,
            CALL_WORKFLOW,
            ASSIGNMENT_WORKFLOW,
            GRANT_WORKFLOW,
            REPORT_WORKFLOW,
        )
        for t in workflow.transitions
        if audit.action_label(f"{workflow.name}.{t.action}") is t.label
    ]
    assert named_by_button == []


def test_the_log_links_an_application_only_once_staff_have_a_page_of_it(app, make_client):
    """A draft is the city's alone (its staff page is a 404): the log names it without a link;
    a sent application is linked to its staff page."""
    from .. import factories as f

    with app.app_context():
        f.fund()
        f.staff("staff@fund.example")
        the_call = f.call()
        draft_id = f.draft("Quito", the_call=the_call).id
        sent_id = f.submitted("Bogotá", the_call=the_call).id
        db.session.commit()
    staff = make_client()
    staff.login("staff@fund.example")
    page = staff.get("/audit?object_type=Application").get_data(as_text=True)
    assert f'<a href="/staff/applications/{sent_id}">Application {sent_id}</a>' in page
    assert f"Application {draft_id}" in page and f'href="/staff/applications/{draft_id}"' not in page
    assert staff.get(f"/staff/applications/{draft_id}").status_code == 404
    # One name per kind in the filter ("Juror" and the older "juror" entries read alike).
    labels = [label for _code, label in audit.named_object_types()]
    assert len(labels) == len(set(map(str, labels)))


def test_a_call_saved_unchanged_shows_no_change_of_its_numbers(app):
    """The stored threshold (20.00) and the one the form sends back (20) are one number: the
    history of an unchanged save lists no change of it."""
    from decimal import Decimal

    from fundapp.calls.models import Call

    assert audit._jsonable(Decimal("20.00")) == audit._jsonable(Decimal(20)) == "20"
    assert audit._jsonable(Decimal("0.0000354")) == "0.0000354" and audit._jsonable(Decimal("1E+1")) == "10"
    with app.app_context():
        call = f.call()
        db.session.expire_all()
        call = db.session.get(Call, call.id)
        f.edit_call(call, disagreement_threshold=Decimal(20))
        entry = db.session.scalar(
            sa.select(AuditEntry).where(AuditEntry.action == "call.update").order_by(AuditEntry.id.desc())
        )
        assert entry.before["disagreement_threshold"] == entry.after["disagreement_threshold"] == "20"
