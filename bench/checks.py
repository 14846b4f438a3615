"""Benchmark of the automatic checks of claims (issue 14) at national scale.

    .venv/bin/python -m bench.checks [--databases sqlite,postgresql] [--practices 6300]
                                     [--lines 50] [--runs 5] [--write-results]

It builds the reports benchmark's data set (bench.reports.build: 42 ICBs, each with its claim
policy for the outage, `--practices` practices with one claim of `--lines` lines each, staff
and locum lines naming their people) and, in a fresh process, times:

- the claims list (`/review`, a page of 25 claims with each claim's flags counted) and one
  claim's page (50 lines, each with its flags) through the Flask test client, as the first
  ICB's reviewer;
- services.claim_policy.check_claims over every claim of the first ICB (150 claims, ~7,500
  lines) in one call, and over every claim in England (one call per ICB: 42 calls);

counting the SQL statements of each (the same on a 2-practice data set: no query per claim or
line). Results go to their own section of bench/RESULTS.md with `--write-results`.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import reports

HEADING = "## Automatic checks of claims"
TARGETS = {
    "review_list": 0.5,
    "review_claim": 0.5,
    "checks_icb": 2.0,
    "checks_national": 60.0,
}
LABELS = {
    "review_list": "Claims to review, a page of 25 with their flags",
    "review_claim": "One claim's page, 50 lines with their flags",
    "checks_icb": "check_claims: every claim of one ICB (one call)",
    "checks_national": "check_claims: every claim in England (a call per ICB; queries a call)",
}


def _timed(runs: int, work: Any, statements: list[str]) -> dict[str, Any]:
    times, queries, result = [], 0, None
    for attempt in range(runs + 1):  # the first is a warm-up
        statements.clear()
        started = time.perf_counter()
        result = work()
        elapsed = time.perf_counter() - started
        queries = len(statements)
        if attempt:
            times.append(elapsed)
    return {
        "median_s": statistics.median(times),
        "max_s": max(times),
        "queries": queries,
        "result": result,
    }


def measure(url: str, instance: Path, icb_id: int, runs: int) -> dict[str, Any]:
    from sqlalchemy import event as sa_event
    from sqlalchemy import select

    from tracker.extensions import db
    from tracker.models import Invoice
    from tracker.services import claim_policy

    app = reports._app(url, instance)
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "reviewer@bench.test", "password": reports.PASSWORD}
    )
    assert response.status_code == 302, response.data[:300]
    statements: list[str] = []
    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    results: dict[str, Any] = {}
    for name, path in (("review_list", "/review"), ("review_claim", "/review/claims/1")):

        def get(path: str = path) -> int:
            page = client.get(path)
            assert page.status_code == 200, (path, page.status_code)
            return len(page.data)

        results[name] = _timed(runs, get, statements)
    with app.app_context():
        by_icb: dict[int, list[int]] = {}
        for invoice_id, icb in db.session.execute(select(Invoice.id, Invoice.icb_id)):
            by_icb.setdefault(icb, []).append(invoice_id)

        def flagged(found: dict[int, Any]) -> tuple[int, int]:
            lines = sum(len(checks.flags) for checks in found.values())
            return lines, sum(checks.flagged for checks in found.values())

        def one_icb() -> tuple[int, int]:
            return flagged(claim_policy.check_claims(db.session, by_icb[icb_id]))

        def national() -> tuple[int, int]:
            lines = hits = 0
            for ids in by_icb.values():
                found = flagged(claim_policy.check_claims(db.session, ids))
                lines, hits = lines + found[0], hits + found[1]
                db.session.expunge_all()
            return lines, hits

        results["checks_icb"] = _timed(runs, one_icb, statements)
        results["checks_national"] = _timed(max(1, runs // 2), national, statements)
        # queries a call, so the large and small data sets (42 and 2 ICBs) compare
        results["checks_national"]["queries"] //= len(by_icb)
        db.session.remove()
    return results


def run_database(kind: str, practices: int, lines: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"bench-checks-{kind}-") as tmp:
        instance = Path(tmp)
        measured, small_measured, built = {}, {}, {}
        for size, count, per_claim, times in (
            ("large", practices, lines, runs),
            ("small", 2, 4, 1),
        ):
            folder = instance / size
            folder.mkdir()
            drop = None
            if kind == "sqlite":
                url = f"sqlite:///{folder / 'bench.db'}"
            else:
                url, drop = reports._postgres_database()
            try:
                made = reports._child("build", url, folder, practices=count, lines=per_claim)
                found = _child(url, folder, icb_id=made["icb_id"], runs=times)
            finally:
                if drop:
                    drop()
            if size == "large":
                built, measured = made, found
                print(f"  {kind}: built {made['invoice_lines']:,} lines", flush=True)
            else:
                small_measured = found
    for name, figures in measured.items():
        figures["queries_small"] = small_measured[name]["queries"]
    return {"database": kind, "built": built, "measured": measured}


def _child(url: str, instance: Path, **options: Any) -> dict[str, Any]:
    import subprocess

    args = [sys.executable, "-m", "bench.checks", "--_measure", url, str(instance)]
    done = subprocess.run(
        [*args, json.dumps(options)], cwd=reports.ROOT, capture_output=True, text=True
    )
    if done.returncode != 0:
        raise RuntimeError(f"measure failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def markdown(results: list[dict[str, Any]], practices: int, lines: int, runs: int) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        HEADING,
        "",
        f"Run {now} with `.venv/bin/python -m bench.checks --write-results`.",
        "",
        f"- Machine: {reports._machine()}",
        f"- {reports._versions()}",
        f"- Data: bench.reports' data set: 42 ICBs, each with a claim policy for the outage "
        f"(caps on Band 5 staff and locum sessions, 12 hours a person a day, evidence above "
        f"£500, a deadline, lost appointments not claimable), {practices:,} practices, one "
        f"claim each of {lines} lines; a claim's staff lines name six people, its locum lines "
        "two.",
        f"- Time: median of {runs} runs after a warm-up (national: {max(1, runs // 2)}), in a "
        "fresh process; pages through the Flask test client as the first ICB's reviewer.",
        "- Queries: SQL statements, the same on a 2-practice data set (large / small).",
        "",
        "| database | what | target | median | max | queries (large / small) | lines checked "
        "| lines flagged |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for name, label in LABELS.items():
            m = result["measured"][name]
            target = TARGETS[name]
            mark = " ✓" if m["median_s"] < target else " ✗"
            checked, hits = m["result"] if isinstance(m["result"], list) else ("-", "-")
            out.append(
                f"| {result['database']} | {label} | < {target * 1000:,.0f} ms | "
                f"{m['median_s'] * 1000:,.0f} ms{mark} | {m['max_s'] * 1000:,.0f} ms | "
                f"{m['queries']} / {m['queries_small']} | "
                f"{checked if isinstance(checked, str) else f'{checked:,}'} | "
                f"{hits if isinstance(hits, str) else f'{hits:,}'} |"
            )
    out.append("")
    return "\n".join(out)


def write_results(section: str) -> None:
    """Replace this benchmark's own section of bench/RESULTS.md (or append it)."""
    reports.write_results(section, HEADING)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--_measure":
        options = json.loads(argv[3])
        result = measure(argv[1], Path(argv[2]), options["icb_id"], options["runs"])
        print(json.dumps(result, default=str))
        return 0
    return reports.command_line(argv, __doc__, run_database, markdown, write_results)


if __name__ == "__main__":
    sys.exit(main())
