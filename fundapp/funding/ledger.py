"""Moving money in the call's envelope: every change is one conditional UPDATE per line, and one
dated, append-only ledger entry per line (funding.models.LedgerEntry).

The UPDATE only succeeds while the line keeps 0 <= paid <= committed <= amount, and the database
CHECK constraints say the same, so no interleaving of two staff members can over-commit a euro.
The entries say when each euro moved, so the figures of any past period can be rebuilt; the
line's columns always equal the sum of its entries (`mismatches`).
"""

from fractions import Fraction
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from ..core.audit import _current_actor_id
from ..core.catalogue import lazy_gettext as _l
from ..core.errors import Refused
from ..core.money import format_eur
from ..core.timeutil import utcnow
from ..extensions import db
from .models import CallFunding, LedgerEntry
from .queries import contribution_allocated_cents


def split_pro_rata(total, shares):
    """Split `total` cents over [(key, weight, limit)] in proportion to weight, never above a limit.

    Largest-remainder rounding: the parts are whole cents and add up to `total` exactly. Returns
    {key: cents} or None when the limits cannot hold the total.
    """
    shares = [(k, w, lim) for k, w, lim in shares if lim > 0 and w > 0]
    if total == 0:
        return {}
    if sum(lim for _k, _w, lim in shares) < total:
        return None
    result = {k: 0 for k, _w, _l in shares}
    left, active = total, list(shares)
    while left > 0 and active:
        weight = sum(w for _k, w, _l in active)
        exact = {k: Fraction(left * w, weight) for k, w, _l in active}  # exact, never float
        parts = {k: min(int(exact[k]), lim - result[k]) for k, _w, lim in active}
        given = sum(parts.values())
        order = sorted(active, key=lambda s: (-(exact[s[0]] - int(exact[s[0]])), str(s[0])))
        for k, _w, lim in order:
            if given >= left:
                break
            if result[k] + parts[k] < lim:
                parts[k] += 1
                given += 1
        for k in parts:
            result[k] += parts[k]
        left -= given
        active = [(k, w, lim) for k, w, lim in active if result[k] < lim]
        if given == 0:
            break
    return result if left == 0 else None


def _move(line_id, column, delta, condition):
    """Add delta to one ledger column of one line, only if `condition` still holds afterwards.

    Without autoflush: the caller's half-made changes (a grant already marked ended, its returned
    money not yet counted) are written with the rest of the operation, not in the middle of it.
    """
    with db.session.no_autoflush:
        result = db.session.execute(
            sa.update(CallFunding)
            .where(CallFunding.id == line_id, condition)
            .values({column: getattr(CallFunding, column) + delta})
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


def fund_today():
    """Today in the fund's timezone: the day a commitment, release or return is dated."""
    return utcnow().astimezone(ZoneInfo(current_app.config["FUND_TIMEZONE"])).date()


def _record(parts, kind, *, grant, on, actor):
    """One entry per line moved, in the same transaction as the move."""
    moved = {line_id: cents for line_id, cents in parts.items() if cents}
    if not moved:
        return
    if grant is not None and grant.id is None:
        db.session.flush()
    with db.session.no_autoflush:
        contributions = dict(
            db.session.execute(
                sa.select(CallFunding.id, CallFunding.contribution_id).where(CallFunding.id.in_(list(moved)))
            ).all()
        )
    actor_id = actor.id if actor is not None else _current_actor_id()
    for line_id, cents in sorted(moved.items()):
        db.session.add(
            LedgerEntry(
                call_funding_id=line_id,
                contribution_id=contributions[line_id],
                grant_id=grant.id if grant is not None else None,
                application_id=grant.application_id if grant is not None else None,
                kind=kind,
                amount_cents=cents,
                on=on or fund_today(),
                actor_id=actor_id,
            )
        )


def commit_money(parts, *, grant=None, on=None, actor=None):
    """{line id: cents} taken from what the lines have left for `grant`; all or nothing."""
    for line_id, cents in sorted(parts.items()):
        if cents and not _move(
            line_id, "committed_cents", cents, CallFunding.committed_cents + cents <= CallFunding.amount_cents
        ):
            raise Refused(
                _l("The envelope no longer has that much left: someone has just committed it. Nothing was moved."),
                field="amount",
            )
    _record(parts, "commit", grant=grant, on=on, actor=actor)


def release_money(parts, *, grant=None, on=None, actor=None, kind="return"):
    """{line id: cents} returned to what the lines have left.

    kind "return": a grant gives back what it will not pay (declined, cancelled, closed);
    kind "release": a revised award is undone, as if it had never been made.
    """
    if kind not in ("return", "release"):
        raise ValueError(f"money goes back to the lines as a return or a release, not {kind!r}")
    for line_id, cents in sorted(parts.items()):
        if cents and not _move(
            line_id, "committed_cents", -cents, CallFunding.committed_cents - cents >= CallFunding.paid_cents
        ):
            raise Refused(_l("The ledger does not hold this money any more. Nothing was moved."))
    _record(parts, kind, grant=grant, on=on, actor=actor)


def pay_money(parts, *, grant=None, on=None, actor=None):
    """{line id: cents} paid out of what the lines have committed, on the day `on` (the paid_on date)."""
    for line_id, cents in sorted(parts.items()):
        if cents and not _move(
            line_id, "paid_cents", cents, CallFunding.paid_cents + cents <= CallFunding.committed_cents
        ):
            raise Refused(_l("The ledger does not hold this money. Nothing was paid."), field="amount")
    _record(parts, "payment", grant=grant, on=on, actor=actor)


def entry_totals(line_ids=None):
    """{line id: (committed, paid)} as the ledger entries add them up."""
    committed = sa.case(
        (LedgerEntry.kind == "commit", LedgerEntry.amount_cents),
        (LedgerEntry.kind.in_(("release", "return")), -LedgerEntry.amount_cents),
        else_=0,
    )
    paid = sa.case((LedgerEntry.kind == "payment", LedgerEntry.amount_cents), else_=0)
    stmt = sa.select(LedgerEntry.call_funding_id, sa.func.sum(committed), sa.func.sum(paid)).group_by(
        LedgerEntry.call_funding_id
    )
    if line_ids is not None:
        stmt = stmt.where(LedgerEntry.call_funding_id.in_(list(line_ids) or [-1]))
    return {line_id: (int(c or 0), int(p or 0)) for line_id, c, p in db.session.execute(stmt)}


def mismatches(call_id=None):
    """Lines whose committed/paid columns differ from the sum of their entries (none, ever):
    [(line id, (committed, paid) in the columns, (committed, paid) by the entries)]."""
    stmt = sa.select(CallFunding.id, CallFunding.committed_cents, CallFunding.paid_cents).order_by(CallFunding.id)
    if call_id is not None:
        stmt = stmt.where(CallFunding.call_id == call_id)
    lines = db.session.execute(stmt).all()
    totals = entry_totals([line_id for line_id, _c, _p in lines])
    return [
        (line_id, (committed, paid), totals.get(line_id, (0, 0)))
        for line_id, committed, paid in lines
        if (committed, paid) != totals.get(line_id, (0, 0))
    ]


def set_envelope(call, funding, contributions):
    """Set a call's envelope lines to {contribution_id: cents}, each within what its contribution
    (in `contributions`, by id) has left for calls, and none below what grants already hold of it.
    The contributions are locked first, so two calls cannot both take a contribution's last euros."""
    allocated = contribution_allocated_cents(list(funding), except_call_id=call.id, lock=True)
    for cid, cents in funding.items():
        contribution = contributions[cid]
        left = contribution.eur_cents - allocated.get(cid, 0)
        if cents > left:
            raise Refused(
                _l(
                    "%(donor)s has %(left)s left to allocate; the envelope asks for %(asked)s.",
                    donor=contribution.donor.short_name,
                    left=format_eur(left),
                    asked=format_eur(cents),
                ),
                field=f"fund_{cid}",
            )
    existing = {line.contribution_id: line for line in call.funding}
    for cid, line in existing.items():
        if line.committed_cents > funding.get(cid, 0):
            raise Refused(
                _l(
                    "Grants already hold %(committed)s of this line; it cannot be less.",
                    committed=format_eur(line.committed_cents),
                ),
                field=f"fund_{cid}",
            )
    for cid, line in existing.items():
        if cid not in funding:
            call.funding.remove(line)
    for cid, cents in funding.items():
        if cid in existing:
            existing[cid].amount_cents = cents
        else:
            call.funding.append(CallFunding(contribution_id=cid, amount_cents=cents))


def give_back_unheld(call_id):
    """Lower each envelope line of a call to what grants hold of it (committed): the rest goes back
    to its contribution, for other calls. Returns {contribution id: cents given back}.

    The lines are locked first: an award at the same moment either commits its money before (and it
    is not given back) or, waiting for the lock, finds the line lowered and is refused.
    """
    lines = db.session.scalars(
        sa.select(CallFunding)
        .where(CallFunding.call_id == call_id)
        .order_by(CallFunding.id)
        .with_for_update(of=CallFunding)
        .execution_options(populate_existing=True)
    ).all()
    given = {}
    for line in lines:
        left = line.amount_cents - line.committed_cents
        if left > 0:
            line.amount_cents = line.committed_cents
            given[line.contribution_id] = left
    return given
