"""Benchmark of the ICB and national outage reports at national scale.

    .venv/bin/python -m bench.reports [--databases sqlite,postgresql] [--practices 6300]
                                      [--lines 50] [--runs 5] [--write-results]

For each database it builds, with bulk inserts, 42 ICBs (data/icbs.csv), `--practices`
practices spread over them, one incident and one issued invoice per practice with `--lines`
lines of the four cost kinds for one outage event, review decisions (about 40% of claims
decided, 30% in review with a query, 30% new) and each ICB's claim policy for the event.
Then, in a fresh process (so its peak memory is the serving process's, not the builder's), it
times through the Flask test client:

- the ICB report of one ICB (page, XLSX, PDF) as that ICB's reviewer, with its comparison of
  peers per 1,000 patients (services.peers);
- a claim's page as that reviewer (the practice against its ICB's peers, each line's flags);
- the national report (page, XLSX, the XLSX with each ICB's peer statistics) as an
  administrator;
- the claims to review (the list with each claim's flags: the automatic checks of
  issue 14) as a reviewer;

counting the SQL statements of each request (`before_cursor_execute`) and checking them
against a 2-practice data set (the count must not grow). PostgreSQL runs in a throw-away
database on 127.0.0.1:5432 (user postgres, trust auth), dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "RESULTS.md"
PG_SERVER = os.environ.get("BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-123"
KINDS = ("staff",) * 20 + ("locum",) * 5 + ("appointments",) * 10 + ("expense",) * 15
#: Seconds. The national targets are issue 13's (national page under 300 ms, national XLSX
#: under 1 s, on both databases); the ICB ones are the first report targets.
TARGETS = {
    "icb_page": 0.5,
    "icb_xlsx": 2.0,
    "icb_pdf": 2.0,
    "national_page": 0.3,
    "national_xlsx": 1.0,
    # issue 14: the claims list with each claim's flags counted
    "review_list": 0.5,
}
#: Registered list sizes are made up (no list-size file is in data/): log-normal around a
#: median of 9,000 patients, between 1,000 and 60,000, the shape of NHS England's "Patients
#: Registered at a GP Practice" (most practices 4,000 to 20,000; about 10,000 on average in
#: 2024); every 50th practice has none, so the "no list size" path is timed too.
LIST_SIZE_MEDIAN = 9_000
LIST_SIZE_SIGMA = 0.5
WITHOUT_LIST_SIZE_EVERY = 50


# --- building the data set ------------------------------------------------------------------


def _app(url: str, instance: Path) -> Any:
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    from tracker import create_app
    from tracker.models import users

    users.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "SERVER_NAME": None,
        }
    )


def _list_size(rng: random.Random, n: int) -> int | None:
    if n % WITHOUT_LIST_SIZE_EVERY == 0:
        return None
    size = rng.lognormvariate(math.log(LIST_SIZE_MEDIAN), LIST_SIZE_SIGMA)
    return int(min(60_000, max(1_000, round(size, -1))))


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def build(url: str, instance: Path, practices: int, lines_per_claim: int) -> dict[str, Any]:
    """Schema through the migrations, then bulk inserts. Returns counts and the build time."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from tracker.extensions import db
    from tracker.models import (
        Icb,
        Incident,
        Invoice,
        InvoiceLine,
        LineDecision,
        OutageEvent,
        Practice,
        Role,
    )
    from tracker.services import claim_totals
    from tracker.services.directory import UserDetails, load_icbs, save_user

    app = _app(url, instance)
    started = time.perf_counter()
    rng = random.Random(19072024)
    with app.app_context():
        upgrade()
        session = db.session
        load_icbs(session)
        session.flush()
        icbs = list(session.scalars(select(Icb).order_by(Icb.ods_code)))
        event = OutageEvent(
            name="CrowdStrike global IT outage, 19 July 2024", started_on=date(2024, 7, 19)
        )
        session.add(event)
        session.flush()
        save_user(
            session,
            None,
            UserDetails(
                name="Reviewer",
                email="reviewer@bench.test",
                role=Role.ICB_REVIEWER.value,
                practice_ids=[],
                icb_id=icbs[0].id,
                is_admin=False,
                password=PASSWORD,
            ),
        )
        save_user(
            session,
            None,
            UserDetails(
                name="Admin",
                email="admin@bench.test",
                role=None,
                practice_ids=[],
                icb_id=None,
                is_admin=True,
                password=PASSWORD,
            ),
        )
        session.commit()
        event_id = event.id
        icb_ids = [icb.id for icb in icbs]

        practice_rows = [
            {
                "id": n,
                "ods_code": f"P{n:05d}",
                "name": f"Bench Surgery {n:05d}",
                "address": f"{n} High Street",
                "icb_id": icb_ids[(n - 1) % len(icb_ids)],
                "payment_terms_days": 30,
                "active": True,
                "list_size": _list_size(rng, n),
            }
            for n in range(1, practices + 1)
        ]
        incident_rows = [
            {
                "id": n,
                "practice_id": n,
                "outage_event_id": event_id,
                "title": "CrowdStrike / EMIS outage",
                "starts_at": datetime(2024, 7, 19, 6, 10),
                "systems": "emis_web",
                "status": "closed",
            }
            for n in range(1, practices + 1)
        ]
        conn = session.connection()
        _policies(conn, event_id, icb_ids)
        conn.execute(insert(Practice), practice_rows)
        conn.execute(insert(Incident), incident_rows)
        invoices, lines, decisions = [], [], []
        line_id = 0
        for n in range(1, practices + 1):
            state = (
                "decided",
                "decided",
                "decided",
                "decided",
                "in_review",
                "in_review",
                "in_review",
                "new",
                "new",
                "new",
            )[n % 10]
            total = Decimal("0.00")
            approved = Decimal("0.00")
            for position in range(1, lines_per_claim + 1):
                line_id += 1
                kind = KINDS[(position - 1) % len(KINDS)]
                hours = appointments = None
                details: list[dict[str, str]] = []
                if kind == "staff":
                    hours = Decimal(rng.randint(2, 24)) / 2
                    amount = (hours * Decimal("18.66") * Decimal("1.5")).quantize(Decimal("0.01"))
                    quantity, unit, rate = hours, "hour", Decimal("18.66")
                    # six people share a claim's staff lines, so the checks add up their days
                    person = f"Staff member {position % 6} (Band 5)"
                    details = [{"name": "staff_role", "label": "Staff", "value": person}]
                elif kind == "locum":
                    sessions = Decimal(rng.randint(1, 3))
                    hours = (sessions * 25 / 6).quantize(Decimal("0.01"))
                    amount = sessions * Decimal("357.00")
                    quantity, unit, rate = sessions, "session", Decimal("357.00")
                    locum = f"Dr Locum {position % 2}"
                    details = [{"name": "locum_name", "label": "Locum", "value": locum}]
                elif kind == "appointments":
                    appointments = rng.randint(5, 40)
                    amount = appointments * Decimal("45.00")
                    quantity, unit, rate = Decimal(appointments), "appointment", Decimal("45.00")
                else:
                    amount = _money(rng, 5, 120)
                    quantity, unit, rate = Decimal(1), "item", amount
                total += amount
                lines.append(
                    {
                        "id": line_id,
                        "invoice_id": n,
                        "position": position,
                        "incident_id": n,
                        "incident_title": "CrowdStrike / EMIS outage",
                        "kind": kind,
                        "line_date": date(2024, 7, 19),
                        "description": f"{kind} line {position}",
                        "working": "",
                        "quantity": quantity,
                        "unit": unit,
                        "unit_rate": rate,
                        "net_amount": amount,
                        "vat_amount": Decimal("0.00"),
                        "total_amount": amount,
                        "hours": hours,
                        "appointments": appointments,
                        "details": details,
                    }
                )
                decision = None
                if state == "decided" or (
                    state == "in_review" and position <= lines_per_claim // 2
                ):
                    decision = rng.choice(("approved",) * 8 + ("part_approved", "rejected"))
                    if state == "in_review" and position == 1:
                        decision = "queried"
                if decision:
                    value = {
                        "approved": amount,
                        "part_approved": (amount / 2).quantize(Decimal("0.01")),
                        "rejected": Decimal("0.00"),
                        "queried": None,
                    }[decision]
                    approved += value or Decimal("0.00")
                    decisions.append(
                        {
                            "invoice_line_id": line_id,
                            "decision": decision,
                            "approved_amount": value,
                            "reason": "" if decision == "approved" else "Bench reason",
                        }
                    )
            invoices.append(
                {
                    "id": n,
                    "practice_id": n,
                    "icb_id": practice_rows[n - 1]["icb_id"],
                    "kind": "invoice",
                    "status": "issued",
                    "number": f"P{n:05d}20240001",
                    "issue_date": date(2024, 7, 26),
                    "due_date": date(2024, 8, 25),
                    "notes": "",
                    "net_total": total,
                    "vat_total": Decimal("0.00"),
                    "total": total,
                    "amount_paid": Decimal("0.00"),
                    "review_status": state,
                    "approved_total": approved if state == "decided" else None,
                    "outage_event_id": event_id,
                }
            )
            if len(lines) >= 20_000:
                _flush(conn, invoices, lines, decisions, Invoice, InvoiceLine, LineDecision)
        _flush(conn, invoices, lines, decisions, Invoice, InvoiceLine, LineDecision)
        # the lines went in bulk, past the services: the reports' kept totals as the
        # services would have written them (services.claim_totals)
        claim_totals.refresh(conn)
        if conn.dialect.name == "postgresql":
            for table in ("practice", "incident", "invoice", "invoice_line", "claim_policy"):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
            session.commit()
            conn = session.connection()
            conn.exec_driver_sql("ANALYZE")
        else:
            session.commit()
            session.connection().exec_driver_sql("ANALYZE")
        session.commit()
        counts = {
            "practices": practices,
            "icbs": len(icb_ids),
            "invoice_lines": line_id,
            "decisions": session.scalar(select(db.func.count(LineDecision.id))),
            "event_id": event_id,
            "icb_id": icb_ids[0],
            "claim_id": 1,  # practice 1's claim, sent to the first ICB
        }
        db.session.remove()
        db.engine.dispose()
    counts["build_s"] = round(time.perf_counter() - started, 1)
    return counts


#: Every ICB's claim policy for the event (issue 14), so the claims are checked against one.
BENCH_CAPS = {"staff_band_5": Decimal("19.00"), "locum_session": Decimal("340.00")}


def _policies(conn: Any, event_id: int, icb_ids: list[int]) -> None:
    from sqlalchemy import insert

    from tracker.models import ClaimPolicy, ClaimPolicyCap

    conn.execute(
        insert(ClaimPolicy),
        [
            {
                "id": n,
                "outage_event_id": event_id,
                "icb_id": icb_id,
                "version": 1,
                "claimable": "staff,locum,expense",
                "deadline": date(2024, 10, 31),
                "window_days": 28,
                "evidence_above": Decimal("500.00"),
                "max_hours_per_day": Decimal("12"),
            }
            for n, icb_id in enumerate(icb_ids, start=1)
        ],
    )
    conn.execute(
        insert(ClaimPolicyCap),
        [
            {"policy_id": n, "key": key, "amount": amount}
            for n in range(1, len(icb_ids) + 1)
            for key, amount in BENCH_CAPS.items()
        ],
    )


def _flush(conn: Any, invoices: list, lines: list, decisions: list, *models: Any) -> None:
    from sqlalchemy import insert

    invoice_model, line_model, decision_model = models
    if invoices:
        conn.execute(insert(invoice_model), invoices)
    if lines:
        conn.execute(insert(line_model), lines)
    if decisions:
        conn.execute(insert(decision_model), decisions)
    invoices.clear()
    lines.clear()
    decisions.clear()


# --- measuring (in a fresh process) ------------------------------------------------------------


def measure(
    url: str, instance: Path, event_id: int, icb_id: int, claim_id: int, runs: int
) -> dict[str, Any]:
    from sqlalchemy import event as sa_event

    from tracker.extensions import db

    app = _app(url, instance)
    base = f"/reports/events/{event_id}"
    requests = {
        "national_xlsx": ("admin", f"{base}/national.xlsx"),
        "national_page": ("admin", f"{base}/national"),
        "icb_page": ("reviewer", f"{base}/icbs/{icb_id}"),
        "icb_xlsx": ("reviewer", f"{base}/icbs/{icb_id}.xlsx"),
        "icb_pdf": ("reviewer", f"{base}/icbs/{icb_id}.pdf"),
        "review_list": ("reviewer", "/review"),
        "claim_page": ("reviewer", f"/review/claims/{claim_id}"),
    }
    results: dict[str, Any] = {}
    clients = {}
    for who in ("admin", "reviewer"):
        client = app.test_client()
        response = client.post("/login", data={"email": f"{who}@bench.test", "password": PASSWORD})
        assert response.status_code == 302, response.data[:300]
        clients[who] = client
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    for name, (who, path) in requests.items():
        client = clients[who]
        rss_before = _rss_mb()
        times, cpu, sizes = [], [], 0
        for attempt in range(runs + 1):  # the first is a warm-up
            statements.clear()
            started, cpu_started = time.perf_counter(), time.process_time()
            response = client.get(path)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, (path, response.status_code)
            sizes = len(response.data)
            if attempt:
                times.append(elapsed)
                cpu.append(time.process_time() - cpu_started)
        results[name] = {
            "best_s": min(times),
            "median_s": statistics.median(times),
            "cpu_s": statistics.median(cpu),
            "max_s": max(times),
            "queries": len(statements),
            "bytes": sizes,
            "rss_growth_mb": round(_rss_mb() - rss_before, 1),
        }
    results["peak_rss_mb"] = round(_rss_mb(), 1)
    return results


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- orchestration -----------------------------------------------------------------------------


def _postgres_database() -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"bench_reports_{uuid.uuid4().hex[:8]}"
    server = make_url(PG_SERVER)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return server.set(database=name).render_as_string(hide_password=False), drop


def run_database(kind: str, practices: int, lines: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-reports-{kind}-") as tmp:
        instance = Path(tmp)
        drop = None
        if kind == "sqlite":
            url = f"sqlite:///{instance / 'bench.db'}"
        else:
            url, drop = _postgres_database()
        try:
            built = _child("build", url, instance, practices=practices, lines=lines)
            print(
                f"  {kind}: built {built['invoice_lines']:,} lines in {built['build_s']} s",
                flush=True,
            )
            measured = _child(
                "measure",
                url,
                instance,
                event_id=built["event_id"],
                icb_id=built["icb_id"],
                claim_id=built["claim_id"],
                runs=runs,
            )
            # the same requests on a 2-practice data set: the query count must not change
            small_instance = instance / "small"
            small_instance.mkdir()
            if kind == "sqlite":
                small_url = f"sqlite:///{small_instance / 'small.db'}"
                small_drop = None
            else:
                small_url, small_drop = _postgres_database()
            try:
                small = _child("build", small_url, small_instance, practices=2, lines=4)
                small_measured = _child(
                    "measure",
                    small_url,
                    small_instance,
                    event_id=small["event_id"],
                    icb_id=small["icb_id"],
                    claim_id=small["claim_id"],
                    runs=1,
                )
            finally:
                if small_drop:
                    small_drop()
        finally:
            if drop:
                drop()
    for name, figures in measured.items():
        if isinstance(figures, dict):
            figures["queries_small"] = small_measured[name]["queries"]
    return {"database": kind, "built": built, "measured": measured}


def _child(command: str, url: str, instance: Path, **options: Any) -> dict[str, Any]:
    """Run one step in a fresh interpreter; it prints its result as JSON on the last line."""
    args = [
        sys.executable,
        "-m",
        "bench.reports",
        f"--_{command}",
        url,
        str(instance),
        json.dumps(options),
    ]
    done = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{command} failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} × {cpu}; {platform.system()} {platform.release()}"


def _versions() -> str:
    import openpyxl
    import reportlab
    import sqlalchemy

    parts = [
        f"Python {platform.python_version()}",
        f"SQLAlchemy {sqlalchemy.__version__}",
        f"openpyxl {openpyxl.__version__}",
        f"reportlab {reportlab.Version}",
        f"SQLite {__import__('sqlite3').sqlite_version}",
    ]
    try:
        from sqlalchemy import create_engine, text

        with create_engine(PG_SERVER).connect() as conn:
            parts.append("PostgreSQL " + conn.execute(text("SHOW server_version")).scalar())
    except Exception:
        pass
    return ", ".join(parts)


LABELS = {
    "icb_page": "ICB report page",
    "icb_xlsx": "ICB report XLSX",
    "icb_pdf": "ICB report PDF",
    "national_page": "National report page",
    "national_xlsx": "National report XLSX",
    "review_list": "Claims to review (list)",
    "claim_page": "A claim's page (with its peers)",
}


def markdown(results: list[dict[str, Any]], practices: int, lines: int, runs: int) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    first = results[0]["built"]
    out = [
        "## ICB and national reports",
        "",
        f"Run {now} with `.venv/bin/python -m bench.reports --write-results`.",
        "",
        f"- Machine: {_machine()}; load average at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (shared with other work)",
        f"- {_versions()}",
        f"- Data: {first['icbs']} ICBs, {practices:,} practices, one issued claim each with "
        f"{lines} lines for one outage event ({first['invoice_lines']:,} invoice lines; "
        f"{first['decisions']:,} line decisions: 40% of claims decided, 30% in review with a "
        "query, 30% new), bulk-inserted with SQLAlchemy Core. The ICB report is for the first "
        f"ICB ({practices // max(first['icbs'], 1)} practices, "
        f"~{practices // max(first['icbs'], 1) * lines:,} lines). Registered list sizes made "
        f"up (log-normal, median {LIST_SIZE_MEDIAN:,}, 1,000 to 60,000; every "
        f"{WITHOUT_LIST_SIZE_EVERY}th practice without one): no list-size file is in data/.",
        f"- Time: best and median of {runs} requests after a warm-up, through the Flask test "
        "client (routing, login session, access checks, SQL, template or builder), in a "
        "fresh process.",
        "- Queries: SQL statements per request (`before_cursor_execute`), the same on a "
        "2-practice data set (shown as large / small). App CPU: the serving process's own CPU "
        "time for the request (`time.process_time`), steadier than the wall clock on a shared "
        "machine; on PostgreSQL the server's share is not in it.",
        "- Memory: peak RSS of the serving process (interpreter, app, every request); growth: "
        "rise of the peak during that request type (national XLSX runs first).",
        "",
        "| database | request | target | best | median | max | app CPU (median) | "
        "queries (large / small) | size | peak RSS growth |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        measured = result["measured"]
        for name, label in LABELS.items():
            m = measured[name]
            target = TARGETS.get(name)
            mark = "" if target is None else (" ✓" if m["median_s"] < target else " ✗")
            out.append(
                f"| {result['database']} | {label} | "
                f"{'-' if target is None else f'< {target * 1000:,.0f} ms'} | "
                f"{m['best_s'] * 1000:,.0f} ms | {m['median_s'] * 1000:,.0f} ms{mark} | "
                f"{m['max_s'] * 1000:,.0f} ms | {m['cpu_s'] * 1000:,.0f} ms | "
                f"{m['queries']} / {m['queries_small']} | {m['bytes'] / 1024:,.0f} KB | "
                f"+{m['rss_growth_mb']:.0f} MB |"
            )
    out.append("")
    for result in results:
        out.append(
            f"- {result['database']}: build {result['built']['build_s']} s; peak RSS of the "
            f"serving process {result['measured']['peak_rss_mb']:.0f} MB (target for the "
            "national XLSX: < 500 MB)."
        )
    out.append("")
    return "\n".join(out)


def write_results(section: str, heading: str = "## ICB and national reports") -> None:
    """Replace our own section of bench/RESULTS.md (or append it); other sections stay."""
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
    if heading in text:
        start = text.index(heading)
        rest = text[start + len(heading) :]
        end = rest.find("\n## ")
        text = text[:start] + section.rstrip("\n") + "\n\n" + (rest[end + 1 :] if end >= 0 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("--_build", "--_measure"):
        url, instance, options = argv[1], Path(argv[2]), json.loads(argv[3])
        if argv[0] == "--_build":
            result = build(url, instance, options["practices"], options["lines"])
        else:
            result = measure(
                url,
                instance,
                options["event_id"],
                options["icb_id"],
                options["claim_id"],
                options["runs"],
            )
        print(json.dumps(result, default=str))
        return 0
    return command_line(argv, __doc__, run_database, markdown, write_results)


def command_line(argv: list[str], doc: str | None, run: Any, report: Any, write: Any) -> int:
    """The options every national-scale benchmark takes; run it on each database, print the
    markdown section and, with --write-results, write it to bench/RESULTS.md."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--practices", type=int, default=6300)
    parser.add_argument("--lines", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for kind in args.databases.split(","):
        print(f"{kind}: {args.practices:,} practices × {args.lines} lines", flush=True)
        results.append(run(kind, args.practices, args.lines, args.runs))
    section = report(results, args.practices, args.lines, args.runs)
    print(section)
    if args.write_results:
        write(section)
        print(f"written to {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
