"""Import benchmark: a 5,000-row staff-time workbook previewed and saved into an incident,
on SQLite and on PostgreSQL (a throw-away database), against inserting the same validated
lines directly through the service.

- preview: the upload request's work (services.imports.preview: read the workbook, check
  every row by the line form's rules, price it);
- confirm: the confirmation's work (read and check the file again, then
  services.imports.save: one flush of every line, one audit entry) and the commit;
- import = preview + confirm, what the user waits for in all;
- by hand, one by one: cost_lines.add_line for each already-validated line, as the line
  form saves it (a flush and an audit entry each), one commit;
- bulk floor: cost_lines.add_lines with the validated lines (one flush), one commit.

Target: the import at most 3x the one-by-one service insert. Each figure is the median of
REPEATS runs, each into a fresh incident; the pages' rendering is timed apart, through the
Flask test client. PostgreSQL needs TEST_DATABASE_URL (a server where databases can be
created), else only SQLite is measured.

    python -m bench imports
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.invoice_documents import machine, write_results

HEADING = "## Import"
ROWS = 5_000
REPEATS = 3
TODAY = date(2024, 9, 1)
TARGET = 3.0


def workbook(rows: int) -> bytes:
    """A staff-time workbook as a practice would fill the template: typed cells, a mix of
    hours and start/finish times, of pay bases and of money written with £ and commas."""
    from openpyxl import Workbook

    from tracker.columns import columns

    names = [c.name for c in columns("staff")]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Staff time")
    sheet.append(names)
    bases = ["Overtime", "Additional hours (pensionable)", "Extra hours at the normal rate"]
    for n in range(rows):
        day = date(2024, 7, 19) + timedelta(days=n % 20)
        by_times = n % 3 == 0
        row = {
            "Staff member or role": f"Receptionist {n % 40}",
            "Description": f"Phoning patients to rebook, list {n}",
            "Date": day,
            "Start": "17:30" if by_times else None,
            "Finish": "20:15" if by_times else None,
            "Hours": None if by_times else (n % 16 + 1) / 2,
            "Hourly rate": f"£{12 + n % 7}.{n % 100:02d}" if n % 2 else 12.08 + n % 5,
            "Paid as": bases[n % 3],
            "Overtime premium": 50,
            "VAT rate": None,
        }
        sheet.append([row[name] for name in names])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@contextmanager
def database(backend: str) -> Iterator[str | None]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.db'}"
        return
    if not os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    from tests.throwaway import postgres_database

    with postgres_database() as url:
        yield url


def _median(work: Callable[[], float]) -> float:
    return statistics.median(work() for _ in range(REPEATS))


def measure(backend: str, data: bytes) -> dict[str, Any] | None:
    from tests.conftest import build_app, create_schema
    from tests.factories import build_world, make_incident
    from tracker.extensions import db
    from tracker.services import cost_lines, imports

    with database(backend) as url, tempfile.TemporaryDirectory() as instance:
        if url is None:
            return None
        app = build_app(url, Path(instance))
        create_schema(app)
        with app.app_context():
            world = build_world(db.session)
            session = db.session
            user_id = world.manager.id

            def fresh() -> Any:
                incident = make_incident(session, world.practice_a)
                session.commit()
                return incident

            # warm-up: imports, the rate card, the connection pool
            warm = fresh()
            imports.preview(session, warm, "staff", "warm.xlsx", workbook(20), TODAY)
            session.rollback()
            inputs: list[Any] = []

            def preview() -> float:
                incident = fresh()
                start = time.perf_counter()
                result = imports.preview(session, incident, "staff", "rows.xlsx", data, TODAY)
                elapsed = time.perf_counter() - start
                session.rollback()
                assert len(result.valid_rows) == ROWS, result.invalid_rows[:3]
                inputs[:] = [row.line for row in result.valid_rows]
                return elapsed

            def confirm() -> float:
                incident = fresh()
                start = time.perf_counter()
                result = imports.preview(
                    session, incident, "staff", "rows.xlsx", data, TODAY, priced=False
                )
                lines = imports.save(session, incident, user_id, result, TODAY, again=True)
                session.commit()
                elapsed = time.perf_counter() - start
                assert len(lines) == ROWS
                return elapsed

            def one_by_one() -> float:
                incident = fresh()
                start = time.perf_counter()
                for inp in inputs:
                    cost_lines.add_line(session, incident, user_id, inp, TODAY)
                session.commit()
                return time.perf_counter() - start

            def bulk() -> float:
                incident = fresh()
                start = time.perf_counter()
                cost_lines.add_lines(session, incident, user_id, inputs, TODAY)
                session.commit()
                return time.perf_counter() - start

            figures = {
                "preview": _median(preview),
                "confirm": _median(confirm),
                "one_by_one": _median(one_by_one),
                "bulk": _median(bulk),
            }
            figures["import"] = figures["preview"] + figures["confirm"]
            print(" " + ", ".join(f"{k} {v:.2f} s" for k, v in figures.items()), end="")
            figures["pages"] = _pages(app, world, data)
            totals = _totals_agree(session)
            figures["totals_agree"] = totals
            session.remove()
            db.engine.dispose()
        return figures


def _pages(app: Any, world: Any, data: bytes) -> dict[str, float]:
    """The upload and confirm requests through the Flask test client, pages and all."""
    import re

    from tests.conftest import PASSWORD
    from tests.factories import make_incident
    from tracker.extensions import db

    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    number, email = incident.id, world.manager.email
    db.session.remove()
    client = app.test_client()
    if True:
        client.post("/login", data={"email": email, "password": PASSWORD})
        start = time.perf_counter()
        response = client.post(
            f"/incidents/{number}/import",
            data={"kind": "staff", "upload": (io.BytesIO(data), "rows.xlsx")},
            content_type="multipart/form-data",
        )
        upload = time.perf_counter() - start
        token = re.search(r'name="token" type="hidden" value="([^"]+)"', response.text)
        assert token, response.text[:2000]
        start = time.perf_counter()
        saved = client.post(f"/incidents/{number}/import/confirm", data={"token": token[1]})
        confirm = time.perf_counter() - start
        assert saved.status_code == 302, saved.text[:2000]
    return {"upload": upload, "confirm": confirm, "page_bytes": len(response.data)}


def _totals_agree(session: Any) -> bool:
    """Each import's lines total what each one-by-one insert of the same lines totals."""
    from sqlalchemy import func, select

    from tracker.models import CostLine

    totals = session.execute(
        select(CostLine.incident_id, func.sum(CostLine.total_amount), func.count())
        .group_by(CostLine.incident_id)
        .order_by(CostLine.incident_id)
    ).all()
    full = {Decimal(total) for _incident, total, count in totals if count == ROWS}
    return len(full) == 1


def main() -> None:
    info = machine()
    print(f"Import benchmark, {info['date']}, {info['cpus']} × {info['cpu']}")
    data = workbook(ROWS)
    print(f"  workbook: {ROWS:,} rows, {len(data) / 1024:,.0f} KB")
    results: dict[str, dict[str, Any] | None] = {}
    for backend in ("sqlite", "postgresql"):
        print(f"  {backend} ...", end="", flush=True)
        results[backend] = measure(backend, data)
        print(" skipped (no TEST_DATABASE_URL)" if results[backend] is None else " done")
    rows = [
        "| database | preview s | confirm s | import s | by hand, one by one s | ratio | "
        "bulk floor s | pages: upload s, confirm s |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for backend, r in results.items():
        if r is None:
            rows.append(f"| {backend} | not run: TEST_DATABASE_URL not set | | | | | | |")
            continue
        ratio = r["import"] / r["one_by_one"]
        verdict = "meets" if ratio <= TARGET else "misses"
        rows.append(
            f"| {backend} | {r['preview']:.2f} | {r['confirm']:.2f} | {r['import']:.2f} "
            f"| {r['one_by_one']:.2f} | {ratio:.2f}× ({verdict} ≤ {TARGET:.0f}×) "
            f"| {r['bulk']:.2f} | {r['pages']['upload']:.2f}, {r['pages']['confirm']:.2f} "
            f"({r['pages']['page_bytes'] / 1e6:.1f} MB preview page) |"
        )
        assert r["totals_agree"], f"{backend}: import and one-by-one totals differ"
    print("\n" + "\n".join(rows))
    section = "\n".join(
        [
            HEADING,
            "",
            f"Run {info['date']} with `python -m bench imports`: a {ROWS:,}-row staff-time "
            f"workbook ({len(data) / 1024:,.0f} KB; hours, start and finish times, three pay "
            "bases), median of "
            f"{REPEATS} runs each into a fresh incident.",
            "",
            f"- Machine: {info['cpus']} × {info['cpu']}; {info['system']}; load average at the "
            f"start {info['load']}; Python {info['python']}",
            "- preview: read, check and price every row (the upload request, saving nothing); "
            "confirm: read and check the file again, insert every line in one flush with one "
            "audit entry, commit; import = preview + confirm.",
            "- by hand, one by one: `cost_lines.add_line` for each of the same validated lines "
            "(a flush and an audit entry each, as the line form saves), one commit; bulk floor: "
            "`cost_lines.add_lines` with them (one flush), one commit.",
            f"- Target: import at most {TARGET:.0f}× the one-by-one insert. The totals of the "
            "imported lines equal the one-by-one lines' to the penny.",
            "- pages: the same upload and confirm through the Flask test client (the preview "
            "page lists every row with its working).",
            "",
            *rows,
            "",
        ]
    )
    write_results(section, HEADING)


if __name__ == "__main__":
    main()
