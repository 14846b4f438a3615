"""Reading typed numbers and hours (issue 9): figures only, h:mm hours, one message for zero
and negatives, and the warning for a cost dated far from its incident."""

from datetime import date, datetime
from decimal import Decimal as D

import pytest

from tracker.models import Incident
from tracker.presentation import clock_minutes, quantity_figure, quantity_text
from tracker.services.cost_lines import LineInput, date_warning, line_problems
from tracker.services.money import ClockError, parse_clock_hours, parse_decimal, with_figures_hint

TODAY = date(2024, 8, 1)


@pytest.mark.parametrize("text", ["1e3", "1E3", "2.5e-1", "Infinity", "-inf", "NaN", "1_000"])
def test_exponent_and_special_notation_are_not_numbers(text: str) -> None:
    assert parse_decimal(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("6.5", D("6.5")), ("£1,234.50", D("1234.50")), (".5", D("0.5")), ("14.38%", D("14.38"))],
)
def test_figures_are_still_read(text: str, value: D) -> None:
    assert parse_decimal(text) == value


def test_the_message_says_why_exponent_notation_was_refused() -> None:
    message = "Enter hours in figures, like 6.5"
    assert with_figures_hint(message, "1e3") == "Enter hours in figures, like 6.5 (not 1e3)"
    assert with_figures_hint(message, "NaN") == "Enter hours in figures, like 6.5 (not NaN)"
    assert with_figures_hint(message, "six") == message


@pytest.mark.parametrize(
    ("text", "hours"),
    [("4:10", D("4.1667")), ("0:30", D("0.5")), ("6:30", D("6.5")), ("10:05", D("10.0833"))],
)
def test_hours_as_h_mm_are_minutes_over_60_to_4_places(text: str, hours: D) -> None:
    assert parse_clock_hours(text) == hours


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4:75", "Minutes must be 00 to 59"),
        ("4:1", "Enter the minutes as 2 figures, like 4:01"),
        (":30", "Enter the hours before the colon, like 0:30"),
        ("4:10:00", "Enter hours and minutes as h:mm"),
    ],
)
def test_bad_h_mm_is_refused_with_a_clear_message(text: str, message: str) -> None:
    with pytest.raises(ClockError, match=message):
        parse_clock_hours(text)


def test_text_without_a_colon_is_not_h_mm() -> None:
    assert parse_clock_hours("6.5") is None


def test_minute_quantities_show_as_hours_and_minutes() -> None:
    assert quantity_text(D("4.1667"), "hour") == "4 h 10 min"
    assert quantity_text(D("4.1667"), "hour", short=True) == "4 h 10 min"
    assert quantity_text(D("4.5000"), "hour") == "4.5 hours"
    assert quantity_text(D("2"), "session") == "2 sessions"
    assert quantity_figure(D("-4.1667"), "hour") == "-4 h 10 min"
    assert clock_minutes(D("4.1234"), "hour") is None


def staff(**overrides: object) -> LineInput:
    values: dict = dict(
        kind="staff",
        line_date=date(2024, 7, 19),
        description="Overtime",
        quantity=D("6.5"),
        unit="hour",
        unit_rate=D("18.66"),
        details={"staff_role": "Nurse", "pay_basis": "overtime"},
    )
    values.update(overrides)
    return LineInput(**values)


def problems_of(inp: LineInput) -> dict[str, str]:
    return {p.field: p.message for p in line_problems(inp, TODAY)}


@pytest.mark.parametrize("hours", [D("0"), D("-5")])
def test_zero_and_negative_hours_get_the_same_message(hours: D) -> None:
    assert problems_of(staff(quantity=hours))["quantity"] == "Hours must be more than 0"


def test_a_field_that_may_be_zero_says_0_or_more_for_negatives() -> None:
    assert problems_of(staff(overtime_pct=D("-5")))["overtime_pct"] == (
        "Overtime premium must be 0 or more"
    )
    assert "overtime_pct" not in problems_of(staff(overtime_pct=D("0")))


def test_a_minute_quantity_of_hours_is_accepted_but_not_of_sessions() -> None:
    assert problems_of(staff(quantity=D("4.1667"))) == {}
    assert "quantity" in problems_of(staff(quantity=D("4.1234")))
    locum = dict(
        kind="locum", details={"locum_name": "Dr A", "locum_pension": "none"}, unit_rate=D("357")
    )
    assert problems_of(staff(**locum, unit="hour", quantity=D("4.1667"))) == {}
    sessions = problems_of(staff(**locum, unit="session", quantity=D("4.1667")))
    assert "no more than 2 decimal places" in sessions["quantity"]


def incident(ends: datetime | None = datetime(2024, 7, 19, 16, 0)) -> Incident:
    return Incident(starts_at=datetime(2024, 7, 19, 6, 10), ends_at=ends)


@pytest.mark.parametrize(
    ("line_date", "ends", "expected"),
    [
        (date(2024, 7, 19), datetime(2024, 7, 19, 16), None),
        (date(2024, 8, 16), datetime(2024, 7, 19, 16), None),  # 28 days after: catch-up work
        (
            date(2024, 8, 17),
            datetime(2024, 7, 19, 16),
            "Dated 29 days after the incident ended (19 July 2024): check the date",
        ),
        (
            date(2021, 7, 19),
            datetime(2024, 7, 19, 16),
            "Dated 3 years before the incident started (19 July 2024): check the date",
        ),
        (
            date(2024, 7, 18),
            None,
            "Dated 1 day before the incident started (19 July 2024): check the date",
        ),
        (
            date(2024, 10, 1),
            None,
            "Dated 2 months after the incident started (19 July 2024): check the date",
        ),
        (date(2024, 8, 2), datetime(2024, 7, 26, 9), None),  # within 28 days of a late end
    ],
)
def test_a_cost_dated_far_from_its_incident_is_flagged(
    line_date: date, ends: datetime | None, expected: str | None
) -> None:
    assert date_warning(line_date, incident(ends)) == expected


def test_the_incident_start_is_its_london_date() -> None:
    """23:30 UTC on 18 July is 00:30 on 19 July in London (BST)."""
    late = Incident(starts_at=datetime(2024, 7, 18, 23, 30), ends_at=None)
    assert date_warning(date(2024, 7, 19), late) is None
    assert "before the incident started (19 July 2024)" in (
        date_warning(date(2024, 7, 18), late) or ""
    )
