"""Seed a benchmark database: a small template built through fundapp's operations, then copied in bulk.

    FUNDAPP_DATABASE_URL=postgresql://postgres@127.0.0.1/fundapp_bench \
        .venv/bin/python scripts/bench/seed.py --applications 10000 --rush 200

The template (tests/factories.py, which walks fundapp/scenarios.py) gives, per call, one
application reviewed by a panel of three and one awarded, its letter sent, the grant accepted and
its first tranche paid. Every other row is a copy of one of these with SQL (executemany), so it has
the shape the operations give (JSON columns, states, snapshots, ledger entries); ids are given
here, sequences are moved past them at the end, and the envelope lines' committed and paid totals
are recomputed from the ledger. Prints one JSON line with what the bench needs (ids, accounts).
"""

import argparse
import json
import os
import random
import sys
import time
import unicodedata
from copy import deepcopy
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("FUNDAPP_ENV", "development")
os.environ.pop("FUNDAPP_REDIS_URL", None)  # the template's jobs (receipts, letters) run in-process

import sqlalchemy as sa  # noqa: E402

from fundapp import create_app  # noqa: E402
from fundapp.core.inputs import folded  # noqa: E402
from fundapp.extensions import db  # noqa: E402

PASSWORD = "correct horse battery"  # tests/factories.PASSWORD: every seeded account's password
RUSH_PREFIX = "Bench city"


def slug(text):
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


class Copier:
    """Rows to insert, with ids given here; flushed table by table in foreign-key order."""

    def __init__(self, conn):
        self.conn = conn
        self.meta = db.metadata
        self.next_ids = {}
        self.rows = {}

    def new_id(self, table):
        if table not in self.next_ids:
            self.next_ids[table] = (
                self.conn.execute(sa.text(f'SELECT coalesce(max(id), 0) FROM "{table}"')).scalar()
            ) + 1
        value = self.next_ids[table]
        self.next_ids[table] += 1
        return value

    def add(self, table, row):
        self.rows.setdefault(table, []).append(row)
        return row

    def flush(self, order):
        for table in order:
            rows = self.rows.pop(table, [])
            if not rows:
                continue
            t = self.meta.tables[table]
            for start in range(0, len(rows), 5000):
                self.conn.execute(t.insert(), rows[start : start + 5000])
        assert not self.rows, f"tables not flushed: {list(self.rows)}"

    def fix_sequences(self):
        for table in self.next_ids:
            self.conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), (SELECT coalesce(max(id), 1) FROM \"{table}\"))"
                )
            )


def fetch(conn, table, where, params):
    t = db.metadata.tables[table]
    return [
        dict(r._mapping)
        for r in conn.execute(sa.select(t).where(sa.text(where)).order_by(*t.primary_key.columns), params)
    ]


def fetch_one(conn, table, where, params):
    rows = fetch(conn, table, where, params)
    assert len(rows) == 1, (table, where, params, len(rows))
    return rows[0]


def q2(value):
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def build_template(n_calls_other, rush_cities, n_applications):
    """Everything through the operations: members, donors, staff, reviewers, calls, template applications."""
    from fundapp.core.timeutil import utcnow
    from fundapp.funding import operations as funding
    from fundapp.members import operations as members_ops
    from fundapp.members.models import Member
    from tests import factories as f

    members_ops.import_bundled_members()
    year = utcnow().year
    members_ops.record_dues_where_missing(year + 1)
    # The donors, with enough money for a thousand grants (tests/factories.fund() finds them by name).
    for short, name, cents in (
        ("SDC", "Swiss Agency for Development and Cooperation", max(80_000_000_00, n_applications * 8_000_00)),
        ("OSF", "Open Society Foundations", max(20_000_000_00, n_applications * 2_000_00)),
    ):
        donor = funding.create_donor(actor=None, name=name, short_name=short)
        funding.add_contribution(donor, actor=None, amount_original_cents=cents)
    staff = f.staff("staff@bench.example", "Bench Staff")
    f.panel(3)
    calls = {}
    # Awards of EUR 50,000 to 10 % of the applications: the ranking call's envelope holds its awards
    # and a third more (so the board has a cut line), the others theirs and 40 % more.
    rank_env = max(2_000_000_00, round(n_applications * 0.3 * 0.1 * 50_000_00 * 4 / 3, -8))
    other_env = max(2_000_000_00, round(n_applications * 0.7 * 0.1 / n_calls_other * 50_000_00 * 1.4, -8))
    specs = [("BENCH-RANK", {"SDC": rank_env * 4 // 5, "OSF": rank_env // 5})] + [
        (f"BENCH-{i + 1}", {"SDC": other_env * 4 // 5, "OSF": other_env // 5}) for i in range(n_calls_other)
    ]
    template = {}
    for code, envelope in specs:
        call = f.call(code, actor=staff, envelope=envelope, one_application_per_lead=False)
        calls[code] = call
        reviewed = f.reviewed("Quito", f.GOOD, the_call=call, by=staff, requested=50_000_00, partners=["Lisbon"])
        awarded = f.paid_first_tranche("Dakar", the_call=call, by=staff, requested=50_000_00, partners=["Accra"])
        template[code] = {"reviewed": reviewed.id, "awarded": awarded.application_id}
    # The deadline rush: 200 cities (the member list has 160; the rest are added as members).
    existing = db.session.scalars(sa.select(Member).where(Member.membership == "full").order_by(Member.id)).all()
    for i in range(max(0, rush_cities - len(existing))):
        f.member(f"{RUSH_PREFIX} {i + 1:03d}", dues=year + 1, country="ES", region="europe")
    rush = f.call("BENCH-RUSH", actor=staff, envelope={"SDC": 1_000_000_00, "OSF": 0})
    rush_draft = f.draft("Bogotá", the_call=rush, requested=60_000_00, partners=["Medellín"])
    db.session.commit()
    return {
        "staff_id": staff.id,
        "calls": {code: c.id for code, c in calls.items()},
        "rush_call": rush.id,
        "rush_draft": rush_draft.id,
        "template": template,
    }


def clone_users(cp, template_user_id, people, roles_extra=None):
    """people: [(email, name, member_id)] -> [user ids]; same password hash as the template user."""
    conn = cp.conn
    user = fetch_one(conn, "user_account", "id = :i", {"i": template_user_id})
    grants = fetch(conn, "role_grant", "user_id = :i", {"i": template_user_id})
    profile = fetch(conn, "reviewer_profile", "user_id = :i", {"i": template_user_id})
    ids = []
    for email, name, member_id in people:
        row = dict(user, id=cp.new_id("user_account"), email=email, name=name, session_token=os.urandom(16).hex())
        cp.add("user_account", row)
        for g in grants:
            cp.add(
                "role_grant",
                dict(g, id=cp.new_id("role_grant"), user_id=row["id"], member_id=member_id if g["member_id"] else None),
            )
        for p in profile:
            cp.add("reviewer_profile", dict(p, user_id=row["id"]))
        ids.append(row["id"])
    return ids


USER_TABLES = ["user_account", "role_grant", "reviewer_profile"]
APP_TABLES = [
    "application",
    "budget_line",
    "application_partner",
    "application_document",
    "submission",
    "assignment",
    "review",
    "criterion_score",
    "decision",
    "grant_award",
    "allocation",
    "tranche",
    "approved_budget_line",
    "payment",
    "payment_share",
    "ledger_entry",
    "letter",
]

TEXTS = {
    "es": (
        "Manzanas del Cuidado en {city}",
        "Las mujeres de {city} dedican diez horas diarias a cuidados no remunerados.",
    ),
    "fr": ("Maisons du soin de quartier à {city}", "À {city}, les femmes assurent l’essentiel du soin sans relais."),
    "en": ("Neighbourhood care hubs in {city}", "Family carers in {city}, mostly women, have no respite."),
}


class AppCloner:
    """Copies of one template application (and its reviews, decision, grant, payments) for other cities."""

    def __init__(self, cp, application_id, criteria, reviewers, rng):
        conn = cp.conn
        self.cp, self.rng, self.criteria, self.reviewers = cp, rng, criteria, reviewers
        p = {"a": application_id}
        self.app = fetch_one(conn, "application", "id = :a", p)
        self.lines = fetch(conn, "budget_line", "application_id = :a", p)
        self.partners = fetch(conn, "application_partner", "application_id = :a", p)
        self.documents = fetch(conn, "application_document", "application_id = :a", p)
        self.submissions = fetch(conn, "submission", "application_id = :a", p)
        self.assignments = fetch(conn, "assignment", "application_id = :a", p)
        self.reviews = {
            r["assignment_id"]: r
            for r in fetch(conn, "review", "assignment_id IN (SELECT id FROM assignment WHERE application_id = :a)", p)
        }
        self.scores = fetch(
            conn,
            "criterion_score",
            "review_id IN (SELECT r.id FROM review r JOIN assignment s ON s.id = r.assignment_id WHERE s.application_id = :a)",
            p,
        )
        self.decisions = fetch(conn, "decision", "application_id = :a", p)
        self.grants = fetch(conn, "grant_award", "application_id = :a", p)
        g = {"g": self.grants[0]["id"]} if self.grants else {"g": -1}
        self.allocations = fetch(conn, "allocation", "grant_id = :g", g)
        self.tranches = fetch(conn, "tranche", "grant_id = :g", g)
        self.approved = fetch(conn, "approved_budget_line", "grant_id = :g", g)
        self.payments = fetch(conn, "payment", "grant_id = :g", g)
        self.shares = fetch(conn, "payment_share", "payment_id IN (SELECT id FROM payment WHERE grant_id = :g)", g)
        self.ledger = fetch(conn, "ledger_entry", "application_id = :a", p)
        self.letters = fetch(conn, "letter", "decision_id IN (SELECT id FROM decision WHERE application_id = :a)", p)
        self.total_weight = sum(c["weight"] for c in criteria)

    def _review_scores(self, quality):
        marks = []
        for _c in self.criteria:
            value = quality + self.rng.uniform(-0.75, 0.75)
            marks.append(Decimal(max(0, min(10, round(value * 2)))) / 2)
        score = q2(sum(m * 20 * c["weight"] for m, c in zip(marks, self.criteria)) / self.total_weight)
        return marks, score

    def clone(self, *, member, partner, number, reference, call_code, requested=None, quality=3.5, submitted=True):
        cp, a = self.cp, self.app
        city = member["name"]
        title, problem = TEXTS.get(a["language"], TEXTS["en"])
        app = dict(
            a,
            id=cp.new_id("application"),
            member_id=member["id"],
            number=number,
            reference=reference,
            title=title.format(city=city),
            problem=problem.format(city=city),
        )
        app["title_folded"] = folded(app["title"])  # as Application keeps it (the staff list's search)
        lines = [dict(ln) for ln in self.lines]
        if requested is not None and len(lines) >= 2:
            personnel = requested * 3 // 5
            lines[0]["requested_cents"], lines[1]["requested_cents"] = personnel, requested - personnel
            for extra in lines[2:]:
                extra["requested_cents"] = 0
        app["requested_cents"] = sum(ln["requested_cents"] for ln in lines)
        app["cofunding_cents"] = sum(ln["cofunding_cents"] for ln in lines)
        cp.add("application", app)
        line_ids = {}
        for ln in lines:
            line_ids[ln["id"]] = cp.new_id("budget_line")
            cp.add("budget_line", dict(ln, id=line_ids[ln["id"]], application_id=app["id"]))
        for pt in self.partners:
            cp.add(
                "application_partner",
                dict(pt, id=cp.new_id("application_partner"), application_id=app["id"], member_id=partner["id"]),
            )
        for d in self.documents:
            cp.add("application_document", dict(d, id=cp.new_id("application_document"), application_id=app["id"]))
        if not submitted:
            return app
        for s in self.submissions:
            data = deepcopy(s["data"])
            for key in ("title", "problem", "requested_cents", "cofunding_cents"):
                if key in data:
                    data[key] = app[key]
            if "budget" in data:
                for entry, ln in zip(data["budget"], lines):
                    entry["requested_cents"] = ln["requested_cents"]
            for entry in data.get("partners") or []:
                entry["member"], entry["member_id"] = partner["name"], partner["id"]
            cp.add("submission", dict(s, id=cp.new_id("submission"), application_id=app["id"], data=data))
        panel = self.rng.sample(self.reviewers, len(self.assignments))
        for asg, reviewer_id in zip(self.assignments, panel):
            new_asg = dict(
                asg,
                id=cp.new_id("assignment"),
                application_id=app["id"],
                call_id=app["call_id"],
                reviewer_id=reviewer_id,
            )
            cp.add("assignment", new_asg)
            review = self.reviews.get(asg["id"])
            if review is None:
                continue
            marks, score = self._review_scores(quality)
            new_review = dict(review, id=cp.new_id("review"), assignment_id=new_asg["id"], score=score)
            cp.add("review", new_review)
            by_criterion = {c["id"]: m for c, m in zip(self.criteria, marks)}
            for cs in (x for x in self.scores if x["review_id"] == review["id"]):
                cp.add(
                    "criterion_score",
                    dict(
                        cs,
                        id=cp.new_id("criterion_score"),
                        review_id=new_review["id"],
                        score=by_criterion[cs["criterion_id"]],
                        cannot_judge=False,
                    ),
                )
        decision_ids, grant_ids, alloc_ids, tranche_ids, payment_ids = {}, {}, {}, {}, {}
        for d in self.decisions:
            decision_ids[d["id"]] = cp.new_id("decision")
        for d in self.decisions:
            cp.add(
                "decision",
                dict(
                    d,
                    id=decision_ids[d["id"]],
                    application_id=app["id"],
                    superseded_by_id=decision_ids.get(d["superseded_by_id"]),
                ),
            )
        for g in self.grants:
            grant_ids[g["id"]] = cp.new_id("grant_award")
            cp.add(
                "grant_award",
                dict(g, id=grant_ids[g["id"]], application_id=app["id"], decision_id=decision_ids[g["decision_id"]]),
            )
        for al in self.allocations:
            alloc_ids[al["id"]] = cp.new_id("allocation")
            cp.add("allocation", dict(al, id=alloc_ids[al["id"]], grant_id=grant_ids[al["grant_id"]]))
        for t in self.tranches:
            tranche_ids[t["id"]] = cp.new_id("tranche")
            cp.add("tranche", dict(t, id=tranche_ids[t["id"]], grant_id=grant_ids[t["grant_id"]]))
        for ab in self.approved:
            cp.add(
                "approved_budget_line",
                dict(
                    ab,
                    id=cp.new_id("approved_budget_line"),
                    grant_id=grant_ids[ab["grant_id"]],
                    budget_line_id=line_ids[ab["budget_line_id"]],
                ),
            )
        for pay in self.payments:
            payment_ids[pay["id"]] = cp.new_id("payment")
            cp.add(
                "payment",
                dict(
                    pay,
                    id=payment_ids[pay["id"]],
                    grant_id=grant_ids[pay["grant_id"]],
                    tranche_id=tranche_ids[pay["tranche_id"]],
                    reference=f"{reference}-T{pay['reference'].rsplit('-T', 1)[-1]}",
                ),
            )
        for sh in self.shares:
            cp.add(
                "payment_share",
                dict(
                    sh,
                    id=cp.new_id("payment_share"),
                    payment_id=payment_ids[sh["payment_id"]],
                    allocation_id=alloc_ids[sh["allocation_id"]],
                ),
            )
        for le in self.ledger:
            cp.add(
                "ledger_entry",
                dict(
                    le,
                    id=cp.new_id("ledger_entry"),
                    application_id=app["id"],
                    grant_id=grant_ids.get(le["grant_id"], le["grant_id"]),
                ),
            )
        for lt in self.letters:
            # The stored PDF is shared with the template's letter (documents are content-addressed).
            cp.add("letter", dict(lt, id=cp.new_id("letter"), decision_id=decision_ids[lt["decision_id"]]))
        return app


def seed(n_applications, rush_cities, n_reviewers=60, seed_value=7):
    started = time.monotonic()
    rng = random.Random(seed_value)
    n_other_calls = 3 if n_applications >= 1000 else 1
    info = build_template(n_other_calls, rush_cities, n_applications)
    t_template = time.monotonic() - started
    conn = db.session.connection()
    cp = Copier(conn)
    members = [
        dict(r._mapping)
        for r in conn.execute(
            sa.text("SELECT id, name FROM member WHERE membership = 'full' AND name NOT LIKE :p ORDER BY id"),
            {"p": f"{RUSH_PREFIX}%"},
        )
    ]
    # The reviewer pool: the template's three, and copies of the first.
    panel_ids = [
        r[0] for r in conn.execute(sa.text("SELECT user_id FROM role_grant WHERE role = 'reviewer' ORDER BY user_id"))
    ]
    reviewers = panel_ids + clone_users(
        cp,
        panel_ids[0],
        [
            (f"reviewer{i:03d}@bench.example", f"Bench Reviewer {i:03d}", None)
            for i in range(n_reviewers - len(panel_ids))
        ],
    )
    cp.flush(USER_TABLES)

    # Split: the ranking call holds 30 %, the others the rest; 10 % of the applications are awarded.
    n_rank = round(n_applications * 0.3)
    sizes = {"BENCH-RANK": n_rank}
    rest = n_applications - n_rank
    others = [c for c in info["calls"] if c != "BENCH-RANK"]
    for i, code in enumerate(others):
        sizes[code] = rest // len(others) + (1 if i < rest % len(others) else 0)
    n_grants_total = round(n_applications * 0.1)
    grants = {code: round(n_grants_total * sizes[code] / n_applications) for code in sizes}
    grants[others[-1]] += n_grants_total - sum(grants.values())
    counts = {"applications": 0, "grants": 0}
    for code, call_id in info["calls"].items():
        criteria = [
            dict(r._mapping)
            for r in conn.execute(
                sa.text("SELECT id, weight FROM criterion WHERE call_id = :c ORDER BY position, id"), {"c": call_id}
            )
        ]
        tpl = info["template"][code]
        reviewed = AppCloner(cp, tpl["reviewed"], criteria, reviewers, rng)
        awarded = AppCloner(cp, tpl["awarded"], criteria, reviewers, rng)
        number = conn.execute(
            sa.text("SELECT max(number) FROM application WHERE call_id = :c"), {"c": call_id}
        ).scalar()
        to_award = grants[code] - 1  # the template is one
        for i in range(sizes[code] - 2):
            number += 1
            member = members[(i + number) % len(members)]
            partner = members[(i + number + 7) % len(members)]
            reference = f"IFM-{code}-{number:05d}"
            if i < to_award:
                awarded.clone(
                    member=member,
                    partner=partner,
                    number=number,
                    reference=reference,
                    call_code=code,
                    quality=rng.uniform(3.8, 4.8),
                )
                counts["grants"] += 1
            else:
                reviewed.clone(
                    member=member,
                    partner=partner,
                    number=number,
                    reference=reference,
                    call_code=code,
                    requested=rng.randrange(20, 101) * 1000_00,
                    quality=rng.uniform(1.5, 4.6),
                )
            counts["applications"] += 1
        cp.flush(APP_TABLES)
    counts["applications"] += 2 * len(info["calls"])
    counts["grants"] += len(info["calls"])

    # The rush: every full member but Bogotá (the template's draft) gets a copy of the draft and a focal point.
    rush_members = [
        dict(r._mapping)
        for r in conn.execute(sa.text("SELECT id, name FROM member WHERE membership = 'full' ORDER BY id"))
    ][:rush_cities]
    bogota_focal = conn.execute(
        sa.text("SELECT created_by_id, member_id FROM application WHERE id = :a"), {"a": info["rush_draft"]}
    ).one()
    drafts = AppCloner(cp, info["rush_draft"], [], reviewers, rng)
    rush_accounts = [{"email": None, "application_id": info["rush_draft"], "member_id": bogota_focal.member_id}]
    rush_accounts[0]["email"] = conn.execute(
        sa.text("SELECT email FROM user_account WHERE id = :u"), {"u": bogota_focal.created_by_id}
    ).scalar()
    people = [m for m in rush_members if m["id"] != bogota_focal.member_id][: rush_cities - 1]
    focal_ids = clone_users(
        cp,
        bogota_focal.created_by_id,
        [(f"focal.{slug(m['name'])}.{m['id']}@bench.example", f"Focal point of {m['name']}", m["id"]) for m in people],
    )
    cp.flush(USER_TABLES)
    for m, uid, k in zip(people, focal_ids, range(len(people))):
        partner = rush_members[(k + 3) % len(rush_members)]
        if partner["id"] == m["id"]:
            partner = rush_members[(k + 4) % len(rush_members)]
        app = drafts.clone(
            member=m, partner=partner, number=None, reference=None, call_code="BENCH-RUSH", submitted=False
        )
        app["created_by_id"] = app["updated_by_id"] = uid
        rush_accounts.append(
            {
                "email": f"focal.{slug(m['name'])}.{m['id']}@bench.example",
                "application_id": app["id"],
                "member_id": m["id"],
            }
        )
    cp.flush(APP_TABLES)
    cp.fix_sequences()
    # The envelope lines' totals, from the ledger (what funding.ledger.mismatches checks).
    conn.execute(
        sa.text(
            """UPDATE call_funding f SET
                 committed_cents = coalesce((SELECT sum(CASE kind WHEN 'commit' THEN amount_cents
                     WHEN 'payment' THEN 0 ELSE -amount_cents END) FROM ledger_entry e WHERE e.call_funding_id = f.id), 0),
                 paid_cents = coalesce((SELECT sum(amount_cents) FROM ledger_entry e
                     WHERE e.call_funding_id = f.id AND kind = 'payment'), 0)"""
        )
    )
    db.session.commit()
    # As autovacuum leaves a database that has settled after a bulk load: statistics gathered and the
    # visibility map set, so index-only scans (the list's counts) need not visit the table's rows.
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as autocommit:
        autocommit.execute(sa.text("VACUUM ANALYZE"))
    figures = {
        table: db.session.execute(sa.text(f'SELECT count(*) FROM "{table}"')).scalar()
        for table in (
            "member",
            "application",
            "assignment",
            "review",
            "criterion_score",
            "grant_award",
            "payment",
            "user_account",
        )
    }
    figures["submitted_reviews"] = db.session.execute(
        sa.text("SELECT count(*) FROM review WHERE submitted_at IS NOT NULL")
    ).scalar()
    figures["cities_with_applications"] = db.session.execute(
        sa.text("SELECT count(DISTINCT member_id) FROM application WHERE first_submitted_at IS NOT NULL")
    ).scalar()
    return dict(
        info,
        rank_call=info["calls"]["BENCH-RANK"],
        rank_size=sizes["BENCH-RANK"],
        rush_accounts=rush_accounts,
        password=PASSWORD,
        staff_email="staff@bench.example",
        counts=figures,
        seconds_template=round(t_template, 1),
        seconds_total=round(time.monotonic() - started, 1),
    )


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=10000)
    parser.add_argument("--rush", type=int, default=200)
    parser.add_argument("--out", required=True, help="JSON file to write what the bench needs")
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        result = seed(args.applications, args.rush)
    Path(args.out).write_text(json.dumps(result, indent=1, default=str))
    print(json.dumps({k: result[k] for k in ("counts", "seconds_template", "seconds_total")}))


if __name__ == "__main__":
    main()
