from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from fundapp.core.timeutil import clock_at
from fundapp.extensions import db

from .. import factories as f

MADRID = ZoneInfo("Europe/Madrid")
PAID_ON = date(2026, 11, 20)


def on(day, hour=10):
    """`hour` o'clock in Barcelona on `day`, as an instant."""
    return datetime.combine(day, time(hour), MADRID)


@pytest.fixture
def funded(app):
    """Two grants of EUR 100,000 (Bogotá's, then Montréal's) of the Local Care Systems call, accepted, and
    the first tranche of each (EUR 40,000) paid on 20 November 2026: ids [Bogotá's grant, Montréal's].

    Each step is walked through the operations on its own past date (the fund and the call in September,
    the awards and acceptances in October, the payments in November), so every figure of a 2026 period
    is fixed. People: staff@fund.example, Bogotá's focal point focal@bogota.example (Spanish),
    Montréal's focal@montreal.example (French), the SDC officer officer@sdc.example; password f.PASSWORD.
    """
    with app.app_context():
        with clock_at(on(date(2026, 9, 1))):
            contributions = f.fund()
            f.staff()
            f.user("officer@sdc.example", "donor", name="Rahel Gerber", language="fr", donor=contributions["SDC"].donor)
            f.call()
        with clock_at(on(date(2026, 10, 1))):
            grants = [
                f.accepted("Bogotá", partners=["Medellín"], dimensions=("recognise", "redistribute")),
                f.accepted("Montréal", marks=f.GOOD, dimensions=("reward", "represent")),
            ]
        with clock_at(on(PAID_ON)):
            for grant in grants:
                f.s.pay_due(grant, f.staff(), paid_on=PAID_ON)
        ids = [grant.id for grant in grants]
        db.session.remove()
    return ids
