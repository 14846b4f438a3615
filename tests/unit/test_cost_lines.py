"""The cost model's formulas, the checks on typed figures, and totals of rounded lines."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.cost_kinds import DETAIL_LABELS
from tracker.models import CostKind
from tracker.services import costing
from tracker.services.cost_lines import LineInput, compute, line_problems
from tracker.services.money import to_pence

D = Decimal
TODAY = date(2024, 8, 1)


def staff(**overrides: object) -> LineInput:
    values: dict[str, object] = {
        "kind": CostKind.STAFF.value,
        "line_date": date(2024, 7, 19),
        "description": "Reception overtime",
        "quantity": D("6.5"),
        "unit": "hour",
        "unit_rate": D("18.66"),
        "overtime_pct": D("50"),
        "pension_pct": D("14.38"),
        "ni_pct": D("13.8"),
        "staff_role": "Receptionist",
    }
    values.update(overrides)
    details = {name: values.pop(name) for name in list(values) if name in DETAIL_LABELS}
    return LineInput(**values, details=details)  # type: ignore[arg-type]


# --- formulas --------------------------------------------------------------------------


def test_overtime_is_applied_before_on_costs() -> None:
    amounts = compute(staff())
    exact = D("6.5") * D("18.66") * D("1.5") * D("1.2818")
    assert amounts.net == to_pence(exact) == D("233.20")
    assert amounts.working == "6.5 h × £18.66 + 50% overtime + 14.38% pension + 13.8% NI"


def test_no_overtime_and_no_on_costs_is_plain_hours_times_rate() -> None:
    amounts = compute(staff(overtime_pct=D(0), pension_pct=D(0), ni_pct=D(0)))
    assert amounts.net == D("121.29")
    assert amounts.working == "6.5 h × £18.66"


def test_on_costs_add_pension_and_ni_together_not_compounded() -> None:
    amounts = compute(staff(quantity=D(10), unit_rate=D(10), overtime_pct=D(0)))
    assert amounts.net == D("128.18")  # 100 x (1 + 0.1438 + 0.138)


def test_locum_sessions_against_hours() -> None:
    sessions = compute(
        LineInput(
            kind="locum",
            line_date=TODAY,
            description="Locum",
            quantity=D(2),
            unit="session",
            unit_rate=D("357.00"),
            pension_pct=D(0),
            details={"locum_name": "Dr N"},
        )
    )
    hours = compute(
        LineInput(
            kind="locum",
            line_date=TODAY,
            description="Locum",
            quantity=D("8.33"),
            unit="hour",
            unit_rate=D("85.68"),
            pension_pct=D(0),
            details={"locum_name": "Dr N"},
        )
    )
    assert sessions.net == D("714.00")
    assert sessions.working == "2 sessions × £357.00"
    assert hours.net == D("713.71")
    assert hours.working == "8.33 h × £85.68"
    # a session is 4 h 10 min, so two sessions are 8 h 20 min
    assert costing.session_hours(D(2)) == D("8.33")


def test_locum_pension_is_added_to_the_fee() -> None:
    amounts = costing.locum_cover(D(2), D("357.00"), "session", D("14.38"))
    assert amounts.net == D("816.67")  # 714 x 1.1438 = 816.6732


def test_lost_appointments_number_times_unit_cost() -> None:
    amounts = costing.lost_appointments(D(38), D("45.00"))
    assert amounts.total == D("1710.00")
    assert amounts.working == "38 appointments × £45.00"


def test_expense_keeps_the_receipts_vat() -> None:
    amounts = costing.other_expense(D("42.50"), D("8.50"))
    assert (amounts.net, amounts.vat, amounts.total) == (D("42.50"), D("8.50"), D("51.00"))


@pytest.mark.parametrize(
    ("hours", "rate", "expected"),
    [
        (D("1"), D("0.125"), D("0.13")),  # half a penny rounds up
        (D("1"), D("0.135"), D("0.14")),  # not to the even penny (banker's rounding)
        (D("1"), D("0.1249"), D("0.12")),
        (D("0.5"), D("0.05"), D("0.03")),  # 0.025 -> 0.03
    ],
)
def test_half_pennies_round_up(hours: Decimal, rate: Decimal, expected: Decimal) -> None:
    assert costing.staff_time(hours, rate).net == expected


def test_vat_on_a_rated_line_is_rounded_separately() -> None:
    amounts = costing.lost_appointments(D(3), D("10.01"), D("20"))
    assert (amounts.net, amounts.vat, amounts.total) == (D("30.03"), D("6.01"), D("36.04"))


def test_large_quantities_stay_exact() -> None:
    amounts = costing.staff_time(D("10000"), D("9999.99"), D("50"), D("14.38"), D("13.8"))
    exact = D("10000") * D("9999.99") * D("1.5") * D("1.2818")
    assert amounts.net == to_pence(exact) == D("192269807.73")
    appointments = costing.lost_appointments(D("100000"), D("45.00"))
    assert appointments.net == D("4500000.00")


# --- property: a total is the sum of its rounded lines --------------------------------

money = st.decimals(min_value=D("0"), max_value=D("10000"), places=2)
hours = st.decimals(min_value=D("0.01"), max_value=D("500"), places=2)
percent = st.decimals(min_value=D("0"), max_value=D("100"), places=2)


@st.composite
def lines(draw: st.DrawFn) -> LineInput:
    kind = draw(st.sampled_from(list(CostKind)))
    if kind == CostKind.EXPENSE:
        return LineInput(
            kind=kind.value,
            line_date=TODAY,
            description="x",
            unit="item",
            unit_rate=draw(money),
            vat_paid=draw(money),
            details={"supplier": "s"},
        )
    unit = {
        "staff": "hour",
        "locum": draw(st.sampled_from(["session", "hour"])),
        "appointments": "appointment",
    }[kind.value]
    return LineInput(
        kind=kind.value,
        line_date=TODAY,
        description="x",
        quantity=draw(hours),
        unit=unit,
        unit_rate=draw(money),
        overtime_pct=draw(percent),
        pension_pct=draw(percent),
        ni_pct=draw(percent),
        vat_rate=draw(st.one_of(st.none(), percent)),
        details={"staff_role": "r", "locum_name": "l", "appointment_type": "gp"},
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=30))
def test_total_is_always_the_sum_of_rounded_lines(inputs: list[LineInput]) -> None:
    amounts = [compute(inp) for inp in inputs]
    for line in amounts:
        assert line.net == to_pence(line.net) and line.vat == to_pence(line.vat)
        assert line.total == line.net + line.vat
    total = costing.sum_amounts(a.total for a in amounts)
    assert total == sum((a.total for a in amounts), D("0"))
    assert total == to_pence(total)
    assert (
        costing.sum_amounts(a.net for a in amounts) + costing.sum_amounts(a.vat for a in amounts)
        == total
    )


def test_sum_of_rounded_lines_differs_from_rounding_the_sum() -> None:
    # three lines of 1 h x £0.005 each round to £0.01: the total is £0.03, not £0.02
    amounts = [costing.staff_time(D(1), D("0.005")) for _ in range(3)]
    assert costing.sum_amounts(a.total for a in amounts) == D("0.03")
    assert to_pence(D("0.015")) == D("0.02")


# --- checks on what was typed ----------------------------------------------------------


def fields_of(problems: list) -> dict[str, str]:
    return {p.field: p.message for p in problems}


def test_a_good_line_has_no_problems() -> None:
    assert line_problems(staff(), TODAY) == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": D("-2")}, "quantity", "Hours must be more than 0"),
        ({"quantity": D("0")}, "quantity", "Hours must be more than 0"),
        ({"quantity": None}, "quantity", "Enter the hours"),
        ({"quantity": D("1.255")}, "quantity", "no more than 2 decimal places"),
        ({"unit_rate": D("10000.01")}, "unit_rate", "Hourly rate must be £10,000.00 or less"),
        ({"unit_rate": D("-1")}, "unit_rate", "Hourly rate must be 0 or more"),
        ({"line_date": date(2024, 8, 2)}, "line_date", "today or in the past"),
        ({"line_date": None}, "line_date", "Enter the date"),
        ({"description": "x" * 3_000_000}, "description", "500 characters or fewer"),
        ({"description": "  "}, "description", "Enter a description"),
        ({"staff_role": ""}, "staff_role", "Enter the staff member or role"),
        ({"overtime_pct": D("250")}, "overtime_pct", "200 or less"),
        ({"ni_pct": D("-1")}, "ni_pct", "0 or more"),
        ({"vat_rate": D("120")}, "vat_rate", "100 or less"),
    ],
)
def test_bad_staff_lines_are_refused_on_the_right_field(
    overrides: dict, field: str, message: str
) -> None:
    problems = fields_of(line_problems(staff(**overrides), TODAY))
    assert field in problems
    assert message in problems[field]


def test_bad_expense_and_appointment_lines() -> None:
    expense = LineInput(
        kind="expense",
        line_date=TODAY,
        description="Paper",
        unit="item",
        unit_rate=D("10"),
        vat_paid=D("12"),
        details={"supplier": ""},
    )
    problems = fields_of(line_problems(expense, TODAY))
    assert problems["vat_paid"] == "VAT paid cannot be more than the net amount"
    assert problems["supplier"] == "Enter the supplier"
    appointments = LineInput(
        kind="appointments",
        line_date=TODAY,
        description="GP",
        quantity=D(3),
        unit="appointment",
        unit_rate=D(45),
        details={"appointment_type": "dentist"},
        rebook_hours=D(2),
    )
    problems = fields_of(line_problems(appointments, TODAY))
    assert "appointment_type" in problems
    assert "rebook_rate" in problems
