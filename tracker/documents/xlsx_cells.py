"""Cell writing shared by every workbook: one place decides that text stays text.

openpyxl stores a string starting with "=" as a formula; a user's description must never
become one, so strings are typed as text and, when they start with = + - or @, quote-prefixed
as Excel itself does. Decimals are written as numbers.
"""

from __future__ import annotations

from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Font, PatternFill

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
