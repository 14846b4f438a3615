"""Cell writing shared by every workbook: one place decides that text stays text.

openpyxl stores a string starting with "=" as a formula; a user's description must never
become one, so strings are typed as text and, when they start with = + - or @, quote-prefixed
as Excel itself does. Decimals are written as numbers.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import LXML
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
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


class _XmlRow(tuple[str, ...]):
    """A row already written as the XML of its cells, each cell's reference its column
    alone: the row number is known only when openpyxl writes the row."""


class XmlRows:
    """Plain rows of a big write-only sheet, written as their XML (issue 13).

    openpyxl writes a cell at about 6 µs whatever its value (a cell object, its attributes
    worked out, an element made and serialised): 0.45 s of the national workbook's 75,000
    practice cells even with no formats. A row of plain text and numbers is a few fixed
    strings, so it is written as one string, parsed into one element and handed to openpyxl's
    own stream: the sheet, its styles and the file are still openpyxl's, only the cells are
    ours (inline strings and numbers, as openpyxl writes them, ECMA-376 Part 1 §18.3.1.4 and
    §18.3.1.96). A row with a value the shortcut does not know (a string Excel would read as
    a formula, which needs a quote-prefix style; a date; anything but text and numbers)
    goes through openpyxl as before, so what the file holds is the same either way.

    It hooks the sheet's private row writer (openpyxl 3.1, pinned in constraints.txt), so
    the header row (which writes the sheet's columns, panes and filter) must come first; the
    tests read every workbook back with openpyxl, cell by cell and format by format. Without
    lxml (openpyxl's fast writer) rows go through openpyxl as before.
    """

    def __init__(self, ws: WriteOnlyWorksheet, formats: Sequence[str | None]) -> None:
        sheet: Any = ws  # its private row writer: typed stubs do not describe it
        if sheet._writer is None or sheet._rows is None:
            raise ValueError("append the header row through openpyxl first")
        self.ws = ws
        self.formats = list(formats)
        self.styles = [self._style_id(fmt) for fmt in self.formats]
        self.columns = [get_column_letter(index) for index in range(1, len(formats) + 1)]
        self.enabled = LXML
        if self.enabled:
            self._hook()

    def _style_id(self, number_format: str | None) -> str:
        if number_format is None:
            return ""
        cell = WriteOnlyCell(self.ws)
        cell.number_format = number_format
        return f' s="{cell.style_id}"'

    def _hook(self) -> None:
        from lxml import etree  # type: ignore[import-untyped]

        sheet: Any = self.ws
        writer = sheet._writer
        values_to_row, write_row = sheet._values_to_row, writer.write_row

        def pass_xml(values: Any, row_idx: int) -> Any:
            return values if isinstance(values, _XmlRow) else values_to_row(values, row_idx)

        def write(xf: Any, row: Any, row_idx: int) -> None:
            if isinstance(row, _XmlRow):
                element, number = etree.fromstring(row[0]), str(row_idx)
                element.set("r", number)
                for cell in element:
                    cell.set("r", cell.get("r") + number)
                xf.write(element)
            else:
                write_row(xf, row, row_idx)

        sheet._values_to_row = pass_xml
        writer.write_row = write

    def append(self, values: Sequence[Any]) -> None:
        """One row: each value in its column, with that column's number format."""
        xml = self._xml(values) if self.enabled else None
        if xml is None:
            self.ws.append(
                [
                    None if value is None else write_only_cell(self.ws, value, fmt)
                    for value, fmt in zip(values, self.formats, strict=True)
                ]
            )
        else:
            self.ws.append(_XmlRow((xml,)))

    def _xml(self, values: Sequence[Any]) -> str | None:
        parts = ["<row>"]
        for value, column, style in zip(values, self.columns, self.styles, strict=True):
            if value is None:
                continue
            if isinstance(value, str):
                text = safe_text(value)
                if text.startswith(FORMULA_START):
                    return None
                if not text:  # as openpyxl writes it: a text cell with nothing in it
                    parts.append(f'<c r="{column}" t="inlineStr"{style}/>')
                    continue
                space = ' xml:space="preserve"' if text != text.strip() else ""
                parts.append(
                    f'<c r="{column}" t="inlineStr"{style}><is>'
                    f"<t{space}>{escape(text)}</t></is></c>"
                )
            elif isinstance(value, Decimal) and value.is_finite():
                parts.append(f'<c r="{column}"{style}><v>{value:f}</v></c>')
            elif isinstance(value, int) and not isinstance(value, bool):
                parts.append(f'<c r="{column}"{style}><v>{value}</v></c>')
            else:
                return None
        parts.append("</row>")
        return "".join(parts)
