"""The cost model: each line's amount and its working, in Decimal, step by step as payroll would.

Every step is rounded to the penny (ROUND_HALF_UP) and printed with its amount, so the
working can be checked by hand and the line amount is the plain sum of its steps:

- staff time:   hours x hourly rate = base pay; overtime premium on the base (overtime only)
                = gross pay; employer NI on the gross pay; employer pension on the gross pay
                only for a part-timer's additional hours (overtime is not pensionable).
                "6.5 h × £18.66 = £121.29; overtime +50% = £181.94; employer NI 15% = £27.29;
                total £209.23"
- locum cover:  sessions (or hours) x rate = fee; employer pension on 90% of the fee, only for
                a locum who pays into the NHS Pension Scheme through the practice.
- lost appointments: number x unit cost (a notional value of capacity lost, not money spent).
- other expenses: for a practice without a VAT number the VAT it paid is a cost it cannot
                recover, so the line is the gross amount ("1 × £51.00 = £51.00; includes £8.50
                VAT paid, not recoverable"); a VAT-registered practice claims the net amount
                and shows the VAT at its rate.

Sources of the rules (cited again where each rule is applied):
- NHS Pension Scheme, overtime not pensionable, part-timers' additional hours up to whole time
  pensionable: NHSBSA, "Pensionable pay" (nhsbsa.nhs.uk/member-hub/pensionable-pay).
- Locum GP pension: employer contribution on 90% of the fee, locums paid directly who submit
  forms GP Locum A and B; not agency or limited-company locums: NHSBSA "GP locums"
  (nhsbsa.nhs.uk/employer-hub/gp-locums), KA-04325.
- Employer NI (Class 1 secondary) on all gross pay above the secondary threshold: HMRC
  "Rates and thresholds for employers" 2024 to 2025 and 2025 to 2026 (gov.uk/guidance).
- VAT per line and no-VAT lines: HMRC VAT Notice 700, section 16.3
  (gov.uk/guidance/vat-guide-notice-700).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from tracker.presentation import clock_minutes, format_money, format_percent, quantity_text
from tracker.services.money import ZERO, to_pence

HUNDRED = Decimal(100)
#: A GP session is 4 hours 10 minutes.
SESSION_HOURS = Decimal(25) / Decimal(6)
#: A locum GP's pensionable pay is 90% of the fee: the 10% is deemed practice expenses
#: (NHSBSA, "GP locums", nhsbsa.nhs.uk/employer-hub/gp-locums).
LOCUM_PENSIONABLE_SHARE = Decimal("0.9")


class PayBasis(StrEnum):
    """How extra staff hours were paid, which decides the employer on-costs on them."""

    #: at a premium; not pensionable (NHSBSA: overtime is not pensionable pay)
    OVERTIME = "overtime"
    #: a part-timer's additional hours up to whole time, at the plain rate: pensionable
    ADDITIONAL = "additional"
    #: at the plain rate by someone not in the NHS Pension Scheme (or over whole time): NI only
    PLAIN = "plain"
    #: a unit cost that already includes on-costs (PSSRU): nothing is added
    INCLUSIVE = "inclusive"


@dataclass(frozen=True)
class Step:
    """One step of the working: what it is and its amount, both printed."""

    label: str
    amount: Decimal


@dataclass(frozen=True)
class LineAmounts:
    """A priced line: its parts (each already rounded), their sum and the printed working.

    `base` is quantity x rate; `premium`, `ni` and `pension` are what is added to it;
    net = base + premium + ni + pension + vat_cost; total = net + vat.
    """

    net: Decimal
    vat: Decimal
    total: Decimal
    working: str
    base: Decimal = ZERO
    premium: Decimal = ZERO
    ni: Decimal = ZERO
    pension: Decimal = ZERO
    #: VAT a supplier charged that the practice cannot recover, claimed as part of the cost
    vat_cost: Decimal = ZERO
    #: what the working says after its steps ("rate includes on-costs")
    notes: tuple[str, ...] = ()
    #: the rate printed beside the quantity (expenses: the gross or net of the receipt)
    unit_rate: Decimal | None = None
    vat_rate: Decimal | None = None
    steps: tuple[Step, ...] = field(default_factory=tuple)


def times(quantity: Decimal, rate: Decimal, unit: str = "") -> Decimal:
    """quantity x rate, unrounded. Hours typed as h:mm are stored to four places (4:10 is
    4.1667); they are priced as whole minutes x rate / 60 so 4 h 10 min costs exactly what
    it should, not 4.1667 hours' worth."""
    minutes = clock_minutes(quantity, unit)
    if minutes is not None:
        return minutes * rate / 60
    return quantity * rate


def _priced(
    steps: list[Step],
    *,
    base: Decimal,
    premium: Decimal = ZERO,
    ni: Decimal = ZERO,
    pension: Decimal = ZERO,
    vat_rate: Decimal | None = None,
    vat: Decimal | None = None,
    vat_cost: Decimal = ZERO,
    unit_rate: Decimal | None = None,
    notes: tuple[str, ...] = (),
) -> LineAmounts:
    """The one builder of a priced line: the net is the sum of its parts, the working its
    steps with their amounts, the total before VAT (when there are several steps), the notes
    and the VAT. VAT is `vat_rate` on the net unless the receipt gives the amount (`vat`)."""
    parts_total = base + premium + ni + pension
    parts = [f"{step.label} = {format_money(step.amount)}" for step in steps]
    if len(steps) > 1:
        parts.append(f"total {format_money(parts_total)}")
    parts += [note for note in notes if note]
    net = parts_total + vat_cost
    if vat is None:
        vat = ZERO if not vat_rate else to_pence(net * vat_rate / HUNDRED)
    if vat:
        parts.append(f"VAT {format_percent(vat_rate)} = {format_money(vat)}")
    return LineAmounts(
        net=net,
        vat=vat,
        total=net + vat,
        working="; ".join(parts),
        base=base,
        premium=premium,
        ni=ni,
        pension=pension,
        vat_cost=vat_cost,
        unit_rate=unit_rate,
        vat_rate=vat_rate if vat else None,
        steps=tuple(steps),
        notes=tuple(note for note in notes if note),
    )


def staff_time(
    hours: Decimal,
    hourly_rate: Decimal,
    *,
    basis: PayBasis | str = PayBasis.OVERTIME,
    overtime_pct: Decimal = ZERO,
    ni_pct: Decimal = ZERO,
    pension_pct: Decimal = ZERO,
    vat_rate: Decimal | None = None,
) -> LineAmounts:
    """Extra staff hours. The premium applies to overtime only; employer NI applies to all
    gross pay (HMRC Class 1 secondary contributions); employer pension only to a part-timer's
    additional hours, never to overtime (NHSBSA, "Pensionable pay"). A rate that already
    includes on-costs (a PSSRU unit cost) gets none added."""
    basis = PayBasis(basis)
    base = to_pence(times(hours, hourly_rate, "hour"))
    steps = [
        Step(f"{quantity_text(hours, 'hour', short=True)} × {format_money(hourly_rate)}", base)
    ]
    if basis == PayBasis.INCLUSIVE:
        return _priced(steps, base=base, vat_rate=vat_rate, notes=("rate includes on-costs",))
    gross = base
    if basis == PayBasis.OVERTIME and overtime_pct:
        gross = to_pence(base * (1 + overtime_pct / HUNDRED))
        steps.append(Step(f"overtime +{format_percent(overtime_pct)}", gross))
    ni = to_pence(gross * ni_pct / HUNDRED)
    if ni_pct:
        steps.append(Step(f"employer NI {format_percent(ni_pct)}", ni))
    pension = ZERO
    if basis == PayBasis.ADDITIONAL and pension_pct:
        pension = to_pence(gross * pension_pct / HUNDRED)
        steps.append(Step(f"employer pension {format_percent(pension_pct)}", pension))
    return _priced(
        steps, base=base, premium=gross - base, ni=ni, pension=pension, vat_rate=vat_rate
    )


def locum_cover(
    quantity: Decimal,
    rate: Decimal,
    unit: str = "session",
    *,
    pays_into_scheme: bool = False,
    pension_pct: Decimal = ZERO,
    vat_rate: Decimal | None = None,
) -> LineAmounts:
    """Locum sessions (4 h 10 min each) or hours at the locum's rate. When the locum pays
    into the NHS Pension Scheme through the practice (forms GP Locum A and B), the practice
    pays the employer contribution on 90% of the fee; a locum through an agency or their own
    limited company is not pensionable through the practice (NHSBSA, "GP locums")."""
    fee = to_pence(times(quantity, rate, unit))
    steps = [Step(f"{quantity_text(quantity, unit, short=True)} × {format_money(rate)}", fee)]
    pension = ZERO
    if pays_into_scheme and pension_pct:
        pensionable = to_pence(fee * LOCUM_PENSIONABLE_SHARE)
        pension = to_pence(pensionable * pension_pct / HUNDRED)
        share = f"{format_percent(pension_pct)} of 90% ({format_money(pensionable)})"
        steps.append(Step(f"employer pension {share}", pension))
    return _priced(steps, base=fee, pension=pension, vat_rate=vat_rate)


def lost_appointments(
    count: Decimal, unit_cost: Decimal, vat_rate: Decimal | None = None
) -> LineAmounts:
    """The notional value of appointments lost: a whole number at a unit cost."""
    value = to_pence(count * unit_cost)
    label = f"{quantity_text(count, 'appointment', short=True)} × {format_money(unit_cost)}"
    return _priced([Step(label, value)], base=value, vat_rate=vat_rate)


#: VAT rates a receipt's VAT is recognised at, to print the rate per line (HMRC: standard
#: 20%, reduced 5%; VAT Notice 700, section 4).
KNOWN_VAT_RATES = (Decimal(20), Decimal(5))


def receipt_vat_rate(net: Decimal, vat: Decimal) -> Decimal | None:
    """The rate a receipt's VAT was charged at, when it is one of the UK rates to the penny;
    otherwise the exact percentage (a receipt mixing rates), to two places."""
    if not vat or not net:
        return None
    for rate in KNOWN_VAT_RATES:
        if to_pence(net * rate / HUNDRED) == vat:
            return rate
    return to_pence(vat * HUNDRED / net)


def other_expense(
    net_amount: Decimal, vat_paid: Decimal = ZERO, *, vat_registered: bool = False
) -> LineAmounts:
    """An expense from its receipt (net amount and the VAT on it).

    A practice without a VAT number cannot recover the VAT it paid, so its cost is the gross
    and no VAT is charged on the invoice. A VAT-registered practice reclaims the VAT it paid
    as input tax, so its claim shows the net with the VAT at its rate on the line.
    """
    net = to_pence(net_amount)
    vat = to_pence(vat_paid)
    if vat_registered:
        steps = [Step(f"1 × {format_money(net)}", net)]
        rate = receipt_vat_rate(net, vat)
        return _priced(steps, base=net, unit_rate=net, vat=vat, vat_rate=rate)
    gross = net + vat
    note = f"includes {format_money(vat)} VAT paid, not recoverable" if vat else ""
    steps = [Step(f"1 × {format_money(gross)}", gross)]
    return _priced(steps, base=gross, unit_rate=gross, notes=(note,))


def vat_as_cost(amounts: LineAmounts) -> LineAmounts:
    """A line whose supplier charged VAT, for a practice that cannot recover it: the VAT is
    part of the cost claimed and no VAT is charged on the invoice (a practice without a VAT
    number cannot charge VAT: VAT Notice 700, section 16.3)."""
    if not amounts.vat:
        return amounts
    rate = format_percent(amounts.vat_rate)
    note = f"includes {format_money(amounts.vat)} VAT paid at {rate}, not recoverable"
    return _priced(
        list(amounts.steps),
        base=amounts.base,
        premium=amounts.premium,
        ni=amounts.ni,
        pension=amounts.pension,
        vat_cost=amounts.vat,
        unit_rate=amounts.unit_rate,
        notes=(*amounts.notes, note),
    )


def session_hours(sessions: Decimal) -> Decimal:
    """Hours in a number of GP sessions, for reports of locum time."""
    return to_pence(sessions * SESSION_HOURS)


def sum_amounts(amounts: Iterable[Decimal]) -> Decimal:
    """A total is the plain sum of already-rounded line amounts: never re-rounded."""
    return sum(amounts, ZERO)
