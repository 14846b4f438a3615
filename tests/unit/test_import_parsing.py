"""Reading an import file's cells: dates, times, amounts, hours, choices and headers."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import pytest
from openpyxl import Workbook

from tracker.columns import column_named
from tracker.services.errors import Invalid
from tracker.services.imports import (
    Cell,
    CellProblem,
    read_choice,
    read_date,
    read_header,
    read_number,
    read_row,
    read_table,
    read_time,
    shown,
)

D = Decimal
TODAY = date(2024, 8, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("19/07/2024", date(2024, 7, 19)),
        ("9/7/2024", date(2024, 7, 9)),
        ("19/07/24", date(2024, 7, 19)),
        ("2024-07-19", date(2024, 7, 19)),
        (datetime(2024, 7, 19), date(2024, 7, 19)),
        (date(2024, 7, 19), date(2024, 7, 19)),
        ("", None),
        (None, None),
    ],
)
def test_dates_as_typed_and_as_excel_cells(value: object, expected: date | None) -> None:
    assert read_date(value, "bad") == expected


@pytest.mark.parametrize("value", ["31/02/2024", "07/19/2024x", "19 July", "yesterday", 45492])
def test_a_date_that_is_not_one_is_refused_with_the_forms_message(value: object) -> None:
    with pytest.raises(CellProblem, match="bad date"):
        read_date(value, "bad date")


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        ("17:30", 17 * 60 + 30),
        ("7:05", 7 * 60 + 5),
        ("08:00:00", 8 * 60),
        (time(17, 30), 17 * 60 + 30),
        (datetime(1899, 12, 30, 6, 15), 6 * 60 + 15),
        (0.75, 18 * 60),
        (None, None),
    ],
)
def test_times_as_typed_and_as_excel_cells(value: object, minutes: int | None) -> None:
    assert read_time(value, "bad") == minutes


@pytest.mark.parametrize("value", ["24:00", "17:60", "5pm", "1730"])
def test_a_time_that_is_not_one_is_refused(value: str) -> None:
    with pytest.raises(CellProblem):
        read_time(value, "bad time")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("18.66", D("18.66")),
        ("£18.66", D("18.66")),
        ("£1,234.50", D("1234.50")),
        ("1,234", D(1234)),
        (18.66, D("18.66")),
        (1234, D(1234)),
        (0.1 + 0.2, D("0.3")),
        (50.12 - 49.99, D("0.13")),
        (1250.0, D(1250)),
    ],
)
def test_money_with_or_without_pound_signs_and_thousands(value: object, expected: Decimal) -> None:
    assert read_number(Cell(value), "bad", hours=False, percent=False) == (expected, False)


@pytest.mark.parametrize("value", ["12,08", "1e3", "NaN", "twelve", "£", True])
def test_money_that_is_not_a_number_is_refused(value: object) -> None:
    with pytest.raises(CellProblem, match="bad"):
        read_number(Cell(value), "bad", hours=False, percent=False)


def test_hours_as_decimals_h_mm_and_excel_times() -> None:
    def hours(value: object) -> tuple[Decimal | None, bool]:
        return read_number(Cell(value), "bad", hours=True, percent=False)

    assert hours("6.5") == (D("6.5"), False)
    assert hours("4:10") == (D("4.1667"), True)
    assert hours(time(6, 30)) == (D("6.5"), True)
    assert hours(timedelta(hours=26, minutes=15)) == (D("26.25"), True)
    with pytest.raises(CellProblem, match="Minutes must be 00 to 59"):
        hours("4:75")


def test_a_percentage_cell_reads_as_the_percentage_shown() -> None:
    assert read_number(Cell(0.2, percent=True), "bad", hours=False, percent=True) == (D(20), False)
    assert read_number(Cell("20%"), "bad", hours=False, percent=True) == (D(20), False)
    assert read_number(Cell(20), "bad", hours=False, percent=True) == (D(20), False)


def test_choices_by_printed_words_form_wording_or_stored_value_in_any_case() -> None:
    column = column_named("staff", "pay_basis")
    assert read_choice("staff", column, "Overtime") == "overtime"
    assert read_choice("staff", column, "  additional HOURS (pensionable) ") == "additional"
    assert read_choice("staff", column, "plain") == "plain"
    assert read_choice("staff", column, "Bank holiday") == "Bank holiday"
    assert read_choice("staff", column, "") is None


def test_shown_keeps_what_was_typed_readable() -> None:
    assert shown(18.66) == "18.66"
    assert shown(1250.0) == "1250"
    assert shown(datetime(2024, 7, 19)) == "19/07/2024"
    assert shown(time(7, 5)) == "07:05"
    assert shown("  Ryman ") == "Ryman"


def cells(*values: object) -> list[Cell]:
    return [Cell(v) for v in values]


def test_an_unknown_column_is_named_and_a_missing_required_one_too() -> None:
    layout = read_header("expense", cells("Supplier", "Description", "Date", "Colour"), [])
    assert any("“Colour” is not a column of other expenses" in p for p in layout.problems)
    assert "The column “Net amount” is missing: it is required" in layout.problems
    assert not any("“VAT paid” is missing" in p for p in layout.problems)  # optional


def test_headers_are_matched_by_name_form_label_or_key_in_any_case() -> None:
    layout = read_header(
        "expense",
        cells("supplier", "DESCRIPTION", "Date of the cost", "net_amount", "VAT paid "),
        [],
    )
    assert layout.problems == []
    assert [c.key for c in layout.positions.values()] == [
        "supplier",
        "description",
        "line_date",
        "net_amount",
        "vat_paid",
    ]


def test_a_column_twice_and_values_without_a_header_are_problems() -> None:
    layout = read_header(
        "expense",
        cells("Supplier", "Description", "Date", "Net amount", "Supplier", None),
        [cells("A", "B", "19/07/2024", "1", "A", "stray")],
    )
    assert "The column “Supplier” appears twice: keep one" in layout.problems
    assert any(p.startswith("Column F has values but no header") for p in layout.problems)


def test_staff_hours_from_start_and_finish_overnight_and_hours_winning() -> None:
    header = cells(
        "Staff member or role",
        "Description",
        "Date",
        "Start",
        "Finish",
        "Hours",
        "Hourly rate",
        "Paid as",
        "Overtime premium",
    )
    layout = read_header("staff", header, [])
    base = ["Nurse", "Night clinic", "19/07/2024"]
    tail = ["20.00", "Overtime", "50"]
    overnight = read_row("staff", layout, 4, cells(*base, "22:00", "06:30", "", *tail), TODAY)
    assert overnight.valid and overnight.line is not None
    assert overnight.line.quantity == D("8.5")
    assert "(next day)" in overnight.note
    hours_win = read_row("staff", layout, 5, cells(*base, "09:00", "17:00", "7.5", *tail), TODAY)
    assert hours_win.valid and hours_win.line is not None and hours_win.line.quantity == D("7.5")
    too_many = read_row("staff", layout, 6, cells(*base, "09:00", "17:00", "9", *tail), TODAY)
    assert "is more than the time from 09:00 to 17:00" in too_many.errors["Hours"]
    neither = read_row("staff", layout, 7, cells(*base, "", "", "", *tail), TODAY)
    assert neither.errors["Hours"] == "Enter the hours, or the start and finish times"
    half = read_row("staff", layout, 8, cells(*base, "09:00", "", "", *tail), TODAY)
    assert half.errors["Finish"] == "Enter the finish time too, or the hours"


def test_a_row_is_checked_by_the_forms_rules_each_problem_under_its_column() -> None:
    header = cells(
        "Locum's name",
        "Description",
        "Date",
        "Charged by",
        "Sessions or hours",
        "Rate per session or hour",
        "NHS Pension Scheme",
    )
    layout = read_header("locum", header, [])
    row = read_row(
        "locum",
        layout,
        9,
        cells("", "Cover", "19/07/2030", "Session", "2:00", "£-5", "Maybe"),
        TODAY,
    )
    assert row.number == 9 and not row.valid
    assert row.errors == {
        "Locum's name": "Enter the locum's name",
        "Date": "Date must be today or in the past",
        "Sessions or hours": "Enter sessions as a number, like 2: h:mm is for hours",
        "Rate per session or hour": "Rate per session must be 0 or more",
        "NHS Pension Scheme": (
            "Say whether the locum pays into the NHS Pension Scheme through the practice"
        ),
    }
    assert row.cells["Rate per session or hour"] == "£-5"


def xlsx(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_and_a_csv_are_read_with_their_row_numbers() -> None:
    table = read_table("x.xlsx", xlsx([["A"], [], ["B"]]))
    assert [(n, [c.value for c in cs][:1]) for n, cs in table.rows] == [(1, ["A"]), (3, ["B"])]
    csv_table = read_table("x.csv", "Supplier;Net amount\r\nRyman;£1,250.00\r\n".encode("cp1252"))
    assert [[c.value for c in cs] for _n, cs in csv_table.rows][1] == ["Ryman", "£1,250.00"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The selected file is empty"),
        (b"%PDF-1.4 ...", "must be a CSV file or an Excel workbook"),
        (b"\xd0\xcf\x11\xe0" + b"\x00" * 100, "old Excel workbook"),
        (b"PK\x03\x04not a zip", "could not be read"),
    ],
)
def test_other_files_are_refused_clearly(data: bytes, message: str) -> None:
    with pytest.raises(Invalid, match=message):
        read_table("file", data)
