"""The XLSX floor: openpyxl's write-only mode writing the same cells as the invoice workbook
(each sheet's values and number formats, read back from the built file before the clock
starts), and nothing else: no fonts, fills, widths, filters or page setup. It is the cost of
putting those cells in an .xlsx with openpyxl at all."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell

from tracker.documents.data import InvoiceDocument
from tracker.documents.xlsx import build_invoice_xlsx

Sheets = list[tuple[str, list[list[tuple[Any, str]]]]]


def invoice_cells(doc: InvoiceDocument) -> Sheets:
    """Each sheet of the invoice workbook as rows of (value, number format)."""
    workbook = load_workbook(io.BytesIO(build_invoice_xlsx(doc)))
    return [
        (
            sheet.title,
            [[(cell.value, cell.number_format) for cell in row] for row in sheet.iter_rows()],
        )
        for sheet in workbook.worksheets
    ]


def _cell(sheet: Any, value: Any, number_format: str) -> Any:
    """A plain value, or a cell carrying its number format (a date, an amount)."""
    if number_format == "General":
        return value
    cell = WriteOnlyCell(sheet, value)
    cell.number_format = number_format
    return cell


def build_floor_xlsx(sheets: Sheets) -> bytes:
    """The cells, with the cycle collector paused as the app's builders pause it."""
    from tracker.documents.xlsx_cells import gc_paused

    with gc_paused():
        return _write(sheets)


def _write(sheets: Sheets) -> bytes:
    workbook = Workbook(write_only=True)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append([_cell(sheet, value, number_format) for value, number_format in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
