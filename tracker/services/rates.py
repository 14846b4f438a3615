"""The rate card: dated default rates, each with its period of validity and its source.

A practice's card holds one row per rate and period; a cost line takes the rates in force on
its date (`rates_on`) and stores the figures it used, so a later change to the card never
moves a priced line. The national defaults below are seeded into every practice's card; a
practice changes any figure or adds its own dated rate (its actual pay, a local agreement).

Sources (primary, as the rate card shows them):
- Agenda for Change pay: NHS Employers, "Pay scales for 2024/25"
  (nhsemployers.org/articles/pay-scales-202425) and "Pay scales for 2025/26"
  (nhsemployers.org/articles/pay-scales-202526); hourly = annual / 52.143 weeks / 37.5 hours.
  The 2026/27 award is not seeded: its pay tables were not published in a form we could check.
- Employer National Insurance (Class 1 secondary): HMRC, "Rates and thresholds for employers
  2024 to 2025" (13.8% above £175 a week) and "2025 to 2026" (15% above £96 a week from
  6 April 2025, National Insurance Contributions (Secondary Class 1 Contributions) Act 2025).
- Employer NHS pension: NHSBSA, "Employer contribution rates" 2024/25 and 2025/26: 14.38%
  paid by the employer locally (of 23.78% in all, the rest paid centrally by NHS England),
  including the 0.08% administration levy.
- Unit costs: Unit Costs of Health and Social Care 2024, PSSRU/University of Kent
  (kar.kent.ac.uk/109563/), 2023/24 prices.
- Overtime premium: NHS Terms and Conditions of Service Handbook, section 3 (NHS Employers):
  time and a half for bands 1 to 7.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Practice, RateCardItem, string_length
from tracker.presentation import long_date
from tracker.services.money import to_pence
from tracker.services.text import text_problem

PSSRU = "Unit Costs of Health and Social Care 2024 (PSSRU/Kent), 2023/24 prices"
AFC_2425 = "NHS Employers, pay scales for 2024/25"
AFC_2526 = "NHS Employers, pay scales for 2025/26"
LOCUM = "Management in Practice locum survey, Sept 2024: median £714 a day, 2 sessions a day"
WEEKS_A_YEAR = Decimal("52.143")
HOURS_A_WEEK = Decimal("37.5")

#: Financial years (1 April to 31 March) and tax years (6 April to 5 April).
FY_2024 = (date(2024, 4, 1), date(2025, 3, 31), "2024/25")
FY_2025 = (date(2025, 4, 1), date(2026, 3, 31), "2025/26")
FROM_FY_2024 = (date(2024, 4, 1), None, "from 2024/25")
TAX_2024 = (date(2024, 4, 6), date(2025, 4, 5), "2024/25")
FROM_TAX_2025 = (date(2025, 4, 6), None, "from 6 April 2025")
ALWAYS: tuple[date | None, date | None, str] = (None, None, "")


@dataclass(frozen=True)
class DefaultRate:
    key: str
    label: str
    cost_kind: str | None
    unit: str
    value: Decimal
    source: str
    valid_from: date | None
    valid_to: date | None
    year: str


def _rate(
    key: str,
    label: str,
    cost_kind: str | None,
    unit: str,
    value: str | Decimal,
    source: str,
    period: tuple[date | None, date | None, str],
) -> DefaultRate:
    valid_from, valid_to, year = period
    return DefaultRate(
        key, label, cost_kind, unit, Decimal(value), source, valid_from, valid_to, year
    )


def afc_hourly(annual: int) -> Decimal:
    """An Agenda for Change annual salary as an hourly rate: annual / 52.143 / 37.5."""
    return to_pence(Decimal(annual) / WEEKS_A_YEAR / HOURS_A_WEEK)


#: Agenda for Change pay points: (key, label, annual 2024/25, annual 2025/26). The top of each
#: band keeps the plain key ("afc_band_5"), which forms prefill by default.
AFC_POINTS = (
    ("afc_band_2", "Band 2 (e.g. receptionist)", 23615, 24465),
    ("afc_band_3_1", "Band 3, entry (0-2 years)", 24071, 24937),
    ("afc_band_3", "Band 3, top (2+ years) (e.g. senior receptionist, HCA)", 25674, 26598),
    ("afc_band_4_1", "Band 4, entry (0-3 years)", 26530, 27485),
    ("afc_band_4", "Band 4, top (3+ years) (e.g. administrator)", 29114, 30162),
    ("afc_band_5_1", "Band 5, entry (0-2 years)", 29970, 31049),
    ("afc_band_5_2", "Band 5, middle (2-4 years)", 32324, 33487),
    ("afc_band_5", "Band 5, top (4+ years) (e.g. practice nurse)", 36483, 37796),
    ("afc_band_6_1", "Band 6, entry (0-2 years)", 37338, 38682),
    ("afc_band_6_2", "Band 6, middle (2-5 years)", 39405, 40823),
    ("afc_band_6", "Band 6, top (5+ years)", 44962, 46580),
    ("afc_band_7_1", "Band 7, entry (0-2 years)", 46148, 47810),
    ("afc_band_7_2", "Band 7, middle (2-5 years)", 48526, 50273),
    ("afc_band_7", "Band 7, top (5+ years) (e.g. practice manager)", 52809, 54710),
)


def _afc_rates() -> list[DefaultRate]:
    rates = []
    for key, label, annual_2024, annual_2025 in AFC_POINTS:
        for annual, source, period in (
            (annual_2024, AFC_2425, FY_2024),
            (annual_2025, AFC_2526, FY_2025),
        ):
            rates.append(
                _rate(
                    key,
                    f"Agenda for Change {label}",
                    "staff",
                    "hour",
                    afc_hourly(annual),
                    f"{source}: £{annual:,} a year ÷ 52.143 ÷ 37.5",
                    period,
                )
            )
    return rates


def _hca_appointment(band_3_hourly: Decimal, ni_pct: str, pension_pct: str) -> Decimal:
    """15 minutes of Band 3 pay with employer NI and pension. HCAs in general practice are
    Band 3 (the previous default used PSSRU's Band 4 nurse cost); PSSRU's table 9.2.1 starts
    at Band 4, so this is built from AfC pay and the on-costs of the year, without overheads."""
    hourly = band_3_hourly * (1 + (Decimal(ni_pct) + Decimal(pension_pct)) / 100)
    return to_pence(hourly / 4)


BAND_3_TOP = {year: afc_hourly(annual) for year, annual in (("2024/25", 25674), ("2025/26", 26598))}

DEFAULT_RATES: tuple[DefaultRate, ...] = (
    _rate(
        "gp_appointment",
        "GP appointment (10-minute surgery consultation)",
        "appointments",
        "appointment",
        "45.00",
        f"{PSSRU}, table 9.4.2",
        FROM_FY_2024,
    ),
    _rate(
        "nurse_appointment",
        "Practice nurse appointment (15 minutes at £47 an hour)",
        "appointments",
        "appointment",
        "11.75",
        f"{PSSRU}, table 9.3.1",
        FROM_FY_2024,
    ),
    _rate(
        "hca_appointment",
        "HCA appointment (15 minutes of Band 3 pay with employer NI and pension)",
        "appointments",
        "appointment",
        _hca_appointment(BAND_3_TOP["2024/25"], "13.8", "14.38"),
        f"{AFC_2425}, Band 3 top £{BAND_3_TOP['2024/25']} an hour + NI 13.8% + pension 14.38%,"
        " a quarter hour (PSSRU publishes no Band 3 cost)",
        FY_2024,
    ),
    _rate(
        "hca_appointment",
        "HCA appointment (15 minutes of Band 3 pay with employer NI and pension)",
        "appointments",
        "appointment",
        _hca_appointment(BAND_3_TOP["2025/26"], "15", "14.38"),
        f"{AFC_2526}, Band 3 top £{BAND_3_TOP['2025/26']} an hour + NI 15% + pension 14.38%,"
        " a quarter hour (PSSRU publishes no Band 3 cost)",
        FY_2025,
    ),
    _rate(
        "other_appointment",
        "Other clinician appointment (15 minutes at Band 6, £58 an hour)",
        "appointments",
        "appointment",
        "14.50",
        f"{PSSRU}, table 9.2.1",
        FROM_FY_2024,
    ),
    _rate(
        "gp_hour",
        "GP patient-contact time (includes on-costs)",
        "staff",
        "hour",
        "268.00",
        f"{PSSRU}, table 9.4.2",
        FROM_FY_2024,
    ),
    _rate(
        "nurse_hour",
        "Practice nurse, Band 5 (includes on-costs)",
        "staff",
        "hour",
        "47.00",
        f"{PSSRU}, table 9.3.1",
        FROM_FY_2024,
    ),
    *_afc_rates(),
    _rate(
        "locum_session",
        "Locum GP session (4 h 10 min)",
        "locum",
        "session",
        "357.00",
        LOCUM,
        FROM_FY_2024,
    ),
    _rate(
        "locum_hour",
        "Locum GP hour",
        "locum",
        "hour",
        "85.68",
        f"{LOCUM}; £714 ÷ 8 h 20 min",
        FROM_FY_2024,
    ),
    _rate(
        "overtime_pct",
        "Overtime premium (time and a half)",
        "staff",
        "%",
        "50.00",
        "NHS Terms and Conditions of Service Handbook, section 3: time and a half for bands 1-7;"
        " edit to match your staff contracts",
        ALWAYS,
    ),
    _rate(
        "pension_pct",
        "Employer NHS pension contribution (paid by the practice)",
        None,
        "%",
        "14.38",
        "NHSBSA, employer contribution rates 2024/25: 14.38% paid locally (23.78% in all)",
        FY_2024,
    ),
    _rate(
        "pension_pct",
        "Employer NHS pension contribution (paid by the practice)",
        None,
        "%",
        "14.38",
        "NHSBSA, employer contribution rates 2025/26: 14.38% paid locally (23.78% in all)",
        (date(2025, 4, 1), None, "from 2025/26"),
    ),
    _rate(
        "ni_pct",
        "Employer National Insurance",
        None,
        "%",
        "13.80",
        "HMRC, rates and thresholds for employers 2024 to 2025: 13.8% above £175 a week;"
        " assumes the extra pay falls above the threshold",
        TAX_2024,
    ),
    _rate(
        "ni_pct",
        "Employer National Insurance",
        None,
        "%",
        "15.00",
        "HMRC, rates and thresholds for employers 2025 to 2026: 15% above £96 a week (NICs"
        " (Secondary Class 1 Contributions) Act 2025); assumes the extra pay is above it",
        FROM_TAX_2025,
    ),
)


def seed_rate_card(session: Session, practice: Practice) -> int:
    """Give a practice every default rate and period it does not have yet; its own figures
    are kept."""
    rows = session.execute(
        select(RateCardItem.key, RateCardItem.valid_from).where(
            RateCardItem.practice_id == practice.id
        )
    )
    existing = {(key, valid_from) for key, valid_from in rows}
    added = 0
    for order, rate in enumerate(DEFAULT_RATES):
        if (rate.key, rate.valid_from) in existing:
            continue
        session.add(
            RateCardItem(
                practice_id=practice.id,
                key=rate.key,
                label=rate.label,
                cost_kind=rate.cost_kind,
                unit=rate.unit,
                value=rate.value,
                source=rate.source,
                year=rate.year,
                valid_from=rate.valid_from,
                valid_to=rate.valid_to,
                sort_order=order,
            )
        )
        added += 1
    return added


def rate_card(session: Session, practice_id: int) -> list[RateCardItem]:
    """Every rate and period on a practice's card, in the card's order, earliest first."""
    return list(
        session.scalars(
            select(RateCardItem)
            .where(RateCardItem.practice_id == practice_id)
            .order_by(RateCardItem.sort_order, RateCardItem.key, RateCardItem.valid_from)
        )
    )


def in_force(item: RateCardItem, day: date) -> bool:
    return (item.valid_from is None or item.valid_from <= day) and (
        item.valid_to is None or day <= item.valid_to
    )


def rates_on(items: Iterable[RateCardItem], day: date) -> dict[str, RateCardItem]:
    """The rate of each key in force on `day`. Where periods overlap (a practice's own rate
    from 1 August over the national one from 1 April) the one that started last wins. A day
    no period covers takes the nearest period before it (or the first one), so a form is
    still filled in; `standing` tells the rate card which ones those are."""
    by_key: dict[str, list[RateCardItem]] = {}
    for item in items:
        by_key.setdefault(item.key, []).append(item)
    chosen = {}
    for key, rows in by_key.items():
        rows.sort(key=lambda row: row.valid_from or date.min)
        covering = [row for row in rows if in_force(row, day)]
        before = [row for row in rows if (row.valid_from or date.min) <= day]
        if covering:
            chosen[key] = covering[-1]
        elif before:
            chosen[key] = before[-1]
        else:
            chosen[key] = rows[0]
    return chosen


def standing(items: Iterable[RateCardItem], day: date) -> tuple[set[int], set[int]]:
    """The ids of the rates in force on `day`, and of those used on `day` although their period
    has ended because no later rate replaces them yet (the practice should add one)."""
    chosen = rates_on(items, day).values()
    current = {item.id for item in chosen if in_force(item, day)}
    return current, {item.id for item in chosen if item.id not in current}


def card_on(session: Session, practice_id: int, day: date) -> dict[str, RateCardItem]:
    """A practice's rates in force on `day`, by key."""
    return rates_on(rate_card(session, practice_id), day)


def period_text(item: RateCardItem) -> str:
    """ "2024/25", "from 6 April 2025" or "1 Aug 2025 to 31 Mar 2026", as the card shows."""
    if item.year:
        return item.year
    if item.valid_from and item.valid_to:
        return f"{long_date(item.valid_from)} to {long_date(item.valid_to)}"
    if item.valid_from:
        return f"from {long_date(item.valid_from)}"
    return ""


#: Upper bounds a rate-card figure may take, by unit.
RATE_LIMITS = {"%": Decimal("200"), "hour": Decimal("10000")}
DEFAULT_LIMIT = Decimal("10000")


def rate_problem(item: RateCardItem, value: Decimal | None) -> str | None:
    """Why a typed rate-card figure cannot be saved, or None."""
    what = "Percentage" if item.unit == "%" else "Rate"
    if value is None:
        example = "14.38" if item.unit == "%" else "18.66"
        return f"Enter the {what.lower()} as a number, like {example}"
    if value < 0:
        return f"{what} must be 0 or more"
    limit = RATE_LIMITS.get(item.unit, DEFAULT_LIMIT)
    if value > limit:
        return f"{what} must be {limit:,}{'%' if item.unit == '%' else ''} or less"
    if value != value.quantize(Decimal("0.01")):
        return f"{what} must have no more than 2 decimal places"
    return None


def update_rate_card(
    session: Session,
    practice_id: int,
    user_id: int | None,
    typed: dict[str, tuple[Decimal | None, str]],
) -> dict[str, str]:
    """Save a practice's edited rates and sources, all or nothing.

    `typed` maps a rate-card row's id (as text) to (value, source). Returns {id: problem};
    when it is not empty nothing was changed. A changed figure becomes the practice's own;
    each change goes to the audit trail. Lines already priced keep the figures they used.
    """
    from tracker.services import audit

    items = {str(item.id): item for item in rate_card(session, practice_id)}
    problems = {}
    valid: list[tuple[RateCardItem, Decimal, str]] = []
    for row_id, (value, source) in typed.items():
        item = items.get(row_id)
        if item is None:
            continue
        problem = rate_problem(item, value)
        if problem is None:
            problem = source_problem(source)
        if problem is not None:
            problems[row_id] = problem
        else:
            assert value is not None  # rate_problem refuses a missing value
            valid.append((item, value, source))
    if problems:
        return problems
    for item, value, source in valid:
        before = audit.snapshot(item, ["value", "source"])
        if Decimal(value) != item.value:
            item.is_own = True
        item.value = Decimal(value).quantize(Decimal("0.01"))
        item.source = source.strip()
        changes = audit.diff(before, audit.snapshot(item, ["value", "source"]))
        if changes:
            audit.record(
                session,
                user_id=user_id,
                entity=item,
                action="update",
                practice_id=practice_id,
                summary=f"Rate card: {item.label} ({period_text(item)})",
                changes=changes,
            )
    return {}


@dataclass(frozen=True)
class OwnRate:
    """A practice's own dated rate as typed: which rate, from when, the figure, the source."""

    key: str
    valid_from: date | None
    value: Decimal | None
    source: str
    label: str = ""


def source_problem(source: str) -> str | None:
    """What is wrong with a rate's typed source: its column's length, no control characters
    (a textarea, so line breaks are allowed)."""
    return text_problem("Source", source, string_length(RateCardItem, "source"), multiline=True)


def own_rate_problems(items: Iterable[RateCardItem], typed: OwnRate) -> dict[str, str]:
    """What is wrong with a new own rate, by form field name."""
    by_key = {item.key: item for item in items}
    problems = {}
    item = by_key.get(typed.key)
    if item is None:
        problems["key"] = "Choose the rate this figure is for"
    if typed.valid_from is None:
        problems["valid_from"] = "Enter the date the rate applies from, like 01/08/2025"
    elif typed.valid_from.year < 2000:
        problems["valid_from"] = "Date must be in the year 2000 or later"
    elif item is not None and any(
        row.key == typed.key and row.valid_from == typed.valid_from for row in items
    ):
        problems["valid_from"] = "Your card already has this rate from that date: change it above"
    if item is not None:
        problem = rate_problem(item, typed.value)
        if problem:
            problems["value"] = problem
    if not typed.source.strip():
        problems["source"] = "Say where the figure comes from, like 'Payroll, August 2025'"
    elif problem := source_problem(typed.source):
        problems["source"] = problem
    return problems


def add_own_rate(
    session: Session, practice_id: int, user_id: int | None, typed: OwnRate
) -> dict[str, str]:
    """Add a practice's own rate from a date (a pay rise, its actual pay). It applies to
    costs dated from then on, over the national figure, until a later rate starts."""
    from tracker.services import audit

    items = rate_card(session, practice_id)
    problems = own_rate_problems(items, typed)
    if problems:
        return problems
    template = next(item for item in items if item.key == typed.key)
    assert typed.value is not None and typed.valid_from is not None
    item = RateCardItem(
        practice_id=practice_id,
        key=template.key,
        label=template.label,
        cost_kind=template.cost_kind,
        unit=template.unit,
        value=typed.value.quantize(Decimal("0.01")),
        source=typed.source.strip(),
        year="",
        valid_from=typed.valid_from,
        valid_to=None,
        is_own=True,
        sort_order=template.sort_order,
    )
    session.add(item)
    session.flush()
    audit.record(
        session,
        user_id=user_id,
        entity=item,
        action="create",
        practice_id=practice_id,
        summary=f"Rate card: {item.label} {period_text(item)}",
        changes=audit.diff({}, audit.snapshot(item, ["value", "source", "valid_from"])),
    )
    return {}
