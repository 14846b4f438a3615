"""Importing a kind's cost lines from a spreadsheet (CSV or XLSX) into an incident.

Reading a file gives a `Preview`: every row read by its template's columns
(tracker.columns), checked by the very rules of the line form (services.cost_lines:
`line_input`, `line_problems`) and, when valid, priced by them (`compute`), with each
problem by row number (as the spreadsheet numbers its rows) and column. Nothing is saved
by a preview. `save` checks everything again and adds the valid lines in one flush
(cost_lines.add_lines), with one audit entry listing them and the file's SHA-256, by
which the same file imported into the same incident again is recognised.

How cells are read:
- dates as dd/mm/yyyy (d/m/yyyy and yyyy-mm-dd too) or Excel date cells;
- times as hh:mm (24-hour clock) or Excel time cells;
- amounts with or without £ and thousands separators (services.money.parse_decimal);
  percentages as 20 or 20%, or an Excel cell formatted as a percentage (0.2 is 20%);
- hours as a decimal (6.5) or h:mm (6:30), including a cell Excel turned into a time;
- choices by the words the app prints ("Overtime"), its form's wording or its stored value,
  in any case.

An unknown column, a column twice and a missing required column are problems of the whole
file, named in the message. Blank rows are left out, and so are the template's hints row
and its unchanged example row.

Between the preview and the confirmation, the uploaded bytes wait in a file under the
instance folder (`stash`), named by a random token and bound to the user, the incident and
the kind, for STASH_TTL: nothing reaches the database before the user confirms, the file
is not uploaded twice, and the confirmation reads and checks the very same bytes again
(a signed hidden field would carry a 5,000-row preview through the browser and back).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import time as clock
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.columns import FINISH, START, TIME, Column, columns
from tracker.cost_kinds import NUMERIC, CostKind, FieldType, spec_for
from tracker.models import AuditEntry, CostLine, Incident
from tracker.presentation import (
    clock_text,
    cost_kind_label,
    format_money,
    format_number,
    minutes_to_hours,
    size_text,
)
from tracker.services import audit, cost_lines, costing, evidence, locks
from tracker.services.errors import Conflict, Invalid
from tracker.services.money import (
    ClockError,
    parse_clock_hours,
    parse_decimal,
    to_pence,
    with_figures_hint,
)

#: The upload field's name, for messages about the file itself.
FIELD = "upload"
#: Most rows read from one file (a whole outage's timesheets is a few hundred).
MAX_ROWS = 10_000
#: Most columns read: a template has at most a dozen.
MAX_COLUMNS = 60
#: How long an uploaded file waits for the user to confirm its import.
STASH_TTL = timedelta(hours=2)
TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")

NOT_A_SPREADSHEET = (
    "The selected file must be a CSV file or an Excel workbook (.xlsx): download a template below"
)
OLD_EXCEL = "The selected file is an old Excel workbook (.xls): save it as .xlsx or CSV first"
DUPLICATE = "This file has already been imported into this incident"


# --- reading a file into cells ------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    """One cell as read: its value (text from a CSV; text, number, date or time from
    Excel) and whether Excel formats it as a percentage."""

    value: Any
    percent: bool = False


@dataclass
class Table:
    """A sheet's rows, each with its row number as the spreadsheet shows it."""

    rows: list[tuple[int, list[Cell]]]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_table(filename: str, data: bytes) -> Table:
    """The rows of a CSV file or of an Excel workbook's first sheet; Invalid (field
    FIELD) when the file is neither, cannot be read or is too large."""
    if not data:
        raise Invalid("The selected file is empty", FIELD)
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise Invalid(OLD_EXCEL, FIELD)
    if b"\x00" in data[:4096] or data.startswith((b"%PDF", b"\x89PNG", b"\xff\xd8")):
        raise Invalid(NOT_A_SPREADSHEET, FIELD)
    return _read_csv(data)


def _text_of(data: bytes) -> str:
    """A CSV file's text: UTF-8 (with or without Excel's byte-order mark), else Windows-1252,
    in which Excel saves "CSV" on Windows (£ is byte A3)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _read_csv(data: bytes) -> Table:
    text = _text_of(data)
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count) if first else ","
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, values in enumerate(reader, start=1):
            if number > MAX_ROWS + 3:
                raise Invalid(f"The file has more than {MAX_ROWS:,} rows: split it", FIELD)
            rows.append((number, [Cell(value) for value in values[:MAX_COLUMNS]]))
    except csv.Error as error:
        raise Invalid(f"The CSV file could not be read ({error}): save it again", FIELD) from error
    return Table(rows)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # a damaged or foreign zip: openpyxl raises many kinds
        raise Invalid(
            "The Excel workbook could not be read: open it in Excel and save it again as .xlsx",
            FIELD,
        ) from error
    try:
        sheet = book.worksheets[0]
        # some writers declare a wrong size; read every cell the sheet really has
        sheet.reset_dimensions()
        rows = []
        for all_cells in sheet.iter_rows():
            cells = all_cells[:MAX_COLUMNS]
            number = next((c.row for c in cells if getattr(c, "row", None)), None)
            if number is None:
                continue  # an empty row
            if number > MAX_ROWS + 3:
                raise Invalid(f"The workbook has more than {MAX_ROWS:,} rows: split it", FIELD)
            rows.append(
                (
                    number,
                    [
                        Cell(c.value, "%" in str(getattr(c, "number_format", "") or ""))
                        for c in cells
                    ],
                )
            )
        return Table(rows)
    finally:
        book.close()


# --- cells as text, for showing what was typed --------------------------------------------


def shown(value: Any) -> str:
    """A cell as the user would read it back: text as typed, numbers without a float's
    noise, dates as dd/mm/yyyy, times as hh:mm."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, datetime):
        if value.time() == time(0):
            return f"{value:%d/%m/%Y}"
        if value.date() <= date(1900, 1, 1):  # Excel's time-only serials
            return f"{value:%H:%M}"
        return f"{value:%d/%m/%Y %H:%M}"
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    if isinstance(value, timedelta):
        return clock_text(int(value.total_seconds() // 60))
    if isinstance(value, int | float | Decimal):
        return format_number(_number(value)).replace(",", "")
    return str(value).strip()


#: A spreadsheet number is read to this many decimal places: Excel keeps 15 significant
#: figures and a formula's binary rounding shows beyond them (=50.12-49.99 is stored as
#: 0.129999999999995; Microsoft, "Floating-point arithmetic may give inaccurate results in
#: Excel"), far below the 2 places of money and the 4 of hours typed as h:mm.
FLOAT_PLACES = Decimal("1e-10")


def _number(value: int | float | Decimal) -> Decimal:
    """A spreadsheet number as a Decimal: a float (how Excel stores every number) by its
    shortest decimal text (18.66, not 18.6599999...), without a formula's binary noise."""
    if isinstance(value, float):
        number = Decimal(repr(value))
        if abs(number) < 10**15:
            number = number.quantize(FLOAT_PLACES).normalize()
        return number if number != number.to_integral_value() else number.quantize(Decimal(1))
    return Decimal(value)


# --- cells as values ----------------------------------------------------------------------


class CellProblem(ValueError):
    """What is wrong with a cell, worded for the user."""


_DATE_FORMS = (
    re.compile(r"^(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}|\d{2})$"),
    re.compile(r"^(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})$"),
    re.compile(r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$"),
)
_TIME = re.compile(r"^(?P<h>\d{1,2})[:.](?P<m>\d{2})(:\d{2})?$")


def read_date(value: Any, invalid: str) -> date | None:
    """A date cell: an Excel date, or dd/mm/yyyy as typed (a 2-figure year is 20yy)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise CellProblem(invalid)  # a number where a date belongs
    text = str(value).strip()
    if not text:
        return None
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            year = int(match["y"])
            year = 2000 + year if year < 100 else year
            try:
                return date(year, int(match["m"]), int(match["d"]))
            except ValueError:
                break
    raise CellProblem(invalid)


def read_time(value: Any, invalid: str) -> int | None:
    """A time of day, in minutes after midnight: an Excel time, or hh:mm as typed."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.time()
    if isinstance(value, time):
        return value.hour * 60 + value.minute
    if isinstance(value, float) and 0 <= value < 1:  # a time Excel left as a day's fraction
        return round(value * 24 * 60) % (24 * 60)
    match = _TIME.match(str(value).strip())
    if match is None or int(match["h"]) > 23 or int(match["m"]) > 59:
        raise CellProblem(invalid)
    return int(match["h"]) * 60 + int(match["m"])


def read_number(
    cell: Cell, invalid: str, *, hours: bool, percent: bool
) -> tuple[Decimal | None, bool]:
    """A number cell and whether it was written as h:mm (hours only): figures with or
    without £, % and thousands separators; for hours also h:mm or an Excel time."""
    value = cell.value
    if value is None or value == "":
        return None, False
    if isinstance(value, bool):
        raise CellProblem(invalid)
    if hours and isinstance(value, time | datetime | timedelta):
        if isinstance(value, timedelta):
            minutes = int(value.total_seconds() // 60)
        else:
            moment = value.time() if isinstance(value, datetime) else value
            minutes = moment.hour * 60 + moment.minute
        return minutes_to_hours(minutes), True
    if isinstance(value, int | float | Decimal):
        number = _number(value)
        if percent and cell.percent:
            number = (number * 100).normalize()
        return number, False
    if isinstance(value, datetime | date | time):
        raise CellProblem(invalid)
    text = str(value).strip()
    if not text:
        return None, False
    if hours and ":" in text:
        try:
            return parse_clock_hours(text), True
        except ClockError as error:
            raise CellProblem(str(error)) from error
    number_or_none = parse_decimal(text)
    if number_or_none is None:
        raise CellProblem(with_figures_hint(invalid, text))
    return number_or_none, False


def read_choice(kind: str, column: Column, value: Any) -> str | None:
    """A choice by its printed words, the form's wording or its stored value, in any case;
    what is not one of them is kept as written, for the form's rule to refuse."""
    text = shown(value)
    if not text:
        return None
    wanted = _folded(text)
    labels = dict(spec_for(kind).field_named(column.key).choices)
    for stored, words in column.choices:
        if wanted in {_folded(name) for name in (stored, words, labels.get(stored, ""))}:
            return stored
    return text


def _folded(text: str) -> str:
    return " ".join(str(text).split()).casefold()


# --- headers ----------------------------------------------------------------------------


@dataclass
class Layout:
    """Which column of the file is which template column, and the file's problems."""

    kind: str
    #: position in the row -> column
    positions: dict[int, Column] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _names_of(kind: str, column: Column) -> set[str]:
    """The headers a column is recognised by: its name, its form label, its key."""
    names = {column.name, column.key}
    spec = spec_for(kind)
    if spec.has(column.key):
        names.add(spec.field_named(column.key).label)
    return {_folded(name) for name in names}


def read_header(kind: str, cells: Sequence[Cell], data: Sequence[Sequence[Cell]]) -> Layout:
    """Match a header row to the kind's columns: an unknown header, a header twice or a
    required column missing is named in a problem."""
    layout = Layout(kind)
    kind_columns = columns(kind)
    known = {name: column for column in kind_columns for name in _names_of(kind, column)}
    seen: dict[str, int] = {}
    for position, cell in enumerate(cells):
        header = shown(cell.value)
        if not header:
            if any(position < len(row) and shown(row[position].value) for row in data):
                letter = _letter(position)
                layout.problems.append(
                    f"Column {letter} has values but no header: give it one of the template's "
                    "headers, or delete it"
                )
            continue
        column = known.get(_folded(header.rstrip("*").strip()))
        if column is None:
            layout.problems.append(
                f"“{header}” is not a column of {cost_kind_label(kind).lower()}: rename it to "
                f"one of the template's columns ({', '.join(c.name for c in kind_columns)}) "
                "or delete it"
            )
            continue
        if column.key in seen:
            layout.problems.append(f"The column “{column.name}” appears twice: keep one")
            continue
        seen[column.key] = position
        layout.positions[position] = column
    for column in kind_columns:
        if column.required and column.key not in seen:
            layout.problems.append(f"The column “{column.name}” is missing: it is required")
    if kind == CostKind.STAFF and "quantity" not in seen and not {START, FINISH} <= set(seen):
        layout.problems.append(
            "The columns “Hours”, or “Start” and “Finish”, are missing: give one or the other"
        )
    return layout


def _other_kind(kind: str, header: Sequence[Cell]) -> list[str]:
    """When a file's header is another kind's template, say so first."""
    for other in CostKind:
        if other.value != kind and not read_header(other.value, header, []).problems:
            return [
                f"These are the columns of {other.label.lower()}, not of "
                f"{cost_kind_label(kind).lower()}: choose “{other.label}” and upload the "
                "file again"
            ]
    return []


def _letter(position: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(position + 1)


# --- rows -------------------------------------------------------------------------------


@dataclass
class Priced:
    """One line a row makes, priced: what it is and its amounts with their working."""

    label: str
    amounts: costing.LineAmounts


@dataclass
class RowResult:
    """One row of the file: what was written in each column (by column name), each
    problem (by column name, or "" for the row), and when valid, what it imports as."""

    number: int
    cells: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    line: cost_lines.LineInput | None = None
    priced: list[Priced] = field(default_factory=list)
    note: str = ""

    @property
    def valid(self) -> bool:
        return not self.errors and self.line is not None

    @property
    def total(self) -> Decimal:
        return sum((p.amounts.total for p in self.priced), Decimal("0.00"))


def _is_blank(cells: Sequence[Cell]) -> bool:
    return not any(shown(c.value) for c in cells)


def _cell(cells: Sequence[Cell], position: int) -> Cell:
    return cells[position] if position < len(cells) else Cell(None)


def _matches(layout: Layout, cells: Sequence[Cell], wanted: str) -> bool:
    """Whether a row holds, in every column, the template's `wanted` text ("hint" or
    "example"), read the way the column reads it."""
    for position, column in layout.positions.items():
        expected = getattr(column, wanted)
        written = _cell(cells, position)
        if _folded(shown(written.value)) == _folded(expected):
            continue
        if column.type in {t.value for t in NUMERIC} and expected:
            try:
                number, _ = read_number(written, "", hours=True, percent=True)
            except CellProblem:
                return False
            if number == parse_decimal(expected) and number is not None:
                continue
        if column.type == FieldType.DATE and expected:
            try:
                if read_date(written.value, "") == read_date(expected, ""):
                    continue
            except CellProblem:
                return False
        if column.type == FieldType.CHOICE and read_choice(
            layout.kind, column, written.value
        ) == read_choice(layout.kind, column, expected):
            continue
        if column.type == TIME:
            try:
                if read_time(written.value, "") == read_time(expected, ""):
                    continue
            except CellProblem:
                return False
        return False
    return True


def read_row(
    kind: str, layout: Layout, number: int, cells: Sequence[Cell], today: date
) -> RowResult:
    """A row read by its columns and checked by the line form's rules."""
    spec = spec_for(kind)
    result = RowResult(number, {})
    values: dict[str, Any] = {}
    typed_clock: dict[str, bool] = {}
    times: dict[str, int | None] = {}
    for position, column in layout.positions.items():
        cell = _cell(cells, position)
        result.cells[column.name] = shown(cell.value)
        try:
            if column.type == TIME:
                times[column.key] = read_time(
                    cell.value,
                    f"Enter the {column.name.lower()} time as hh:mm in the 24-hour clock, "
                    "like 17:30",
                )
                continue
            item = spec.field_named(column.key)
            if item.type == FieldType.DATE:
                values[item.name] = read_date(cell.value, item.invalid)
            elif item.type == FieldType.CHOICE:
                values[item.name] = read_choice(kind, column, cell.value)
            elif item.type == FieldType.TEXT:
                values[item.name] = shown(cell.value)
            else:
                values[item.name], typed_clock[item.name] = read_number(
                    cell,
                    item.invalid,
                    hours=bool(item.clock_units),
                    percent=item.type == FieldType.PERCENT,
                )
        except CellProblem as bad:
            result.errors[column.name] = str(bad)
    if kind == CostKind.STAFF:
        _staff_hours(layout, values, times, result)
    inp = cost_lines.line_input(kind, values)
    for item in spec.fields:
        name = _column_name(kind, item.name)
        if name in result.errors:
            continue
        unit_of = inp.unit if item.name == "quantity" else "hour"
        if (
            typed_clock.get(item.name)
            and item.name == "quantity"
            and unit_of not in item.clock_units
        ):
            result.errors[name] = cost_lines.clock_unit_problem(unit_of)
            continue
        problem = cost_lines.decimal_hours_problem(
            item, values.get(item.name), typed_clock.get(item.name, False)
        )
        if problem:
            result.errors[name] = problem
    for error in cost_lines.line_problems(inp, today):
        name = _column_name(kind, error.field or "")
        result.errors.setdefault(name, error.message)
    if not result.errors:
        result.line = inp
    return result


def _column_name(kind: str, key: str) -> str:
    """The column a field's problem is shown under ("" for the row as a whole)."""
    return next((c.name for c in columns(kind) if c.key == key), "")


def _staff_hours(
    layout: Layout, values: dict[str, Any], times: dict[str, int | None], result: RowResult
) -> None:
    """Staff time's hours by the timesheet's rule (cost_lines.worked_hours: from Start and
    Finish when Hours is blank, a finish earlier than the start being the next morning; with
    Hours given too, Hours wins and may not be more than the time between them), with a note
    on the preview saying which it was."""
    names = {c.key: c.name for c in layout.positions.values()}
    hours_name = _column_name(CostKind.STAFF, "quantity")
    if names.get(START) in result.errors or names.get(FINISH) in result.errors:
        if values.get("quantity") is None:
            result.errors.setdefault(hours_name, "Enter the hours, or correct the start and finish")
        return
    start, finish = (_clock_time(times.get(key)) for key in (START, FINISH))
    hours = values.get("quantity")
    worked, problems = cost_lines.worked_hours(start, finish, hours)
    for problem in problems:
        result.errors.setdefault(
            _column_name(CostKind.STAFF, problem.field or "quantity"), problem.message
        )
    if problems or start is None or finish is None:
        return
    minutes = (times[FINISH] - times[START]) % (24 * 60)  # type: ignore[operator]
    overnight = " (next day)" if finish < start else ""
    span = f"{start:%H:%M} to {finish:%H:%M}{overnight}"
    if hours is None:
        values["quantity"] = worked
        result.note = f"Hours from {span}: {clock_text(minutes)}"
    else:
        result.note = f"{format_number(hours)} hours as written, worked {span}"


def _clock_time(minutes: int | None) -> time | None:
    """Minutes after midnight as a time of day (None stays None)."""
    return None if minutes is None else time(minutes // 60, minutes % 60)


# --- the preview --------------------------------------------------------------------------


@dataclass
class Earlier:
    """An earlier import of the same file into the incident."""

    at: datetime
    who: str


@dataclass
class Preview:
    """A file read and checked: its problems, its rows and what the valid ones total."""

    kind: str
    filename: str
    sha256: str
    columns: list[Column] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows: list[RowResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    earlier: list[Earlier] = field(default_factory=list)

    @property
    def valid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if row.valid]

    @property
    def invalid_rows(self) -> list[RowResult]:
        return [row for row in self.rows if not row.valid]

    @property
    def total(self) -> Decimal:
        return sum((row.total for row in self.valid_rows), Decimal("0.00"))

    @property
    def importable(self) -> bool:
        return not self.problems and bool(self.valid_rows)


def preview(
    session: Session,
    incident: Incident,
    kind: str,
    filename: str,
    data: bytes,
    today: date,
    *,
    priced: bool = True,
) -> Preview:
    """Read, check and (unless `priced` is False: saving prices them again) price every row
    of a file, saving nothing."""
    kind = CostKind(kind).value
    result = Preview(kind=kind, filename=filename, sha256=sha256(data))
    table = read_table(filename, data)
    rows = [(number, cells) for number, cells in table.rows if not _is_blank(cells)]
    if not rows:
        result.problems.append("The file has no rows: fill in the template and upload it again")
        return result
    (header_number, header), data_rows = rows[0], rows[1:]
    layout = read_header(kind, header, [cells for _n, cells in data_rows])
    result.columns = [layout.positions[p] for p in sorted(layout.positions)]
    result.problems = layout.problems
    result.earlier = earlier_imports(session, incident.id, result.sha256)
    if layout.problems:
        result.problems[:0] = _other_kind(kind, header)
        return result
    first = True
    for number, cells in data_rows:
        if first and _matches(layout, cells, "hint"):
            result.skipped.append(f"Row {number} is the template's hints: left out")
            continue
        if first and _matches(layout, cells, "example"):
            result.skipped.append(f"Row {number} is the template's example, unchanged: left out")
            first = False
            continue
        first = False
        result.rows.append(read_row(kind, layout, number, cells, today))
    if not result.rows:
        result.problems.append(
            f"The file has no rows to import below its header (row {header_number})"
        )
    if len(result.rows) > MAX_ROWS:
        result.problems.append(f"The file has more than {MAX_ROWS:,} rows: split it")
    if priced:
        _price(session, incident, result)
    return result


def _price(session: Session, incident: Incident, result: Preview) -> None:
    """Price each valid row by the form's rules, as saving it would."""
    contexts = cost_lines.PricingContexts(session, incident.practice)
    for row in result.valid_rows:
        assert row.line is not None
        for one in cost_lines.lines_of(row.line):
            label = cost_kind_label(one.kind)
            amounts = cost_lines.compute(one, contexts.on(one.line_date))
            row.priced.append(Priced(label, amounts))


def earlier_imports(session: Session, incident_id: int, digest: str) -> list[Earlier]:
    """Earlier imports of the file with SHA-256 `digest` into the incident."""
    entries = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.incident_id == incident_id,
            AuditEntry.action == "import",
            AuditEntry.changes.contains(digest),
        )
        .order_by(AuditEntry.at)
    )
    return [Earlier(entry.at, entry.user.name if entry.user else "System") for entry in entries]


# --- saving -------------------------------------------------------------------------------


def save(
    session: Session,
    incident: Incident,
    user_id: int | None,
    result: Preview,
    today: date,
    *,
    only_valid: bool = False,
    again: bool = False,
) -> list[CostLine]:
    """Add the rows of a checked file as cost lines, in the caller's transaction, with one
    audit entry listing them. Refused (nothing added) when the file has a problem, when a
    row is invalid and `only_valid` was not chosen, or when the same file was already
    imported into the incident and `again` was not chosen; that last check holds the
    incident's row (services.locks), so two confirmations at once import it once."""
    if result.problems:
        raise Invalid(result.problems[0], FIELD)
    rows = result.valid_rows
    if not rows:
        raise Invalid("No row of the file is valid: correct it and upload it again", FIELD)
    if result.invalid_rows and not only_valid:
        count = len(result.invalid_rows)
        raise Invalid(
            f"{count} row{'s' if count != 1 else ''} of the file "
            f"{'have' if count != 1 else 'has'} problems: correct the file, or import only "
            "the valid rows",
            FIELD,
        )
    if not locks.hold_one(session, Incident, incident.id):
        raise Conflict("This incident no longer exists")
    if not again and earlier_imports(session, incident.id, result.sha256):
        raise Conflict(DUPLICATE, "again")
    inputs = [row.line for row in rows if row.line is not None]
    lines = cost_lines.add_lines(session, incident, user_id, inputs, today)
    _audit(session, incident, user_id, result, lines)
    return lines


def _audit(
    session: Session,
    incident: Incident,
    user_id: int | None,
    result: Preview,
    lines: list[CostLine],
) -> None:
    total = sum((line.total_amount for line in lines), Decimal("0.00"))
    rows_of_lines = [row.number for row in result.valid_rows for _ in range(len(row.priced) or 1)]
    listed = [
        {
            "id": line.id,
            "row": row,
            "kind": line.kind,
            "date": line.line_date.isoformat(),
            "description": line.description,
            "total": str(line.total_amount),
        }
        for line, row in zip(lines, rows_of_lines, strict=False)
    ]
    count = len(lines)
    audit.record(
        session,
        user_id=user_id,
        entity=incident,
        action="import",
        practice_id=incident.practice_id,
        incident_id=incident.id,
        summary=(
            f"Imported {count} cost{'s' if count != 1 else ''} ({cost_kind_label(result.kind)}) "
            f"from {result.filename}: {format_money(to_pence(total))}"
        ),
        changes={
            "file": [None, result.filename],
            "sha256": [None, result.sha256],
            "rows_left_out": [None, [row.number for row in result.invalid_rows]],
            "lines": [None, listed],
        },
    )


def earlier_text(earlier: Iterable[Earlier]) -> list[str]:
    from tracker.presentation import london_datetime

    return [f"{london_datetime(item.at)} by {item.who}" for item in earlier]


# --- the uploaded file between preview and confirmation -----------------------------------


@dataclass(frozen=True)
class Stashed:
    """An uploaded file waiting for its import to be confirmed."""

    token: str
    filename: str
    kind: str
    data: bytes


def stash(
    folder: str | Path, *, user_id: int, incident_id: int, kind: str, filename: str, data: bytes
) -> str:
    """Keep an upload until it is confirmed; returns the random token that names it."""
    directory = Path(folder)
    directory.mkdir(parents=True, exist_ok=True)
    sweep(directory)
    token = secrets.token_urlsafe(24)
    meta = {"user": user_id, "incident": incident_id, "kind": kind, "filename": filename}
    (directory / f"{token}.upload").write_bytes(data)
    (directory / f"{token}.json").write_text(json.dumps(meta))
    return token


def unstash(folder: str | Path, token: str, *, user_id: int, incident_id: int) -> Stashed | None:
    """The upload `token` names, if it is the user's, for this incident and not expired."""
    if not TOKEN.match(token or ""):
        return None
    directory = Path(folder)
    try:
        meta = json.loads((directory / f"{token}.json").read_text())
        data = (directory / f"{token}.upload").read_bytes()
        age = clock.time() - (directory / f"{token}.upload").stat().st_mtime
    except (OSError, ValueError):
        return None
    if meta.get("user") != user_id or meta.get("incident") != incident_id:
        return None
    if age > STASH_TTL.total_seconds():
        discard(directory, token)
        return None
    return Stashed(token, str(meta.get("filename") or ""), str(meta.get("kind") or ""), data)


def discard(folder: str | Path, token: str) -> None:
    if not TOKEN.match(token or ""):
        return
    for suffix in (".upload", ".json"):
        (Path(folder) / f"{token}{suffix}").unlink(missing_ok=True)


def sweep(folder: str | Path) -> None:
    """Remove uploads left unconfirmed for longer than STASH_TTL."""
    cutoff = clock.time() - STASH_TTL.total_seconds()
    for path in Path(folder).glob("*.upload"):
        try:
            if path.stat().st_mtime < cutoff:
                discard(folder, path.stem)
        except OSError:
            continue


def clean_filename(name: str | None) -> str:
    """The user's file name without a folder part or control characters."""
    return evidence.clean_filename(name or "spreadsheet")


def size_problem(size: int, limit: int) -> str | None:
    """The upload limit, as for evidence."""
    return f"The selected file must be smaller than {size_text(limit)}" if size > limit else None
