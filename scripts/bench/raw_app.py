"""The yardstick: the same four staff pages as fundapp, in plain SQL (psycopg) and a trivial template.

No ORM, no sign-in, no CSRF, no i18n: what a page costs when it only reads the rows it shows.
Served by gunicorn with the same settings as fundapp (scripts/bench/run.py):

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/fundapp_bench \
        .venv/bin/gunicorn -c gunicorn.conf.py --pythonpath scripts/bench raw_app:app
"""

import os
import threading

import psycopg
from flask import Flask, abort, request

DSN = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/fundapp_bench")
PAGE_SIZE = 50
# The application states fundapp's ranking shows (APPLICATION_WORKFLOW "reviewable" or "ranked").
RANKED_STATES = ("eligible", "in_review", "reviewed", "awarded", "reserved", "not_funded")
DECIDED_STATES = ("reviewed", "awarded", "reserved", "not_funded")

app = Flask(__name__)
_local = threading.local()


def cursor():
    conn = getattr(_local, "conn", None)
    if conn is None or conn.closed:
        conn = _local.conn = psycopg.connect(DSN, autocommit=True)
    return conn.cursor()


def one(sql, params=()):
    with cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


def all_rows(sql, params=()):
    with cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def eur(cents):
    return f"EUR {cents / 100:,.2f}"


PAGE = app.jinja_env.from_string(
    """<!doctype html><html><head><meta charset="utf-8"><title>{{ title }}</title></head><body>
<h1>{{ title }}</h1>{% for line in facts %}<p>{{ line }}</p>{% endfor %}
{% for table in tables %}<table><thead><tr>{% for h in table.head %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in table.rows %}<tr>{% for cell in row %}<td>{{ cell }}</td>{% endfor %}</tr>
{% endfor %}</tbody></table>{% endfor %}</body></html>"""
)
app.jinja_env.filters["eur"] = eur


def page(title, facts, tables):
    return PAGE.render(title=title, facts=facts, tables=tables)


def call_or_404(call_id):
    row = one("SELECT id, code FROM call WHERE id = %s", (call_id,))
    if row is None:
        abort(404)
    return row


@app.route("/staff/calls/<int:call_id>/applications")
def applications(call_id):
    call = call_or_404(call_id)
    page_no = max(1, request.args.get("page", 1, type=int))
    total = one("SELECT count(*) FROM application WHERE call_id = %s AND first_submitted_at IS NOT NULL", (call_id,))[0]
    drafts = one(
        "SELECT count(*) FROM application WHERE call_id = %s AND first_submitted_at IS NULL AND state = 'draft'",
        (call_id,),
    )[0]
    rows = all_rows(
        """SELECT a.reference, m.name || ' (' || m.country || ')', a.title, a.state, a.requested_cents,
                  (SELECT count(*) FROM application_partner p WHERE p.application_id = a.id), a.first_submitted_at
           FROM application a JOIN member m ON m.id = a.member_id
           WHERE a.call_id = %s AND a.first_submitted_at IS NOT NULL
           ORDER BY a.number, a.id LIMIT %s OFFSET %s""",
        (call_id, PAGE_SIZE, (page_no - 1) * PAGE_SIZE),
    )
    rows = [(r[0], r[1], r[2], r[3], eur(r[4]), r[5], r[6].isoformat()) for r in rows]
    return page(
        f"Applications to {call[1]}",
        [f"{drafts} drafts in progress", f"{total} results"],
        [{"head": ["Reference", "City", "Project", "State", "Requested", "Partners", "Submitted"], "rows": rows}],
    )


def ranking_rows(call_id):
    """[(id, reference, city, requested, reviews, mean, spread, [criterion means])], ranked, as fundapp
    orders them (mean, then the criteria in order, then the earlier submission)."""
    criteria = [r[0] for r in all_rows("SELECT id FROM criterion WHERE call_id = %s ORDER BY position, id", (call_id,))]
    crit_selects = "".join(
        f", round(avg(cs.score) FILTER (WHERE cs.criterion_id = {int(c)}), 2) AS c{i}" for i, c in enumerate(criteria)
    )
    crit_cols = "".join(f", c.c{i}" for i in range(len(criteria)))
    crit_order = "".join(f", c.c{i} DESC NULLS LAST" for i in range(len(criteria)))
    sql = f"""
      WITH shown AS (SELECT id FROM application WHERE call_id = %(call)s AND state = ANY(%(states)s)),
      r AS (SELECT s.application_id, count(*) AS n, round(avg(v.score), 2) AS mean, max(v.score) - min(v.score) AS spread
            FROM assignment s JOIN review v ON v.assignment_id = s.id
            WHERE s.application_id IN (SELECT id FROM shown) AND v.submitted_at IS NOT NULL
            GROUP BY s.application_id),
      c AS (SELECT s.application_id{crit_selects}
            FROM assignment s JOIN review v ON v.assignment_id = s.id JOIN criterion_score cs ON cs.review_id = v.id
            WHERE s.application_id IN (SELECT id FROM shown) AND v.submitted_at IS NOT NULL
            GROUP BY s.application_id)
      SELECT a.id, a.reference, m.name, a.requested_cents, r.n, coalesce(pc.score, r.mean) AS score, r.mean, r.spread,
             a.state{crit_cols}
      FROM application a JOIN member m ON m.id = a.member_id
      JOIN r ON r.application_id = a.id LEFT JOIN c ON c.application_id = a.id
      LEFT JOIN panel_consensus pc ON pc.application_id = a.id
      ORDER BY score DESC{crit_order}, a.first_submitted_at, a.id"""
    return criteria, all_rows(sql, {"call": call_id, "states": list(RANKED_STATES)})


@app.route("/staff/calls/<int:call_id>/ranking")
def ranking(call_id):
    call = call_or_404(call_id)
    criteria, rows = ranking_rows(call_id)
    table = [(i, r[1], r[2], eur(r[3]), r[4], r[6], r[5], r[7], *r[9:]) for i, r in enumerate(rows, start=1)]
    return page(
        f"Ranking {call[1]}",
        [],
        [
            {
                "head": ["#", "Application", "City", "Requested", "Reviews", "Mean", "Score", "Spread"]
                + [f"C{i}" for i in range(len(criteria))],
                "rows": table,
            }
        ],
    )


@app.route("/staff/calls/<int:call_id>/reviews")
def progress(call_id):
    call = call_or_404(call_id)
    page_no = max(1, request.args.get("page", 1, type=int))
    by_state = all_rows(
        """SELECT s.state, count(*) FROM assignment s JOIN application a ON a.id = s.application_id
           WHERE a.call_id = %s GROUP BY s.state ORDER BY s.state""",
        (call_id,),
    )
    load = all_rows(
        """SELECT u.name, count(*) AS n FROM assignment s JOIN application a ON a.id = s.application_id
           JOIN user_account u ON u.id = s.reviewer_id
           WHERE a.call_id = %s AND s.state IN ('assigned', 'accepted', 'submitted', 'reopened')
           GROUP BY u.id, u.name ORDER BY n DESC, u.name""",
        (call_id,),
    )
    listed = all_rows(
        """SELECT a.reference, u.name, s.state, s.due_at FROM assignment s JOIN application a ON a.id = s.application_id
           JOIN user_account u ON u.id = s.reviewer_id WHERE a.call_id = %s
           ORDER BY s.due_at IS NULL, s.due_at, s.id LIMIT %s OFFSET %s""",
        (call_id, PAGE_SIZE, (page_no - 1) * PAGE_SIZE),
    )
    return page(
        f"Reviews of {call[1]}",
        [],
        [
            {"head": ["State", "Assignments"], "rows": by_state},
            {"head": ["Reviewer", "Load"], "rows": load},
            {"head": ["Application", "Reviewer", "State", "Due"], "rows": listed},
        ],
    )


@app.route("/staff/calls/<int:call_id>/decisions")
def decisions(call_id):
    call = call_or_404(call_id)
    envelope, committed = one(
        "SELECT coalesce(sum(amount_cents), 0), coalesce(sum(committed_cents), 0) FROM call_funding WHERE call_id = %s",
        (call_id,),
    )
    cap = one("SELECT cap_cents FROM call WHERE id = %s", (call_id,))[0]
    remaining = envelope - committed
    decided = dict(
        all_rows(
            """SELECT d.application_id, d.kind FROM decision d JOIN application a ON a.id = d.application_id
               WHERE a.call_id = %s AND d.revised_at IS NULL AND d.superseded_at IS NULL""",
            (call_id,),
        )
    )
    _criteria, rows = ranking_rows(call_id)
    cumulative, table = 0, []
    for i, r in enumerate(rows, start=1):
        if r[8] not in DECIDED_STATES:
            continue
        kind = decided.get(r[0])
        amount = min(r[3], cap)
        if kind:
            table.append((i, r[1], r[2], r[5], eur(r[3]), kind, ""))
            continue
        fits = cumulative + amount <= remaining
        if fits:
            cumulative += amount
        table.append((i, r[1], r[2], r[5], eur(r[3]), "fits" if fits else "reserve", eur(cumulative)))
    return page(
        f"Decisions {call[1]}",
        [
            f"Envelope {eur(envelope)}",
            f"Committed {eur(committed)}",
            f"Remaining {eur(remaining)}",
            f"Proposed {eur(cumulative)}",
        ],
        [{"head": ["#", "Application", "City", "Score", "Requested", "Scenario", "Running total"], "rows": table}],
    )
