"""The statement of account's PDF and Excel builders on plain data (no database): a long
statement runs over pages with the table's heading repeated and "Page N of M"; names in
other scripts print; the same statement gives the same bytes."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.documents_fixtures import CUSTOMER, PAYMENT, SUPPLIER
from tracker.documents.statement_data import (
    CREDIT_NOTE,
    INVOICE,
    OpenInvoice,
    StatementDocument,
    StatementEntry,
)
from tracker.documents.statement_data import (
    PAYMENT as PAID,
)
from tracker.documents.statement_pdf import build_statement_pdf
from tracker.documents.xlsx import build_statement_xlsx

D = Decimal
AS_AT = date(2025, 3, 31)


def long_statement(count: int = 60) -> StatementDocument:
    """`count` invoices a week apart from July 2024, each part credited and part paid; the
    last ones still open."""
    entries: list[StatementEntry] = []
    opened: list[OpenInvoice] = []
    balance = D("0.00")
    for n in range(count):
        issued = date(2024, 7, 19) + timedelta(weeks=n // 2)
        if issued > AS_AT:
            break
        number = f"A810012024{n + 1:04d}"
        total = D("1234.56") + n
        rows = [(issued, INVOICE, number, f"Due {issued + timedelta(30)}", total, D(0))]
        if n % 3 == 0:
            rows.append(
                (issued, CREDIT_NOTE, f"A81001CN2024{n:04d}", f"Credits {number}", D(0), D("34.56"))
            )
        if n % 2 == 0:
            rows.append(
                (
                    issued + timedelta(days=20),
                    PAID,
                    f"NCL ICB BACS {90000 + n}",
                    f"To invoice {number}",
                    D(0),
                    D("200.00"),
                )
            )
        owed = total - sum((r[5] for r in rows), D(0))
        for on, kind, reference, details, debit, credit in rows:
            balance += debit - credit
            entries.append(StatementEntry(on, kind, reference, details, debit, credit, balance))
        due = issued + timedelta(days=30)
        opened.append(OpenInvoice(number, issued, due, total, owed, (AS_AT - due).days))
    entries.sort(key=lambda e: e.on)
    running = D("0.00")
    fixed = []
    for e in entries:
        running += e.debit - e.credit
        fixed.append(
            StatementEntry(e.on, e.kind, e.reference, e.details, e.debit, e.credit, running)
        )
    return StatementDocument(
        supplier=SUPPLIER,
        customer=CUSTOMER,
        as_at=AS_AT,
        entries=tuple(fixed),
        open_invoices=tuple(opened),
        payment=PAYMENT,
    )


def text_of(data: bytes) -> tuple[int, list[str]]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), [" ".join(p.extract_text().split()) for p in reader.pages]


def test_a_long_statement_runs_over_pages_with_its_headings() -> None:
    doc = long_statement()
    assert doc.balance == doc.open_total
    pages, texts = text_of(build_statement_pdf(doc))
    assert pages >= 3
    assert all(f"Page {n} of {pages}" in text for n, text in enumerate(texts, start=1))
    assert all("Statement of account as at 31 March 2025" in text for text in texts)
    assert "Account activity to 31 March 2025 (continued)" in texts[1]
    assert f"Balance due £{doc.balance:,.2f}" in texts[0]
    everything = " ".join(texts)
    assert all(entry.reference in everything for entry in doc.entries)
    assert "Overdue invoices, by days past the due date" in everything
    assert f"Overdue: £{doc.overdue:,.2f}" in everything


def test_the_same_statement_gives_the_same_bytes() -> None:
    doc = long_statement(8)
    assert build_statement_pdf(doc) == build_statement_pdf(doc)
    assert build_statement_xlsx(doc) == build_statement_xlsx(doc)


def test_names_in_other_scripts_and_markup_print_as_typed() -> None:
    from dataclasses import replace

    supplier = replace(SUPPLIER, name="Zoë & Łukasz <b>Surgery</b> 北京")
    doc = replace(long_statement(4), supplier=supplier)
    _, texts = text_of(build_statement_pdf(doc))
    assert "Zoë & Łukasz <b>Surgery</b>" in texts[0]


def test_an_empty_statement_says_so() -> None:
    doc = StatementDocument(SUPPLIER, CUSTOMER, AS_AT, (), (), PAYMENT)
    _, texts = text_of(build_statement_pdf(doc))
    assert "No invoices up to this date." in texts[0]
    assert "Nothing is overdue on 31 March 2025." in texts[0]
    sheet = load_workbook(io.BytesIO(build_statement_xlsx(doc)))["Statement"]
    assert any(row[0] == "Totals" for row in sheet.iter_rows(values_only=True))
