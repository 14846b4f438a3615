"""The import templates of a cost kind: an Excel workbook and a CSV file.

Both hold the kind's columns (tracker.columns, in the form's order) as a header row, a row
of hints (how to write each value) and an example row; the import leaves out the hints row
and the example row while it is unchanged. The workbook adds what Excel can: each header's
hint as a cell comment, columns wide enough to read, drop-down lists for the choices, date
and time cells, and the three top rows frozen while the user types below them.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from tracker.columns import TIME, Column, columns
from tracker.cost_kinds import FieldType
from tracker.documents.xlsx_cells import BOLD, DATE, HEADER_FILL, MONEY, WRAP, put

CLOCK = "hh:mm"
#: Rows below the example that are formatted (dates, times) and offer the drop-down lists.
ROWS = 500
HINT_FONT = Font(italic=True, color="4C6272")
EXAMPLE_FONT = Font(italic=True, color="4C6272")
MAX_WIDTH = 45
#: Excel's limit on a drop-down list typed into its validation (not a range).
MAX_LIST = 255


def _example_value(column: Column) -> Any:
    """The example row's value as Excel would hold it: dates and times as such, amounts
    and counts as numbers, the rest as text."""
    text = column.example
    if not text:
        return None
    if column.type == FieldType.DATE:
        return datetime.strptime(text, "%d/%m/%Y").date()
    if column.type == TIME:
        return datetime.strptime(text, "%H:%M").time()
    if column.type in {FieldType.MONEY, FieldType.PERCENT, FieldType.QUANTITY} and ":" not in text:
        return Decimal(text.replace(",", ""))
    return text


def _format(column: Column) -> str | None:
    if column.type == FieldType.DATE:
        return DATE
    if column.type == TIME:
        return CLOCK
    if column.type == FieldType.MONEY:
        return MONEY
    return None


def _hint_text(column: Column) -> str:
    return f"{column.hint}. {'Required' if column.required else 'Optional'}."


def template_xlsx(kind: str, title: str) -> bytes:
    """The kind's Excel template, its sheet named `title` (the kind's label)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    kind_columns = columns(kind)
    for index, column in enumerate(kind_columns, start=1):
        letter = get_column_letter(index)
        header = put(sheet, 1, index, column.name, font=BOLD)
        header.fill = HEADER_FILL
        header.comment = Comment(_hint_text(column), "Outage Claims", width=260, height=110)
        hint = put(sheet, 2, index, column.hint, font=HINT_FONT)
        hint.alignment = WRAP
        number_format = _format(column)
        example = put(sheet, 3, index, _example_value(column), number_format, EXAMPLE_FONT)
        if isinstance(example.value, date | time) and number_format is None:
            example.number_format = CLOCK
        if number_format:
            for row in range(4, 4 + ROWS):
                sheet.cell(row, index).number_format = number_format
        width = max(len(column.name), len(column.example), min(len(column.hint), 28)) + 3
        sheet.column_dimensions[letter].width = min(width, MAX_WIDTH)
        cells = f"{letter}3:{letter}{3 + ROWS}"
        if column.choices:
            words = ",".join(column.choice_words)
            assert len(words) + 2 <= MAX_LIST and all("," not in w for w in column.choice_words)
            check = DataValidation(
                type="list",
                formula1=f'"{words}"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=column.name,
                error=f"Choose one of: {'; '.join(column.choice_words)}",
            )
        elif column.type == FieldType.DATE:
            check = DataValidation(
                type="date",
                operator="greaterThanOrEqual",
                formula1="DATE(2000,1,1)",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=column.name,
                error="Enter a date in the year 2000 or later, like 19/07/2024",
            )
        else:
            continue
        check.add(cells)
        sheet.add_data_validation(check)
    sheet.row_dimensions[2].height = 45
    sheet.freeze_panes = "A4"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_csv(kind: str) -> bytes:
    """The kind's CSV template, in UTF-8 with the byte-order mark Excel needs to read £."""
    kind_columns = columns(kind)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.name for c in kind_columns])
    writer.writerow([c.hint for c in kind_columns])
    writer.writerow([c.example for c in kind_columns])
    return out.getvalue().encode("utf-8-sig")
