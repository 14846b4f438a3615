"""The invoice and register workbooks, read back with openpyxl: numbers are numbers, dates are
dates, money has a £ format, the lines have their own sheet whose one heading row is frozen
and filtered, user text never becomes a
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
    "Line",
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
    """(header row number, line rows, totals row) of the Lines sheet; the sections'
    subtotal rows between the lines and the totals are left out."""
    header = 1
    rows = []
    for row in ws.iter_rows(min_row=header + 1):
        if row[1].value == "Totals":
            return header, rows, row
        if not str(row[1].value).endswith(" subtotal"):
            rows.append(row)
    raise AssertionError("no totals row")


@pytest.fixture(scope="module")
def invoice():
    doc = make_document(120)
    return doc, load(build_invoice_xlsx(doc))


def test_sheets_and_header_block(invoice):
    doc, wb = invoice
    assert wb.sheetnames == ["Invoice", "Lines", "Summary"]
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
    ws = wb["Lines"]
    header, rows, _ = line_table(ws)
    assert tuple(cell.value for cell in ws[header]) == HEADINGS
    assert len(rows) == len(doc.lines)
    assert [row[0].value for row in rows] == list(range(1, len(doc.lines) + 1))
    for row, line in zip(rows, doc.lines, strict=True):
        assert row[0].value == line.number
        row = row[1:]
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
        if not line.vat:
            assert values[8] == 0 and row[8].number_format.endswith('"No VAT"')
        else:
            assert Decimal(str(values[8])) * 100 == line.vat_rate and "%" in row[8].number_format
        for cell, expected in zip(row[9:12], (line.net, line.vat, line.total), strict=True):
            assert cell.data_type == "n"
            assert pennies(cell.value) == expected
            assert "£" in cell.number_format
        assert "£" in row[7].number_format


def test_lines_sheet_freezes_only_its_heading_row(invoice):
    """The lines have their own sheet: headings in row 1, the only row frozen (the invoice
    sheet froze 32 rows, its whole header block, which filled a laptop screen)."""
    _, wb = invoice
    ws = wb["Lines"]
    header, rows, _ = line_table(ws)
    assert header == 1 and ws["A1"].value == "Line" and ws["B1"].value == "Incident"
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:P{rows[-1][0].row}"
    assert ws.print_title_rows == "$1:$1"
    assert wb["Invoice"].freeze_panes is None
    for letter in "BCDEFGHIJKLM":
        assert ws.column_dimensions[letter].width >= 8
    assert ws.column_dimensions["E"].width >= 30
    summary = wb["Summary"]
    assert summary.freeze_panes == "A4"
    assert summary.auto_filter.ref.startswith("A3:F")


def test_totals_are_the_sums_of_the_lines_and_match_the_pdf(invoice):
    doc, wb = invoice
    _, rows, totals = line_table(wb["Lines"])
    for column, expected in ((10, doc.net_total), (11, doc.vat_total), (12, doc.total)):
        assert sum(pennies(row[column].value) for row in rows) == expected
        assert pennies(totals[column].value) == expected
    pdf_text = " ".join(
        p.extract_text() for p in PdfReader(io.BytesIO(build_invoice_pdf(doc))).pages
    )
    pdf_text = re.sub(r"\s+", " ", pdf_text)
    assert f"Net total {format_money(pennies(totals[10].value))}" in pdf_text
    assert f"VAT total {format_money(pennies(totals[11].value))}" in pdf_text
    assert f"Total due {format_money(pennies(totals[12].value))}" in pdf_text


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
    ws = load(data)["Lines"]
    _, rows, _ = line_table(ws)
    for row, text in zip(rows, DANGEROUS, strict=True):
        for cell in (row[1], row[4], row[5], row[7]):
            assert cell.data_type == "s"
            assert cell.value in (text, f"{text} incident")
            assert cell.quotePrefix
    labels = labels_of(load(data)["Invoice"])
    assert labels["Purchase order / reference"].value == "=cmd|' /C calc'!A0"
    assert labels["Purchase order / reference"].data_type == "s"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        for name in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
            sheet = archive.read(name).decode()
            assert "<f>" not in sheet and "<f " not in sheet


def test_characters_xml_forbids_are_dropped_not_fatal():
    line = replace(
        make_line(0, "Outage", "staff", "Staff time"), description="Bell\x07 and\x00 nul"
    )
    ws = load(build_invoice_xlsx(make_document(lines=(line,))))["Lines"]
    _, rows, _ = line_table(ws)
    assert rows[0][4].value == "Bell and nul"


def test_names_outside_ascii_survive(invoice):
    _, wb = invoice
    _, rows, _ = line_table(wb["Lines"])
    descriptions = {row[4].value for row in rows}
    assert "Extra hours: Zoë Hughes, receptionist" in descriptions
    assert "Extra hours: Łukasz Nowak, practice nurse" in descriptions
    assert "Extra hours: Siân O'Brien, HCA" in descriptions


def test_credit_note_and_draft_titles():
    credit = load(build_invoice_xlsx(make_credit_note(8)))["Invoice"]
    assert credit["A1"].value == "Credit note A81001CN20240001"
    labels = labels_of(credit)
    assert labels["Credits invoice"].value == "A8100120240007"
    assert labels["Total credited"].value < 0
    draft = load(build_invoice_xlsx(make_document(3, draft=True)))["Invoice"]
    assert draft["A1"].value == "Invoice DRAFT (not yet issued)"


def test_an_invoice_with_no_lines_still_builds():
    ws = load(build_invoice_xlsx(make_document(lines=())))["Lines"]
    _, rows, totals = line_table(ws)
    assert rows == []
    assert totals[12].value == 0


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
        "Approved",
        "Credited",
        "Paid",
        "Outstanding",
        "Status",
    ]
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:P7"
    data = list(ws.iter_rows(min_row=2, max_row=7))
    for cells, row in zip(data, rows, strict=True):
        assert cells[0].value == row.number
        assert cells[5].is_date and cells[5].value.date() == row.issue_date
        assert cells[6].is_date and cells[6].value.date() == row.due_date
        assert cells[11].value is None if row.approved is None else cells[11].value is not None
        for cell, amount in zip(cells[8:15], [getattr(row, a) for a in AMOUNTS], strict=True):
            if amount is not None:
                assert cell.data_type == "n" and "£" in cell.number_format
                assert pennies(cell.value) == amount
        assert cells[15].value == row.status
    totals = ws[8]
    assert totals[0].value == "Total"
    for column, attribute in enumerate(AMOUNTS, start=8):
        expected = sum(getattr(row, attribute) or 0 for row in rows)
        assert pennies(totals[column].value) == expected
        assert sum(pennies(cells[column].value or 0) for cells in data) == expected


AMOUNTS = ("net", "vat", "total", "approved", "credited", "paid", "outstanding")


def test_register_text_is_never_a_formula():
    rows = (replace(make_register_rows(1)[0], po_reference="=2+2", practice_name="@Practice"),)
    ws = load(build_register_xlsx(rows))["Register"]
    assert ws["H2"].value == "=2+2" and ws["H2"].data_type == "s"
    assert ws["C2"].value == "@Practice" and ws["C2"].data_type == "s"


def test_empty_register():
    ws = load(build_register_xlsx([]))["Register"]
    assert ws["A2"].value == "Total"
    assert ws["I2"].value == 0


def test_credit_note_says_total_credited_with_no_terms_and_the_invoice_date():
    """A credit note is not a bill: "Total credited", no due date, terms or bank details,
    and the date of the invoice it reverses beside that invoice's number."""
    note = make_credit_note(8)
    wb = load(build_invoice_xlsx(note))
    labels = labels_of(wb["Invoice"])
    assert pennies(labels["Total credited"].value) == note.total < 0
    assert labels["Credited invoice date"].is_date
    assert labels["Credited invoice date"].value == datetime(2024, 8, 1)
    assert labels["Issue date"].value == datetime(2024, 8, 20)
    everything = {cell.value for sheet in wb for row in sheet.iter_rows() for cell in row}
    for absent in ("Total due", "Terms (days)", "Due date", "Account number", "Sort code"):
        assert absent not in everything
    _, _, totals = line_table(wb["Lines"])
    after = next(wb["Lines"].iter_rows(min_row=totals[0].row + 1, max_row=totals[0].row + 1))
    assert after[1].value == "Total credited"


def test_every_line_has_its_number_and_a_vat_rate_even_without_vat():
    """A practice with no VAT number: the VAT-rate column is filled on every line (0, shown
    "No VAT"), and the VAT column holds £0.00, so both filter and add up."""
    lines = tuple(make_line(i, "Outage", "staff", "Staff time") for i in range(5))
    lines = tuple(replace(line, number=n) for n, line in enumerate(lines, start=1))
    doc = make_document(lines=lines)
    assert not doc.shows_vat
    _, rows, _ = line_table(load(build_invoice_xlsx(doc))["Lines"])
    assert [row[0].value for row in rows] == [1, 2, 3, 4, 5]
    for row in rows:
        rate, vat = row[HEADINGS.index("VAT rate")], row[HEADINGS.index("VAT")]
        assert rate.value == 0 and rate.data_type == "n"
        assert rate.number_format == '0%;-0%;"No VAT"'
        assert vat.value == 0 and "£" in vat.number_format


def test_an_expense_with_vat_but_no_rate_shows_the_rate_its_vat_makes():
    line = replace(
        make_line(3, "Outage", "expense", "Other expenses"),
        vat_rate=None,
        net=Decimal("30.00"),
        vat=Decimal("5.00"),
        total=Decimal("35.00"),
        number=1,
    )
    _, rows, _ = line_table(load(build_invoice_xlsx(make_document(lines=(line,))))["Lines"])
    rate = rows[0][HEADINGS.index("VAT rate")]
    assert Decimal(str(rate.value)) == Decimal("0.167") and "0.0%" in rate.number_format
