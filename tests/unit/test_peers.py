"""Peer figures per 1,000 patients: hand-worked examples of the arithmetic (services.peers).

The statistics are worked by hand below, then checked against Python's own
statistics.quantiles(method="inclusive") on exact fractions."""

from __future__ import annotations

import random
import statistics
from decimal import Decimal
from fractions import Fraction

import pytest

from tracker.documents.report_data import Figures, PracticeRow
from tracker.services import peers

D = Decimal


def row(
    code: str, list_size: int | None, claimed: str, hours: str, appointments: int
) -> PracticeRow:
    """A practice's report row: `hours` split between staff and locum, as claims split them."""
    staff = D(hours) / 2
    figures = Figures(
        claims=1,
        lines=4,
        claimed=D(claimed),
        staff_hours=staff,
        locum_hours=D(hours) - staff,
        appointments=appointments,
    )
    return PracticeRow(code, f"Surgery {code}", "QXA", figures, list_size=list_size)


#: Five practices with list sizes and one without: the worked example of the docstrings.
ROWS = [
    row("A", 5_000, "1000.00", "10", 20),  # per 1,000: £200.00, 2 h, 4 appointments
    row("B", 8_000, "2400.00", "24", 40),  # £300.00, 3 h, 5
    row("C", 10_000, "2500.00", "20", 30),  # £250.00, 2 h, 3
    row("D", 4_000, "4000.00", "30", 10),  # £1,000.00, 7.5 h, 2.5
    row("E", 12_000, "3000.00", "30", 48),  # £250.00, 2.5 h, 4
    row("F", None, "9999.00", "99", 99),  # no list size: listed, not compared
]


def test_figures_per_thousand_and_the_icb_spread_by_hand() -> None:
    table = peers.compare(ROWS)
    rates = {r.ods_code: r.rates for r in table.rows}
    assert rates["A"] == {"claimed": D("200.00"), "hours": D("2.00"), "appointments": D("4.00")}
    assert rates["D"] == {"claimed": D("1000.00"), "hours": D("7.50"), "appointments": D("2.50")}
    assert rates["F"] is None
    assert (table.compared, table.without_list_size) == (5, 1)
    # claimed, sorted: 200, 250, 250, 300, 1000; cut points at 4 × i / 4 = 1, 2, 3 exactly
    claimed = table.spreads["claimed"]
    assert (claimed.q1, claimed.median, claimed.q3) == (D("250"), D("250"), D("300"))
    # IQR 50: fences 250 - 75 and 300 + 75
    assert (claimed.low_fence, claimed.high_fence) == (D("175.00"), D("375.00"))
    # hours 2, 2, 2.5, 3, 7.5: Q1 2, median 2.5, Q3 3; IQR 1: fences 0.5 and 4.5
    hours = table.spreads["hours"]
    assert (hours.q1, hours.median, hours.q3) == (D("2"), D("2.5"), D("3"))
    assert (hours.low_fence, hours.high_fence) == (D("0.50"), D("4.50"))
    # appointments 2.5, 3, 4, 4, 5: Q1 3, median 4, Q3 4; fences 1.5 and 5.5: nobody outside
    appointments = table.spreads["appointments"]
    assert (appointments.q1, appointments.median, appointments.q3) == (D(3), D(4), D(4))
    outliers = {r.ods_code: r.outliers for r in table.rows if r.outliers}
    assert outliers == {"D": {"claimed": "high", "hours": "high"}}
    assert [r.ods_code for r in table.outlier_rows] == ["D"]
    # the practice without a list size keeps its totals for the table
    f = next(r for r in table.rows if r.ods_code == "F")
    assert f.totals == {"claimed": D("9999.00"), "hours": D("99"), "appointments": D(99)}
    assert f.list_size is None and f.outliers == {}


def test_quartiles_interpolate_between_neighbours() -> None:
    """Four values: the cut points fall at 3/4, 6/4 and 9/4 of the way along."""
    assert peers.quartiles([D(4), D(1), D(3), D(2)]) == (D("1.75"), D("2.5"), D("3.25"))
    assert peers.quartiles([D(7)]) == (D(7), D(7), D(7))
    with pytest.raises(ValueError):
        peers.quartiles([])


def test_quartiles_equal_pythons_inclusive_method_exactly() -> None:
    rng = random.Random(14)
    for size in range(2, 40):
        values = [D(rng.randint(0, 500_000)) / 100 for _ in range(size)]
        expected = statistics.quantiles([Fraction(v) for v in values], n=4, method="inclusive")
        assert [Fraction(q) for q in peers.quartiles(values)] == expected


def test_a_low_outlier_is_marked_low() -> None:
    rows = [
        row(c, 10_000, amount, "10", 10)
        for c, amount in zip("ABCDE", ("2000", "2100", "2200", "2300", "100"), strict=True)
    ]
    # claimed per 1,000: 10, 200, 210, 220, 230 → Q1 200, Q3 220, fences 170 and 250
    table = peers.compare(rows)
    assert table.spreads["claimed"].low_fence == D("170.00")
    assert {r.ods_code: r.outliers for r in table.rows if r.outliers} == {"E": {"claimed": "low"}}


def test_rounding_is_to_two_places_halves_up() -> None:
    assert peers.per_thousand(D("10.00"), 3) == D("3333.33")
    assert peers.per_thousand(D("0.01"), 2_000) == D("0.01")  # 0.005 rounds up
    assert peers.per_thousand(D("0.03"), 2_000) == D("0.02")  # 0.015 rounds up, not to even
    # fences of figures that are not whole pence are rounded the same way
    s = peers.spread([D("0.01"), D("0.02")])  # Q1 0.0125, Q3 0.0175, IQR 0.005
    assert (s.q1, s.median, s.q3) == (D("0.01"), D("0.02"), D("0.02"))
    assert (s.low_fence, s.high_fence) == (D("0.01"), D("0.03"))  # 0.005 and 0.025, halves up


def test_too_few_practices_with_a_list_size_give_no_statistics() -> None:
    table = peers.compare([ROWS[0], ROWS[5]])
    assert table.spreads == {} and table.compared == 1 and table.without_list_size == 1
    assert table.rows[0].rates is not None and table.rows[0].outliers == {}


def test_national_comparison_is_one_per_icb() -> None:
    other = [
        PracticeRow(r.ods_code + "Y", r.name, "QYB", r.figures, list_size=r.list_size)
        for r in ROWS[:2]
    ]
    tables = peers.compare_by_icb(ROWS + other)
    assert set(tables) == {"QXA", "QYB"}
    assert tables["QYB"].compared == 2 and tables["QXA"].compared == 5
    assert tables["QYB"].spreads["claimed"].median == D("250.00")  # (200 + 300) / 2
