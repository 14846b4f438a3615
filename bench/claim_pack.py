"""Claim pack benchmark: time, size and pages of the claim pack (invoice, contents, covering
statement, every backing document) for invoices of 1, 30 and 300 lines with receipts, and for
receipts that add up to more than NHS SBS's 10 MB, which the pack must shrink to fit.

Receipts are the worst case for size: photos and scans of random pixels, which JPEG cannot
compress (a real photo of a till receipt shrinks far more). Each case is built in a fresh
process after a warm-up pack; time is the median of 3 builds.

    python -m bench packs
"""

from __future__ import annotations

import io
import json
import statistics
import subprocess
import sys
import time

from bench.invoice_documents import OUT, ROOT, machine, write_results

HEADING = "## Claim pack"
#: (name, invoice lines, PDF receipts (pages each), photos (width, height))
CASES = (
    ("1 line, 1 PDF receipt", 1, (2,), ()),
    ("30 lines, 2 PDF receipts, 4 photos", 30, (2, 1), ((1600, 1200),) * 4),
    ("300 lines, 2 PDF receipts, 4 photos", 300, (2, 1), ((1600, 1200),) * 4),
    ("over 10 MB of receipts (a 2-page scan, four 4.3 MP photos)", 30, (2,), ((2400, 1800),) * 4),
)
REPEATS = 3
MAX_BYTES = 7_000_000  # tracker.services.claim_pack.DEFAULT_MAX_BYTES


def _inputs(lines: int, receipts: tuple[int, ...], photos: tuple[tuple[int, int], ...]):
    """The invoice PDF, covering statement and backing documents of one case."""
    from tests.documents_fixtures import make_document
    from tests.integration.test_claim_pack import noise_jpeg, receipt_pdf
    from tracker.documents.claim_pack import CoveringStatement, PackFile, StatementIncident
    from tracker.documents.pdf import build_invoice_pdf

    document = make_document(lines)
    incident = StatementIncident(
        title="EMIS Web down",
        when="19 July 2024 06:10 to 19 July 2024 16:00 (9 hours 50 minutes)",
        systems="EMIS Web, telephony",
        cause="Faulty CrowdStrike Falcon update",
        supplier_reference="INC-778899",
        impact="43 patients rebooked; two nurses stayed late",
    )
    statement = CoveringStatement(
        document_title="Invoice",
        number=document.number,
        issue_date="26 July 2024",
        practice="Riverside Surgery (Y09901)",
        practice_address=("1 High Street", "Leeds", "LS1 1AA"),
        icb="NHS West Yorkshire ICB",
        icb_address=("QWO Payables A123", "PO Box 312", "LS11 1HP"),
        total="£1,234.56",
        po_reference="PO-1234",
        event_name="CrowdStrike global IT outage, 19 July 2024",
        event_started="19 July 2024",
        event_description="",
        summary="Riverside Surgery claims the costs it incurred because of the outage.",
        incidents=(incident,),
        by_kind=(("Staff time", str(lines), "£1,234.56"), ("Total", str(lines), "£1,234.56")),
        contacts=("Riverside Surgery (Y09901)", "Email: practice@example.org"),
    )
    files = [
        PackFile(
            f"scan-{i}.pdf", f"Line {i + 1}", "application/pdf", receipt_pdf("Scan", n, (600, 450))
        )
        for i, n in enumerate(receipts)
    ]
    files += [
        PackFile(f"photo-{i}.jpg", f"Line {i + 1}", "image/jpeg", noise_jpeg(*size))
        for i, size in enumerate(photos)
    ]
    return build_invoice_pdf(document), statement, files


def worker(index: int) -> dict:
    from pypdf import PdfReader

    from tracker.documents.claim_pack import build_claim_pack

    name, lines, receipts, photos = CASES[index]
    small = _inputs(1, (1,), ())
    build_claim_pack(*small, max_bytes=MAX_BYTES)  # warm-up: imports, fonts
    invoice_pdf, statement, files = _inputs(lines, receipts, photos)
    times, pack = [], b""
    for _ in range(REPEATS):
        start = time.perf_counter()
        pack = build_claim_pack(invoice_pdf, statement, files, max_bytes=MAX_BYTES)
        times.append(time.perf_counter() - start)
    return {
        "case": name,
        "seconds": statistics.median(times),
        "receipts_bytes": sum(len(f.data) for f in files),
        "pack_bytes": len(pack),
        "pages": len(PdfReader(io.BytesIO(pack)).pages),
    }


def main() -> None:
    info = machine()
    print(f"Claim pack benchmark, {info['date']}, {info['cpus']} × {info['cpu']}")
    results = []
    for index, (name, *_rest) in enumerate(CASES):
        print(f"  {name} ...", end="", flush=True)
        completed = subprocess.run(
            [sys.executable, "-m", "bench.claim_pack", "--worker", str(index)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(completed.stdout.strip().splitlines()[-1])
        results.append(result)
        print(f" {result['seconds'] * 1000:,.0f} ms, {result['pack_bytes'] / 1e6:.2f} MB")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "claim_pack.json").write_text(json.dumps({"machine": info, "results": results}))
    rows = [
        "| case | receipts MB | pack MB | pages | build ms |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {r['case']} | {r['receipts_bytes'] / 1e6:.2f} | {r['pack_bytes'] / 1e6:.2f} "
            f"| {r['pages']} | {r['seconds'] * 1000:,.0f} |"
            for r in results
        ),
    ]
    print("\n" + "\n".join(rows))
    section = "\n".join(
        [
            HEADING,
            "",
            f"Run {info['date']} with `python -m bench packs`.",
            "",
            f"- Machine: {info['cpus']} × {info['cpu']}; {info['system']}; load average at the "
            f"start {info['load']}; Python {info['python']}",
            "- Input: tests/documents_fixtures.make_document(n) as the invoice; receipts of "
            "random pixels (the worst case for size: JPEG cannot compress them), 600×450 "
            "scans in the PDFs. Pack limit 7,000,000 bytes (a 9.6 MB email once base64-encoded, "
            "under SBS's 10 MB).",
            f"- Time: median of {REPEATS} builds after a warm-up pack, each case in a fresh "
            "process.",
            "",
            *rows,
            "",
        ]
    )
    write_results(section, HEADING)
    print(f"\nwritten to {(ROOT / 'bench' / 'RESULTS.md').relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(int(sys.argv[2]))))
    else:
        main()
