"""CSV files for the practice's accounts: an issued invoice or credit note (or a register's
worth of them) in the import layouts of Xero and QuickBooks Online, and a plain CSV of every
line. Plain data in (documents.data), bytes out; no Flask, no database.

Every row is one line of a document, so the rows of a document add up to its totals to the
penny. The importers are given each line's net amount as its price, with a quantity of 1:
a line's net is not always its quantity times its rate (staff time adds overtime, employer's
NI and pension), and an importer that multiplied them would round to a different penny. The
quantity, unit and rate are written into the line's description, and in full in the plain CSV.

Formats, as each importer documents them for a UK organisation:

- Xero, "Import customer invoices" (https://central.xero.com/s/article/Import-customer-invoices):
  the column headings of Xero's template, not to be changed; one row per invoice line, rows of
  one invoice sharing its number; dates DD/MM/YYYY; UnitAmount either all tax exclusive or all
  inclusive, chosen at import; TaxType and AccountCode exactly as they appear in the
  organisation; a TaxAmount column may be added to give the tax of each line, with prices
  then tax exclusive. The only columns Xero requires are ContactName and InvoiceNumber; the
  template marks with "*" the ones it expects filled (kept, as the headings must not change).
- Xero, "Import customer credit notes" (https://central.xero.com/s/article/
  Import-a-customer-credit-note-US; the UK and global pages give the same steps): a template and an
  import of their own (Sales overview, the import icon), the same columns, the credit note's
  number in InvoiceNumber, and "UnitAmount: enter the price of the item, as a negative
  amount". Xero does not say the sign of TaxAmount there: it is given the sign of the line.
- QuickBooks Online, "Import multiple invoices at once" (Intuit, https://quickbooks.intuit.com/
  learn-support/en-us/help-article/import-export-data-files/import-multiple-invoices/
  L7E9Xrd8l_US_en_US): Settings (the gear), Import data, Invoices; mandatory: invoice number,
  customer, invoice date, due date, item amount; "each line item needs its own invoice number,
  customer, invoice date, due date, and item amount"; "you can't add negative charges, such as
  discounts or credit memos"; at most 100 invoices and 1,000 rows a file. A UK company maps
  VAT: it picks the date format (DD/MM/YYYY) and VAT exclusive or inclusive on the mapping
  screen, then maps the file's VAT codes to its own (Intuit's credit-note page below, the same
  tool). The headings are those of Intuit's sample invoice file; Intuit lists the ones it maps
  by itself ("Invoice number", "Item amount", ...: https://quickbooks.intuit.com/learn-support/
  en-ca/sales-and-invoicing/do-we-need-to-map-field-everytime-when-import-invoices/01/394876),
  and any other is picked on the mapping screen.
- QuickBooks Online, "How to import credit notes" (Intuit, https://quickbooks.intuit.com/
  learn-support/en-us/help-articles/how-to-import-credit-notes/00/332855): their own import
  (Settings, Import data, Import credit notes), its columns mapped by hand, mandatory ones
  starred on that screen. A credit note credits by what it is, so its amounts are positive
  here; a negative amount would make it a charge.

So a credit note is never in an invoice file: each layout has a credit-note file of its own,
and asking for an invoice layout with a credit note in it (or the other way) is refused.

Every file is UTF-8 with a byte order mark. Both importers' instructions have the user open
the file in Excel to check or fill it, and Excel reads a CSV without the mark in the
computer's legacy code page, turning "Zoë" and "£" into mojibake; Excel's own "CSV UTF-8"
format, which both importers take, writes the mark. Amounts are plain numbers with two
decimals (no "£", no thousands separator) as both importers read them.

Cells of text that a spreadsheet would run as a formula (starting with = + - @, a tab or a
carriage return) are prefixed with an apostrophe, as OWASP advises ("CSV Injection",
https://owasp.org/www-community/attacks/CSV_Injection); amounts are numbers and written as
they are, a minus sign included.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tracker.documents.data import DocumentLine, InvoiceDocument

#: Xero's demo chart of accounts codes sales income to 200 "Sales"; a practice sets its own
#: with TRACKER_ACCOUNTS_SALES_CODE (tracker.config.Defaults.ACCOUNTS_SALES_CODE).
DEFAULT_SALES_ACCOUNT = "200"
CURRENCY = "GBP"
#: What OWASP lists as starting a formula in a spreadsheet cell.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# --- Xero ----------------------------------------------------------------------------------

#: The headings of Xero's sales invoice template, in its order, "*" where the template has it,
#: with TaxAmount added after TaxType as Xero's page says to add it.
XERO_COLUMNS = (
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
)
#: Xero's UK tax rates by display name, as a UK organisation has them by default.
XERO_VAT_20 = "20% (VAT on Income)"
XERO_VAT_5 = "5% (VAT on Income)"
XERO_ZERO_RATED = "Zero Rated Income"
#: A line without VAT: the invoice says compensation for costs is outside the scope of VAT
#: (services.invoice_documents.VAT_STATEMENT); outside-the-scope income is left out of the
#: VAT return, where exempt income would be counted in box 6 (HMRC VAT Notice 700/12, "How to
#: fill in and submit your VAT return", https://www.gov.uk/guidance/how-to-fill-in-and-submit-
#: your-vat-return-vat-notice-70012). Xero's rate for that is "No VAT", which an organisation
#: that is not VAT registered uses for everything.
XERO_NO_VAT = "No VAT"

# --- QuickBooks Online ---------------------------------------------------------------------

#: The line columns of Intuit's sample invoice file for a UK company (with VAT columns),
#: which the credit-note file shares.
QUICKBOOKS_LINE_COLUMNS = (
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
)
#: The headings of Intuit's sample invoice file.
QUICKBOOKS_INVOICE_COLUMNS = (
    "InvoiceNo",
    "Customer",
    "InvoiceDate",
    "DueDate",
    "Terms",
    *QUICKBOOKS_LINE_COLUMNS,
)
#: The credit-note import maps its columns by hand; these name each for what it holds.
QUICKBOOKS_CREDIT_NOTE_COLUMNS = (
    "CreditNoteNo",
    "Customer",
    "CreditNoteDate",
    *QUICKBOOKS_LINE_COLUMNS,
)
#: QuickBooks Online's UK VAT codes by name; the import's last mapping step matches them to
#: the company's own.
QUICKBOOKS_VAT_20 = "20.0% S"
QUICKBOOKS_VAT_5 = "5.0% R"
QUICKBOOKS_ZERO_RATED = "0.0% Z"
QUICKBOOKS_NO_VAT = "No VAT"

# --- the plain CSV of lines ----------------------------------------------------------------

LINES_COLUMNS = (
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
)


@dataclass(frozen=True)
class LineDecision:
    """An ICB reviewer's decision on one line, as the plain CSV gives it."""

    label: str  # "Approved", "Part approved", "Queried", "Rejected"
    approved: Decimal | None = None
    reason: str = ""


@dataclass(frozen=True)
class ExportDocument:
    """An issued invoice or credit note and the ICB's decisions on its lines, by line number."""

    document: InvoiceDocument
    decisions: Mapping[int, LineDecision] = field(default_factory=dict)


class WrongKind(ValueError):
    """A credit note asked for in an invoice layout, or an invoice in a credit-note one."""


# --- cells ---------------------------------------------------------------------------------


def text(value: str | None) -> str:
    """A text cell: on one line (a line break inside a cell trips importers), and neutralised
    if a spreadsheet would read it as a formula (OWASP, above), before or after the spaces
    around it are trimmed."""
    raw = value or ""
    flat = " ".join(raw.split())
    if raw.startswith(FORMULA_STARTS) or flat.startswith(FORMULA_STARTS):
        return "'" + flat
    return flat


def amount(value: Decimal) -> str:
    """An amount already in pence as a plain number: "1234.50", "-18.66"; zero is "0.00",
    never "-0.00" (a credit note negates a line's zero VAT)."""
    return f"{value if value else abs(value):.2f}"


def figure(value: Decimal) -> str:
    """A quantity as a plain number without trailing zeros: "6.5", "38", "4.1667"."""
    return f"{value.normalize():f}" if value else "0"


def rate(value: Decimal) -> str:
    """A unit rate: two decimals, or in full when it is finer than a penny (never rounded)."""
    return amount(value) if value == value.quantize(Decimal("0.01")) else figure(value)


def uk_date(value: date | None) -> str:
    """DD/MM/YYYY, as both importers read dates for a UK organisation."""
    return value.strftime("%d/%m/%Y") if value else ""


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


# --- what goes in the cells ----------------------------------------------------------------


def is_credit_note(document: InvoiceDocument) -> bool:
    return document.credited_number is not None


def _require(documents: Sequence[InvoiceDocument], credit_notes: bool) -> None:
    for document in documents:
        if document.number is None or document.draft:
            raise WrongKind("A draft has no number yet: issue it before exporting it.")
        if is_credit_note(document) != credit_notes:
            raise WrongKind(
                "Credit notes have an import of their own: export them separately."
                if not credit_notes
                else "Only credit notes go in a credit-note file."
            )


def line_description(line: DocumentLine) -> str:
    """What the line was, for an importer's one description column: its number, kind, date
    and incident, what it is, its details and how it was worked out (quantity and rate),
    since the importer is given only its amount."""
    said = f"{line.number}. {line.kind_label}, {uk_date(line.line_date)}, "
    said += f"{line.incident_title}: {line.description}"
    if line.details:
        said += f" ({line.details_text})"
    if line.working:
        said += f". {line.working}"
    return said


def _vat_rate(line: DocumentLine) -> Decimal | None:
    """The line's VAT rate, or for an expense (which records the VAT on its receipt) the rate
    its VAT is of its net; None when it carries no VAT."""
    if not line.vat:
        return None
    if line.vat_rate is not None:
        return line.vat_rate
    return line.vat * 100 / line.net if line.net else Decimal(20)


def _standard(rate: Decimal) -> bool:
    """Whether a rate is nearer the standard 20% than the reduced 5%."""
    return abs(rate - 20) <= abs(rate - 5)


def xero_tax_type(line: DocumentLine) -> str:
    rate = _vat_rate(line)
    if rate is None:
        return XERO_ZERO_RATED if line.vat_rate == 0 and line.net else XERO_NO_VAT
    return XERO_VAT_20 if _standard(rate) else XERO_VAT_5


def quickbooks_tax_code(line: DocumentLine) -> str:
    rate = _vat_rate(line)
    if rate is None:
        return QUICKBOOKS_ZERO_RATED if line.vat_rate == 0 and line.net else QUICKBOOKS_NO_VAT
    return QUICKBOOKS_VAT_20 if _standard(rate) else QUICKBOOKS_VAT_5


#: A UK postcode on its own line, for the importers' postcode column.
POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)


def _address(lines: Sequence[str]) -> list[str]:
    """Four address lines, a city, region, postcode and country, as Xero's PO address: the
    last line is the postcode when it looks like one; lines past the fourth join the fourth."""
    lines = list(lines)
    postcode = lines.pop() if lines and POSTCODE.match(lines[-1].strip()) else ""
    if len(lines) > 4:
        lines = [*lines[:3], ", ".join(lines[3:])]
    return [*(lines + [""] * 4)[:4], "", "", postcode, ""]


# --- the layouts ---------------------------------------------------------------------------


def xero_csv(
    documents: Sequence[InvoiceDocument], *, account_code: str, credit_notes: bool = False
) -> bytes:
    """Xero's sales invoice import (or, with credit_notes, its credit note import): one row
    per line, the line's net as UnitAmount (import as "tax exclusive") with its VAT in
    TaxAmount; a credit note's amounts negative, as Xero's credit note import asks."""
    _require(documents, credit_notes)
    rows = []
    for document in documents:
        customer = document.customer
        reference = document.credited_number if credit_notes else document.po_reference
        due = document.issue_date if credit_notes else document.due_date
        for line in document.lines:
            rows.append(
                [
                    text(customer.name),
                    text(customer.email),
                    *(text(part) for part in _address(customer.address_lines)),
                    text(document.number),
                    text(reference),
                    uk_date(document.issue_date),
                    uk_date(due),
                    "",
                    text(line_description(line)),
                    "1",
                    amount(line.net),
                    "",
                    text(account_code),
                    xero_tax_type(line),
                    amount(line.vat),
                    "",
                    "",
                    "",
                    "",
                    CURRENCY,
                    "",
                ]
            )
    return _csv(XERO_COLUMNS, rows)


def quickbooks_csv(documents: Sequence[InvoiceDocument], *, credit_notes: bool = False) -> bytes:
    """QuickBooks Online's invoice import (or, with credit_notes, its credit note import): one
    row per line, the line's net as its amount (map as VAT exclusive) with its VAT; a credit
    note's amounts positive, as its own import credits them."""
    _require(documents, credit_notes)
    rows = []
    for document in documents:
        sign = -1 if credit_notes else 1
        if credit_notes:
            head = [text(document.number), text(document.customer.name)]
            head += [uk_date(document.issue_date), ""]
            memo = f"Cancels invoice {document.credited_number}"
        else:
            head = [text(document.number), text(document.customer.name)]
            head += [uk_date(document.issue_date), uk_date(document.due_date)]
            head += [f"Net {document.payment.terms_days}", ""]
            memo = f"Reference {document.po_reference}" if document.po_reference else ""
        for line in document.lines:
            net = amount(sign * line.net)
            rows.append(
                [
                    *head,
                    text(memo),
                    text(line.kind_label),
                    text(line_description(line)),
                    "1",
                    net,
                    net,
                    quickbooks_tax_code(line),
                    amount(sign * line.vat),
                    CURRENCY,
                    uk_date(line.line_date),
                ]
            )
    columns = QUICKBOOKS_CREDIT_NOTE_COLUMNS if credit_notes else QUICKBOOKS_INVOICE_COLUMNS
    return _csv(columns, rows)


def lines_csv(entries: Sequence[ExportDocument]) -> bytes:
    """Every line of every document, invoices and credit notes together, with everything a
    finance user filters or adds up by; a credit note's amounts negative, as it stands, so a
    column's sum is what is owed."""
    _require([entry.document for entry in entries if not is_credit_note(entry.document)], False)
    _require([entry.document for entry in entries if is_credit_note(entry.document)], True)
    rows = []
    for entry in entries:
        document = entry.document
        for line in document.lines:
            decision = entry.decisions.get(line.number)
            rows.append(
                [
                    text(document.title),
                    text(document.number),
                    uk_date(document.issue_date),
                    uk_date(document.due_date),
                    text(document.credited_number),
                    text(document.supplier.name),
                    text(document.supplier.ods_code),
                    text(document.customer.name),
                    text(document.po_reference),
                    str(line.number),
                    text(line.incident_title),
                    text(line.kind_label),
                    uk_date(line.line_date),
                    text(line.description),
                    text(line.details_text),
                    text(line.working),
                    figure(line.quantity),
                    text(line.unit_text),
                    rate(line.unit_rate),
                    amount(line.net),
                    text(line.vat_rate_text),
                    amount(line.vat),
                    amount(line.total),
                    text(decision.label) if decision else "",
                    amount(decision.approved) if decision and decision.approved is not None else "",
                    text(decision.reason) if decision else "",
                ]
            )
    return _csv(LINES_COLUMNS, rows)
