"""The history of an application and of its grant, as staff read them: what was done, named in
their language, with the amount or reason it recorded, and nothing of another object."""

import pytest
import sqlalchemy as sa

from fundapp.awards.models import Payment
from fundapp.core import audit
from fundapp.core.i18n import format_eur
from fundapp.core.models import AuditEntry
from fundapp.extensions import db

from .. import factories as f
from ..helpers import text

pytestmark = pytest.mark.sqlite


def test_staff_read_a_grant_s_history_in_spanish_and_only_its_own(app, make_client):
    with app.app_context():
        f.fund()
        f.submitted("Lima")  # an application without a grant, so that ids of the two kinds differ
        grant = f.paid_first_tranche("São Paulo")
        grant_id, application_id = grant.id, grant.application_id
        if grant_id == application_id:
            pytest.skip("the ids coincide: no other object can share them")
        paid = db.session.scalar(sa.select(Payment.amount_cents).where(Payment.grant_id == grant_id))
        # Entries of another grant that has the id of this grant's application, and of another
        # application that has this grant's id: neither belongs in this grant's history.
        audit.record("grant.close", object_type="Grant", object_id=application_id, after={"reason": "Otra subvención"})
        audit.record(
            "application.withdraw", object_type="Application", object_id=grant_id, after={"reason": "Otra solicitud"}
        )
        db.session.commit()
        own = db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(
                sa.or_(
                    sa.and_(AuditEntry.object_type == "Grant", AuditEntry.object_id == str(grant_id)),
                    sa.and_(AuditEntry.object_type == "Application", AuditEntry.object_id == str(application_id)),
                )
            )
        )
    staff = make_client()
    staff.login("staff@fund.example")
    staff.post("/language", {"language": "es"}, token_from="/")
    page = text(staff.get(f"/grants/{grant_id}"))
    history = page.split('<ul class="history">', 1)[1].split("</ul>", 1)[0]
    assert history.count("<li>") == own
    assert "Otra subvención" not in page and "Otra solicitud" not in page
    with app.test_request_context(headers={"Accept-Language": "es"}):
        paid_in_spanish = format_eur(paid)
    for said in (
        "Solicitud presentada",
        "Decisión: concesión",
        "Subvención aceptada",
        f"Pago registrado: {paid_in_spanish}",
    ):
        assert said in history, said
    # Codes and the audit log's English summaries stay in the audit log, which the page links to.
    assert "payment.record" not in page and "application.submit" not in page and "first payment" not in page
    assert f"/audit?object_type=Grant&amp;object_id={grant_id}" in page

    page = text(staff.get(f"/staff/applications/{application_id}"))
    history = page.split('<ul class="history">', 1)[1].split("</ul>", 1)[0]
    assert "Solicitud iniciada" in history and "Borrador guardado" in history and "Solicitud presentada" in history
    assert "Otra solicitud" not in page
    assert f"/audit?object_type=Application&amp;object_id={application_id}" in page


def test_an_application_without_entries_of_its_own_says_so(app):
    """The macro's empty state (an application always has entries; the text must exist in all
    three languages) and an action nobody named reads as its code."""
    from flask import render_template_string

    with app.test_request_context(headers={"Accept-Language": "fr"}):
        page = render_template_string('{% from "macros.html" import history_list %}{{ history_list([]) }}')
        assert "Rien n’a encore été enregistré." in page
        assert audit.action_label("something.new") == "something.new"
        assert str(audit.action_label("application.withdraw")) == "Candidature retirée"
