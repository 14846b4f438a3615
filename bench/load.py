"""Load benchmark: the app as it runs in production (gunicorn with the README's settings and
4 workers, on PostgreSQL) under many signed-in users at once (issue 13).

    .venv/bin/python -m bench.load [--before DIR] [--duration 15] [--write-results]
    make bench-load

It builds a throw-away PostgreSQL database holding the national data set (bench/reports.py:
6,300 practices, 315,000 invoice lines), the demo data (`flask seed-demo`) and one busy
practice (200 incidents, 2,000 cost lines, 50 issued invoices, the first with 50 lines);
starts gunicorn on 127.0.0.1; signs in one client per role (a session cookie, as a browser
holds it; every request says it came through the HTTPS proxy, X-Forwarded-Proto); and
drives each route with wrk (2 threads, 32 connections, `--duration` seconds after a short
warm-up). For each route it records throughput, latency percentiles (p50, p95, p99, from
wrk's own histogram), errors, and the CPU time per request of the gunicorn processes and
of the PostgreSQL backends (utime + stime from /proc/<pid>/stat, before and after), and
wrk's own CPU time.

CPU time per request is the steady figure on a shared machine: throughput and latency move
with whatever else runs, so every route is also given as a share of the login page measured
in the same run (the baseline: a template and no data).

With `--before DIR` (a checkout of an earlier commit, e.g. `git worktree add DIR 302a983`)
a second server runs that code on the same database (its static assets copied over, and
reportlab's C accelerator hidden from it when that tree did not depend on it) and each route
is driven on both, one after the other, so both see the same machine.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from typing import Any

from bench import reports
from bench.invoice_documents import machine, write_results

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
HEADING = "## Load: gunicorn and PostgreSQL"
PASSWORD = reports.PASSWORD
BUSY_EMAIL = "busy.manager@bench.test"
REVIEWER_EMAIL = "reviewer@example.org"  # the demo ICB's reviewer (QMJ)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: what wrk prints when it is done: its own summary and latency histogram, as one JSON line
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50\\":%d,\\"p95\\":%d,\\"p99\\":%d," ..
    "\\"connect\\":%d,\\"read\\":%d,\\"write\\":%d,\\"status\\":%d,\\"timeout\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.connect, e.read, e.write, e.status, e.timeout))
end
"""
#: Targets, relative to the login page in the same run (issue 13).
HTML_CPU, HTML_SHARE, HTML_P95 = 2.0, 0.5, 2.0
PDF_CPU, PDF_SHARE = 3.0, 1 / 3


@dataclass(frozen=True)
class Route:
    name: str
    who: str | None  # the email signed in, or None for the login page
    path: str
    kind: str = "html"  # html, pdf, or extra and reference (shown, not judged)
    headers: tuple[tuple[str, str], ...] = ()


@dataclass
class Server:
    label: str
    tree: Path
    port: int
    process: subprocess.Popen[bytes]
    cookies: dict[str, str] = field(default_factory=dict)


# --- the data ---------------------------------------------------------------------------------


def _busy_practice(url: str, instance: Path) -> dict[str, int]:
    """One busy practice of the demo ICB: 200 incidents of 10 cost lines each (the four
    kinds), all on 50 issued invoices (the first with 50 lines), through the services.

    Each incident falls on a day of its own, from 19 July 2024 on: a practice's 2,000 lines
    on one day is no practice's outage, and the claim checks (issue 14) read, for each claim,
    the practice's standing lines within a day of its own, so one day of 2,000 lines made
    every claim of the practice read all of them (132 ms a request for the claims list, in
    the first run of 7 December 2026, bench/RESULTS.md)."""
    from sqlalchemy import select

    from tests import factories
    from tracker.extensions import db
    from tracker.models import Icb, OutageEvent, Role
    from tracker.services.directory import UserDetails, save_user

    app = reports._app(url, instance)
    with app.app_context():
        session = db.session
        icb = session.scalars(select(Icb).where(Icb.ods_code == "QMJ")).one()
        event_id = session.scalars(select(OutageEvent.id).order_by(OutageEvent.id)).first()
        practice = factories.make_practice(
            session, icb, ods_code="Y09999", name="Busy Bench Health Centre"
        )
        save_user(
            session,
            None,
            UserDetails(
                name="Busy Manager",
                email=BUSY_EMAIL,
                role=Role.PRACTICE_MANAGER.value,
                practice_ids=[practice.id],
                icb_id=None,
                is_admin=False,
                password=PASSWORD,
            ),
        )
        makers = (
            factories.make_staff_line,
            factories.make_locum_line,
            factories.make_appointments_line,
            factories.make_expense_line,
        )
        incidents = []
        for n in range(200):
            day = date(2024, 7, 19) + timedelta(days=n)
            incident = factories.make_incident(
                session,
                practice,
                title=f"EMIS outage {n + 1}",
                outage_event_id=event_id,
                starts_at=datetime.combine(day, time_of_day(6, 10)),
                ends_at=datetime.combine(day, time_of_day(16, 0)),
            )
            lines = [makers[k % 4](session, incident) for k in range(10)]
            for line in lines:
                line.line_date = day
            incidents.append((incident.id, lines))
        session.commit()
        groups = [incidents[:5]] + [incidents[5 + 4 * k : 9 + 4 * k] for k in range(48)]
        groups.append(incidents[197:])
        invoice_ids = []
        for group in groups:
            lines = [line for _incident, group_lines in group for line in group_lines]
            last_day = max(line.line_date for line in lines)
            invoice = factories.make_issued_invoice(
                session, practice, lines, today=last_day + timedelta(days=8)
            )
            invoice_ids.append(invoice.id)
        result = {
            "incident_id": incidents[0][0],
            "invoice_id": invoice_ids[0],
            "invoices": len(invoice_ids),
            "event_id": event_id,
            "icb_id": icb.id,
        }
        session.commit()
        # statistics for the planner, as autovacuum gathers them after a bulk load: without
        # them PostgreSQL guessed one incident for the practice, not 200 (the dashboard's sum
        # of lines not yet invoiced took 4.3 ms, not 0.4)
        session.connection().exec_driver_sql("ANALYZE")
        session.commit()
        db.session.remove()
        db.engine.dispose()
    return result


def build(url: str, instance: Path, practices: int) -> dict[str, Any]:
    """National data set, then the demo data, then the busy practice."""
    started = time.perf_counter()
    national = reports.build(url, instance, practices, 50)
    env = {**os.environ, "DATABASE_URL": url, "TRACKER_INSTANCE_PATH": str(instance)}
    subprocess.run(
        [str(VENV_BIN / "flask"), "--app", "app", "seed-demo", "--password", PASSWORD],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    busy = _busy_practice(url, instance)
    production_planner(url)
    return {**national, "busy": busy, "build_s": round(time.perf_counter() - started, 1)}


#: The README's production setting for PostgreSQL (section Production): the planner's cost of
#: a page read out of order, for storage with fast random reads (SSD) or a database held in
#: memory, as PostgreSQL's documentation suggests (Planner Cost Constants: "e.g., 1.1"; its
#: default of 4 models spinning disks).
RANDOM_PAGE_COST = "1.1"


def production_planner(url: str) -> None:
    """Set the README's planner setting on the throw-away database, for every later session."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'ALTER DATABASE "{name}" SET random_page_cost = {RANDOM_PAGE_COST}')
    engine.dispose()


@contextmanager
def database() -> Iterator[str]:
    url, drop = reports._postgres_database()
    try:
        yield url
    finally:
        drop()


# --- the servers --------------------------------------------------------------------------------


def _prepare_tree(tree: Path) -> list[str]:
    """What PYTHONPATH the tree's server needs: the tree itself first (ahead of this
    checkout's editable install), and a stand-in that hides reportlab's C accelerator when
    the tree did not depend on it. Its static assets come from this checkout if missing."""
    assets = tree / "tracker/static/vendor"
    if not assets.exists() and (ROOT / "tracker/static/vendor").exists():
        shutil.copytree(ROOT / "tracker/static/vendor", assets)
    path = [str(tree)]
    if "rl-accel" not in (tree / "pyproject.toml").read_text():
        hide = Path(tempfile.mkdtemp(prefix="bench-no-rl-accel-"))
        (hide / "_rl_accel.py").write_text('raise ImportError("not a dependency of this tree")\n')
        path.append(str(hide))
    return path


def start_server(label: str, tree: Path, url: str, port: int, instance: Path) -> Server:
    """gunicorn as the README's production section runs it, with 4 workers."""
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TRACKER_PRODUCTION": "true",
        "TRACKER_SECRET_KEY": secrets.token_hex(32),
        "TRACKER_UPLOAD_FOLDER": str(instance / "uploads"),
        "TRACKER_BEHIND_PROXY": "true",
        "TRACKER_INSTANCE_PATH": str(instance / label),
        "PYTHONPATH": os.pathsep.join(_prepare_tree(tree)),
    }
    command = [
        str(VENV_BIN / "gunicorn"),
        "--workers",
        "4",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(tree),
        "--log-level",
        "warning",
        "app:app",
    ]
    process = subprocess.Popen(command, cwd=tree, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _get(port, "/login").status == 200:
                return Server(label, tree, port, process)
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise RuntimeError(f"gunicorn for {label} did not answer on port {port}")


def stop_server(server: Server) -> None:
    os.killpg(server.process.pid, signal.SIGTERM)
    server.process.wait(timeout=30)


# --- HTTP as a browser behind the proxy ---------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: dict[str, str]


def _request(
    port: int, method: str, path: str, headers: dict[str, str], body: str | None = None
) -> Answer:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request(method, path, body=body, headers={"X-Forwarded-Proto": "https", **headers})
    response = connection.getresponse()
    data = response.read()
    cookies = {}
    for name, value in response.getheaders():
        if name.lower() == "set-cookie":
            key, _, rest = value.partition("=")
            cookies[key] = rest.split(";", 1)[0]
    answer = Answer(response.status, dict(response.getheaders()), data, cookies)
    connection.close()
    return answer


def _get(port: int, path: str, cookie: str = "") -> Answer:
    return _request(port, "GET", path, {"Cookie": cookie} if cookie else {})


def sign_in(port: int, email: str) -> str:
    """The Cookie header of a signed-in session: the login form's CSRF token, posted with
    the Referer an HTTPS page sends (Flask-WTF checks it on secure requests)."""
    page = _get(port, "/login")
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page.body)
    assert token, "no CSRF token on the login page"
    session = f"session={page.cookies['session']}"
    answer = _request(
        port,
        "POST",
        "/login",
        {
            "Cookie": session,
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"https://127.0.0.1:{port}/login",
        },
        urllib.parse.urlencode(
            {"email": email, "password": PASSWORD, "csrf_token": token.group(1).decode()}
        ),
    )
    assert answer.status == 302 and "session" in answer.cookies, (email, answer.status)
    return f"session={answer.cookies['session']}"


def routes(data: dict[str, Any]) -> list[Route]:
    busy = data["busy"]
    invoice = busy["invoice_id"]
    report = f"/reports/events/{busy['event_id']}/icbs/{busy['icb_id']}"
    return [
        Route("login page", None, "/login"),
        Route("dashboard", BUSY_EMAIL, "/"),
        Route("incidents list", BUSY_EMAIL, "/incidents"),
        Route("an incident page", BUSY_EMAIL, f"/incidents/{busy['incident_id']}"),
        Route("an invoice page", BUSY_EMAIL, f"/invoices/{invoice}"),
        Route("an invoice PDF (50 lines)", BUSY_EMAIL, f"/invoices/{invoice}.pdf", "pdf"),
        Route("review list", REVIEWER_EMAIL, "/review"),
        Route("a claim page", REVIEWER_EMAIL, f"/review/claims/{invoice}"),
        Route("ICB report page", REVIEWER_EMAIL, report),
        # the floor of any signed-in page: the user loaded, the signed-in header, a form, and
        # no data (last: the repeat of the PDF is found by its place above)
        Route("a signed-in form with no data", BUSY_EMAIL, "/account/password", "reference"),
    ]


def repeat_pdf_route(server: Server, pdf: Route) -> Route | None:
    """The same PDF asked for again by a browser that holds it (If-None-Match), where the
    server tags it."""
    tag = _get(server.port, pdf.path, server.cookies[BUSY_EMAIL]).headers.get("ETag")
    if not tag:
        return None
    return Route(
        "the invoice PDF again (304)", BUSY_EMAIL, pdf.path, "extra", (("If-None-Match", tag),)
    )


def check(server: Server, route: Route) -> None:
    """Each route answers 200 (304 for a repeat) to its signed-in client before it is timed:
    wrk counts only 4xx and 5xx as errors, and a lost session would answer 302."""
    cookie = server.cookies.get(route.who or "", "")
    answer = _request(server.port, "GET", route.path, {"Cookie": cookie, **dict(route.headers)})
    expected = 304 if route.headers else 200
    assert answer.status == expected, (server.label, route.path, answer.status)


# --- measuring ----------------------------------------------------------------------------------


def _ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)


def _children(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def _backends(admin: Any, name: str) -> list[int]:
    from sqlalchemy import text

    with admin.connect() as conn:
        return list(
            conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            ).scalars()
        )


def _cpu(pids: list[int]) -> dict[int, int]:
    return {pid: _ticks(pid) for pid in pids}


def _delta_ms(before: dict[int, int], after: dict[int, int]) -> float:
    ticks = sum(after[pid] - before.get(pid, 0) for pid in after)
    return ticks * 1000 / CLOCK_TICKS


def drive(
    server: Server, route: Route, seconds: int, connections: int, threads: int, probe: Any
) -> dict[str, Any]:
    """wrk on one route; the CPU of the server, PostgreSQL and wrk over the run."""
    script = Path(tempfile.gettempdir()) / "bench-load-wrk.lua"
    script.write_text(WRK_SCRIPT)
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s"]
    command += ["-s", str(script), "-H", "X-Forwarded-Proto: https"]
    cookie = server.cookies.get(route.who or "")
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    for name, value in route.headers:
        command += ["-H", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{server.port}{route.path}")
    workers = [server.process.pid, *_children(server.process.pid)]
    backends = probe()
    app0, pg0 = _cpu(workers), _cpu(backends)
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    app1, pg1 = _cpu(workers), _cpu(probe())
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    requests = max(result["requests"], 1)
    wrk_cpu = (children1.ru_utime + children1.ru_stime) - (children0.ru_utime + children0.ru_stime)
    app_ms, pg_ms = _delta_ms(app0, app1), _delta_ms(pg0, pg1)
    errors = sum(result[k] for k in ("connect", "read", "write", "status", "timeout"))
    return {
        "route": route.name,
        "kind": route.kind,
        "requests": result["requests"],
        "rps": result["requests"] / (result["duration_us"] / 1e6),
        "p50": result["p50"] / 1000,
        "p95": result["p95"] / 1000,
        "p99": result["p99"] / 1000,
        "errors": errors,
        "app_ms": app_ms / requests,
        "pg_ms": pg_ms / requests,
        "wrk_s": wrk_cpu,
        "server_s": (app_ms + pg_ms) / 1000,
        "wall_s": wall,
    }


# --- the report ---------------------------------------------------------------------------------


def _ratio(value: float, base: float) -> float:
    return value / base if base else float("inf")


def judged(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each route with its shares of the login page's figures and its verdict."""
    base = results[0]
    rows = []
    for result in results:
        cpu = _ratio(result["app_ms"], base["app_ms"])
        share = _ratio(result["rps"], base["rps"])
        p95 = _ratio(result["p95"], base["p95"])
        if result["kind"] == "html":
            met = cpu <= HTML_CPU and share >= HTML_SHARE and p95 <= HTML_P95
        elif result["kind"] == "pdf":
            met = cpu <= PDF_CPU and share >= PDF_SHARE
        else:
            met = None
        met = None if met is None else (met and result["errors"] == 0)
        rows.append({**result, "cpu_x": cpu, "share": share, "p95_x": p95, "met": met})
    return rows


def _mark(met: bool | None) -> str:
    return "-" if met is None else ("✓" if met else "✗")


def table(runs: dict[str, list[dict[str, Any]]]) -> list[str]:
    labels = list(runs)
    head = "| route |"
    rule = "|---|"
    for label in labels:
        head += (
            f" {label}: req/s | share | p50 / p95 / p99 ms | app CPU ms/req (× login) "
            f"| PostgreSQL ms/req | errors | target |"
        )
        rule += "---:|---:|---:|---:|---:|---:|:---:|"
    lines = [head, rule]
    names = [row["route"] for row in runs[labels[0]]]
    for label in labels[1:]:
        names += [row["route"] for row in runs[label] if row["route"] not in names]
    for name in names:
        cells = f"| {name} |"
        for label in labels:
            row = next((r for r in runs[label] if r["route"] == name), None)
            if row is None:
                cells += " - | - | - | - | - | - | - |"
                continue
            cells += (
                f" {row['rps']:,.0f} | {row['share']:.0%} "
                f"| {row['p50']:.0f} / {row['p95']:.0f} / {row['p99']:.0f} "
                f"| {row['app_ms']:.1f} ({row['cpu_x']:.1f}×) | {row['pg_ms']:.1f} "
                f"| {row['errors']} | {_mark(row['met'])} |"
            )
        lines.append(cells)
    return lines


def generator_share(results: list[dict[str, Any]]) -> str:
    wrk = sum(r["wrk_s"] for r in results)
    server = sum(r["server_s"] for r in results)
    return f"{wrk / (wrk + server):.0%}" if wrk + server else "-"


def section(info: dict[str, str], data: dict[str, Any], args: Any, runs: dict[str, Any]) -> str:
    shares = ", ".join(f"{label} {generator_share(rows)}" for label, rows in runs.items())
    verdicts = []
    for label, rows in runs.items():
        missed = [r["route"] for r in rows if r["met"] is False]
        verdicts.append(
            f"- {label}: " + ("every target met" if not missed else "missed: " + ", ".join(missed))
        )
    return "\n".join(
        [
            HEADING,
            "",
            f"Run {info['date']} with `.venv/bin/python -m bench.load` (`make bench-load`)"
            + (f" and `--before {args.before}`" if args.before else "")
            + ".",
            "",
            f"- Machine: {info['cpus']} × {info['cpu']}; {info['system']}; load average at the "
            f"start {info['load']}, at the end {'{:.2f} {:.2f} {:.2f}'.format(*os.getloadavg())}",
            f"- Python {info['python']}; {info['libraries']}",
            f"- Server: gunicorn, 4 sync workers, the README's production settings "
            "(TRACKER_PRODUCTION, TRACKER_BEHIND_PROXY, a secret key) on PostgreSQL "
            f"(a throw-away database on 127.0.0.1, built in {data['build_s']} s, its planner "
            f"statistics gathered and random_page_cost = {RANDOM_PAGE_COST} as the README "
            "sets it).",
            f"- Data: the national data set ({data['practices']:,} practices, "
            f"{data['invoice_lines']:,} invoice lines), the demo data, and a busy practice "
            f"(200 incidents, 2,000 cost lines, {data['busy']['invoices']} issued invoices, "
            "the first with 50 lines; its incidents one a day from 19 July 2024) in the demo "
            "ICB; the ICB report is the demo ICB's for "
            "the national outage event (150 practices, 7,500 lines).",
            f"- Load: wrk -t{args.threads} -c{args.connections} -d{args.duration}s per route "
            "after a warm-up, on the same machine; each route signed in as its user "
            "(session cookie; X-Forwarded-Proto: https as the proxy sends). Load generator's "
            f"own share of the CPU used: {shares}.",
            "- CPU per request: utime + stime of the gunicorn processes and of the database's "
            "PostgreSQL backends (/proc/<pid>/stat) over the run, over the requests served. "
            "Shares and × are against the login page in the same run.",
            "- The last rows are shown, not judged: the change-password form, signed in, is "
            "what every signed-in page costs before it reads any data (its user, the "
            "signed-in header, a form); the PDF asked again with its ETag is a 304.",
            f"- Targets: every HTML page at most {HTML_CPU:g}× the login page's app CPU per "
            f"request, at least {HTML_SHARE:.0%} of its throughput, a p95 at most "
            f"{HTML_P95:g}× its p95; the invoice PDF at most {PDF_CPU:g}× the CPU and at least "
            "a third of the throughput; zero errors.",
            "",
            *table(runs),
            "",
            *verdicts,
            "",
        ]
    )


# --- orchestration ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="an earlier checkout to compare with")
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--practices", type=int, default=6_300)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--routes", help="comma-separated route names to run (default all)")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk (make bench-load does)")
        return 2
    info = machine()
    print(f"Load benchmark, {info['date']}, load average {info['load']}")
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    with database() as url, tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        instance = Path(tmp)
        print("building the data ...", flush=True)
        data = build(url, instance, args.practices)
        print(f"  built in {data['build_s']} s", flush=True)
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        name = make_url(url).database

        def probe() -> list[int]:
            return _backends(admin, name)

        trees = {"after": ROOT}
        if args.before:
            trees = {"before": args.before.resolve(), "after": ROOT}
        servers = [
            start_server(label, tree, url, args.port + n, instance)
            for n, (label, tree) in enumerate(trees.items())
        ]
        try:
            for server in servers:
                for email in (BUSY_EMAIL, REVIEWER_EMAIL):
                    server.cookies[email] = sign_in(server.port, email)
            chosen = routes(data)
            if args.routes:
                wanted = {n.strip() for n in args.routes.split(",")}
                chosen = [chosen[0]] + [r for r in chosen[1:] if r.name in wanted]
            runs: dict[str, list[dict[str, Any]]] = {s.label: [] for s in servers}
            extra = (
                {s.label: repeat_pdf_route(s, chosen[5]) for s in servers}
                if (len(chosen) > 5 and chosen[5].kind == "pdf")
                else {}
            )
            for route in chosen:
                for server in servers:
                    _run(server, route, args, probe, runs)
            for server in servers:
                if extra.get(server.label):
                    _run(server, extra[server.label], args, probe, runs)
        finally:
            for server in servers:
                stop_server(server)
            admin.dispose()
    judged_runs = {label: judged(rows) for label, rows in runs.items()}
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(
        json.dumps({"machine": info, "data": data, "runs": judged_runs}, indent=2, default=str)
    )
    text = section(info, data, args, judged_runs)
    print("\n" + text)
    if args.write_results:
        write_results(text, HEADING)
        print("written to bench/RESULTS.md")
    return 0


def _run(server: Server, route: Route, args: Any, probe: Any, runs: dict[str, Any]) -> None:
    check(server, route)
    drive(server, route, args.warmup, args.connections, args.threads, probe)
    result = drive(server, route, args.duration, args.connections, args.threads, probe)
    runs[server.label].append(result)
    print(
        f"  {server.label:<6} {route.name:<28} {result['rps']:8.1f} req/s  "
        f"p95 {result['p95']:6.0f} ms  app {result['app_ms']:5.1f} ms/req  "
        f"pg {result['pg_ms']:4.1f} ms/req  errors {result['errors']}",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
