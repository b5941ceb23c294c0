"""Every address a real person has is accepted; outside production that includes the reserved
test domains of the demo (maria@bogota.test); in production the library's normal checks stand."""

import email
import re
from email import policy

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from fundapp.accounts import operations as accounts
from fundapp.accounts.models import Invitation, PasswordReset, User
from fundapp.core.addresses import check_email_address, validation_options
from fundapp.core.errors import Refused
from fundapp.core.models import AuditEntry, JobRecord, OutboxMessage
from fundapp.extensions import db

from ..helpers import PASSWORD, count, make_member, make_user, run_jobs, text

LINK_RE = re.compile(r"http://fundapp\.test(/\S+)")
FIELD_ERROR_RE = re.compile(r'<p class="error" id="email-error">([^<]*)</p>')


def _link(smtp_server, to):
    for envelope in smtp_server.messages:
        if to in envelope.rcpt_tos:
            body = email.message_from_bytes(envelope.content, policy=policy.default).get_content()
            return LINK_RE.search(body).group(1)
    raise AssertionError(f"no mail to {to}")


def _invite(client, **fields):
    data = {"name": "", "email": "", "role": "reviewer", "member": 0, "donor": 0, "language": "en"}
    data.update(fields)
    return client.post("/users/invite", data, token_from="/users/invite")


def _nothing_written():
    return (
        count(Invitation) == 0
        and count(OutboxMessage) == 0
        and count(JobRecord) == 0
        and count(AuditEntry, AuditEntry.action == "invitation.create") == 0
    )


def test_people_on_reserved_test_domains_are_invited_and_accept_through_the_pages(app, make_client, smtp_server):
    assert app.config["ENV_NAME"] == "testing"
    with app.app_context():
        bogota_id = make_member("Bogotá", "CO", "latin_america_caribbean").id
        make_user("staff@fund.example", "staff", name="Sofía Martín")
    staff = make_client()
    staff.login("staff@fund.example")
    response = _invite(
        staff, name="María Rojas", email="Maria@Bogota.test", role="applicant", member=bogota_id, language="es"
    )
    assert response.status_code == 302
    response = _invite(staff, name="Ana Quispe", email="ana@quito.example", role="reviewer", language="es")
    assert response.status_code == 302
    run_jobs(app)

    for address, name in (("maria@bogota.test", "María Rojas Pérez"), ("ana@quito.example", "Ana Quispe")):
        path = _link(smtp_server, address)
        invitee = make_client()
        page = invitee.get(path)
        assert page.status_code == 200
        response = invitee.post(path, {"name": name, "password": PASSWORD, "confirm": PASSWORD}, token_from=path)
        assert response.status_code == 302
        make_client().login(address)

    with app.app_context():
        maria = db.session.scalar(sa.select(User).where(User.email == "maria@bogota.test"))
        assert maria.name == "María Rojas Pérez" and maria.member_ids() == [bogota_id]
        ana = db.session.scalar(sa.select(User).where(User.email == "ana@quito.example"))
        assert ana.has_role("reviewer") and ana.language == "es"


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "address",
    ["maria@bogota", "maria.bogota.test", "maria@@bogota.test", "maría rojas@bogota.test", "maria@bogota..test"],
)
def test_a_malformed_address_is_refused_next_to_the_field_and_nothing_is_written(app, client, address):
    with app.app_context():
        make_user("staff@fund.example", "staff")
    client.login("staff@fund.example")
    response = _invite(client, name="María Rojas", email=address)
    assert response.status_code == 200
    page = text(response)
    assert FIELD_ERROR_RE.search(page).group(1) == "Enter a valid e-mail address."
    assert 'value="María Rojas"' in page  # the rest of the input is kept
    with app.app_context():
        assert _nothing_written()


@pytest.mark.sqlite
def test_the_operations_apply_the_same_rule_for_every_caller(app):
    with app.test_request_context():
        staff = make_user("staff@fund.example", "staff")
        for address in ("maria@bogota", "maria.bogota.test", ""):
            with pytest.raises(Refused) as refused:
                accounts.invite(actor=staff, email=address, name="María", role="reviewer")
            assert refused.value.field == "email"
            db.session.rollback()
            with pytest.raises(Refused) as refused:
                accounts.create_user(email=address, name="María", roles=[("reviewer", None, None)])
            assert refused.value.field == "email"
            db.session.rollback()
        assert _nothing_written()
        assert count(User) == 1
        user = accounts.create_user(email="Maria@Bogota.test", name="María", roles=[("reviewer", None, None)])
        assert user.email == "maria@bogota.test"


@pytest.mark.sqlite
def test_production_keeps_the_normal_checks(app, client):
    with app.test_request_context():
        app.config["ENV_NAME"] = "production"
        assert validation_options() == {"check_deliverability": True, "test_environment": False}
        assert validation_options(deliverable=False)["check_deliverability"] is False
        with pytest.raises(Refused):
            check_email_address("maria@bogota.test", deliverable=False)
        # .example is an ordinary domain name for the library: only DNS would refuse it.
        assert check_email_address("ana@quito.example", deliverable=False) == "ana@quito.example"
        app.config["ENV_NAME"] = "development"
        assert check_email_address("maria@bogota.test") == "maria@bogota.test"
        make_user("staff@fund.example", "staff")

    app.config["ENV_NAME"] = "production"
    client.login("staff@fund.example")
    # The special-use name is refused before any DNS question is asked.
    response = _invite(client, name="María Rojas", email="maria@bogota.test")
    assert FIELD_ERROR_RE.search(text(response)).group(1) == "Enter a valid e-mail address."
    response = client.post("/forgot-password", {"email": "maria@bogota.test"}, token_from="/forgot-password")
    assert FIELD_ERROR_RE.search(text(response))
    with app.app_context():
        assert _nothing_written() and count(PasswordReset) == 0


def test_a_reset_is_sent_to_an_address_on_a_test_domain(app, make_client, smtp_server):
    with app.app_context():
        make_user("maria@bogota.test", "applicant", member=make_member("Bogotá", "CO", "latin_america_caribbean"))
    anonymous = make_client()
    response = anonymous.post("/forgot-password", {"email": "maria@bogota.test"}, token_from="/forgot-password")
    assert "Check your e-mail" in text(response)
    run_jobs(app)
    path = _link(smtp_server, "maria@bogota.test")
    response = anonymous.post(
        path, {"password": "mi nueva contraseña", "confirm": "mi nueva contraseña"}, token_from=path
    )
    assert response.status_code == 302
    make_client().login("maria@bogota.test", "mi nueva contraseña")

    refused = make_client().post("/forgot-password", {"email": "maria@bogota"}, token_from="/forgot-password")
    assert FIELD_ERROR_RE.search(text(refused)).group(1) == "Enter a valid e-mail address."
    with app.app_context():
        assert count(PasswordReset) == 1


@pytest.mark.sqlite
def test_contact_addresses_of_calls_and_donors_follow_the_same_rule(app):
    from fundapp.calls.forms import CallForm
    from fundapp.funding.forms import DonorForm

    with app.test_request_context():
        for form_class in (CallForm, DonorForm):
            for address, valid in (
                ("fondo@montreal.test", True),
                ("sdc@bern.example", True),
                ("fondo@montreal", False),
                ("fondo.montreal.test", False),
            ):
                form = form_class(formdata=MultiDict({"contact_email": address}), meta={"csrf": False})
                assert form.contact_email.validate(form) is valid, (form_class.__name__, address)
                if not valid:
                    assert form.contact_email.errors == ["Enter a valid e-mail address."]
