"""The invoice and register workbooks, read back with openpyxl: numbers are numbers, dates are
dates, money has a £ format, the header row is frozen and filtered, user text never becomes a
formula, and the totals equal the sum of the lines and the PDF's to the penny. Pure."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.documents_fixtures import (
    make_credit_note,
    make_document,
    make_line,
    make_register_rows,
)
from tracker.documents.pdf import build_invoice_pdf
from tracker.documents.xlsx import build_invoice_xlsx, build_register_xlsx
from tracker.presentation import format_money

HEADINGS = (
    "Incident",
    "Cost kind",
    "Date",
    "Description",
    "Working",
    "Quantity",
    "Unit",
    "Rate",
    "VAT rate",
    "Net",
    "VAT",
    "Total",
    "Details",
    "Evidence",
    "Section",
)


def pennies(value: object) -> Decimal:
    """A number read back from the workbook, to the penny (openpyxl reads floats)."""
    return Decimal(str(value)).quantize(Decimal("0.01"))


def load(data: bytes):
    return load_workbook(io.BytesIO(data))


def labels_of(ws) -> dict:
    """Header block label -> value cell (the first row with that label)."""
    labels: dict = {}
    for label, value in ws.iter_rows(max_col=2):
        if label.value:
            labels.setdefault(label.value, value)
    return labels


def line_table(ws):
    """(header row number, line rows, totals row) of the Invoice sheet; the sections'
    subtotal rows between the lines and the totals are left out."""
    header = next(row[0].row for row in ws.iter_rows(max_col=1) if row[0].value == "Incident")
    rows = []
    for row in ws.iter_rows(min_row=header + 1):
        if row[0].value == "Totals":
            return header, rows, row
        if not str(row[0].value).endswith(" subtotal"):
            rows.append(row)
    raise AssertionError("no totals row")


@pytest.fixture(scope="module")
def invoice():
    doc = make_document(120)
    return doc, load(build_invoice_xlsx(doc))


def test_sheets_and_header_block(invoice):
    doc, wb = invoice
    assert wb.sheetnames == ["Invoice", "Summary"]
    ws = wb["Invoice"]
    labels = labels_of(ws)
    assert ws["A1"].value == "Invoice A8100120240007"
    assert labels["Invoice number"].value == "A8100120240007"
    assert labels["Issue date"].value == datetime(2024, 8, 1)
    assert labels["Issue date"].is_date
    assert labels["Due date"].value == datetime(2024, 8, 31)
    assert labels["Supply from"].value == datetime(2024, 7, 19)
    assert labels["Supply to"].value == datetime(2024, 8, 2)
    assert labels["Purchase order / reference"].value == "PO-QHM-55821"
    assert labels["Supplier"].value == "Riverside Medical Centre"
    assert labels["Supplier ODS code"].value == "A81001"
    assert labels["Customer"].value == doc.customer.name
    assert labels["Customer address"].value == ", ".join(doc.customer.address_lines)
    assert labels["Customer ODS code"].value == "QHM"
    assert labels["Sort code"].value == "20-00-00"
    assert labels["Account number"].value == "12345678"
    assert labels["Total due"].data_type == "n"
    assert pennies(labels["Total due"].value) == doc.total
    assert "£" in labels["Total due"].number_format


def test_one_row_per_line_with_numbers_dates_and_money_formats(invoice):
    doc, wb = invoice
    ws = wb["Invoice"]
    header, rows, _ = line_table(ws)
    assert tuple(cell.value for cell in ws[header]) == HEADINGS
    assert len(rows) == len(doc.lines)
    for row, line in zip(rows, doc.lines, strict=True):
        values = [cell.value for cell in row]
        assert values[0] == line.incident_title
        assert values[1] == line.kind_label
        assert row[2].is_date and values[2].date() == line.line_date
        assert values[3] == line.description
        assert values[4] == line.working
        for cell, expected in zip(row[5:], (line.quantity, None, line.unit_rate), strict=False):
            if expected is not None:
                assert cell.data_type == "n" and Decimal(str(cell.value)) == expected
        assert values[6] == line.unit_text
        if line.vat_rate is None:
            assert values[8] == "No VAT"
        else:
            assert Decimal(str(values[8])) * 100 == line.vat_rate and "%" in row[8].number_format
        for cell, expected in zip(row[9:12], (line.net, line.vat, line.total), strict=True):
            assert cell.data_type == "n"
            assert pennies(cell.value) == expected
            assert "£" in cell.number_format
        assert "£" in row[7].number_format


def test_frozen_header_filter_and_readable_widths(invoice):
    _, wb = invoice
    ws = wb["Invoice"]
    header, rows, _ = line_table(ws)
    assert ws.freeze_panes == f"A{header + 1}"
    assert ws.auto_filter.ref == f"A{header}:O{rows[-1][0].row}"
    for letter in "ABCDEFGHIJKL":
        assert ws.column_dimensions[letter].width >= 8
    assert ws.column_dimensions["D"].width >= 30
    summary = wb["Summary"]
    assert summary.freeze_panes == "A4"
    assert summary.auto_filter.ref.startswith("A3:F")


def test_totals_are_the_sums_of_the_lines_and_match_the_pdf(invoice):
    doc, wb = invoice
    _, rows, totals = line_table(wb["Invoice"])
    for column, expected in ((9, doc.net_total), (10, doc.vat_total), (11, doc.total)):
        assert sum(pennies(row[column].value) for row in rows) == expected
        assert pennies(totals[column].value) == expected
    pdf_text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(build_invoice_pdf(doc))).pages
    )
    pdf_text = re.sub(r"\s+", " ", pdf_text)
    assert f"Net total {format_money(pennies(totals[9].value))}" in pdf_text
    assert f"VAT total {format_money(pennies(totals[10].value))}" in pdf_text
    assert f"Total due {format_money(pennies(totals[11].value))}" in pdf_text


def test_summary_by_incident_and_kind_adds_up(invoice):
    doc, wb = invoice
    ws = wb["Summary"]
    assert [cell.value for cell in ws[3]] == [
        "Incident",
        "Cost kind",
        "Lines",
        "Net",
        "VAT",
        "Total",
    ]
    groups = [row for row in ws.iter_rows(min_row=4) if row[1].value]
    total = next(row for row in ws.iter_rows(min_row=4) if row[0].value == "Total")
    assert len(groups) == 8
    assert sum(row[2].value for row in groups) == len(doc.lines) == total[2].value
    for row in groups:
        lines = [
            line
            for line in doc.lines
            if (line.incident_title, line.kind_label) == (row[0].value, row[1].value)
        ]
        assert pennies(row[3].value) == sum(line.net for line in lines)
        assert pennies(row[5].value) == sum(line.total for line in lines)
        assert "£" in row[3].number_format
    for column, expected in ((3, doc.net_total), (4, doc.vat_total), (5, doc.total)):
        assert sum(pennies(row[column].value) for row in groups) == expected
        assert pennies(total[column].value) == expected


DANGEROUS = ('=HYPERLINK("http://evil","x")', "+44 1234", "-5 items", "@SUM(A1)", "=1+1")


def test_text_a_user_typed_never_becomes_a_formula():
    lines = tuple(
        replace(
            make_line(i, f"{text} incident", "staff", "Staff time"),
            description=text,
            working=text,
            unit=text,
        )
        for i, text in enumerate(DANGEROUS)
    )
    doc = make_document(lines=lines, po_reference="=cmd|' /C calc'!A0", notes="@notes")
    data = build_invoice_xlsx(doc)
    ws = load(data)["Invoice"]
    _, rows, _ = line_table(ws)
    for row, text in zip(rows, DANGEROUS, strict=True):
        for cell in (row[0], row[3], row[4], row[6]):
            assert cell.data_type == "s"
            assert cell.value in (text, f"{text} incident")
            assert cell.quotePrefix
    labels = labels_of(ws)
    assert labels["Purchase order / reference"].value == "=cmd|' /C calc'!A0"
    assert labels["Purchase order / reference"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet


def test_characters_xml_forbids_are_dropped_not_fatal():
    line = replace(
        make_line(0, "Outage", "staff", "Staff time"), description="Bell\x07 and\x00 nul"
    )
    ws = load(build_invoice_xlsx(make_document(lines=(line,))))["Invoice"]
    _, rows, _ = line_table(ws)
    assert rows[0][3].value == "Bell and nul"


def test_names_outside_ascii_survive(invoice):
    _, wb = invoice
    _, rows, _ = line_table(wb["Invoice"])
    descriptions = {row[3].value for row in rows}
    assert "Extra hours: Zoë Hughes, receptionist" in descriptions
    assert "Extra hours: Łukasz Nowak, practice nurse" in descriptions
    assert "Extra hours: Siân O'Brien, HCA" in descriptions


def test_credit_note_and_draft_titles():
    credit = load(build_invoice_xlsx(make_credit_note(8)))["Invoice"]
    assert credit["A1"].value == "Credit note A81001CN20240001"
    labels = labels_of(credit)
    assert labels["Credits invoice"].value == "A8100120240007"
    assert labels["Total due"].value < 0
    draft = load(build_invoice_xlsx(make_document(3, draft=True)))["Invoice"]
    assert draft["A1"].value == "Invoice DRAFT (not yet issued)"


def test_an_invoice_with_no_lines_still_builds():
    ws = load(build_invoice_xlsx(make_document(lines=())))["Invoice"]
    _, rows, totals = line_table(ws)
    assert rows == []
    assert totals[11].value == 0


def test_the_same_document_gives_the_same_bytes():
    assert build_invoice_xlsx(make_document(30)) == build_invoice_xlsx(make_document(30))
    wb = load(build_invoice_xlsx(make_document(3)))
    assert wb.properties.created == datetime(2024, 8, 1)
    assert wb.properties.modified == datetime(2024, 8, 1)
    rows = make_register_rows(4)
    assert build_register_xlsx(rows) == build_register_xlsx(rows)


def test_register_one_row_per_invoice_with_totals():
    rows = make_register_rows(6)
    ws = load(build_register_xlsx(rows))["Register"]
    headings = [cell.value for cell in ws[1]]
    assert headings == [
        "Number",
        "Kind",
        "Practice",
        "Practice ODS code",
        "ICB",
        "Issue date",
        "Due date",
        "PO / reference",
        "Net",
        "VAT",
        "Total",
        "Paid",
        "Outstanding",
        "Status",
    ]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:N7"
    data = list(ws.iter_rows(min_row=2, max_row=7))
    for cells, row in zip(data, rows, strict=True):
        assert cells[0].value == row.number
        assert cells[5].is_date and cells[5].value.date() == row.issue_date
        assert cells[6].is_date and cells[6].value.date() == row.due_date
        for cell, amount in zip(
            cells[8:13], (row.net, row.vat, row.total, row.paid, row.outstanding), strict=True
        ):
            assert cell.data_type == "n" and "£" in cell.number_format
            assert pennies(cell.value) == amount
        assert cells[13].value == row.status
    totals = ws[8]
    assert totals[0].value == "Total"
    for column, attribute in enumerate(("net", "vat", "total", "paid", "outstanding"), start=8):
        expected = sum(getattr(row, attribute) for row in rows)
        assert pennies(totals[column].value) == expected
        assert sum(pennies(cells[column].value) for cells in data) == expected


def test_register_text_is_never_a_formula():
    rows = (replace(make_register_rows(1)[0], po_reference="=2+2", practice_name="@Practice"),)
    ws = load(build_register_xlsx(rows))["Register"]
    assert ws["H2"].value == "=2+2" and ws["H2"].data_type == "s"
    assert ws["C2"].value == "@Practice" and ws["C2"].data_type == "s"


def test_empty_register():
    ws = load(build_register_xlsx([]))["Register"]
    assert ws["A2"].value == "Total"
    assert ws["I2"].value == 0
