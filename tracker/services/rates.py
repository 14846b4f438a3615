"""The default rate card, from shared/data/README.md, each figure with its source and year."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import Practice, RateCardItem

PSSRU = "Unit Costs of Health and Social Care 2024 (PSSRU/Kent)"
AFC = "NHS Employers AfC pay scales 2024/25 (annual ÷ 52.143 ÷ 37.5), top of band"
LOCUM = "Management in Practice locum survey, Sept 2024: median £714 a day, 2 sessions a day"


@dataclass(frozen=True)
class DefaultRate:
    key: str
    label: str
    cost_kind: str | None
    unit: str
    value: Decimal
    source: str
    year: str


DEFAULT_RATES: tuple[DefaultRate, ...] = (
    DefaultRate(
        "gp_appointment",
        "GP appointment (10-minute surgery consultation)",
        "appointments",
        "appointment",
        Decimal("45.00"),
        f"{PSSRU}, table 9.4.2",
        "2023/24",
    ),
    DefaultRate(
        "nurse_appointment",
        "Practice nurse appointment (15 minutes at £47 an hour)",
        "appointments",
        "appointment",
        Decimal("11.75"),
        f"{PSSRU}, table 9.3.1",
        "2023/24",
    ),
    DefaultRate(
        "hca_appointment",
        "HCA appointment (15 minutes at Band 4, £39 an hour)",
        "appointments",
        "appointment",
        Decimal("9.75"),
        f"{PSSRU}, table 9.2.1",
        "2023/24",
    ),
    DefaultRate(
        "other_appointment",
        "Other clinician appointment (15 minutes at Band 6, £58 an hour)",
        "appointments",
        "appointment",
        Decimal("14.50"),
        f"{PSSRU}, table 9.2.1",
        "2023/24",
    ),
    DefaultRate(
        "gp_hour",
        "GP patient-contact time",
        "staff",
        "hour",
        Decimal("268.00"),
        f"{PSSRU}, 2024 manual",
        "2023/24",
    ),
    DefaultRate(
        "nurse_hour",
        "Practice nurse, Band 5 (incl. on-costs)",
        "staff",
        "hour",
        Decimal("47.00"),
        f"{PSSRU}, table 9.3.1",
        "2023/24",
    ),
    DefaultRate(
        "afc_band_2",
        "Agenda for Change Band 2 (e.g. receptionist)",
        "staff",
        "hour",
        Decimal("12.08"),
        AFC,
        "2024/25",
    ),
    DefaultRate(
        "afc_band_3",
        "Agenda for Change Band 3 (e.g. senior receptionist, HCA)",
        "staff",
        "hour",
        Decimal("13.13"),
        AFC,
        "2024/25",
    ),
    DefaultRate(
        "afc_band_4",
        "Agenda for Change Band 4 (e.g. administrator)",
        "staff",
        "hour",
        Decimal("14.89"),
        AFC,
        "2024/25",
    ),
    DefaultRate(
        "afc_band_5",
        "Agenda for Change Band 5 (e.g. practice nurse)",
        "staff",
        "hour",
        Decimal("18.66"),
        AFC,
        "2024/25",
    ),
    DefaultRate(
        "afc_band_6", "Agenda for Change Band 6", "staff", "hour", Decimal("22.99"), AFC, "2024/25"
    ),
    DefaultRate(
        "afc_band_7",
        "Agenda for Change Band 7 (e.g. practice manager)",
        "staff",
        "hour",
        Decimal("27.01"),
        AFC,
        "2024/25",
    ),
    DefaultRate(
        "locum_session",
        "Locum GP session (4 h 10 min)",
        "locum",
        "session",
        Decimal("357.00"),
        LOCUM,
        "2024",
    ),
    DefaultRate(
        "locum_hour",
        "Locum GP hour",
        "locum",
        "hour",
        Decimal("85.68"),
        f"{LOCUM}; £714 ÷ 8 h 20 min",
        "2024",
    ),
    DefaultRate(
        "overtime_pct",
        "Overtime premium (time and a half)",
        "staff",
        "%",
        Decimal("50.00"),
        "Practice policy: edit to match your staff contracts",
        "",
    ),
    DefaultRate(
        "pension_pct",
        "Employer NHS pension contribution",
        None,
        "%",
        Decimal("14.38"),
        "NHS Business Services Authority (23.7% total, the rest paid centrally)",
        "2024/25",
    ),
    DefaultRate(
        "ni_pct",
        "Employer National Insurance",
        None,
        "%",
        Decimal("13.80"),
        "HMRC rates: 13.8% above £9,100 a year; 15% above £5,000 from 6 April 2025",
        "2024/25",
    ),
)


def seed_rate_card(session: Session, practice: Practice) -> int:
    """Give a practice every default rate it does not have yet; its own edits are kept."""
    existing = set(
        session.scalars(select(RateCardItem.key).where(RateCardItem.practice_id == practice.id))
    )
    added = 0
    for order, rate in enumerate(DEFAULT_RATES):
        if rate.key in existing:
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
                sort_order=order,
            )
        )
        added += 1
    return added


def rate_card(session: Session, practice_id: int) -> dict[str, RateCardItem]:
    """A practice's rates by key, for prefilling cost-line forms."""
    items = session.scalars(
        select(RateCardItem)
        .where(RateCardItem.practice_id == practice_id)
        .order_by(RateCardItem.sort_order)
    )
    return {item.key: item for item in items}


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

    `typed` maps a rate key to (value, source). Returns {key: problem}; when it is not
    empty nothing was changed. Each change goes to the audit trail.
    """
    from tracker.services import audit

    items = rate_card(session, practice_id)
    problems = {}
    valid: list[tuple[RateCardItem, Decimal, str]] = []
    for key, (value, source) in typed.items():
        item = items.get(key)
        if item is None:
            continue
        problem = rate_problem(item, value)
        if problem is None and len(source) > 300:
            problem = "Source must be 300 characters or fewer"
        if problem is not None:
            problems[key] = problem
        else:
            assert value is not None  # rate_problem refuses a missing value
            valid.append((item, value, source))
    if problems:
        return problems
    for item, value, source in valid:
        before = audit.snapshot(item, ["value", "source"])
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
                summary=f"Rate card: {item.label}",
                changes=changes,
            )
    return {}
