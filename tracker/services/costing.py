"""The cost model: each line's amount and its working, in Decimal, rounded once per line.

Formulas:
- staff time:        hours x rate x (1 + overtime%) x (1 + pension% + NI%)
- locum cover:       sessions (or hours) x rate x (1 + pension%)
- lost appointments: number x unit cost
- other expenses:    net amount, plus the VAT actually paid
Each line is rounded to the penny (ROUND_HALF_UP); totals are sums of rounded lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from tracker.presentation import format_money, format_number, quantity_text
from tracker.services.money import ZERO, to_pence

HUNDRED = Decimal(100)
#: A GP session is 4 hours 10 minutes.
SESSION_HOURS = Decimal(25) / Decimal(6)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    vat: Decimal
    total: Decimal
    working: str


def _vat(net: Decimal, vat_rate: Decimal | None) -> Decimal:
    return ZERO if not vat_rate else to_pence(net * vat_rate / HUNDRED)


def _with_vat(net: Decimal, vat_rate: Decimal | None, working: str) -> LineAmounts:
    vat = _vat(net, vat_rate)
    if vat:
        working += f"; VAT {format_number(vat_rate)}% {format_money(vat)}"
    return LineAmounts(net=net, vat=vat, total=net + vat, working=working)


def staff_time(
    hours: Decimal,
    hourly_rate: Decimal,
    overtime_pct: Decimal = ZERO,
    pension_pct: Decimal = ZERO,
    ni_pct: Decimal = ZERO,
    vat_rate: Decimal | None = None,
) -> LineAmounts:
    """Extra staff hours: overtime premium first, then employer on-costs on the gross pay."""
    net = to_pence(
        hours * hourly_rate * (1 + overtime_pct / HUNDRED) * (1 + (pension_pct + ni_pct) / HUNDRED)
    )
    working = f"{quantity_text(hours, 'hour', short=True)} × {format_money(hourly_rate)}"
    if overtime_pct:
        working += f" + {format_number(overtime_pct)}% overtime"
    if pension_pct:
        working += f" + {format_number(pension_pct)}% pension"
    if ni_pct:
        working += f" + {format_number(ni_pct)}% NI"
    return _with_vat(net, vat_rate, working)


def locum_cover(
    quantity: Decimal,
    rate: Decimal,
    unit: str = "session",
    pension_pct: Decimal = ZERO,
    vat_rate: Decimal | None = None,
) -> LineAmounts:
    """Locum sessions (4 h 10 min each) or hours at the locum's rate, plus employer pension."""
    net = to_pence(quantity * rate * (1 + pension_pct / HUNDRED))
    working = f"{quantity_text(quantity, unit, short=True)} × {format_money(rate)}"
    if pension_pct:
        working += f" + {format_number(pension_pct)}% pension"
    return _with_vat(net, vat_rate, working)


def lost_appointments(
    count: Decimal, unit_cost: Decimal, vat_rate: Decimal | None = None
) -> LineAmounts:
    net = to_pence(count * unit_cost)
    working = f"{quantity_text(count, 'appointment', short=True)} × {format_money(unit_cost)}"
    return _with_vat(net, vat_rate, working)


def other_expense(net_amount: Decimal, vat_paid: Decimal = ZERO) -> LineAmounts:
    """An expense as on its receipt: the net amount and the VAT actually paid."""
    net = to_pence(net_amount)
    vat = to_pence(vat_paid)
    working = f"{format_money(net)} net"
    if vat:
        working += f" + {format_money(vat)} VAT"
    return LineAmounts(net=net, vat=vat, total=net + vat, working=working)


def session_hours(sessions: Decimal) -> Decimal:
    """Hours in a number of GP sessions, for reports of locum time."""
    return to_pence(sessions * SESSION_HOURS)


def sum_amounts(amounts: Iterable[Decimal]) -> Decimal:
    """A total is the plain sum of already-rounded line amounts: never re-rounded."""
    return sum(amounts, ZERO)
