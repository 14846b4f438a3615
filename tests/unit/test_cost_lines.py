"""The cost model's formulas, the checks on typed figures, and totals of rounded lines."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.cost_kinds import DETAIL_LABELS
from tracker.models import CostKind, RateCardItem
from tracker.services import costing
from tracker.services.cost_lines import LineInput, PricingContext, compute, line_problems
from tracker.services.money import to_pence
from tracker.services.rates import DEFAULT_RATES, rates_on

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
        "staff_role": "Receptionist",
        "pay_basis": "overtime",
    }
    values.update(overrides)
    details = {name: values.pop(name) for name in list(values) if name in DETAIL_LABELS}
    return LineInput(**values, details=details)  # type: ignore[arg-type]


def locum(**overrides: object) -> LineInput:
    values: dict[str, object] = {
        "kind": CostKind.LOCUM.value,
        "line_date": date(2024, 7, 19),
        "description": "Locum GP",
        "quantity": D(2),
        "unit": "session",
        "unit_rate": D("357.00"),
        "locum_name": "Dr N",
        "locum_pension": "scheme",
    }
    values.update(overrides)
    details = {name: values.pop(name) for name in list(values) if name in DETAIL_LABELS}
    return LineInput(**values, details=details)  # type: ignore[arg-type]


def card_on(day: date) -> PricingContext:
    """The default rate card's rates in force on `day`, as a practice's card would give."""
    items = [
        RateCardItem(
            key=rate.key,
            label=rate.label,
            value=rate.value,
            source=rate.source,
            year=rate.year,
            valid_from=rate.valid_from,
            valid_to=rate.valid_to,
        )
        for rate in DEFAULT_RATES
    ]
    return PricingContext(rates=rates_on(items, day))


JULY_2024 = card_on(date(2024, 7, 19))
JULY_2025 = card_on(date(2025, 7, 15))


# --- the worked figures, by hand ---------------------------------------------------


def test_overtime_in_2024_takes_ni_at_13_8_and_no_pension() -> None:
    amounts = compute(staff(), JULY_2024)
    assert (amounts.base, amounts.premium) == (D("121.29"), D("60.65"))
    assert (amounts.ni, amounts.pension, amounts.total) == (D("25.11"), D("0"), D("207.05"))
    assert amounts.working == (
        "6.5 h × £18.66 = £121.29; overtime +50% = £181.94; employer NI 13.8% = £25.11; "
        "total £207.05"
    )


def test_the_same_overtime_in_july_2025_takes_ni_at_15() -> None:
    amounts = compute(staff(line_date=date(2025, 7, 15)), JULY_2025)
    assert amounts.total == D("209.23")
    assert amounts.working == (
        "6.5 h × £18.66 = £121.29; overtime +50% = £181.94; employer NI 15% = £27.29; total £209.23"
    )


def test_ni_changes_on_6_april_2025_not_1_april() -> None:
    assert card_on(date(2025, 4, 5)).pct("ni_pct") == D("13.80")
    assert card_on(date(2025, 4, 6)).pct("ni_pct") == D("15.00")


def test_additional_part_time_hours_are_pensionable_at_the_plain_rate() -> None:
    inp = staff(quantity=D(4), unit_rate=D("15.33"), pay_basis="additional")
    amounts = compute(inp, JULY_2025)
    assert (amounts.base, amounts.premium) == (D("61.32"), D("0"))
    assert (amounts.ni, amounts.pension, amounts.total) == (D("9.20"), D("8.82"), D("79.34"))
    assert "overtime" not in amounts.working


def test_a_rate_that_includes_on_costs_gets_none_added() -> None:
    amounts = compute(staff(unit_rate=D("268"), pay_basis="inclusive"), JULY_2024)
    assert amounts.total == D("1742.00")
    assert amounts.working == "6.5 h × £268.00 = £1,742.00; rate includes on-costs"


def test_plain_extra_hours_take_ni_only() -> None:
    amounts = compute(staff(pay_basis="plain"), JULY_2024)
    assert (amounts.premium, amounts.ni, amounts.pension) == (D("0"), D("16.74"), D("0"))
    assert amounts.total == D("138.03")


def test_locum_in_the_scheme_pays_pension_on_90_percent_of_the_fee() -> None:
    amounts = compute(locum(), JULY_2024)
    assert (amounts.base, amounts.pension, amounts.total) == (
        D("714.00"),
        D("92.41"),
        D("806.41"),
    )
    assert amounts.working == (
        "2 sessions × £357.00 = £714.00; employer pension 14.38% of 90% (£642.60) = £92.41; "
        "total £806.41"
    )


def test_locum_through_their_own_company_has_no_pension() -> None:
    amounts = compute(locum(locum_pension="none"), JULY_2024)
    assert amounts.total == D("714.00")
    assert amounts.working == "2 sessions × £357.00 = £714.00"


def test_locum_sessions_against_hours() -> None:
    hours = compute(locum(quantity=D("8.33"), unit="hour", unit_rate=D("85.68")), JULY_2024)
    assert hours.base == D("713.71")
    assert hours.working.startswith("8.33 h × £85.68 = £713.71")
    # a session is 4 h 10 min, so two sessions are 8 h 20 min
    assert costing.session_hours(D(2)) == D("8.33")


def test_hours_typed_as_h_mm_are_priced_as_exact_minutes() -> None:
    # 4:10 is stored as 4.1667 hours; priced as 250 minutes, not 4.1667 hours
    amounts = compute(staff(quantity=D("4.1667"), unit_rate=D("357"), pay_basis="inclusive"))
    assert amounts.base == D("1487.50")  # 357 x 25/6; 4.1667 x 357 would be 1487.51
    assert amounts.working.startswith("4 h 10 min × £357.00")


def test_lost_appointments_number_times_unit_cost() -> None:
    amounts = costing.lost_appointments(D(38), D("45.00"))
    assert amounts.total == D("1710.00")
    assert amounts.working == "38 appointments × £45.00 = £1,710.00"


def test_expense_of_a_practice_without_a_vat_number_is_the_gross() -> None:
    amounts = costing.other_expense(D("42.50"), D("8.50"))
    assert (amounts.net, amounts.vat, amounts.total) == (D("51.00"), D("0"), D("51.00"))
    assert amounts.unit_rate == D("51.00")  # 1 x £51.00 = £51.00
    assert amounts.working == "1 × £51.00 = £51.00; includes £8.50 VAT paid, not recoverable"


def test_expense_of_a_vat_registered_practice_shows_its_rate() -> None:
    amounts = costing.other_expense(D("42.50"), D("8.50"), vat_registered=True)
    assert (amounts.net, amounts.vat, amounts.vat_rate) == (D("42.50"), D("8.50"), D("20"))
    assert amounts.working == "1 × £42.50 = £42.50; VAT 20% = £8.50"
    mixed = costing.other_expense(D("100.00"), D("12.00"), vat_registered=True)
    assert mixed.vat_rate == D("12.00")  # not a UK rate: printed as it is


def test_a_locum_charging_vat_to_a_practice_without_a_vat_number() -> None:
    amounts = compute(locum(locum_pension="none", vat_rate=D("20")), JULY_2024)
    assert (amounts.net, amounts.vat, amounts.total) == (D("856.80"), D("0"), D("856.80"))
    assert amounts.working.endswith("includes £142.80 VAT paid at 20%, not recoverable")
    registered = replace(JULY_2024, vat_registered=True)
    charged = compute(locum(locum_pension="none", vat_rate=D("20")), registered)
    assert (charged.net, charged.vat) == (D("714.00"), D("142.80"))


def test_every_line_is_the_sum_of_its_parts() -> None:
    for amounts in (
        compute(staff(), JULY_2025),
        compute(staff(pay_basis="additional"), JULY_2025),
        compute(locum(), JULY_2025),
    ):
        parts = amounts.base + amounts.premium + amounts.ni + amounts.pension
        assert parts == amounts.net


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
    amounts = costing.staff_time(D("10000"), D("9999.99"), overtime_pct=D("50"), ni_pct=D("15"))
    assert amounts.base == D("99999900.00")
    assert amounts.total == D("99999900.00") * D("1.5") * D("1.15")
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
        vat_rate=draw(st.one_of(st.none(), percent)),
        details={
            "staff_role": "r",
            "pay_basis": draw(st.sampled_from(["overtime", "additional", "plain", "inclusive"])),
            "locum_name": "l",
            "locum_pension": draw(st.sampled_from(["scheme", "none"])),
            "appointment_type": "gp",
        },
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(lines(), min_size=1, max_size=30))
def test_total_is_always_the_sum_of_rounded_lines(inputs: list[LineInput]) -> None:
    amounts = [compute(inp, JULY_2025) for inp in inputs]
    for line in amounts:
        assert line.net == to_pence(line.net) and line.vat == to_pence(line.vat)
        assert line.total == line.net + line.vat
        assert line.base + line.premium + line.ni + line.pension + line.vat_cost == line.net
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
        ({"overtime_pct": None}, "overtime_pct", "Enter the overtime premium, or 0"),
        ({"pay_basis": "bonus"}, "pay_basis", "Choose how the hours were paid"),
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


# --- hours from a start and a finish (the timesheet) --------------------------------------


def test_hours_between_a_start_and_a_finish_are_to_the_minute_and_cross_midnight() -> None:
    from datetime import time

    from tracker.services.cost_lines import hours_between, worked_hours

    assert hours_between(time(17, 30), time(20, 0)) == D("2.5")
    assert hours_between(time(9, 0), time(13, 10)) == D("4.1667")
    assert hours_between(time(22, 0), time(6, 30)) == D("8.5")
    assert worked_hours(time(17, 30), time(20, 0), None) == (D("2.5"), [])
    # hours win: what was paid, perhaps less a break, within the time between
    assert worked_hours(time(17, 30), time(20, 0), D("2")) == (D("2"), [])
    assert worked_hours(None, None, D("3")) == (D("3"), [])


@pytest.mark.parametrize(
    ("start", "finish", "hours", "field", "message"),
    [
        (None, None, None, "quantity", "Enter the hours, or the start and finish times"),
        ((9, 0), None, None, "finish", "Enter the finish time too, or the hours"),
        (None, (9, 0), None, "start", "Enter the start time too, or the hours"),
        (
            (9, 0),
            (9, 0),
            None,
            "finish",
            "The finish time is the same as the start: enter the hours worked",
        ),
        (
            (17, 30),
            (19, 0),
            D("1.75"),
            "quantity",
            "1.75 hours is more than the time from 17:30 to 19:00 (1:30): check the hours or "
            "the times",
        ),
        (
            (22, 0),
            (6, 0),
            D("9"),
            "quantity",
            "9 hours is more than the time from 22:00 to 06:00 (next day) (8:00): check the "
            "hours or the times",
        ),
    ],
)
def test_start_finish_and_hours_problems(start, finish, hours, field, message) -> None:
    from datetime import time

    from tracker.services.cost_lines import worked_hours

    _, problems = worked_hours(
        time(*start) if start else None, time(*finish) if finish else None, hours
    )
    assert [(p.field, p.message) for p in problems] == [(field, message)]
