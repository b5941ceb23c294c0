"""A small fund for the API's tests, built through the operations (tests/factories.py)."""

from dataclasses import dataclass, field

from fundapp.accounts import operations as accounts
from tests import factories as f
from tests.helpers import make_user


@dataclass
class Fund:
    call: object
    staff: object
    bogota: object  # accepted, first tranche paid, Medellín asked as partner
    quito: object  # reviewed, no decision
    dakar: object  # submitted
    montreal: object  # a draft
    lisbon: object  # awarded, letter not sent: the city is not told
    donor_officer: object
    reviewer: object
    grants: dict = field(default_factory=dict)


def build():
    staff = f.staff()
    the_call = f.call()
    bogota_grant = f.paid_first_tranche("Bogotá", partners=("Medellín",))
    quito = f.reviewed("Quito")
    dakar = f.submitted("Dakar")
    montreal = f.draft("Montréal")
    lisbon_decision = f.awarded("Lisbon", letter=False)
    sdc = f.fund()["SDC"].donor
    officer = make_user("officer@sdc.example", "donor", donor=sdc, name="Beat Müller")
    reviewer = f.panel()[0]
    fund = Fund(
        call=the_call,
        staff=staff,
        bogota=bogota_grant.application,
        quito=quito,
        dakar=dakar,
        montreal=montreal,
        lisbon=lisbon_decision.application,
        donor_officer=officer,
        reviewer=reviewer,
    )
    fund.grants = {"Bogotá": bogota_grant, "Lisbon": lisbon_decision.grant}
    return fund


def token(user, days=30, name="tests"):
    _token, raw = accounts.create_access_token(user, actor=user, name=name, days=days)
    return raw


def bearer(raw):
    return {"Authorization": f"Bearer {raw}"}
