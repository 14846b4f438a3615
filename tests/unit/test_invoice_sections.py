"""Costs incurred and the value of capacity lost (notional) as two subtotalled sections, VAT
rates per line, appointment types and evidence per line: the document data, the PDF and the
Excel file read back. Pure."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from tests.documents_fixtures import make_document
from tracker.cost_kinds import CAPACITY_LOST, COSTS_INCURRED
from tracker.documents.data import InvoiceDocument
from tracker.documents.pdf import build_invoice_pdf
from tracker.documents.xlsx import build_invoice_xlsx
from tracker.presentation import format_money

D = Decimal


def pdf_text(doc: InvoiceDocument) -> str:
    pages = PdfReader(io.BytesIO(build_invoice_pdf(doc))).pages
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in pages))


def workbook(doc: InvoiceDocument):
    return load_workbook(io.BytesIO(build_invoice_xlsx(doc)))


def without_vat(doc: InvoiceDocument) -> InvoiceDocument:
    """The document of a practice without a VAT number: lines gross, no VAT anywhere."""
    lines = tuple(replace(line, net=line.total, vat=D("0.00"), vat_rate=None) for line in doc.lines)
    return replace(doc, lines=lines, net_total=doc.total, vat_total=D("0.00"))


def test_sections_subtotals_add_up_to_the_invoice_to_the_penny() -> None:
    doc = make_document(37)
    costs, capacity = doc.sections
    assert (costs.title, capacity.title) == (COSTS_INCURRED, CAPACITY_LOST)
    assert all(
        line.kind == "appointments" for i in capacity.incidents for g in i.kinds for line in g.lines
    )
    assert not any(
        line.kind == "appointments" for i in costs.incidents for g in i.kinds for line in g.lines
    )
    assert costs.total + capacity.total == doc.total
    assert costs.net + capacity.net == doc.net_total
    assert costs.vat + capacity.vat == doc.vat_total
    assert capacity.total == sum(line.total for line in doc.lines if line.kind == "appointments")


def test_an_invoice_without_lost_appointments_prints_no_sections() -> None:
    doc = make_document(12)
    doc = replace(doc, lines=tuple(line for line in doc.lines if line.kind != "appointments"))
    assert not doc.has_notional
    text = pdf_text(doc)
    assert CAPACITY_LOST not in text and "Costs incurred subtotal" not in text


def test_pdf_prints_capacity_lost_after_the_costs_incurred_with_both_subtotals() -> None:
    doc = make_document(20)
    costs, capacity = doc.sections
    text = pdf_text(doc)
    costs_at = text.index(
        f"Costs incurred subtotal {format_money(costs.vat)} {format_money(costs.net)}"
    )
    capacity_at = text.index(f"{CAPACITY_LOST} subtotal £0.00 {format_money(capacity.net)}")
    assert text.index(COSTS_INCURRED) < costs_at < text.index(CAPACITY_LOST) < capacity_at
    assert capacity_at < text.index(f"Total due {format_money(doc.total)}", capacity_at)


def test_excel_shows_the_same_subtotals_and_each_line_s_section() -> None:
    doc = make_document(20)
    costs, capacity = doc.sections
    book = workbook(doc)
    ws = book["Lines"]
    rows = {row[1].value: row for row in ws.iter_rows() if row[1].value}
    assert D(str(rows["Costs incurred subtotal"][12].value)).quantize(D("0.01")) == costs.total
    assert D(str(rows[f"{CAPACITY_LOST} subtotal"][12].value)).quantize(D("0.01")) == capacity.total
    particulars = {row[0].value: row for row in book["Invoice"].iter_rows() if row[0].value}
    assert D(str(particulars[CAPACITY_LOST][1].value)).quantize(D("0.01")) == capacity.total
    sections = [row[15].value for row in ws.iter_rows() if row[2].value == "Lost appointments"]
    assert sections and set(sections) == {CAPACITY_LOST}
    summary = workbook(doc)["Summary"]
    labels = [row[0].value for row in summary.iter_rows(min_row=4)]
    assert labels.index(COSTS_INCURRED) < labels.index("Costs incurred subtotal")
    assert labels.index("Costs incurred subtotal") < labels.index(CAPACITY_LOST)


def test_appointments_print_as_whole_numbers_with_their_type() -> None:
    doc = make_document(12)
    lines = tuple(
        replace(line, quantity=D("38.00"), appointment_type="GP")
        if line.kind == "appointments"
        else line
        for line in doc.lines
    )
    doc = replace(doc, lines=lines)
    appointments = next(line for line in doc.lines if line.kind == "appointments")
    assert appointments.quantity_text == "38 GP appointments"
    assert "38 GP appointments" in pdf_text(doc)
    ws = workbook(doc)["Lines"]
    row = next(row for row in ws.iter_rows() if row[2].value == "Lost appointments")
    assert row[6].value == 38 and row[6].number_format == "#,##0"
    assert row[7].value == "GP appointments"


def test_a_vat_registered_practice_shows_each_line_s_rate_and_the_lines_without_vat() -> None:
    doc = make_document(12)
    doc = replace(doc, supplier=replace(doc.supplier, vat_number="GB 123 4567 89"))
    no_vat = sum((line.total for line in doc.lines if not line.vat), D(0))
    assert doc.mixed_vat and doc.no_vat_lines_total == no_vat
    text = pdf_text(doc)
    expense = next(line for line in doc.lines if line.vat)
    assert f"{format_money(expense.vat)} 20% {format_money(expense.net)}" in text
    staff = next(line for line in doc.lines if line.kind == "staff")
    assert f"No VAT {format_money(staff.net)}" in text
    assert f"Lines with no VAT (included) {format_money(no_vat)}" in text
    ws = workbook(doc)["Lines"]
    rates = {row[2].value: row[9] for row in ws.iter_rows() if row[2].value}
    assert rates["Staff time"].value == 0 and "No VAT" in rates["Staff time"].number_format
    assert rates["Other expenses"].value == 0.2


def test_a_practice_without_a_vat_number_prints_no_vat_per_line() -> None:
    doc = without_vat(make_document(12))
    assert not doc.shows_vat
    text = pdf_text(doc)
    assert "Date Description and working Qty Unit Rate Net amount" in text
    assert "No VAT" not in text.replace("No VAT is charged", "")
    ws = workbook(doc)["Lines"]
    lines = [row for row in ws.iter_rows() if row[2].value in ("Staff time", "Other expenses")]
    # the Excel's VAT columns are filled (0, shown "No VAT"; £0.00) so they filter and add up
    assert lines and all(row[9].value == 0 and row[11].value == 0 for row in lines)


def test_each_line_names_its_evidence_in_the_pdf_and_excel() -> None:
    doc = make_document(6)
    first = replace(doc.lines[0], evidence=("Rota July.pdf", "Timesheet Zoë.png"))
    doc = replace(doc, lines=(first, *doc.lines[1:]))
    text = pdf_text(doc)
    assert "Evidence: Rota July.pdf, Timesheet Zoë.png" in text
    assert text.index(first.description) < text.index("Evidence: Rota July.pdf")
    ws = workbook(doc)["Lines"]
    row = next(row for row in ws.iter_rows() if row[4].value == first.description)
    assert row[14].value == "Rota July.pdf, Timesheet Zoë.png"
