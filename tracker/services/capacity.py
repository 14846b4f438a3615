"""Lost clinical capacity next to time spent on the same day: the double-counting check.

Lost or cancelled appointments are claimed at a notional value per appointment. If locum or
staff time on the same day was spent catching up those same appointments, claiming both pays
twice for one piece of capacity. The check cannot know what the time was spent on, so it
warns (on the incident page and a draft invoice) rather than refuses.

Pure: it reads only a line's kind, date and amount, so it serves cost lines and invoice lines
alike and needs no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Protocol

from tracker.cost_kinds import CATCH_UP_KINDS, is_notional
from tracker.presentation import format_money, long_date
from tracker.services.money import ZERO


class DatedAmount(Protocol):
    """What the check reads of a line (a CostLine or an InvoiceLine)."""

    @property
    def kind(self) -> str: ...

    @property
    def line_date(self) -> date: ...

    @property
    def total_amount(self) -> Decimal: ...


def double_counting_dates(lines: Iterable[DatedAmount]) -> list[tuple[date, Decimal]]:
    """(date, value of lost appointments) for each date, in order, that has both lost
    appointments and staff or locum time."""
    lost: dict[date, Decimal] = {}
    catch_up: set[date] = set()
    for line in lines:
        if is_notional(line.kind):
            lost[line.line_date] = lost.get(line.line_date, ZERO) + line.total_amount
        elif line.kind in CATCH_UP_KINDS:
            catch_up.add(line.line_date)
    return sorted((day, amount) for day, amount in lost.items() if day in catch_up)


def double_counting_warnings(lines: Iterable[DatedAmount]) -> list[str]:
    """One warning per date with lost appointments and staff or locum time, for the user
    to decide: "19 July 2024 has both lost appointments (£1,710.00) and locum or staff
    time: ..."."""
    return [
        f"{long_date(day)} has both lost appointments ({format_money(amount)}) and locum or "
        "staff time: if that time was spent catching up the same appointments, claim one or "
        "the other, not both."
        for day, amount in double_counting_dates(lines)
    ]
