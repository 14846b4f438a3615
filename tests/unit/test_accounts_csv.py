"""The CSV files for the practice's accounts, read back as an importer would: the documented
headings in order, one row per line, amounts that add up to the document's totals to the
penny, UK dates, VAT types by line, credit notes only in their own import, and no cell a
spreadsheet would run as a formula. Pure."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from decimal import Decimal

import pytest

from tests.documents_fixtures import make_credit_note, make_document, make_line
from tracker.documents.accounts_csv import (
    ExportDocument,
    LineDecision,
    WrongKind,
    lines_csv,
    quickbooks_csv,
    xero_csv,
)

D = Decimal
AMOUNT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")
UK_DATE = re.compile(r"^[0-3][0-9]/[01][0-9]/20[0-9]{2}$")

#: Xero's sales invoice template (Sales, Invoices, Import, "Download template file"), with
#: the TaxAmount column Xero's page says to add.
XERO_HEADINGS = [
    "*ContactName",
    "EmailAddress",
    "POAddressLine1",
    "POAddressLine2",
    "POAddressLine3",
    "POAddressLine4",
    "POCity",
    "PORegion",
    "POPostalCode",
    "POCountry",
    "*InvoiceNumber",
    "Reference",
    "*InvoiceDate",
    "*DueDate",
    "InventoryItemCode",
    "*Description",
    "*Quantity",
    "*UnitAmount",
    "Discount",
    "*AccountCode",
    "*TaxType",
    "TaxAmount",
    "TrackingName1",
    "TrackingOption1",
    "TrackingName2",
    "TrackingOption2",
    "Currency",
    "BrandingTheme",
]
QUICKBOOKS_HEADINGS = [
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    "Location",
    "Memo",
    "Item(Product/Service)",
    "ItemDescription",
    "ItemQuantity",
    "ItemRate",
    "ItemAmount",
    "ItemTaxCode",
    "ItemTaxAmount",
    "Currency",
    "Service Date",
]


def read(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The headings and rows of a CSV, which must start with UTF-8's byte order mark."""
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def total(rows: list[dict[str, str]], column: str) -> Decimal:
    assert all(AMOUNT.match(row[column]) for row in rows), [row[column] for row in rows]
    return sum((D(row[column]) for row in rows), D("0.00"))


def vat_invoice():
    """An invoice of a VAT-registered practice: lines with and without VAT."""
    return make_document(12)


def test_xero_invoice_has_xeros_headings_one_row_a_line_and_the_totals_to_the_penny() -> None:
    document = vat_invoice()
    headings, rows = read(xero_csv([document], account_code="200"))
    assert headings == XERO_HEADINGS
    assert len(rows) == len(document.lines) == 12
    assert total(rows, "*UnitAmount") == document.net_total
    assert total(rows, "TaxAmount") == document.vat_total != 0
    assert total(rows, "*UnitAmount") + total(rows, "TaxAmount") == document.total
    for row, line in zip(rows, document.lines, strict=True):
        assert row["*ContactName"] == "NHS North East and North Cumbria Integrated Care Board"
        assert row["*InvoiceNumber"] == "A8100120240007"
        assert row["Reference"] == "PO-QHM-55821"
        assert (row["*InvoiceDate"], row["*DueDate"]) == ("01/08/2024", "31/08/2024")
        assert row["*Quantity"] == "1" and D(row["*UnitAmount"]) == line.net
        assert row["*AccountCode"] == "200" and row["Currency"] == "GBP"
        assert row["*Description"].startswith(f"{line.number}. {line.kind_label}, ")
        assert line.description in row["*Description"] and line.working in row["*Description"]
    # the last line of the ICB's address is its postcode
    assert rows[0]["POPostalCode"] == "SR5 3XB" and rows[0]["POAddressLine1"] == "Accounts Payable"


def test_xero_tax_type_follows_each_lines_vat() -> None:
    document = vat_invoice()
    _, rows = read(xero_csv([document], account_code="4000"))
    types = {(line.kind, row["*TaxType"]) for line, row in zip(document.lines, rows, strict=True)}
    assert types == {
        ("staff", "No VAT"),
        ("locum", "No VAT"),
        ("appointments", "No VAT"),
        ("expense", "20% (VAT on Income)"),
    }
    assert {row["*AccountCode"] for row in rows} == {"4000"}
    # an expense records the VAT on its receipt, not a rate: 5% of the net reads as 5%
    reduced = replace(
        make_line(3, "Outage", "expense", "Other expenses"),
        vat_rate=None,
        net=D("40.00"),
        vat=D("2.00"),
        total=D("42.00"),
    )
    zero = replace(reduced, vat_rate=D("0"), vat=D("0.00"), total=D("40.00"))
    doc = make_document(lines=(reduced, zero))
    _, rows = read(xero_csv([doc], account_code="200"))
    assert [row["*TaxType"] for row in rows] == ["5% (VAT on Income)", "Zero Rated Income"]
    _, rows = read(quickbooks_csv([doc]))
    assert [row["ItemTaxCode"] for row in rows] == ["5.0% R", "0.0% Z"]


def test_a_credit_note_goes_to_xeros_credit_note_import_with_negative_amounts() -> None:
    note = make_credit_note(12)
    headings, rows = read(xero_csv([note], account_code="200", credit_notes=True))
    assert headings == XERO_HEADINGS
    assert len(rows) == 12
    assert total(rows, "*UnitAmount") == note.net_total < 0
    assert total(rows, "*UnitAmount") + total(rows, "TaxAmount") == note.total
    assert {row["*InvoiceNumber"] for row in rows} == {"A81001CN20240001"}
    assert {row["Reference"] for row in rows} == {"A8100120240007"}  # the invoice it cancels
    assert {row["*InvoiceDate"] for row in rows} == {"20/08/2024"}
    assert {row["*Quantity"] for row in rows} == {"1"}


def test_a_credit_note_is_never_in_an_invoice_file_nor_an_invoice_in_a_credit_note_file() -> None:
    with pytest.raises(WrongKind):
        xero_csv([make_document(3), make_credit_note(3)], account_code="200")
    with pytest.raises(WrongKind):
        quickbooks_csv([make_credit_note(3)])
    with pytest.raises(WrongKind):
        xero_csv([make_document(3)], account_code="200", credit_notes=True)
    with pytest.raises(WrongKind):
        quickbooks_csv([make_document(3)], credit_notes=True)
    with pytest.raises(WrongKind, match="draft"):
        lines_csv([ExportDocument(make_document(3, draft=True))])


def test_quickbooks_invoice_headings_and_amounts_to_the_penny() -> None:
    document = vat_invoice()
    headings, rows = read(quickbooks_csv([document]))
    assert headings == QUICKBOOKS_HEADINGS
    assert len(rows) == 12
    assert total(rows, "ItemAmount") == total(rows, "ItemRate") == document.net_total
    assert total(rows, "ItemTaxAmount") == document.vat_total
    assert {row["InvoiceNo"] for row in rows} == {"A8100120240007"}
    assert {(row["InvoiceDate"], row["DueDate"], row["Terms"]) for row in rows} == {
        ("01/08/2024", "31/08/2024", "Net 30")
    }
    assert all(UK_DATE.match(row["Service Date"]) for row in rows)
    codes = {row["ItemTaxCode"] for row in rows}
    assert codes == {"No VAT", "20.0% S"}


def test_quickbooks_credit_note_is_its_own_import_with_positive_amounts() -> None:
    note = make_credit_note(5)
    headings, rows = read(quickbooks_csv([note], credit_notes=True))
    assert headings[:3] == ["CreditNoteNo", "Customer", "CreditNoteDate"]
    assert "InvoiceNo" not in headings and "DueDate" not in headings
    assert total(rows, "ItemAmount") == -note.net_total > 0
    assert total(rows, "ItemAmount") + total(rows, "ItemTaxAmount") == -note.total
    assert {row["Memo"] for row in rows} == {"Cancels invoice A8100120240007"}
    assert "0.00" in {row["ItemTaxAmount"] for row in rows}
    assert not any(value == "-0.00" for row in rows for value in row.values())


def test_the_lines_csv_has_every_field_signed_amounts_and_the_icbs_decisions() -> None:
    invoice, note = vat_invoice(), make_credit_note(12)
    decisions = {
        1: LineDecision("Approved", D("118.23")),
        2: LineDecision("Rejected", D("0.00"), "Not caused by the outage"),
    }
    headings, rows = read(lines_csv([ExportDocument(invoice, decisions), ExportDocument(note)]))
    assert headings == [
        "Document",
        "Number",
        "Date",
        "Due date",
        "Credits invoice",
        "Practice",
        "Practice ODS code",
        "ICB",
        "PO or reference",
        "Line",
        "Incident",
        "Cost kind",
        "Line date",
        "Description",
        "Details",
        "Working",
        "Quantity",
        "Unit",
        "Rate",
        "Net",
        "VAT rate",
        "VAT",
        "Total",
        "ICB decision",
        "ICB approved amount",
        "ICB reason",
    ]
    assert len(rows) == 24
    invoice_rows, note_rows = rows[:12], rows[12:]
    assert total(invoice_rows, "Total") == invoice.total
    assert total(invoice_rows, "Net") + total(invoice_rows, "VAT") == invoice.total
    assert total(note_rows, "Total") == note.total == -invoice.total
    assert total(rows, "Total") == 0  # cancelled in full
    first, second = invoice_rows[0], invoice_rows[1]
    assert (first["ICB decision"], first["ICB approved amount"]) == ("Approved", "118.23")
    assert (second["ICB decision"], second["ICB reason"]) == (
        "Rejected",
        "Not caused by the outage",
    )
    assert invoice_rows[2]["ICB decision"] == ""
    assert {row["Credits invoice"] for row in note_rows} == {"A8100120240007"}
    assert {row["Document"] for row in note_rows} == {"Credit note"}
    line = invoice.lines[0]
    assert first["Quantity"] == f"{line.quantity.normalize():f}" and first["Rate"] == "18.66"
    assert note_rows[0]["Quantity"].startswith("-")
    assert {row["VAT rate"] for row in invoice_rows} == {"No VAT", "20%"}
    assert "Zoë Hughes" in first["Description"]


@pytest.mark.parametrize(
    "typed", ["=SUM(A1:A9)", "+44 7700 900123", "-1+1", "@cmd", "\t=1+1", "\r=1+1", "  =1+1"]
)
def test_no_text_cell_is_a_formula_but_amounts_stay_numbers(typed: str) -> None:
    line = replace(make_line(0, typed, "staff", "Staff time"), description=typed, working=typed)
    customer = replace(make_document().customer, name=typed, email=typed)
    document = make_document(lines=(line,), customer=customer, po_reference=typed)
    note = make_credit_note(2)
    cells = []
    for data in (
        xero_csv([document], account_code=typed),
        quickbooks_csv([document]),
        lines_csv([ExportDocument(document, {1: LineDecision(typed, None, typed)})]),
        xero_csv([note], account_code="200", credit_notes=True),
    ):
        _, rows = read(data)
        cells += [(column, cell) for row in rows for column, cell in row.items()]
    formulas = [(column, cell) for column, cell in cells if cell and cell[0] in "=+-@\t\r"]
    negative_amounts = [(c, v) for c, v in formulas if AMOUNT.match(v)]
    assert formulas == negative_amounts and negative_amounts  # only numbers start with "-"
    assert ("*ContactName", "'" + " ".join(typed.split())) in cells
    assert ("*AccountCode", "'" + " ".join(typed.split())) in cells
