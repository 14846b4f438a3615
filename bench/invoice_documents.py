"""Invoice documents benchmark: time and peak memory to build the PDF and the XLSX of invoices
with 10, 100, 1,000 and 10,000 lines, beside two references: reportlab's bare canvas drawing
the same text (the floor) and the same invoice rendered from HTML by WeasyPrint.

Each (builder, size) runs in a fresh subprocess, so peak memory is that process's own
high-water mark (getrusage ru_maxrss: interpreter + imports + the input document + the
build); "over base" is the peak minus the high-water mark just before the timed builds.
Time is the median of several builds after one warm-up build of a 3-line invoice (fonts
registered, modules imported: a server process's steady state). WeasyPrint is capped at
1,000 lines (about 8 s there; 10,000 would take minutes).

    python -m bench invoices        (or: make bench)
"""

from __future__ import annotations

import itertools
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADING = "## Invoice documents"
SIZES = (10, 100, 1_000, 10_000)
BUILDERS = ("pdf", "floor", "weasyprint", "xlsx", "xlsx_floor", "text_floor")
WEASYPRINT_CAP = 1_000
REPEATS = {10: 15, 100: 9, 1_000: 5, 10_000: 3}
WEASYPRINT_REPEATS = {10: 5, 100: 3, 1_000: 1}
TARGETS = (
    "100-line PDF < 100 ms; 100-line XLSX < 50 ms",
    "PDF within 2x the floor at every size (issue 13: the canvas drawing every string the "
    "invoice prints; 5x of the lines' strings in issue 4); at least 10x faster than WeasyPrint",
    "XLSX within 1.5x openpyxl's write-only mode writing the same cells (issue 13)",
    "linear: 10x the lines, at most 11x the time (issue 13; 12x in issue 4)",
    "10,000 lines: < 5 s and < 300 MB peak",
)
PDF_FLOOR_RATIO, XLSX_FLOOR_RATIO, LINEAR = 2, 1.5, 11


# -- the worker: one builder, one size, in its own process ---------------------------------------
def _builder(kind: str):
    """(prepare(document) -> input, build(input) -> bytes, extension) for a builder."""
    if kind == "pdf":
        from tracker.documents.pdf import build_invoice_pdf

        return (lambda doc: doc), build_invoice_pdf, "pdf"
    if kind == "xlsx":
        from tracker.documents.xlsx import build_invoice_xlsx

        return (lambda doc: doc), build_invoice_xlsx, "xlsx"
    if kind == "floor":
        from bench.floor import build_floor_pdf, line_strings

        return line_strings, build_floor_pdf, "pdf"
    if kind == "text_floor":
        from bench.floor import build_document_floor_pdf, document_runs

        return document_runs, build_document_floor_pdf, "pdf"
    if kind == "xlsx_floor":
        from bench.xlsx_floor import build_floor_xlsx, invoice_cells

        return invoice_cells, build_floor_xlsx, "xlsx"
    if kind == "weasyprint":
        from bench.html_invoice import build_weasyprint_pdf

        return (lambda doc: doc), build_weasyprint_pdf, "pdf"
    raise ValueError(kind)


def _max_rss_kb() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux


def worker(kind: str, lines: int, repeats: int) -> dict:
    from tests.documents_fixtures import make_document

    prepare, build, extension = _builder(kind)
    build(prepare(make_document(3)))  # warm-up: imports, fonts
    source = prepare(make_document(lines))
    base = _max_rss_kb()
    times = []
    for _ in range(repeats):
        # CPU time of the build: the builders are single-threaded, so on a quiet machine it
        # is the wall time, and on this shared one it does not move with the other sessions'
        # load as the wall time does (2-3x between runs)
        start = time.process_time()
        data = build(source)
        times.append(time.process_time() - start)
    peak = _max_rss_kb()
    if lines <= 1_000:
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"invoice-{kind}-{lines}.{extension}").write_bytes(data)
    return {
        "kind": kind,
        "lines": lines,
        "repeats": repeats,
        "seconds": statistics.median(times),
        "best": min(times),
        "base_mb": base / 1024,
        "peak_mb": peak / 1024,
        "bytes": len(data),
    }


def measure(kind: str, lines: int) -> dict | None:
    repeats = (WEASYPRINT_REPEATS if kind == "weasyprint" else REPEATS)[lines]
    command = [
        sys.executable,
        "-m",
        "bench.invoice_documents",
        "--worker",
        kind,
        str(lines),
        str(repeats),
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"  {kind} {lines}: failed\n{done.stderr.strip()[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- the report ----------------------------------------------------------------------------------
def _ms(result: dict | None) -> str:
    return "-" if result is None else f"{result['seconds'] * 1000:,.1f}"


def _mb(result: dict | None) -> str:
    if result is None:
        return "-"
    return f"{result['peak_mb']:.0f} (+{result['peak_mb'] - result['base_mb']:.0f})"


def _ratio(a: dict | None, b: dict | None) -> str:
    return "-" if a is None or b is None else f"{a['seconds'] / b['seconds']:.1f}x"


def machine() -> dict[str, str]:
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        found = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        model = found.group(1).strip() if found else model
    versions = []
    for package in ("reportlab", "rl_accel", "openpyxl", "weasyprint", "pydyf", "Babel"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            versions.append(f"{package} (not installed)")
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": f"{len(os.sched_getaffinity(0))} (nproc)",
        "cpu": model,
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": ", ".join(versions),
        "load": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
    }


def tables(results: dict[tuple[str, int], dict | None]) -> list[str]:
    get = results.get
    rows = [
        "| lines | PDF ms | floor ms | PDF / floor | lines-only floor ms | PDF / it "
        "| WeasyPrint ms | WeasyPrint / PDF | XLSX ms "
        "| XLSX floor ms | XLSX / floor | PDF peak MB | XLSX peak MB | floor peak MB "
        "| WeasyPrint peak MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in SIZES:
        pdf, floor, wp, xlsx, xfloor, text = (get((kind, n)) for kind in BUILDERS)
        rows.append(
            f"| {n:,} | {_ms(pdf)} | {_ms(text)} | {_ratio(pdf, text)} | {_ms(floor)} "
            f"| {_ratio(pdf, floor)} | {_ms(wp)} "
            f"| {_ratio(wp, pdf)} | {_ms(xlsx)} | {_ms(xfloor)} | {_ratio(xlsx, xfloor)} "
            f"| {_mb(pdf)} | {_mb(xlsx)} | {_mb(text)} | {_mb(wp)} |"
        )
    rows += [
        "",
        "Growth of the time for 10x the lines (linear = 10x):",
        "",
        "| lines | PDF | XLSX | floor | WeasyPrint |",
        "|---|---:|---:|---:|---:|",
    ]
    for small, large in itertools.pairwise(SIZES):
        cells = [_ratio(get((kind, large)), get((kind, small))) for kind in BUILDERS]
        pdf, _floor, wp, xlsx, _xfloor, floor = cells
        rows.append(f"| {small:,} → {large:,} | {pdf} | {xlsx} | {floor} | {wp} |")
    return rows


def verdicts(results: dict[tuple[str, int], dict | None]) -> list[str]:
    def seconds(kind: str, n: int) -> float | None:
        result = results.get((kind, n))
        return None if result is None else result["seconds"]

    checks = []
    pdf100, xlsx100 = seconds("pdf", 100), seconds("xlsx", 100)
    checks.append(("100-line PDF < 100 ms", pdf100 is not None and pdf100 < 0.1))
    checks.append(("100-line XLSX < 50 ms", xlsx100 is not None and xlsx100 < 0.05))
    for n in SIZES:
        pdf, floor, wp = seconds("pdf", n), seconds("text_floor", n), seconds("weasyprint", n)
        checks.append(
            (
                f"{n:,} lines: PDF within {PDF_FLOOR_RATIO}x the floor",
                pdf is not None and floor is not None and pdf <= PDF_FLOOR_RATIO * floor,
            )
        )
        xlsx, xfloor = seconds("xlsx", n), seconds("xlsx_floor", n)
        checks.append(
            (
                f"{n:,} lines: XLSX within {XLSX_FLOOR_RATIO}x the write-only floor",
                xlsx is not None and xfloor is not None and xlsx <= XLSX_FLOOR_RATIO * xfloor,
            )
        )
        if n <= WEASYPRINT_CAP:
            checks.append(
                (
                    f"{n:,} lines: PDF at least 10x faster than WeasyPrint",
                    pdf is not None and wp is not None and wp >= 10 * pdf,
                )
            )
    for kind in ("pdf", "xlsx"):
        for small, large in itertools.pairwise(SIZES):
            a, b = seconds(kind, small), seconds(kind, large)
            checks.append(
                (
                    f"{kind.upper()} {small:,} → {large:,} lines at most {LINEAR}x the time",
                    a is not None and b is not None and b <= LINEAR * a,
                )
            )
    for kind in ("pdf", "xlsx"):
        result = results.get((kind, 10_000))
        checks.append(
            (
                f"10,000-line {kind.upper()} < 5 s and < 300 MB peak",
                result is not None and result["seconds"] < 5 and result["peak_mb"] < 300,
            )
        )
    return [f"- {'met' if ok else 'MISSED'}: {label}" for label, ok in checks]


def write_results(section: str, heading: str = HEADING) -> None:
    """Replace a benchmark's section of RESULTS.md, keeping every other section."""
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + section
    RESULTS.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    info = machine()
    print(f"Invoice documents benchmark, {info['date']}, {info['cpus']} × {info['cpu']}")
    results: dict[tuple[str, int], dict | None] = {}
    for n in SIZES:
        for kind in BUILDERS:
            if kind == "weasyprint" and n > WEASYPRINT_CAP:
                continue
            print(f"  {kind:<10} {n:>6,} lines ...", end="", flush=True)
            results[(kind, n)] = measure(kind, n)
            print(f" {_ms(results[(kind, n)])} ms, peak {_mb(results[(kind, n)])} MB")
    OUT.mkdir(parents=True, exist_ok=True)
    raw = {f"{kind}-{n}": result for (kind, n), result in results.items()}
    (OUT / "invoice_documents.json").write_text(
        json.dumps({"machine": info, "results": raw}, indent=2)
    )
    table = tables(results)
    checks = verdicts(results)
    print("\n" + "\n".join(table) + "\n\n" + "\n".join(checks))
    section = "\n".join(
        [
            HEADING,
            "",
            f"Run {info['date']} with `python -m bench invoices` (`make bench`).",
            "",
            f"- Machine: {info['cpus']} × {info['cpu']}; {info['system']}; load average at the "
            f"start {info['load']} (the machine is shared with other sessions' test runs, so "
            "single figures can move by tens of per cent between runs; the ratios hold)",
            f"- Python {info['python']}; {info['libraries']}",
            "- Input: tests/documents_fixtures.make_document(n): n lines over 2 incidents and 4 "
            "cost kinds, names outside ASCII, VAT on expenses.",
            "- PDF: tracker.documents.pdf.build_invoice_pdf (canvas, own pagination). Floor: "
            "bench/floor.py's document floor, the bare canvas drawing every string the invoice "
            "prints (read back from its PDF with pypdf before timing), page for page, in the "
            "same fonts and sizes at the same places, one text object a page; the lines-only "
            "floor (issue 4's) draws the lines' strings alone, in one font. WeasyPrint: "
            "bench/html_invoice.py, the same invoice as "
            f"HTML; capped at {WEASYPRINT_CAP:,} lines. "
            "XLSX: tracker.documents.xlsx.build_invoice_xlsx; XLSX floor: bench/xlsx_floor.py, "
            "openpyxl's write-only mode writing the same cells (values and number formats, "
            "read back from the built workbook before timing).",
            "- Time: CPU time of the build (time.process_time; the builders are single-threaded), "
            "median of several builds (15 at 10 lines, 9 at 100, 5 at 1,000, 3 at 10,000; "
            "WeasyPrint 5/3/1), after a warm-up build, each builder and size in a fresh process.",
            "- Peak memory: the process's ru_maxrss (interpreter + imports + input + build); "
            "(+N) is the growth over the high-water mark just before the timed builds.",
            "",
            *table,
            "",
            "Targets: " + "; ".join(TARGETS) + ".",
            "",
            *checks,
            "",
        ]
    )
    write_results(section)
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    else:
        main()
