"""One fund maximum: no call's cap above the fund's largest grant (EUR 100,000), in the form, the
operation and the database; a draft always checks its budget against its call's current cap."""

import re

import pytest
import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.calls.models import Call
from fundapp.core.errors import Refused
from fundapp.core.models import AuditEntry
from fundapp.extensions import db

from .. import factories as f
from ..applications.conftest import as_user, cities, complete_fields, save, start  # noqa: F401
from ..helpers import count, text
from .conftest import call_form, make_call


def _field_error(page, field_id):
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', page, re.S)
    return match.group(1).strip() if match else None


def _call_row(call_id):
    """The call as stored, read afresh."""
    db.session.expire_all()
    call = db.session.get(Call, call_id)
    return (call.cap_cents, call.min_grant_cents, call.updated_at)


MESSAGE = "The fund’s largest grant is €100,000.00: a call’s cap cannot be above it."


def test_a_new_call_with_a_cap_above_the_fund_maximum_is_refused_on_the_cap_field(app, fund, staff):
    response = staff.post("/staff/calls/new", call_form(fund, cap="100000.01"), token_from="/staff/calls/new")
    assert response.status_code == 400
    page = text(response)
    assert _field_error(page, "cap") == MESSAGE
    assert 'value="100000.01"' in page  # what staff typed is kept
    with app.app_context():
        assert count(Call) == 0 and count(AuditEntry, AuditEntry.action == "call.create") == 0
    # The maximum itself is allowed.
    response = staff.post("/staff/calls/new", call_form(fund, cap="100000"), token_from="/staff/calls/new")
    assert response.status_code == 302


def test_within_the_maximum_the_cap_is_still_bounded_by_the_envelope(app, fund, staff):
    """A cap of EUR 100,000 (the maximum) on an envelope of EUR 60,000 from OSF alone is refused."""
    data = call_form(fund, cap="100000", **{f"fund_{fund['SDC']}": "", f"fund_{fund['OSF']}": "60000"})
    response = staff.post("/staff/calls/new", data, token_from="/staff/calls/new")
    assert response.status_code == 400
    assert (
        _field_error(text(response), "cap") == "The grant cap (€100,000.00) cannot be above the envelope (€60,000.00)."
    )
    with app.app_context():
        assert count(Call) == 0


def test_the_form_says_the_maximum_beside_the_cap(app, fund, staff):
    page = text(staff.get("/staff/calls/new"))
    assert "At most €100,000.00, the fund’s largest grant." in page


def test_raising_an_existing_calls_cap_above_the_maximum_changes_nothing(app, fund, staff):
    call_id = make_call(app, fund, publish=True)
    with app.app_context():
        before = _call_row(call_id)
    edit = f"/staff/calls/{call_id}/edit"
    response = staff.post(edit, call_form(fund, cap="150000", theme="Care economies"), token_from=edit)
    assert response.status_code == 400 and _field_error(text(response), "cap") == MESSAGE
    with app.app_context():
        assert _call_row(call_id) == before
        assert db.session.get(Call, call_id).theme == "Local care systems"
        assert count(AuditEntry, AuditEntry.action == "call.update") == 0


def test_the_operation_refuses_a_cap_above_the_maximum(app):
    with app.app_context():
        the_call = f.call()
        call_id, before = the_call.id, _call_row(the_call.id)
        with pytest.raises(Refused) as refused:
            f.edit_call(the_call, cap_cents=100_000_01)
        assert refused.value.field == "cap" and str(refused.value.message) == MESSAGE
        db.session.rollback()
        assert _call_row(call_id) == before
        # Lower than the built-in maximum, the setting bounds caps too.
        app.config["FUND_MAX_GRANT_CENTS"] = 80_000_00
        with pytest.raises(Refused) as refused:
            f.edit_call(db.session.get(Call, call_id), cap_cents=90_000_00)
        assert "€80,000.00" in str(refused.value.message)
        db.session.rollback()
        assert _call_row(call_id) == before


def test_the_database_refuses_a_cap_above_the_maximum(app):
    with app.app_context():
        call_id = f.call().id
        with pytest.raises(sa.exc.IntegrityError) as error:
            db.session.execute(sa.text('UPDATE "call" SET cap_cents = 10000001 WHERE id = :id'), {"id": call_id})
        assert "ck_call_cap_within_fund_maximum" in str(error.value)
        db.session.rollback()
        assert _call_row(call_id)[0] == 100_000_00
        db.session.execute(sa.text('UPDATE "call" SET cap_cents = 10000000 WHERE id = :id'), {"id": call_id})
        db.session.rollback()


def _budget(requested_first, requested_second="40,000"):
    return {"budget-0-requested": requested_first, "budget-1-requested": requested_second}


def test_raising_the_cap_before_any_submission_lets_a_draft_request_more(app, fund, staff, cities, make_client):  # noqa: F811
    """Camila (Bogotá) drafts under a EUR 80,000 cap; staff raise it to EUR 100,000 before anyone
    has submitted: her draft may now ask for EUR 100,000, and is submitted so."""
    call_id = make_call(app, fund, publish=True)
    edit = f"/staff/calls/{call_id}/edit"
    assert staff.post(edit, call_form(fund, cap="80000"), token_from=edit).status_code == 302
    camila = as_user(make_client, "camila@bogota.example")
    application_id = start(camila)
    with app.app_context():
        assert db.session.get(Application, application_id).cap_cents == 80_000_00

    data = complete_fields(app, call_id)
    data.update(_budget("60,000"))  # EUR 100,000 in all: above EUR 80,000
    response = save(camila, application_id, data)
    assert response.status_code == 302  # saved as typed; the editor says why it cannot be sent so
    assert "The total requested, €100,000.00, is above the call’s cap of €80,000.00: your budget is saved" in text(
        camila.get(f"/applications/{application_id}/edit")
    )
    with app.app_context():  # kept as typed, to be trimmed or sent once the cap allows it
        assert db.session.get(Application, application_id).requested_cents == 100_000_00

    assert staff.post(edit, call_form(fund, cap="100000"), token_from=edit).status_code == 302
    with app.app_context():
        # The draft follows the call, in the same operation as the cap's change.
        assert db.session.get(Application, application_id).cap_cents == 100_000_00
    assert "Up to €100,000.00 from the fund." in text(camila.get(f"/applications/{application_id}/edit"))
    response = save(camila, application_id, data)
    assert response.status_code == 302, text(response)
    with app.app_context():
        assert db.session.get(Application, application_id).requested_cents == 100_000_00


def test_lowering_the_cap_keeps_the_draft_but_it_cannot_be_submitted_above_it(app):
    """Bogotá's draft asks EUR 100,000; staff lower the cap to EUR 90,000 before any submission:
    the draft keeps its budget (nothing the city typed is lost), but submitting it is refused
    until the city trims it."""
    with app.app_context():
        application = f.draft("Bogotá")
        the_call, focal = application.call, f.focal_point("Bogotá")
        f.edit_call(the_call, cap_cents=90_000_00)
        db.session.expire_all()
        application = db.session.get(Application, application.id)
        assert application.cap_cents == 90_000_00 and application.requested_cents == 100_000_00
        with pytest.raises(Refused) as refused:
            f.s.submit(application, focal)
        messages = [str(m) for m, _field in refused.value.errors]
        assert "The total requested is above the call’s cap of €90,000.00." in messages
        db.session.rollback()
        db.session.expire_all()
        application = db.session.get(Application, application.id)
        assert application.reference is None and application.state == "draft"
        assert db.session.get(Call, the_call.id).locked_at is None
        # A sent application never stands above its cap: the database says so too.
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(
                sa.text("UPDATE application SET first_submitted_at = now(), reference = 'IFM-X-001' WHERE id = :id"),
                {"id": application.id},
            )
        db.session.rollback()


def test_once_submitted_the_cap_is_fixed_for_every_draft(app):
    """After Bogotá's submission the call is locked: a change of cap is refused and Montréal's
    draft keeps the cap it had."""
    with app.app_context():
        the_call = f.call()
        f.submitted("Bogotá", the_call=the_call)
        montreal = f.draft("Montréal", the_call=the_call, requested=90_000_00)
        with pytest.raises(Refused):
            f.edit_call(db.session.get(Call, the_call.id), cap_cents=95_000_00)
        db.session.rollback()
        db.session.expire_all()
        assert db.session.get(Application, montreal.id).cap_cents == 100_000_00
        assert db.session.get(Call, the_call.id).cap_cents == 100_000_00
