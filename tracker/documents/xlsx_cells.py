"""Cell writing shared by every workbook: one place decides that text stays text.

openpyxl stores a string starting with "=" as a formula; a user's description must never
become one, so strings are typed as text and, when they start with = + - or @, quote-prefixed
as Excel itself does. Decimals are written as numbers.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.worksheet import Worksheet

MONEY = '"£"#,##0.00'
DATE = "dd/mm/yyyy"
FORMULA_START = ("=", "+", "-", "@")
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="E8EDEE")
WRAP = Alignment(wrap_text=True, vertical="top")


def safe_text(value: object) -> str:
    """Text Excel can store: characters XML forbids are dropped."""
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def fill_cell(
    cell: Cell,
    value: Any,
    number_format: str | None = None,
    font: Font | None = None,
    fill: PatternFill | None = None,
) -> Cell:
    """Set a cell (normal or write-only, both a Cell): strings always text, Decimals numbers."""
    if isinstance(value, str):
        text = safe_text(value)
        cell.value = text
        cell.data_type = "s"
        if text.startswith(FORMULA_START):
            cell.quotePrefix = True
    else:
        cell.value = value
    if number_format:
        cell.number_format = number_format
    if font is not None:
        cell.font = font
    if fill is not None:
        cell.fill = fill
    return cell


def write_only_cell(
    ws: Worksheet | WriteOnlyWorksheet,
    value: Any,
    number_format: str | None = None,
    font: Font | None = None,
    fill: PatternFill | None = None,
) -> Any:
    """A cell of a write-only sheet, as fill_cell sets it. A value that needs no format,
    font, fill or quote prefix goes as itself: openpyxl writes a plain value through one
    reused cell, and takes a cell object of ours only after failing to read it as a value
    (an exception a cell, most of what writing one costs: issue 13)."""
    if number_format is None and font is None and fill is None:
        if isinstance(value, str):
            text = safe_text(value)
            if not text.startswith(FORMULA_START):
                return text
        elif isinstance(value, int | Decimal) and not isinstance(value, bool):
            return value
    return fill_cell(WriteOnlyCell(ws), value, number_format, font, fill)


def put(
    ws: Worksheet,
    row: int,
    column: int,
    value: Any,
    number_format: str | None = None,
    font: Font | None = None,
) -> Cell:
    """Write one cell of a sheet held in memory (the import template, which lists choices
    below its rows): strings are always text, Decimals numbers."""
    cell = ws.cell(row=row, column=column)
    assert isinstance(cell, Cell)  # not a MergedCell: these workbooks merge no cells
    return fill_cell(cell, value, number_format, font)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cycle collector while a workbook is built: openpyxl makes several objects
    per cell, and the collector's passes over them made a 10,000-line invoice about 25%
    slower and its cost grow faster than its lines. What it would collect is collected
    when it resumes."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
