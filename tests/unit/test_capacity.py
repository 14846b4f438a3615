"""The double-counting check: lost appointments and staff or locum time on the same date."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from tracker.services.capacity import double_counting_dates, double_counting_warnings

D = Decimal
DAY = date(2024, 7, 19)


@dataclass(frozen=True)
class Line:
    kind: str
    line_date: date
    total_amount: Decimal


def test_lost_appointments_and_locum_time_on_one_day_are_flagged_with_their_value() -> None:
    lines = [
        Line("appointments", DAY, D("1710.00")),
        Line("locum", DAY, D("816.67")),
        Line("expense", DAY, D("51.00")),
    ]
    assert double_counting_warnings(lines) == [
        "19 July 2024 has both lost appointments (£1,710.00) and locum or staff time: if that "
        "time was spent catching up the same appointments, claim one or the other, not both."
    ]


def test_each_date_is_flagged_once_with_the_sum_of_its_lost_appointments() -> None:
    later = date(2024, 7, 22)
    lines = [
        Line("staff", later, D("120.00")),
        Line("appointments", later, D("90.00")),
        Line("appointments", later, D("45.00")),
        Line("staff", DAY, D("207.05")),
        Line("appointments", DAY, D("1710.00")),
        Line("staff", DAY, D("10.00")),
    ]
    assert double_counting_dates(lines) == [(DAY, D("1710.00")), (later, D("135.00"))]


def test_no_warning_without_time_on_the_same_date() -> None:
    lines = [
        Line("appointments", DAY, D("1710.00")),
        Line("staff", date(2024, 7, 20), D("207.05")),
        Line("expense", DAY, D("51.00")),
    ]
    assert double_counting_warnings(lines) == []
    assert double_counting_warnings([Line("staff", DAY, D("1.00"))]) == []
