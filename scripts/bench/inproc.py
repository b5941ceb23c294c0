"""In-process measurements (run by scripts/bench/run.py, one database per run):

queries  the SQL statements each staff page sends (a before_cursor_execute listener), signed in
         through /login with Flask's test client;
letters  award letters per second: fundapp's own rendering (awards.operations.render_letter, what
         the letter job runs) against reportlab drawing the same content, data read with one query.

FUNDAPP_DATABASE_URL=... .venv/bin/python scripts/bench/inproc.py queries --info seed.json
"""

import argparse
import gc
import io
import json
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ["FUNDAPP_ENV"] = "development"  # MFA off in-process: the pages are the same
os.environ.pop("FUNDAPP_REDIS_URL", None)

import sqlalchemy as sa  # noqa: E402
from sqlalchemy import event  # noqa: E402

from fundapp import create_app  # noqa: E402
from fundapp.extensions import db  # noqa: E402

PAGES = {
    "applications": "/staff/calls/{call}/applications",
    "ranking": "/staff/calls/{call}/ranking",
    "reviews": "/staff/calls/{call}/reviews",
    "decisions": "/staff/calls/{call}/decisions",
}


def csrf_of(html):
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    return match.group(1) if match else ""


def count_queries(info):
    app = create_app()
    counter = {"n": 0}
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def _count(conn, cursor, statement, parameters, context, executemany):
            counter["n"] += 1

    client = app.test_client()
    login = client.get("/login").get_data(as_text=True)
    response = client.post(
        "/login", data={"email": info["staff_email"], "password": info["password"], "csrf_token": csrf_of(login)}
    )
    assert response.status_code == 302, f"staff sign-in refused: {response.status_code}"
    result = {}
    for name, path in PAGES.items():
        url = path.format(call=info["rank_call"])
        client.get(url)  # warm: templates compiled, caches filled
        counter["n"] = 0
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        result[name] = counter["n"]
    return result


# -- letters ------------------------------------------------------------------------------------

LETTER_SQL = """
SELECT d.id, d.decided_at, d.amount_cents, d.conditions, a.reference, a.title, a.language, m.name,
       c.title, g.id
FROM decision d JOIN application a ON a.id = d.application_id JOIN member m ON m.id = a.member_id
JOIN call c ON c.id = a.call_id JOIN grant_award g ON g.decision_id = d.id
WHERE d.id = :id"""


def raw_letter(row, tranches, donors, styles):
    """The award letter's content with reportlab alone: same flowables, styles made once."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Table, TableStyle

    from fundapp.core.pdf import BRAND, FONT, FONT_BOLD

    def p(text, style="body"):
        return Paragraph(escape(str(text)), styles[style])

    _id, decided_at, amount, conditions, reference, title, language, city, call_title, _gid = row
    money = f"{amount / 100:,.2f} €"
    story = [
        p(decided_at.date().isoformat(), "right"),
        p(city, "h2"),
        p(f"Reference: {reference}"),
        p(f"Project: {title}"),
        p((call_title or {}).get(language) or (call_title or {}).get("en", ""), "small"),
        p("Award of a grant", "title"),
        p(
            f"We are pleased to inform you that the International Fund for Metropolises awards {city} a grant of {money} for the project above."
        ),
        p(f"Amount awarded: {money}", "h2"),
    ]
    if conditions:
        story += [p("Conditions", "h2"), p(conditions)]
    story.append(p("Payment schedule", "h2"))
    cells = [["Tranche", "When", "Amount"]] + [
        [str(pos), cond, f"{cents / 100:,.2f} €"] for pos, cond, cents in tranches
    ]
    table = Table(
        [[Paragraph(escape(c), styles["small"]) for c in r] for r in cells], colWidths=[60, 260, 150], repeatRows=1
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), FONT),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ]
        )
    )
    story += [
        table,
        p("Reporting", "h2"),
        p(
            "The city reports on the project's progress in an interim report and a final report, with its expenditure per budget line and the people reached, by gender."
        ),
        p("Acknowledgement", "h2"),
        p(f"This grant is made possible by the contributions of {', '.join(sorted(donors))}."),
        p("Please accept the grant on your fundapp home page, confirming the bank details for the payments."),
        p(" "),
        p("For the International Fund for Metropolises"),
        p("Metropolis Secretariat General, Barcelona", "small"),
    ]
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=20 * mm,
        rightMargin=20 * mm,
        topMargin=28 * mm,
        bottomMargin=22 * mm,
        title=reference,
        invariant=1,
    )

    def decorate(canvas, _doc):
        canvas.saveState()
        canvas.setFillColor(BRAND)
        canvas.rect(0, A4[1] - 14 * mm, A4[0], 14 * mm, stroke=0, fill=1)
        canvas.setFillColor(colors.white)
        canvas.setFont(FONT_BOLD, 11)
        canvas.drawString(20 * mm, A4[1] - 9 * mm, "Metropolis · International Fund for Metropolises")
        canvas.setFillColor(colors.grey)
        canvas.setFont(FONT, 8)
        canvas.drawString(20 * mm, 12 * mm, reference)
        canvas.drawRightString(A4[0] - 20 * mm, 12 * mm, f"Page {canvas.getPageNumber()}")
        canvas.restoreState()

    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame], onPage=decorate)])
    doc.build(story)
    return buffer.getvalue()


def letters(info, count):
    from fundapp.awards import operations
    from fundapp.awards.models import Decision
    from fundapp.core import pdf

    app = create_app()
    with app.test_request_context():
        ids = db.session.scalars(
            sa.select(Decision.id)
            .where(Decision.kind == "award", Decision.letter_sent_at.is_not(None))
            .order_by(Decision.id)
            .limit(count)
        ).all()
        db.session.remove()
        # Warm both (fonts registered, modules imported).
        operations.render_letter(db.session.get(Decision, ids[0]))
        db.session.remove()
        styles = pdf.styles()

        def fundapp_letter(decision_id):
            size = len(operations.render_letter(db.session.get(Decision, decision_id)))
            db.session.remove()  # each letter job has its own session
            return size

        def raw_letter_of(decision_id):
            conn = db.session.connection()
            row = conn.execute(sa.text(LETTER_SQL), {"id": decision_id}).one()
            tranches = conn.execute(
                sa.text("SELECT position, condition, amount_cents FROM tranche WHERE grant_id = :g ORDER BY position"),
                {"g": row[9]},
            ).all()
            donors = (
                conn.execute(
                    sa.text(
                        """SELECT DISTINCT d.name FROM allocation al JOIN call_funding f ON f.id = al.call_funding_id
                       JOIN contribution c ON c.id = f.contribution_id JOIN donor d ON d.id = c.donor_id
                       WHERE al.grant_id = :g"""
                    ),
                    {"g": row[9]},
                )
                .scalars()
                .all()
            )
            size = len(raw_letter(row, [(p, c.replace("_", " "), a) for p, c, a in tranches], donors, styles))
            db.session.remove()
            return size

        raw_letter_of(ids[0])
        # One letter each way in turn (which goes first alternates), after a full collection: the
        # garbage collector's pauses and the machine's other work fall on both sides alike, not on
        # whichever side happens to run when a large collection is due.
        gc.collect()
        fundapp_seconds = raw_seconds = 0.0
        sizes = raw_sizes = 0
        for n, decision_id in enumerate(ids):
            for side in ("fundapp", "raw") if n % 2 == 0 else ("raw", "fundapp"):
                started = time.perf_counter()
                if side == "fundapp":
                    sizes += fundapp_letter(decision_id)
                    fundapp_seconds += time.perf_counter() - started
                else:
                    raw_sizes += raw_letter_of(decision_id)
                    raw_seconds += time.perf_counter() - started
    return {
        "letters": len(ids),
        "fundapp_per_s": len(ids) / fundapp_seconds,
        "raw_per_s": len(ids) / raw_seconds,
        "fundapp_kb": sizes / len(ids) / 1024,
        "raw_kb": raw_sizes / len(ids) / 1024,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["queries", "letters"])
    parser.add_argument("--info", required=True)
    parser.add_argument("--count", type=int, default=60)
    args = parser.parse_args()
    info = json.loads(Path(args.info).read_text())
    result = count_queries(info) if args.what == "queries" else letters(info, args.count)
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
