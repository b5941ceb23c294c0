"""Shared by the tests of a grant's life after the award (decline, close, payment dates, the reserve
list): what the database holds, to check that a refusal changed nothing, and the pages' forms."""

import re
from datetime import datetime, time
from html import unescape
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from fundapp.applications.models import Application
from fundapp.awards.models import Allocation, Decision, Grant, Payment, Tranche
from fundapp.core.models import AuditEntry, Notice, OutboxMessage
from fundapp.extensions import db
from fundapp.funding.models import CallFunding
from fundapp.reporting.models import GrantReport

from ..helpers import count, text

MADRID = ZoneInfo("Europe/Madrid")


def on(day, hour=10, minute=0):
    """`hour`:`minute` in Barcelona (the call's timezone) on `day`, as an instant."""
    return datetime.combine(day, time(hour, minute), MADRID)


def plain(page):
    """Page text with Babel's narrow and non-breaking spaces made plain, entities decoded."""
    return unescape(page).replace("\u202f", " ").replace("\xa0", " ")


def page(response):
    return plain(text(response))


def state():
    """Everything a grant's life moves: the envelope lines, grants, allocations, tranches, payments,
    decisions, applications, report duties, and the counts of audit entries, e-mails and notices."""
    db.session.expire_all()

    def rows(model, *columns):
        return sorted(tuple(getattr(r, c) for c in columns) for r in db.session.scalars(sa.select(model)))

    return {
        "lines": rows(CallFunding, "id", "amount_cents", "committed_cents", "paid_cents"),
        "grants": rows(
            Grant, "id", "state", "paid_cents", "returned_cents", "ended_at", "declined_reason", "closed_reason"
        ),
        "allocations": rows(Allocation, "id", "paid_cents", "returned_cents"),
        "tranches": rows(Tranche, "id", "paid_cents", "due_since"),
        "payments": rows(Payment, "id", "amount_cents", "paid_on"),
        "decisions": rows(Decision, "id", "kind", "revised_at", "superseded_at", "superseded_by_id"),
        "applications": rows(Application, "id", "state", "decision_sent_at", "return_state"),
        "reports": rows(GrantReport, "id", "state"),
        "audit": count(AuditEntry),
        "outbox": count(OutboxMessage),
        "notices": count(Notice),
    }


def envelope(call_id):
    """{donor: (amount, committed, paid)} of the call's lines."""
    db.session.expire_all()
    lines = db.session.scalars(sa.select(CallFunding).where(CallFunding.call_id == call_id)).all()
    return {
        line.contribution.donor.short_name: (line.amount_cents, line.committed_cents, line.paid_cents) for line in lines
    }


def field_error(html, form, field):
    """The message shown next to `field` of the grant page's form `form`, or None."""
    match = re.search(rf'id="{form}-{field}-error">([^<]*)<', html)
    return match.group(1).strip() if match else None


def forms(html):
    """The actions of the page's POST forms."""
    return re.findall(r'<form method="post" action="([^"]+)"', html)


def refusal(html):
    """The messages of a refused form, as the grant page lists them on top (None: nothing refused)."""
    match = re.search(r'<div class="error-summary" role="alert" id="refused">(.*?)</div>', html, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else None
