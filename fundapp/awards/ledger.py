"""Moving money in the call's envelope: every change is one conditional UPDATE per line.

The UPDATE only succeeds while the line keeps 0 <= paid <= committed <= amount, and the database
CHECK constraints say the same, so no interleaving of two staff members can over-commit a euro.
"""

from fractions import Fraction

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..calls.models import CallFunding
from ..core.errors import Refused
from ..extensions import db


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
    """Add delta to one ledger column of one line, only if `condition` still holds afterwards."""
    result = db.session.execute(
        sa.update(CallFunding)
        .where(CallFunding.id == line_id, condition)
        .values({column: getattr(CallFunding, column) + delta})
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def commit_money(parts):
    """{line id: cents} taken from what the lines have left; all or nothing."""
    for line_id, cents in sorted(parts.items()):
        if cents and not _move(
            line_id, "committed_cents", cents, CallFunding.committed_cents + cents <= CallFunding.amount_cents
        ):
            raise Refused(
                _l("The envelope no longer has that much left: someone has just committed it. Nothing was moved."),
                field="amount",
            )


def release_money(parts):
    """{line id: cents} returned to what the lines have left."""
    for line_id, cents in sorted(parts.items()):
        if cents and not _move(
            line_id, "committed_cents", -cents, CallFunding.committed_cents - cents >= CallFunding.paid_cents
        ):
            raise Refused(_l("The ledger does not hold this money any more. Nothing was moved."))


def pay_money(parts):
    """{line id: cents} paid out of what the lines have committed."""
    for line_id, cents in sorted(parts.items()):
        if cents and not _move(
            line_id, "paid_cents", cents, CallFunding.paid_cents + cents <= CallFunding.committed_cents
        ):
            raise Refused(_l("The ledger does not hold this money. Nothing was paid."), field="amount")
