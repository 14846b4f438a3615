"""The invoice, the finance register and the statement of account as Excel workbooks
(openpyxl).

Figures are stored as numbers (Decimal in, number out) with a £ format, dates as dates. The
invoice's particulars and totals are on one sheet, its lines on their own ("Lines": the
headings in row 1, the only row frozen, so a clerk scrolling the lines always sees them and
a laptop screen is not filled by a frozen header block), and a summary on a third. Text a
user typed is always stored as text: a description such as "=HYPERLINK(...)" or "-5 items"
never becomes a formula (the cell is typed as a string and, when it starts with = + - or @,
quote-prefixed as Excel itself does).
The same document gives the same bytes: the workbook's dates and the ZIP entries' times are
fixed (derived from the document), not the time of the build.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from tracker.documents.data import DocumentLine, InvoiceDocument, RegisterRow
from tracker.documents.statement_data import AGE_BANDS, NOT_YET_DUE, StatementDocument
from tracker.documents.xlsx_cells import (
    BOLD,
    DATE,
    HEADER_FILL,
    MONEY,
    TITLE,
    WRAP,
    gc_paused,
    safe_text,
    write_only_cell,
)

if TYPE_CHECKING:
    from _typeshed import SizedBuffer, StrPath

QUANTITY = "#,##0.00"
WHOLE_QUANTITY = "#,##0"  # 17 appointments, 2 sessions: no ".00"
PERCENT = "0.00%"
#: A VAT rate: 20%, 17.5%; a line with no VAT holds 0 and shows "No VAT", as the PDF prints
#: it, so the column is numbers a spreadsheet can filter and sum on, filled on every line.
VAT_RATE = '0%;-0%;"No VAT"'
VAT_RATE_TENTHS = '0.0%;-0.0%;"No VAT"'
LABEL = Font(color="4C6272")
ZERO = Decimal("0.00")

# (heading, width) of the Lines sheet's table
LINE_COLUMNS = (
    ("Line", 6),
    ("Incident", 34),
    ("Cost kind", 16),
    ("Date", 12),
    ("Description", 44),
    ("Working", 48),
    ("Quantity", 11),
    ("Unit", 13),
    ("Rate", 12),
    ("VAT rate", 10),
    ("Net", 14),
    ("VAT", 12),
    ("Total", 14),
    ("Details", 40),
    ("Evidence", 40),
    ("Section", 30),
)
LAST_LINE_COLUMN = get_column_letter(len(LINE_COLUMNS))
SUMMARY_COLUMNS = (
    ("Incident", 44),
    ("Cost kind", 18),
    ("Lines", 8),
    ("Net", 14),
    ("VAT", 12),
    ("Total", 14),
)
REGISTER_COLUMNS = (
    ("Number", 22),
    ("Kind", 12),
    ("Practice", 32),
    ("Practice ODS code", 12),
    ("ICB", 44),
    ("Issue date", 12),
    ("Due date", 12),
    ("PO / reference", 18),
    ("Net", 14),
    ("VAT", 12),
    ("Total", 14),
    ("Approved", 14),
    ("Credited", 14),
    ("Paid", 14),
    ("Outstanding", 14),
    ("Status", 12),
)


Value = tuple[Any, str | None, Font | None]  # a cell: value, number format, font


def cell(
    ws: Worksheet, value: Any, number_format: str | None = None, font: Font | None = None
) -> Any:
    """One write-only cell (xlsx_cells.write_only_cell)."""
    return write_only_cell(ws, value, number_format, font)


def append(ws: Worksheet, *values: Value | None) -> None:
    """The next row, column A onwards; None leaves a cell empty. The workbooks are written
    row by row in openpyxl's write-only mode, which streams them rather than holding a cell
    object for every cell (issue 13)."""
    ws.append([None if v is None else cell(ws, *v) for v in values])


def _vat_rate(line: DocumentLine) -> tuple[Decimal, str]:
    """VAT rate as a fraction with a % format (20 -> 0.2 shown 20%), as a VAT invoice shows
    the rate per item; 0 shown "No VAT" when the line carries none; an expense that
    recorded its VAT but not a rate shows the VAT over the net to a tenth of a percent, as
    DocumentLine.vat_rate_text prints it."""
    if not line.vat:
        return ZERO, VAT_RATE
    if line.vat_rate is not None:
        value = line.vat_rate
        whole = value == value.to_integral_value()
        return value / 100, VAT_RATE if whole else PERCENT
    if not line.net:
        return ZERO, VAT_RATE
    tenths = (line.vat * 100 / line.net).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return tenths / 100, VAT_RATE_TENTHS


def _widths(ws: Worksheet, widths: Iterable[int]) -> None:
    """Column widths, from column A: a write-only sheet takes them before its first row."""
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


def _table_header(ws: Worksheet, columns: Sequence[tuple[str, int]]) -> None:
    """The table's heading row (bold, shaded, wrapped)."""
    cells = []
    for heading, _width in columns:
        heading_cell = cell(ws, heading, font=BOLD)
        heading_cell.fill = HEADER_FILL
        heading_cell.alignment = WRAP
        cells.append(heading_cell)
    ws.append(cells)


def _fixed_moment(day: date | None) -> datetime:
    return datetime.combine(day or date(2000, 1, 1), time(0, 0))


class _FixedTimeZip(zipfile.ZipFile):
    """A ZIP whose entries carry one given time, so equal workbooks are equal bytes."""

    def __init__(self, file: io.BytesIO, moment: datetime) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.moment = moment.timetuple()[:6]

    def _entry(self, name: str) -> zipfile.ZipInfo:
        entry = zipfile.ZipInfo(name, date_time=self.moment)
        entry.compress_type = zipfile.ZIP_DEFLATED
        entry.external_attr = 0o600 << 16
        return entry

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: SizedBuffer | str,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            zinfo_or_arcname = self._entry(zinfo_or_arcname)
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(
        self,
        filename: StrPath,
        arcname: StrPath | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        """openpyxl writes large sheets through a temporary file: keep its time out too.
        Every entry is deflated (see _entry), whatever compression is asked for."""
        with open(filename, "rb") as source:
            self.writestr(self._entry(str(arcname or filename)), source.read())


def _new_workbook(title: str) -> tuple[Workbook, Worksheet]:
    """A write-only workbook and its first sheet, so titled."""
    wb = Workbook(write_only=True)
    return wb, _sheet(wb, title)


def _sheet(wb: Workbook, title: str) -> Worksheet:
    """A sheet of a write-only workbook. It is openpyxl's Worksheet, which takes
    Worksheet's settings (widths, panes, filters, page setup) at run time; its type stubs
    name only some of them, so it is typed as the Worksheet it stands in for."""
    ws: Worksheet = wb.create_sheet(title)
    return ws


def _fit_to_page_width(ws: Worksheet) -> None:
    """Print landscape on A4, as wide as one page and as long as it takes."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _save(wb: Workbook, moment: datetime, title: str) -> bytes:
    wb.properties.created = moment
    wb.properties.modified = moment
    wb.properties.title = safe_text(title)
    wb.properties.creator = "Outage Claims"
    buffer = io.BytesIO()
    ExcelWriter(wb, _FixedTimeZip(buffer, moment)).save()
    return buffer.getvalue()


def _header_block(ws: Worksheet, doc: InvoiceDocument) -> None:
    """The invoice's particulars and totals as label / value rows, from row 3. A credit
    note gives the date of the invoice it reverses and says "Total credited"; it has no
    due date, terms or bank details: nothing is to be paid on it."""
    number = doc.number or "DRAFT (not yet issued)"
    append(ws, (f"{doc.title} {number}", None, TITLE))
    append(ws)
    credit = doc.credited_number is not None
    noun = "Credit note" if credit else "Invoice"
    total_label = "Total credited" if credit else "Total due"
    rows: list[tuple[str, Any, str | None]] = [(f"{noun} number", number, None)]
    if credit:
        rows.append(("Credits invoice", doc.credited_number, None))
        rows.append(("Credited invoice date", doc.credited_issue_date, DATE))
    rows.append(("Issue date", doc.issue_date, DATE))
    if not credit:
        rows.append(("Due date", doc.due_date, DATE))
    rows += [
        ("Supply from", doc.supply_from, DATE),
        ("Supply to", doc.supply_to, DATE),
        ("Purchase order / reference", doc.po_reference or "", None),
        *_party_rows(doc),
        *([] if credit else _payment_rows(doc)),
        *_total_rows(doc, total_label),
    ]
    for label, value, number_format in rows:
        if not label:
            append(ws)
        elif value is None or value == "":
            append(ws, (label, None, LABEL))
        else:
            bold = BOLD if label in (total_label, f"{noun} number") else None
            append(ws, (label, None, LABEL), (value, number_format, bold))
    append(ws)


Rows = list[tuple[str, Any, str | None]]


def _party_rows(doc: InvoiceDocument) -> Rows:
    supplier, customer = doc.supplier, doc.customer
    return [
        ("", None, None),
        ("Supplier", supplier.name, None),
        ("Supplier address", ", ".join(supplier.address_lines), None),
        ("Supplier ODS code", supplier.ods_code, None),
        ("Supplier email", supplier.email or "", None),
        ("Supplier phone", supplier.phone or "", None),
        ("Supplier VAT number", supplier.vat_number or "", None),
        ("", None, None),
        ("Customer", customer.name, None),
        ("Customer address", ", ".join(customer.address_lines), None),
        ("Customer ODS code", customer.ods_code, None),
    ]


def _payment_rows(doc: InvoiceDocument) -> Rows:
    payment = doc.payment
    return [
        ("", None, None),
        ("Account name", payment.account_name or "", None),
        ("Sort code", payment.sort_code or "", None),
        ("Account number", payment.account_number or "", None),
        ("Remittance email", payment.remittance_email or "", None),
        ("Terms (days)", payment.terms_days, None),
    ]


def _total_rows(doc: InvoiceDocument, total_label: str) -> Rows:
    rows: Rows = [("", None, None)]
    if doc.has_notional:
        rows += [(section.title, section.total, MONEY) for section in doc.sections]
    rows += [
        ("Net total", doc.net_total, MONEY),
        ("VAT total", doc.vat_total, MONEY),
    ]
    if doc.mixed_vat:
        rows.append(("Lines with no VAT (included)", doc.no_vat_lines_total, MONEY))
    rows.append((total_label, doc.total, MONEY))
    if doc.vat_statement:
        rows.append(("VAT", doc.vat_statement, None))
    return rows


def _line_rows(ws: Worksheet, doc: InvoiceDocument) -> int:
    """One row per line, section by section; returns how many. Every line has its number
    and its VAT rate (0, shown "No VAT", when it carries none) and VAT amount, so the
    columns filter and add up."""
    count = 0
    for section in doc.sections:
        for group in (group for incident in section.incidents for group in incident.kinds):
            for line in group.lines:
                whole = line.quantity == line.quantity.to_integral_value()
                values: list[tuple[Any, str | None]] = [
                    (line.number, None),
                    (line.incident_title, None),
                    (line.kind_label, None),
                    (line.line_date, DATE),
                    (line.description, None),
                    (line.working, None),
                    (line.quantity, WHOLE_QUANTITY if whole else QUANTITY),
                    (line.unit_text, None),
                    (line.unit_rate, MONEY),
                    _vat_rate(line),
                    (line.net, MONEY),
                    (line.vat, MONEY),
                    (line.total, MONEY),
                    (line.details_text, None),
                    (", ".join(line.evidence), None),
                    (section.title, None),
                ]
                ws.append([cell(ws, value, number_format) for value, number_format in values])
                count += 1
    return count


#: Column of the Lines sheet's first amount (net; then VAT and total).
NET_COLUMN = 11


def _amounts_row(
    label: str, net: Decimal | None, vat: Decimal | None, total: Decimal
) -> list[Value | None]:
    """A bold row of the Lines sheet: its label in column B, amounts under net, VAT, total."""
    row: list[Value | None] = [None for _ in range(NET_COLUMN - 1)]
    row += [
        None if net is None else (net, MONEY, BOLD),
        None if vat is None else (vat, MONEY, BOLD),
        (total, MONEY, BOLD),
    ]
    row[1] = (label, None, BOLD)
    return row


def _lines_sheet(wb: Workbook, doc: InvoiceDocument) -> None:
    """The lines on their own sheet: headings in row 1, frozen and filtered; the sections'
    subtotals and the totals below them."""
    ws = _sheet(wb, "Lines")
    _widths(ws, (width for _, width in LINE_COLUMNS))
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    _fit_to_page_width(ws)
    _table_header(ws, LINE_COLUMNS)
    count = _line_rows(ws, doc)
    ws.auto_filter.ref = f"A1:{LAST_LINE_COLUMN}{count + 1}"
    if doc.has_notional:
        for section in doc.sections:
            append(
                ws, *_amounts_row(section.subtotal_label, section.net, section.vat, section.total)
            )
    append(ws, *_amounts_row("Totals", doc.net_total, doc.vat_total, doc.total))
    total_label = "Total credited" if doc.credited_number else "Total due"
    append(ws, *_amounts_row(total_label, None, None, doc.total))


def _summary_sheet(wb: Workbook, doc: InvoiceDocument) -> None:
    ws = _sheet(wb, "Summary")
    _widths(ws, (width for _, width in SUMMARY_COLUMNS))
    ws.freeze_panes = "A4"
    title = f"{doc.title} {doc.number or 'DRAFT'}: summary by incident and cost kind"
    append(ws, (title, None, TITLE))
    append(ws)
    _table_header(ws, SUMMARY_COLUMNS)
    rows = 0
    for section in doc.sections:
        if doc.has_notional:
            append(ws, (section.title, None, BOLD))
            rows += 1
        for group in (group for incident in section.incidents for group in incident.kinds):
            append(
                ws,
                (group.incident_title, None, None),
                (group.kind_label, None, None),
                (len(group.lines), None, None),
                (group.net, MONEY, None),
                (group.vat, MONEY, None),
                (group.total, MONEY, None),
            )
            rows += 1
        if doc.has_notional:
            lines = sum(len(g.lines) for i in section.incidents for g in i.kinds)
            append(
                ws,
                (section.subtotal_label, None, BOLD),
                None,
                (lines, None, None),
                (section.net, MONEY, BOLD),
                (section.vat, MONEY, BOLD),
                (section.total, MONEY, BOLD),
            )
            rows += 1
    ws.auto_filter.ref = f"A3:F{3 + rows}"
    append(
        ws,
        ("Total", None, BOLD),
        None,
        (len(doc.lines), None, BOLD),
        (doc.net_total, MONEY, BOLD),
        (doc.vat_total, MONEY, BOLD),
        (doc.total, MONEY, BOLD),
    )


def build_invoice_xlsx(doc: InvoiceDocument) -> bytes:
    """The invoice or credit note as an .xlsx: "Invoice" (particulars, one row per line,
    totals) and "Summary" (by incident and cost kind) sheets."""
    with gc_paused():
        return _invoice_workbook(doc)


def _invoice_workbook(doc: InvoiceDocument) -> bytes:
    wb, ws = _new_workbook("Invoice")
    _widths(ws, (30, 48))
    _fit_to_page_width(ws)
    _header_block(ws, doc)
    count = len(doc.lines)
    append(ws, (f"{count} line{'' if count == 1 else 's'}: see the Lines sheet", None, LABEL))
    append(ws)
    if doc.evidence:
        append(ws, ("Evidence attached", None, BOLD))
        for item in doc.evidence:
            append(ws, (item, None, None))
        append(ws)
    if doc.notes.strip():
        append(ws, ("Notes", None, BOLD))
        append(ws, (doc.notes, None, None))

    _lines_sheet(wb, doc)
    _summary_sheet(wb, doc)
    return _save(wb, _fixed_moment(doc.issue_date), f"{doc.title} {doc.number or 'DRAFT'}")


def build_register_xlsx(rows: Iterable[RegisterRow]) -> bytes:
    """The finance register: one row per invoice or credit note, a totals row below."""
    with gc_paused():
        return _register_workbook(list(rows))


def _register_workbook(rows: list[RegisterRow]) -> bytes:
    wb, ws = _new_workbook("Register")
    _widths(ws, (width for _, width in REGISTER_COLUMNS))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(REGISTER_COLUMNS))}{len(rows) + 1}"
    _table_header(ws, REGISTER_COLUMNS)
    sums = [ZERO] * 7
    for item in rows:
        money = (
            item.net,
            item.vat,
            item.total,
            item.approved,
            item.credited,
            item.paid,
            item.outstanding,
        )
        values: list[tuple[Any, str | None]] = [
            (item.number, None),
            (item.kind, None),
            (item.practice_name, None),
            (item.practice_ods_code, None),
            (item.icb_name, None),
            (item.issue_date, DATE),
            (item.due_date, DATE),
            (item.po_reference or "", None),
            *((amount, MONEY) for amount in money),
            (item.status, None),
        ]
        append(
            ws,
            *(
                None if value is None or value == "" else (value, number_format, None)
                for value, number_format in values
            ),
        )
        sums = [total + (amount or ZERO) for total, amount in zip(sums, money, strict=True)]
    append(
        ws,
        ("Total", None, BOLD),
        (f"{len(rows)} documents", None, None),
        *[None] * 6,
        *((amount, MONEY, BOLD) for amount in sums),
    )
    latest = max((item.issue_date for item in rows), default=None)
    return _save(wb, _fixed_moment(latest), "Invoice register")


STATEMENT_COLUMNS = (
    ("Date", 12),
    ("Type", 13),
    ("Reference", 24),
    ("Details", 44),
    ("Debit", 14),
    ("Credit", 14),
    ("Balance", 14),
)
AGED_COLUMNS = (
    ("Invoice", 22),
    ("Issued", 12),
    ("Due", 12),
    ("Days past due", 10),
    (NOT_YET_DUE, 14),
    *((label, 14) for label, _ in AGE_BANDS),
    ("Outstanding", 14),
)


def build_statement_xlsx(doc: StatementDocument) -> bytes:
    """The statement of account: "Statement" (who to whom, the balance and how to pay, then
    every entry with its running balance) and "Aged" (each invoice with something
    outstanding, its amount in its band, not yet due included, so the bands add up to the
    balance)."""
    with gc_paused():
        wb, ws = _new_workbook("Statement")
        _statement_sheet(ws, doc)
        _aged_sheet(_sheet(wb, "Aged"), doc)
        title = f"{doc.title} as at {doc.as_at.isoformat()}"
        return _save(wb, _fixed_moment(doc.as_at), title)


def _statement_rows(doc: StatementDocument) -> Rows:
    supplier, customer, payment = doc.supplier, doc.customer, doc.payment
    return [
        ("From", f"{supplier.name} ({supplier.ods_code})", None),
        ("To", f"{customer.name} ({customer.ods_code})", None),
        ("ICB address", ", ".join(customer.address_lines), None),
        ("Statement date", doc.as_at, DATE),
        ("Balance due", doc.balance, MONEY),
        ("Overdue", doc.overdue, MONEY),
        ("Not yet due", doc.not_yet_due, MONEY),
        ("Account name", payment.account_name or "", None),
        ("Sort code", payment.sort_code or "", None),
        ("Account number", payment.account_number or "", None),
        ("Remittance email", payment.remittance_email or "", None),
    ]


def _statement_sheet(ws: Worksheet, doc: StatementDocument) -> None:
    """The particulars from row 3, then the entries' table under its heading row (frozen,
    filtered, printed on every page) and their totals."""
    rows = _statement_rows(doc)
    header = len(rows) + 4
    _widths(ws, (width for _, width in STATEMENT_COLUMNS))
    ws.freeze_panes = f"A{header + 1}"
    ws.auto_filter.ref = f"A{header}:G{header + len(doc.entries)}"
    ws.print_title_rows = f"{header}:{header}"
    _fit_to_page_width(ws)
    append(ws, (f"{doc.title} as at {doc.as_at:%d/%m/%Y}", None, TITLE))
    append(ws)
    for label, value, number_format in rows:
        bold = BOLD if label == "Balance due" else None
        append(ws, (label, None, LABEL), None if value == "" else (value, number_format, bold))
    append(ws)
    _table_header(ws, STATEMENT_COLUMNS)
    for entry in doc.entries:
        append(
            ws,
            (entry.on, DATE, None),
            (entry.kind, None, None),
            (entry.reference, None, None),
            (entry.details, None, None),
            (entry.debit, MONEY, None) if entry.debit else None,
            (entry.credit, MONEY, None) if entry.credit else None,
            (entry.balance, MONEY, None),
        )
    totals = (doc.debits, doc.credits, doc.balance)
    append(ws, ("Totals", None, BOLD), None, None, None, *((a, MONEY, BOLD) for a in totals))


def _aged_sheet(ws: Worksheet, doc: StatementDocument) -> None:
    """Each open invoice with its outstanding amount in its age band and in total."""
    _widths(ws, (width for _, width in AGED_COLUMNS))
    ws.freeze_panes = "A2"
    last = get_column_letter(len(AGED_COLUMNS))
    ws.auto_filter.ref = f"A1:{last}{len(doc.open_invoices) + 1}"
    _fit_to_page_width(ws)
    _table_header(ws, AGED_COLUMNS)
    bands = len(AGE_BANDS) + 1  # not yet due, then each band
    for invoice in doc.open_invoices:
        slots: list[Value | None] = [None for _ in range(bands)]
        slots[0 if invoice.band is None else invoice.band + 1] = (
            invoice.outstanding,
            MONEY,
            None,
        )
        append(
            ws,
            (invoice.number, None, None),
            (invoice.issue_date, DATE, None),
            (invoice.due_date, DATE, None),
            (max(invoice.days_overdue, 0), None, None),
            *slots,
            (invoice.outstanding, MONEY, None),
        )
    totals = (doc.not_yet_due, *doc.aged, doc.open_total)
    append(ws, ("Total", None, BOLD), None, None, None, *((a, MONEY, BOLD) for a in totals))
