"""`make bench`: fundapp against plain SQL on a seeded PostgreSQL database, in production configuration.

Steps (each printed as it runs): fresh databases fundapp_bench (BENCH_APPLICATIONS applications,
10,000 by default) and fundapp_bench_small (100), migrated and seeded (scripts/bench/seed.py);
fundapp under gunicorn (gunicorn.conf.py, FUNDAPP_ENV=production) on 127.0.0.1:8101 and the raw-SQL
app (scripts/bench/raw_app.py) on 8102 with the same gunicorn settings; staff pages timed
interleaved; statements per page in-process on both databases; award letters per second; the
deadline rush of BENCH_RUSH_CITIES (200) cities; the workers' peak memory. Prints the table and
writes it to docs/performance.md (BENCH_WRITE_DOCS=0 to leave the file alone).

Settings: BENCH_APPLICATIONS, BENCH_RUSH_CITIES, BENCH_PAGE_SECONDS (time budget per staff page,
45), BENCH_LETTERS (60), BENCH_KEEP_DB=1 (keep the databases afterwards), BENCH_PORT (8101: fundapp,
+1 raw), BENCH_PG (postgresql://postgres@127.0.0.1:5432), BENCH_REDIS (redis://127.0.0.1:6379/9).
"""

import json
import os
import platform
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))

import psycopg  # noqa: E402
import pyotp  # noqa: E402
from httpclient import Client, csrf_of, form_fields, location_path  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
BIN = ROOT / ".venv" / "bin"
N_APPS = int(os.environ.get("BENCH_APPLICATIONS", "10000"))
N_RUSH = int(os.environ.get("BENCH_RUSH_CITIES", "200"))
PAGE_SECONDS = float(os.environ.get("BENCH_PAGE_SECONDS", "45"))
N_LETTERS = int(os.environ.get("BENCH_LETTERS", "60"))
PORT = int(os.environ.get("BENCH_PORT", "8101"))
PG = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/9")
BIG, SMALL = "fundapp_bench", "fundapp_bench_small"
HOST = "127.0.0.1"

GOALS = {
    "page": 1.5,  # fundapp p95 <= 1.5 x raw p95
    "letters": 0.8,  # fundapp letters/s >= 80 % of raw reportlab
    "rush_p99": 1.0,  # seconds
    "worker_mib": 200,
}

WORK = Path(tempfile.mkdtemp(prefix="fundapp-bench-"))


def say(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def db_url(name):
    return f"{PG}/{name}"


def recreate_database(name):
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(name):
    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(cmd, env, log_name):
    log = WORK / log_name
    with log.open("w") as out:
        done = subprocess.run(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode:
        print(log.read_text()[-4000:])
        raise SystemExit(f"{' '.join(map(str, cmd))} failed (log: {log})")
    return log.read_text()


def base_env(database):
    env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDAPP_")}
    env["FUNDAPP_DATABASE_URL"] = db_url(database)
    return env


def build_database(name, applications, rush):
    started = time.monotonic()
    recreate_database(name)
    env = base_env(name)
    run([str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], env, f"migrate-{name}.log")
    info_file = WORK / f"{name}.json"
    output = run(
        [PY, str(HERE / "seed.py"), "--applications", str(applications), "--rush", str(rush), "--out", str(info_file)],
        env,
        f"seed-{name}.log",
    )
    summary = json.loads([line for line in output.splitlines() if line.startswith('{"counts"')][-1])
    info = json.loads(info_file.read_text())
    info["info_file"] = str(info_file)
    info["build_seconds"] = round(time.monotonic() - started, 1)
    say(f"{name}: {summary['counts']} (template {summary['seconds_template']} s, built in {info['build_seconds']} s)")
    return info


def wait_for_port(port, proc, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server on port {port} stopped at start (logs in {WORK})")
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.2)
    raise SystemExit(f"nothing answers on port {port}")


def start_servers():
    secret = secrets.token_urlsafe(36)[:48]
    env = base_env(BIG)
    env.update(
        FUNDAPP_ENV="production",
        FUNDAPP_SECRET_KEY=secret,
        FUNDAPP_REDIS_URL=REDIS,
        FUNDAPP_FORCE_HTTPS="0",
        FUNDAPP_BIND=f"{HOST}:{PORT}",
        # Every simulated city signs in from 127.0.0.1: the per-address limit (30 per 15 minutes)
        # would stop the 31st. Behind the TLS proxy each city has its own address.
        FUNDAPP_LOGIN_LIMIT_PER_ADDRESS="100000 per 15 minutes",
    )
    fund_log = (WORK / "gunicorn-fundapp.log").open("w")
    fundapp = subprocess.Popen(
        [str(BIN / "gunicorn"), "wsgi:app"],
        cwd=ROOT,
        env=env,
        stdout=fund_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    raw_env = {k: v for k, v in os.environ.items() if not k.startswith("FUNDAPP_")}
    raw_env.update(BENCH_DATABASE_URL=db_url(BIG), FUNDAPP_BIND=f"{HOST}:{PORT + 1}")
    raw_log = (WORK / "gunicorn-raw.log").open("w")
    raw = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--pythonpath", str(HERE), "raw_app:app"],
        cwd=ROOT,
        env=raw_env,
        stdout=raw_log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port(PORT, fundapp)
    wait_for_port(PORT + 1, raw)
    return fundapp, raw


def stop(proc):
    if proc and proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(40)
        except subprocess.TimeoutExpired:
            proc.kill()


# -- memory -------------------------------------------------------------------------------------


def children(pid):
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def status_kib(pid, field):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class MemoryWatch(threading.Thread):
    """The largest VmHWM (peak resident set) of any worker of a gunicorn master, sampled each 0.5 s."""

    def __init__(self, master_pid):
        super().__init__(daemon=True)
        self.master, self.peak, self.workers = master_pid, 0, set()
        self.stopping = threading.Event()

    def sample(self):
        for pid in children(self.master):
            self.workers.add(pid)
            value = status_kib(pid, "VmHWM")
            if value:
                self.peak = max(self.peak, value)

    def run(self):
        while not self.stopping.is_set():
            self.sample()
            time.sleep(0.5)

    def stop(self):
        self.sample()
        self.stopping.set()
        return self.peak / 1024


# -- signing in -----------------------------------------------------------------------------------


def sign_in(client, email, password):
    status, _h, html, _s = client.get("/login")
    status, headers, html, _s = client.post(
        "/login", {"email": email, "password": password, "csrf_token": csrf_of(html)}
    )
    if status != 302:
        raise RuntimeError(f"sign-in of {email} refused: {status}")
    return location_path(headers)


def staff_client(info):
    """Staff sign in as production asks: password, then two-step enrolment with an authenticator app."""
    client = Client(HOST, PORT)
    target = sign_in(client, info["staff_email"], info["password"])
    if target.startswith("/login/enrol"):
        _st, _h, html, _s = client.get("/login/enrol")
        import re

        secret = re.search(r'<code id="mfa-secret">([^<]+)</code>', html).group(1).replace(" ", "")
        status, _h, html, _s = client.post(
            "/login/enrol", {"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(html)}
        )
        if status != 200 or "recovery" not in html.lower():
            raise RuntimeError(f"MFA enrolment refused: {status}")
    elif target.startswith("/login/verify"):
        raise RuntimeError("the staff account already has MFA: the database is not fresh")
    return client


# -- staff pages ------------------------------------------------------------------------------------


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def measure_pages(info):
    staff = staff_client(info)
    raw = Client(HOST, PORT + 1)
    call = info["rank_call"]
    pages = {
        "applications": f"/staff/calls/{call}/applications",
        "ranking": f"/staff/calls/{call}/ranking",
        "reviews": f"/staff/calls/{call}/reviews",
        "decisions": f"/staff/calls/{call}/decisions",
    }
    results = {}
    for name, path in pages.items():
        # Warm both (each worker compiles templates on first use): a few unmeasured requests.
        for _ in range(2):
            staff.get(path)
            raw.get(path)
        fund_t, raw_t, errors = [], [], 0
        started = time.monotonic()
        rounds = 0
        while rounds < 8 or (time.monotonic() - started < PAGE_SECONDS and rounds < 40):
            order = [(staff, fund_t), (raw, raw_t)]
            if rounds % 2:
                order.reverse()
            for client, bucket in order:
                status, _h, body, seconds = client.get(path)
                if status != 200:
                    errors += 1
                bucket.append(seconds)
            rounds += 1
        results[name] = {
            "path": path,
            "n": rounds,
            "fundapp_p50": pct(fund_t, 0.5),
            "fundapp_p95": pct(fund_t, 0.95),
            "raw_p50": pct(raw_t, 0.5),
            "raw_p95": pct(raw_t, 0.95),
            "errors": errors,
        }
        r = results[name]
        say(
            f"{name:<12} fundapp p50 {r['fundapp_p50'] * 1000:8.1f} ms p95 {r['fundapp_p95'] * 1000:8.1f} ms | "
            f"raw p50 {r['raw_p50'] * 1000:7.1f} ms p95 {r['raw_p95'] * 1000:7.1f} ms ({rounds} rounds, {errors} errors)"
        )
    staff.close()
    raw.close()
    return results


# -- the deadline rush ------------------------------------------------------------------------------


class City(threading.Thread):
    """One city's focal point in the call's last minute: opens the draft, autosaves it a few
    times as they type, checks it, submits."""

    def __init__(self, account, password, start_at, saves, window, barrier_time):
        super().__init__(daemon=True)
        self.account, self.password = account, password
        self.start_at, self.saves, self.window, self.t0 = start_at, saves, window, barrier_time
        self.client = Client(HOST, PORT, timeout=120)
        self.latencies, self.errors, self.last_saved = [], [], None
        self.submitted = False
        self.by_kind = {}
        self.rng = random.Random(account["application_id"])

    def prepare(self):
        sign_in(self.client, self.account["email"], self.password)

    def _call(self, method, path, data=None, ok=(200,), headers=None):
        try:
            status, headers_out, body, seconds = self.client.request(method, path, data=data, headers=headers)
        except Exception as exc:  # a connection refused or a timeout is an error the city sees
            self.errors.append(f"{method} {path}: {type(exc).__name__}")
            self.client.close()
            return None, {}, ""
        self.latencies.append(seconds)
        kind = "autosave" if path.endswith("/autosave") else path.rsplit("/", 1)[-1]
        self.by_kind.setdefault(kind, []).append(seconds)
        if status not in ok:
            self.errors.append(f"{method} {path}: HTTP {status}")
        return status, headers_out, body

    def run(self):
        app_id = self.account["application_id"]
        time.sleep(max(0.0, self.t0 + self.start_at - time.monotonic()))
        status, _h, html = self._call("GET", f"/applications/{app_id}/edit")
        if status != 200:
            return
        fields, action = form_fields(html, "data-autosave-url")
        if not fields:
            self.errors.append("no editor form")
            return
        end = self.t0 + self.window
        gap = max(0.5, (end - time.monotonic() - 2) / (self.saves + 1))
        for k in range(self.saves):
            time.sleep(self.rng.uniform(0.5, 1.0) * gap)
            marker = f"[bench save {k + 1} of {self.saves}]"
            sent = []
            for name, value in fields:
                if name == "summary":
                    value = value.split(" [bench save")[0] + " " + marker
                sent.append((name, value))
            status, _h, body = self._call(
                "POST", action or f"/applications/{app_id}/autosave", sent, headers={"X-Requested-With": "fetch"}
            )
            if status == 200:
                answer = json.loads(body)
                if answer.get("errors"):
                    self.errors.append(f"autosave field errors: {answer['errors']}")
                fields = [[n, answer["version"] if n == "version" else v] for n, v in sent]
                self.last_saved = dict(sent)["summary"]
        status, _h, html = self._call("GET", f"/applications/{app_id}/check")
        if status != 200:
            return
        status, headers, _b = self._call(
            "POST", f"/applications/{app_id}/submit", {"csrf_token": csrf_of(html)}, ok=(302,)
        )
        if status == 302:
            if "/check" in location_path(headers):
                self.errors.append("submission refused (redirected to the check page)")
            else:
                self.submitted = True
        self.client.close()


def rush(info, window=60.0, saves=3):
    accounts = info["rush_accounts"][:N_RUSH]
    t0 = time.monotonic() + 1e6  # set once everyone is signed in
    cities = [City(a, info["password"], random.uniform(0, window * 0.3), saves, window, t0) for a in accounts]
    say(f"rush: signing in {len(cities)} focal points (not timed)")
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda c: c.prepare(), cities))
    t0 = time.monotonic() + 1.0
    for c in cities:
        c.t0 = t0
    say(f"rush: {len(cities)} cities, {saves} autosaves each then check and submit, within {window:.0f} s")
    for c in cities:
        c.start()
    for c in cities:
        c.join()
    elapsed = time.monotonic() - t0
    latencies = [x for c in cities for x in c.latencies]
    errors = [e for c in cities for e in c.errors]
    # Lost saves: a save the server acknowledged that the database (draft and snapshot) does not hold.
    lost, not_submitted = 0, 0
    with psycopg.connect(db_url(BIG)) as conn:
        rows = {
            r[0]: r[1:]
            for r in conn.execute(
                """SELECT a.id, a.summary, a.state, (SELECT s.data->>'summary' FROM submission s
                       WHERE s.application_id = a.id ORDER BY s.version_no DESC LIMIT 1)
                   FROM application a WHERE a.id = ANY(%s)""",
                ([a["application_id"] for a in accounts],),
            )
        }
    for c in cities:
        summary, state, snapshot = rows[c.account["application_id"]]
        if c.last_saved is not None and (summary != c.last_saved or (c.submitted and snapshot != c.last_saved)):
            lost += 1
        if c.submitted and state != "submitted":
            lost += 1
        if not c.submitted:
            not_submitted += 1
    result = {
        "cities": len(cities),
        "requests": len(latencies),
        "errors": len(errors),
        "error_kinds": sorted({e.split(":")[0] + ":" + e.split(":")[-1] for e in errors})[:8],
        "lost_saves": lost,
        "not_submitted": not_submitted,
        "p50": pct(latencies, 0.5),
        "p95": pct(latencies, 0.95),
        "p99": pct(latencies, 0.99),
        "max": max(latencies) if latencies else float("nan"),
        "seconds": elapsed,
        "p99_by_kind": {
            k: round(pct([x for c in cities for x in c.by_kind.get(k, [])], 0.99) * 1000)
            for k in ("edit", "autosave", "check", "submit")
        },
    }
    say(
        f"rush: {result['requests']} requests in {elapsed:.0f} s, {result['errors']} errors, {lost} lost saves, "
        f"{not_submitted} not submitted, p50 {result['p50'] * 1000:.0f} ms p99 {result['p99'] * 1000:.0f} ms; "
        f"p99 by request (ms): {result['p99_by_kind']}"
    )
    return result


# -- in-process ---------------------------------------------------------------------------------------


def inproc(what, info, database, *extra):
    output = run(
        [PY, str(HERE / "inproc.py"), what, "--info", info["info_file"], *extra],
        base_env(database),
        f"{what}-{database}.log",
    )
    return json.loads([line for line in output.splitlines() if line.startswith("RESULT ")][-1][7:])


# -- the report -----------------------------------------------------------------------------------------


def verdict(ok):
    return "meets" if ok else "MISSES"


def table(results):
    pages, rush_r, q_small, q_big, letters_r, mem = (
        results["pages"],
        results["rush"],
        results["queries_small"],
        results["queries_big"],
        results["letters"],
        results["memory_mib"],
    )
    lines = [
        "| measure | fundapp | raw | fundapp / raw | goal | verdict |",
        "| --- | ---: | ---: | ---: | --- | --- |",
    ]
    for name, r in pages.items():
        ratio = r["fundapp_p95"] / r["raw_p95"]
        lines.append(
            f"| `{r['path'].replace(str(results['rank_call']), '<id>')}` p50 / p95 (ms), {r['n']} runs "
            f"| {r['fundapp_p50'] * 1000:.0f} / {r['fundapp_p95'] * 1000:.0f} "
            f"| {r['raw_p50'] * 1000:.0f} / {r['raw_p95'] * 1000:.0f} | {ratio:.1f}× (p95) | ≤ 1.5× | {verdict(ratio <= GOALS['page'] and not r['errors'])} |"
        )
    for name in pages:
        small, big = q_small[name], q_big[name]
        lines.append(
            f"| statements per `{name}` page, {results['small_apps']} → {results['big_apps']} applications "
            f"| {small} → {big} | — | — | constant | {verdict(small == big)} |"
        )
    lr = letters_r["fundapp_per_s"] / letters_r["raw_per_s"]
    lines.append(
        f"| award letters per second ({letters_r['letters']} PDFs, in-process) | {letters_r['fundapp_per_s']:.1f} "
        f"| {letters_r['raw_per_s']:.1f} | {lr * 100:.0f} % | ≥ 80 % of raw | {verdict(lr >= GOALS['letters'])} |"
    )
    lines.append(
        f"| rush: {rush_r['cities']} cities, {rush_r['requests']} requests in {rush_r['seconds']:.0f} s: errors "
        f"| {rush_r['errors']} | — | — | 0 | {verdict(rush_r['errors'] == 0)} |"
    )
    lines.append(f"| rush: lost saves | {rush_r['lost_saves']} | — | — | 0 | {verdict(rush_r['lost_saves'] == 0)} |")
    lines.append(
        f"| rush: latency p50 / p99 / max (ms) | {rush_r['p50'] * 1000:.0f} / {rush_r['p99'] * 1000:.0f} / {rush_r['max'] * 1000:.0f} "
        f"| — | — | p99 ≤ 1000 | {verdict(rush_r['p99'] <= GOALS['rush_p99'])} |"
    )
    lines.append(
        f"| peak RSS of a gunicorn worker (VmHWM, MiB) | {mem['fundapp']:.0f} | {mem['raw']:.0f} "
        f"| {mem['fundapp'] / mem['raw']:.1f}× | ≤ 200 MiB | {verdict(mem['fundapp'] <= GOALS['worker_mib'])} |"
    )
    lines.append(
        "| rush: p99 by request (ms) | "
        + ", ".join(f"{k} {v}" for k, v in rush_r["p99_by_kind"].items())
        + " | — | — | — | — |"
    )
    return "\n".join(lines)


def machine():
    mem_kib = status_kib_meminfo()
    return f"{os.cpu_count()} CPUs, {mem_kib / 1024 / 1024:.1f} GiB RAM, {platform.platform()}, Python {platform.python_version()}"


def status_kib_meminfo():
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1])
    return 0


def write_docs(results, text):
    path = ROOT / "docs" / "performance.md"
    current = path.read_text() if path.exists() else ""
    start, end = "<!-- bench:begin -->", "<!-- bench:end -->"
    block = f"{start}\n{text}\n{end}"
    if start in current and end in current:
        current = current[: current.index(start)] + block + current[current.index(end) + len(end) :]
    else:
        current = (current or "# Performance\n\n") + "\n" + block + "\n"
    path.write_text(current)
    say(f"table written to {path}")


def main():
    started = time.monotonic()
    say(f"work directory (logs): {WORK}")
    results = {"big_apps": N_APPS, "small_apps": 100}
    say(f"building {BIG} with {N_APPS} applications and {N_RUSH} rush cities")
    big = build_database(BIG, N_APPS, N_RUSH)
    say(f"building {SMALL} with 100 applications")
    small = build_database(SMALL, 100, 5)
    results["rank_call"] = big["rank_call"]
    results["rank_size"] = big["rank_size"]
    results["counts"] = big["counts"]
    results["seed_seconds"] = big["build_seconds"]
    try:
        import redis

        redis.Redis.from_url(REDIS).flushdb()  # the bench's own Redis database: sign-in limits, jobs
    except Exception as exc:  # noqa: BLE001
        say(f"could not empty {REDIS}: {exc}")
    say("statements per page, in-process")
    results["queries_small"] = inproc("queries", small, SMALL)
    results["queries_big"] = inproc("queries", big, BIG)
    say(f"statements: 100 apps {results['queries_small']} | {N_APPS} apps {results['queries_big']}")
    say(f"award letters: {N_LETTERS} each way, in-process")
    results["letters"] = inproc("letters", big, BIG, "--count", str(N_LETTERS))
    say(f"letters/s: fundapp {results['letters']['fundapp_per_s']:.1f}, raw {results['letters']['raw_per_s']:.1f}")
    fundapp, raw = start_servers()
    watch_f, watch_r = MemoryWatch(fundapp.pid), MemoryWatch(raw.pid)
    watch_f.start()
    watch_r.start()
    time.sleep(2)
    results["idle_rss_mib"] = max((status_kib(p, "VmRSS") or 0) for p in children(fundapp.pid)) / 1024
    say(f"fundapp worker RSS after start: {results['idle_rss_mib']:.0f} MiB")
    try:
        say(f"servers up: fundapp :{PORT} (production), raw :{PORT + 1}; staff pages, interleaved")
        results["pages"] = measure_pages(big)
        results["rush"] = rush(big)
    finally:
        results["memory_mib"] = {"fundapp": watch_f.stop(), "raw": watch_r.stop()}
        stop(fundapp)
        stop(raw)
    say(
        f"peak worker RSS: fundapp {results['memory_mib']['fundapp']:.0f} MiB, raw {results['memory_mib']['raw']:.0f} MiB"
    )
    if os.environ.get("BENCH_KEEP_DB") != "1":
        drop_database(SMALL)
        drop_database(BIG)
    results["seconds"] = round(time.monotonic() - started)
    rows = table(results)
    counts = results["counts"]
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"Run of {stamp} on {machine()}; `BENCH_APPLICATIONS={N_APPS}`: {counts['application']} applications "
        f"({results['rank_size']} in the ranked call) from {counts['cities_with_applications']} cities, "
        f"{counts['submitted_reviews']} submitted reviews ({counts['criterion_score']} criterion scores), "
        f"{counts['grant_award']} grants with {counts['payment']} payments; seeded in {results['seed_seconds']:.0f} s, "
        f"whole run {results['seconds']} s.\n\n{rows}\n"
    )
    print()
    print(text)
    (WORK / "results.json").write_text(json.dumps(results, indent=1, default=str))
    if os.environ.get("BENCH_WRITE_DOCS", "1") != "0":
        write_docs(results, text)


if __name__ == "__main__":
    main()
