"""Rows written as their XML (xlsx_cells.XmlRows) hold exactly what openpyxl's own cells
hold: the same values, types and number formats, read back with openpyxl, whatever the text
(markup characters, spaces at the ends, would-be formulas, characters XML forbids)."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from tracker.documents.xlsx_cells import MONEY, XmlRows, write_only_cell

FORMATS = [None, None, MONEY, "#,##0"]


def build(rows: list[list[Any]], *, fast: bool) -> list[list[tuple[Any, str, str]]]:
    """A sheet of a header, the rows, then a plain row after them; read back as (value,
    number format, type) per cell."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Rows")
    ws.append(["Code", "Name", "Amount", "Count"])
    writer = XmlRows(ws, FORMATS)
    writer.enabled = writer.enabled and fast
    for row in rows:
        writer.append(row)
    ws.append([write_only_cell(ws, "Total"), None, write_only_cell(ws, Decimal("1.50"), MONEY)])
    out = io.BytesIO()
    wb.save(out)
    sheet = load_workbook(io.BytesIO(out.getvalue()))["Rows"]
    return [
        [(cell.value, cell.number_format, cell.data_type) for cell in row]
        for row in sheet.iter_rows()
    ]


def test_text_and_numbers_read_back_as_written() -> None:
    rows = [
        ["Q01", "Smith & Jones <Surgery>", Decimal("1234.50"), 12],
        ["Q02", "  Spaced out  ", Decimal("-0.01"), 0],
        ["Q03", "=SUM(A1:A2)", Decimal("1E+3"), None],
        ["Q04", None, None, 7],
    ]
    cells = build(rows, fast=True)
    assert [c[0] for c in cells[1]] == ["Q01", "Smith & Jones <Surgery>", 1234.5, 12]
    assert cells[1][2][1] == MONEY and cells[1][3][1] == "#,##0"
    assert cells[2][1][0] == "  Spaced out  "
    # a would-be formula stays text (openpyxl's own quote-prefixed cell)
    assert cells[3][1][0] == "=SUM(A1:A2)" and cells[3][1][2] == "s"
    assert cells[3][2][0] == 1000
    assert cells[4][0][0] == "Q04" and cells[4][1][0] is None and cells[4][3][0] == 7
    assert cells[5][0][0] == "Total" and cells[5][2] == (1.5, MONEY, "n")
    assert cells == build(rows, fast=False)


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False)
rows_strategy = st.lists(
    st.tuples(
        st.one_of(st.none(), texts),
        st.one_of(st.none(), texts),
        st.one_of(st.none(), amounts),
        st.one_of(st.none(), st.integers(-(10**6), 10**6)),
    ).map(list),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_the_same_cells_as_openpyxl_writes(rows: list[list[Any]]) -> None:
    assert build(rows, fast=True) == build(rows, fast=False)
