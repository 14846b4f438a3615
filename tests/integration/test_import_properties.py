"""Property tests of the import: a file of generated valid rows imports with the amounts of
entering each row by hand through the service (cost_lines.add_line); a file with any invalid
row saves nothing. Files are written as Excel workbooks (typed cells) and as CSV (text)."""

from __future__ import annotations

import csv
import io
from datetime import date, time
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from tests.factories import World
from tests.integration.test_imports import fresh_incident
from tracker.columns import columns
from tracker.extensions import db
from tracker.models import AuditEntry, CostLine
from tracker.services import cost_lines, imports
from tracker.services.errors import Invalid

TODAY = date(2024, 9, 1)
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

days = st.dates(min_value=date(2024, 7, 1), max_value=date(2024, 8, 31))
pence = st.integers(min_value=1, max_value=50_000_00).map(lambda p: Decimal(p) / 100)
quarter_hours = st.integers(min_value=1, max_value=48).map(lambda q: Decimal(q) / 4)
words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ", min_size=1, max_size=30).map(
    lambda t: t.strip() or "x"
)


def money_cell(value: Decimal) -> st.SearchStrategy[Any]:
    return st.sampled_from([f"£{value:,.2f}", f"{value:.2f}", f"{value:,}", value])


def hours_cell(value: Decimal) -> st.SearchStrategy[Any]:
    minutes = int(value * 60)
    return st.sampled_from(
        [str(value), f"{minutes // 60}:{minutes % 60:02d}", value]
        + ([time(minutes // 60, minutes % 60)] if minutes < 24 * 60 else [])
    )


@st.composite
def staff_rows(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the row's cells by column name, the same row as the form's values)"""
    day, hours, rate = draw(days), draw(quarter_hours), draw(pence.filter(lambda p: p < 500))
    basis = draw(st.sampled_from(["overtime", "additional", "plain", "inclusive"]))
    words_of = {
        "overtime": "Overtime",
        "additional": "Additional hours (pensionable)",
        "plain": "Extra hours at the normal rate",
        "inclusive": "Rate includes on-costs",
    }
    premium = Decimal(draw(st.integers(min_value=0, max_value=100)))
    role, what = draw(words), draw(words)
    cells = {
        "Staff member or role": role,
        "Description": what,
        "Date": draw(st.sampled_from([day, day.strftime("%d/%m/%Y")])),
        "Hours": draw(hours_cell(hours)),
        "Hourly rate": draw(money_cell(rate)),
        "Paid as": draw(st.sampled_from([words_of[basis], basis, words_of[basis].upper()])),
        "Overtime premium": str(premium),
    }
    values = {
        "staff_role": role,
        "description": what,
        "line_date": day,
        "quantity": hours,
        "unit_rate": rate,
        "pay_basis": basis,
        "overtime_pct": premium,
    }
    return cells, values


@st.composite
def expense_rows(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    day, net = draw(days), draw(pence)
    vat = draw(st.integers(min_value=0, max_value=int(net * 100)).map(lambda p: Decimal(p) / 100))
    supplier, what = draw(words), draw(words)
    cells = {
        "Supplier": supplier,
        "Description": what,
        "Date": draw(st.sampled_from([day, day.strftime("%d/%m/%Y")])),
        "Net amount": draw(money_cell(net)),
        "VAT paid": draw(money_cell(vat)) if vat else "",
    }
    values = {
        "supplier": supplier,
        "description": what,
        "line_date": day,
        "net_amount": net,
        "vat_paid": vat,
    }
    return cells, values


ROWS = {"staff": staff_rows(), "expense": expense_rows()}


def file_of(kind: str, rows: list[dict[str, Any]], as_csv: bool) -> tuple[str, bytes]:
    names = [c.name for c in columns(kind) if any(c.name in row for row in rows)]
    table = [names] + [[row.get(name) for name in names] for row in rows]
    if as_csv:
        out = io.StringIO()
        csv.writer(out).writerows(
            [[imports.shown(v) if not isinstance(v, str) else v for v in r] for r in table]
        )
        return "rows.csv", out.getvalue().encode()
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        sheet.append([float(v) if isinstance(v, Decimal) else v for v in row])
    data = io.BytesIO()
    book.save(data)
    return "rows.xlsx", data.getvalue()


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_valid_rows_import_with_the_amounts_of_entering_them_by_hand(
    app_ctx: Flask, world: World, kind: str
) -> None:
    @SETTINGS
    @given(rows=st.lists(ROWS[kind], min_size=1, max_size=6), as_csv=st.booleans())
    def check(rows: list[tuple[dict[str, Any], dict[str, Any]]], as_csv: bool) -> None:
        imported, by_hand = fresh_incident(world), fresh_incident(world)
        name, data = file_of(kind, [cells for cells, _ in rows], as_csv)
        result = imports.preview(db.session, imported, kind, name, data, TODAY)
        assert not result.problems and not result.invalid_rows, [
            (r.number, r.errors) for r in result.invalid_rows
        ]
        lines = imports.save(db.session, imported, world.manager.id, result, TODAY)
        expected = [
            line
            for _, values in rows
            for line in cost_lines.add_line(
                db.session, by_hand, world.manager.id, cost_lines.line_input(kind, values), TODAY
            )
        ]
        db.session.commit()
        fields = ("total_amount", "net_amount", "vat_amount", "working", "quantity", "details")
        assert [[getattr(x, f) for f in fields] for x in lines] == [
            [getattr(x, f) for f in fields] for x in expected
        ]
        assert result.total == sum((x.total_amount for x in expected), Decimal(0))

    check()


@pytest.mark.parametrize("kind", sorted(ROWS))
def test_a_file_with_any_invalid_row_saves_nothing(app_ctx: Flask, world: World, kind: str) -> None:
    breakers = {
        "staff": [
            ("Hours", "-1"),
            ("Date", "31/02/2024"),
            ("Hourly rate", "abc"),
            ("Paid as", "Sometimes"),
            ("Staff member or role", ""),
        ],
        "expense": [
            ("Net amount", "0"),
            ("Date", "01/01/2099"),
            ("Supplier", ""),
            ("VAT paid", "1e3"),
        ],
    }

    @SETTINGS
    @given(
        rows=st.lists(ROWS[kind], min_size=1, max_size=6),
        where=st.integers(min_value=0, max_value=5),
        breaker=st.sampled_from(breakers[kind]),
        as_csv=st.booleans(),
    )
    def check(
        rows: list[tuple[dict[str, Any], dict[str, Any]]],
        where: int,
        breaker: tuple[str, str],
        as_csv: bool,
    ) -> None:
        incident = fresh_incident(world)
        cells = [dict(c) for c, _ in rows]
        column, bad = breaker
        cells[where % len(cells)][column] = bad
        name, data = file_of(kind, cells, as_csv)
        audits = db.session.scalar(select(func.count()).select_from(AuditEntry))
        result = imports.preview(db.session, incident, kind, name, data, TODAY)
        assert [r.number for r in result.invalid_rows] == [2 + where % len(cells)]
        assert column in result.invalid_rows[0].errors
        with pytest.raises(Invalid):
            imports.save(db.session, incident, world.manager.id, result, TODAY)
        db.session.rollback()
        count = db.session.scalar(
            select(func.count()).select_from(CostLine).where(CostLine.incident_id == incident.id)
        )
        assert count == 0
        assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == audits

    check()
