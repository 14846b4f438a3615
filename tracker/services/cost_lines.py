"""Cost lines of an incident: check what was typed, compute the amount, save, audit.

The amount is always computed here, on the server, by services.costing (Decimal, rounded to
the penny per line). A line on an issued invoice is frozen: it is never edited or deleted.
What each kind of line holds, its limits and its messages come from tracker.cost_kinds; the
checks here are generic over those field specifications, plus the few cross-field rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, time
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.cost_kinds import (
    APPOINTMENT_RATE_KEYS,
    APPOINTMENT_TYPES,
    NUMERIC,
    ONCOSTS,
    RATES_INCLUDING_ONCOSTS,
    FieldSpec,
    FieldType,
    KindSpec,
    clean_details,
    spec_for,
)
from tracker.models import (
    CostKind,
    CostLine,
    Incident,
    Invoice,
    Practice,
    RateCardItem,
    table_of,
)
from tracker.presentation import (
    clock_text,
    format_money,
    format_number,
    long_date,
    minutes_to_hours,
    shortened,
    utc_to_london,
    whole_minutes,
)
from tracker.services import audit, costing, invoicing, locks
from tracker.services.costing import PayBasis
from tracker.services.errors import Conflict, DomainError, Invalid
from tracker.services.money import ZERO, to_pence
from tracker.services.rates import card_on, period_text, rate_card, rates_on
from tracker.services.text import text_problem

EARLIEST_DATE = date(2000, 1, 1)
#: The plain fields every line has, as the audit trail records them; the kind's text
#: details (tracker.cost_kinds) are added by `audit_snapshot`.
AUDITED_LINE_FIELDS = [
    "kind",
    "line_date",
    "description",
    "quantity",
    "unit",
    "unit_rate",
    "overtime_pct",
    "pension_pct",
    "ni_pct",
    "vat_rate",
    "base_amount",
    "premium_amount",
    "ni_amount",
    "pension_amount",
    "net_amount",
    "vat_amount",
    "total_amount",
    "working",
]
REBOOK_ROLE = "Administrative staff (rebooking)"


@dataclass
class LineInput:
    """One cost line as typed. Numbers are Decimals already parsed by the form; the kind's
    text details (staff role, locum's name, supplier, ...) are in `details` by field name."""

    kind: str
    line_date: date | None
    description: str
    quantity: Decimal | None = None
    unit: str = "hour"
    unit_rate: Decimal | None = None
    overtime_pct: Decimal | None = ZERO
    vat_rate: Decimal | None = None
    #: other expenses: the receipt's VAT
    vat_paid: Decimal | None = ZERO
    #: lost appointments: admin time to rebook, added as its own staff-time line
    rebook_hours: Decimal | None = None
    rebook_rate: Decimal | None = None
    rebook_basis: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def value(self, spec: FieldSpec) -> Any:
        """What was typed into the field `spec`."""
        return self.details.get(spec.name) if spec.detail else getattr(self, spec.target)

    def put(self, spec: FieldSpec, value: Any) -> None:
        if spec.detail:
            self.details[spec.name] = value
        else:
            setattr(self, spec.target, value)


def line_input(kind: str, values: Mapping[str, Any]) -> LineInput:
    """A line as typed into the kind's form (`values` by form field name)."""
    spec = spec_for(kind)
    inp = LineInput(kind=kind, line_date=None, description="")
    for item in spec.fields:
        inp.put(item, values.get(item.name))
    inp.description = inp.description or ""
    inp.unit = _unit(inp, spec)
    return inp


def line_input_from(line: CostLine) -> LineInput:
    """A stored line as form input, for the edit form."""
    spec = spec_for(line.kind)
    inp = LineInput(
        kind=line.kind,
        line_date=line.line_date,
        description=line.description,
        unit=line.unit,
        details=dict(line.details or {}),
    )
    for item in spec.fields:
        if item.type in NUMERIC and item.source_column:
            setattr(inp, item.target, getattr(line, item.source_column))
    return inp


def form_values(inp: LineInput) -> dict[str, Any]:
    """The kind's form fields' values for a line, by form field name (for the edit form)."""
    return {item.name: inp.value(item) for item in spec_for(inp.kind).fields}


def _unit(inp: LineInput, spec: KindSpec) -> str:
    """The unit charged: chosen on the form when the kind offers a choice, else fixed."""
    if spec.has("unit"):
        return inp.unit or spec.units[0]
    return spec.units[0]


# --- checks ----------------------------------------------------------------------------


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _lower_first(what: str) -> str:
    """ "Hourly rate" -> "hourly rate", but "VAT paid" and "National Insurance" keep their
    capitals."""
    first = what.split()[0]
    if first.isupper() or what.startswith("National Insurance"):
        return what
    return first.lower() + what.removeprefix(first)


def _check_number(
    value: Decimal | None,
    field: str,
    what: str,
    *,
    maximum: Decimal | None,
    money: bool = False,
    allow_zero: bool = True,
    required: bool = True,
    places: int = 2,
    minutes: bool = False,
) -> Invalid | None:
    """The problem with a typed number, or None. Zero and negatives get one message each way:
    a field that must be more than 0 says so for -5 as for 0. With `minutes`, hours typed as
    h:mm (any whole number of minutes, 4.1667 for 4:10) may have up to 4 places."""
    if value is None:
        return Invalid(f"Enter the {_lower_first(what)}", field) if required else None
    if value <= 0 and not allow_zero:
        return Invalid(f"{what} must be more than 0", field)
    if value < 0:
        return Invalid(f"{what} must be 0 or more", field)
    if maximum is not None and value > maximum:
        limit = format_money(maximum) if money else format_number(maximum)
        return Invalid(f"{what} must be {limit} or less", field)
    if _places(value) > places and not (minutes and whole_minutes(value) is not None):
        if minutes:
            return Invalid(
                f"{what} must have no more than {places} decimal places, or be typed as h:mm, "
                "like 4:10",
                field,
            )
        if places == 0:
            return Invalid(f"{what} must be a whole number", field)
        return Invalid(f"{what} must have no more than {places} decimal places", field)
    return None


def clock_unit_problem(unit: str) -> str:
    """Why a quantity typed as h:mm is refused in a unit other than hours (2 sessions)."""
    return f"Enter {unit}s as a number, like 2: h:mm is for hours"


def decimal_hours_problem(spec: FieldSpec, value: Decimal | None, typed_clock: bool) -> str | None:
    """Hours typed as a decimal keep at most `spec.places` places: only h:mm stores more
    (4:10 is 4.1667), so "4.1667" typed as a decimal is refused rather than taken for a
    time. None for a field that is not in hours, or a value typed as h:mm."""
    if not spec.clock_units or typed_clock or not isinstance(value, Decimal):
        return None
    if value == value.quantize(Decimal(1).scaleb(-spec.places)):
        return None
    return (
        f"{spec.noun_for('hour')} must have no more than {spec.places} decimal places, "
        "or be typed as h:mm, like 4:10"
    )


def _check_text(spec: FieldSpec, value: Any, required: bool) -> Invalid | None:
    text = str(value or "")
    if not text.strip():
        missing = spec.missing or f"Enter the {spec.label.lower()}"
        return Invalid(missing, spec.name) if required else None
    problem = text_problem(spec.label, text, spec.max_length)
    return Invalid(problem, spec.name) if problem else None


def _check_date(spec: FieldSpec, value: date | None, today: date) -> Invalid | None:
    if value is None:
        return Invalid(spec.missing, spec.name)
    if value > today:
        return Invalid("Date must be today or in the past", spec.name)
    if value < EARLIEST_DATE:
        return Invalid("Date must be in the year 2000 or later", spec.name)
    return None


def field_problem(
    spec: FieldSpec, value: Any, unit: str, today: date, *, required: bool | None = None
) -> Invalid | None:
    """The problem with one field's value, by its specification (type, limits, messages)."""
    needed = spec.required if required is None else required
    if spec.type == FieldType.DATE:
        return _check_date(spec, value, today)
    if spec.type == FieldType.TEXT:
        return _check_text(spec, value, needed)
    if spec.type == FieldType.CHOICE:
        if value in dict(spec.choices) or (value in (None, "") and not needed):
            return None
        return Invalid(spec.choose, spec.name)
    return _check_number(
        value,
        spec.name,
        spec.noun_for(unit),
        maximum=spec.maximum_for(unit),
        money=spec.type == FieldType.MONEY,
        allow_zero=spec.allow_zero,
        required=needed,
        places=spec.places,
        minutes=unit in spec.clock_units,
    )


def line_problems(inp: LineInput, today: date, *, editing: bool = False) -> list[DomainError]:
    """Every problem with a line as typed, each naming its form field. An optional group of
    fields (the rebooking time of lost appointments) is only offered when adding a line, so
    an edit ignores it."""
    if inp.kind not in set(CostKind):
        return [Invalid("Choose the kind of cost", "kind")]
    spec = spec_for(inp.kind)
    unit = _unit(inp, spec)
    problems: list[Invalid | None] = [
        field_problem(item, inp.value(item), unit, today) for item in spec.main_fields()
    ]
    if spec.has("unit") and unit not in spec.units:
        kept = [p for p in problems if p and p.field in ("line_date", "description")]
        return [*kept, Invalid(spec.field_named("unit").choose, "unit")]
    if not editing:
        problems += _group_problems(inp, spec, unit, today)
    problems += _cross_field_problems(inp)
    return [p for p in problems if p is not None]


def _group_problems(inp: LineInput, spec: KindSpec, unit: str, today: date) -> list[Invalid | None]:
    """An optional group, once started, needs every field: the rebooking time takes both
    the admin hours and their rate (or neither), then its on-costs."""
    problems: list[Invalid | None] = []
    for group in spec.groups:
        members = spec.grouped_fields(group.name)
        hours, rate = inp.value(members[0]), inp.value(members[1])
        if (hours is None) != (rate is None):
            missing = members[1] if rate is None else members[0]
            problems.append(
                Invalid(
                    "Enter both the admin hours and their hourly rate, or neither", missing.name
                )
            )
        elif hours is not None:
            problems += [
                field_problem(item, inp.value(item), unit, today, required=True)
                for item in members
                if item.name != "overtime_pct" or (inp.rebook_basis or "overtime") == "overtime"
            ]
    return problems


def _cross_field_problems(inp: LineInput) -> list[Invalid | None]:
    """Rules between fields, kept explicit: VAT paid is never more than the net amount, and
    overtime needs its premium."""
    if (
        inp.kind == CostKind.STAFF
        and inp.details.get("pay_basis", "overtime") == "overtime"
        and inp.overtime_pct is None
    ):
        return [Invalid("Enter the overtime premium, or 0", "overtime_pct")]
    if (
        inp.kind == CostKind.EXPENSE
        and inp.unit_rate is not None
        and inp.vat_paid is not None
        and inp.unit_rate > 0
        and inp.vat_paid > inp.unit_rate
    ):
        return [Invalid("VAT paid cannot be more than the net amount", "vat_paid")]
    return []


@dataclass(frozen=True)
class PricingContext:
    """What a line's price depends on besides what was typed: the practice's rate-card rates
    in force on the line's date (employer NI and pension come from there, never from the
    form) and whether the practice is registered for VAT (which decides how an expense's
    VAT is claimed)."""

    rates: Mapping[str, RateCardItem] = field(default_factory=dict)
    vat_registered: bool = False

    def pct(self, key: str) -> Decimal:
        item = self.rates.get(key)
        return item.value if item is not None else ZERO


#: The rate-card keys of the on-costs a line may take from the card.
CARD_ONCOSTS = ("ni_pct", "pension_pct")


def pricing_context(session: Session, practice: Practice, day: date | None) -> PricingContext:
    """The rates in force on `day` on the practice's card, and its VAT registration."""
    rates = card_on(session, practice.id, day) if day is not None else {}
    return PricingContext(rates=rates, vat_registered=bool((practice.vat_number or "").strip()))


def applied_oncosts(inp: LineInput, context: PricingContext) -> dict[str, Decimal]:
    """The on-cost percentages the line is priced with; those that do not apply are zero.

    Staff: the premium only on overtime; NI on all pay unless the rate includes on-costs;
    pension only on a part-timer's additional hours. Locum: pension only when the locum pays
    into the scheme through the practice. Lost appointments and expenses: none.
    """
    none = dict.fromkeys(ONCOSTS, ZERO)
    if inp.kind == CostKind.STAFF:
        basis = PayBasis(str(inp.details.get("pay_basis") or PayBasis.OVERTIME))
        if basis == PayBasis.INCLUSIVE:
            return none
        return {
            "overtime_pct": (inp.overtime_pct or ZERO) if basis == PayBasis.OVERTIME else ZERO,
            "ni_pct": context.pct("ni_pct"),
            "pension_pct": context.pct("pension_pct") if basis == PayBasis.ADDITIONAL else ZERO,
        }
    if inp.kind == CostKind.LOCUM and inp.details.get("locum_pension") == "scheme":
        return {**none, "pension_pct": context.pct("pension_pct")}
    return none


def compute(inp: LineInput, context: PricingContext | None = None) -> costing.LineAmounts:
    """The line's amounts and working by the cost model's formula for its kind, with the
    on-costs that apply to it at the rates in force on its date. For a practice without a
    VAT number, VAT a supplier charged is part of the cost, never VAT on the invoice."""
    context = context or PricingContext()
    amounts = _compute(inp, context)
    return amounts if context.vat_registered else costing.vat_as_cost(amounts)


def _compute(inp: LineInput, context: PricingContext) -> costing.LineAmounts:
    rate = inp.unit_rate or ZERO
    if inp.kind == CostKind.EXPENSE:
        return costing.other_expense(
            rate, inp.vat_paid or ZERO, vat_registered=context.vat_registered
        )
    assert inp.quantity is not None
    pct = applied_oncosts(inp, context)
    if inp.kind == CostKind.STAFF:
        return costing.staff_time(
            inp.quantity,
            rate,
            basis=str(inp.details.get("pay_basis") or PayBasis.OVERTIME),
            overtime_pct=pct["overtime_pct"],
            ni_pct=pct["ni_pct"],
            pension_pct=pct["pension_pct"],
            vat_rate=inp.vat_rate,
        )
    if inp.kind == CostKind.LOCUM:
        return costing.locum_cover(
            inp.quantity,
            rate,
            inp.unit,
            pays_into_scheme=inp.details.get("locum_pension") == "scheme",
            pension_pct=pct["pension_pct"],
            vat_rate=inp.vat_rate,
        )
    return costing.lost_appointments(inp.quantity, rate, inp.vat_rate)


def rates_used(pct: Mapping[str, Decimal], context: PricingContext) -> list[dict[str, str]]:
    """The rate-card rates a line was priced with, and their sources, to store with it."""
    used = []
    for key in CARD_ONCOSTS:
        item = context.rates.get(key)
        if item is not None and pct.get(key):
            used.append(
                {
                    "key": key,
                    "label": item.label,
                    "value": str(item.value),
                    "source": item.source,
                    "period": period_text(item),
                }
            )
    return used


def price_into(line: CostLine, inp: LineInput, context: PricingContext | None = None) -> None:
    """Price a line as typed and store it: amounts, parts, working, the rates it used."""
    context = context or PricingContext()
    amounts = compute(inp, context)
    spec = spec_for(inp.kind)
    line.kind = spec.kind
    line.line_date = inp.line_date  # type: ignore[assignment]
    line.description = inp.description.strip()
    if inp.kind == CostKind.EXPENSE:
        line.quantity, line.unit = Decimal(1), "item"
        line.unit_rate = amounts.unit_rate or ZERO
        line.receipt_net = to_pence(inp.unit_rate or ZERO)
        line.receipt_vat = to_pence(inp.vat_paid or ZERO)
        line.vat_rate = amounts.vat_rate
    else:
        line.quantity, line.unit = inp.quantity, _unit(inp, spec)  # type: ignore[assignment]
        line.unit_rate = inp.unit_rate  # type: ignore[assignment]
        line.receipt_net = line.receipt_vat = None
        # the rate the supplier charged, kept to price the line again when it is edited
        line.vat_rate = inp.vat_rate if (spec.has("vat_rate") and inp.vat_rate) else None
    pct = applied_oncosts(inp, context)
    for name, value in pct.items():
        setattr(line, name, value)
    set_amounts(line, amounts)
    line.rates_used = rates_used(pct, context)
    line.details = clean_details(inp.kind, inp.details)


def set_amounts(line: CostLine, amounts: costing.LineAmounts) -> None:
    """Store a priced line's parts, totals and working on the cost line."""
    line.base_amount, line.premium_amount = amounts.base, amounts.premium
    line.ni_amount, line.pension_amount = amounts.ni, amounts.pension
    line.net_amount, line.vat_amount, line.total_amount = amounts.net, amounts.vat, amounts.total
    line.working = amounts.working[:300]


def audit_snapshot(line: CostLine) -> dict[str, Any]:
    """The line as the audit trail records it: its plain fields and its kind's details."""
    values = audit.snapshot(line, AUDITED_LINE_FIELDS)
    details = line.details or {}
    values.update({item.name: details.get(item.name) for item in spec_for(line.kind).details})
    return values


def _check(inp: LineInput, today: date, *, editing: bool = False) -> None:
    problems = line_problems(inp, today, editing=editing)
    if problems:
        raise problems[0]


# --- hours from a start and a finish (the timesheet page; tracker.columns) ------------


def _minutes(clock: time) -> int:
    return clock.hour * 60 + clock.minute


def hours_between(start: time, finish: time) -> Decimal:
    """The hours from `start` to `finish`, to the minute (minutes_to_hours, the rule by which
    h:mm is stored); a finish earlier than the start is the next morning (a night shift)."""
    return minutes_to_hours((_minutes(finish) - _minutes(start)) % (24 * 60))


def worked_hours(
    start: time | None, finish: time | None, hours: Decimal | None
) -> tuple[Decimal | None, list[Invalid]]:
    """The hours of a staff-time line given as Start and Finish, or as Hours (the rule of
    tracker.columns): Hours wins when both are given, as it is what was paid and may leave
    out a break, so it may not be more than the time between them; without Hours, both
    times are needed. Returns the hours (None when unknown) and the problems, each naming
    its field ("start", "finish" or "quantity"), worded as the import words them."""
    if start is None and finish is None:
        if hours is None:
            return None, [Invalid("Enter the hours, or the start and finish times", "quantity")]
        return hours, []
    if start is None or finish is None:
        missing = "start" if start is None else "finish"
        problem = Invalid(f"Enter the {missing} time too, or the hours", missing)
        return hours, [] if hours is not None else [problem]
    if start == finish:
        return hours, [
            Invalid("The finish time is the same as the start: enter the hours worked", "finish")
        ]
    span = hours_between(start, finish)
    if hours is None:
        return span, []
    if hours > span:
        minutes = (_minutes(finish) - _minutes(start)) % (24 * 60)
        overnight = " (next day)" if finish < start else ""
        worked = f"{start:%H:%M} to {finish:%H:%M}{overnight}"
        return hours, [
            Invalid(
                f"{format_number(hours)} hours is more than the time from {worked} "
                f"({clock_text(minutes)}): check the hours or the times",
                "quantity",
            )
        ]
    return hours, []


# --- dates a reviewer would query --------------------------------------------------------

#: A cost dated this many days after its incident ended (or started, while it has no end)
#: is still plausible (catch-up overtime, a locum clearing the backlog); later ones are
#: flagged for a check.
DAYS_AFTER_INCIDENT = 28


def _span(days: int) -> str:
    """How far apart two dates are, in the unit people would say: 3 days, 5 months, 3 years."""
    if days >= 730:
        count, unit = days // 365, "year"
    elif days >= 61:
        count, unit = days // 30, "month"
    else:
        count, unit = days, "day"
    return f"{count} {unit}{'' if count == 1 else 's'}"


def date_warning(line_date: date | None, incident: Incident) -> str | None:
    """Why a cost's date looks wrong for its incident, or None: dated before the incident
    started, or more than DAYS_AFTER_INCIDENT days after it ended (after it started, when it
    has no end). A warning, not a refusal: such a date can be right, but an ICB reviewer
    would query it, so the practice is asked to check it first."""
    if line_date is None:
        return None
    started = utc_to_london(incident.starts_at).date()
    if line_date < started:
        return (
            f"Dated {_span((started - line_date).days)} before the incident started "
            f"({long_date(started)}): check the date"
        )
    ended = utc_to_london(incident.ends_at).date() if incident.ends_at else None
    last = ended or started
    after = (line_date - last).days
    if after > DAYS_AFTER_INCIDENT:
        what = "ended" if ended else "started"
        return f"Dated {_span(after)} after the incident {what} ({long_date(last)}): check the date"
    return None


def invoice_date_warnings(session: Session, invoice: Invoice) -> list[str]:
    """A draft's lines whose dates look wrong for their incidents (date_warning),
    to check before issuing: "Line 2, Overtime: Dated 3 years before the incident ..."."""
    ids = {line.incident_id for line in invoice.lines if line.incident_id}
    if not ids:
        return []
    incidents = {i.id: i for i in session.scalars(select(Incident).where(Incident.id.in_(ids)))}
    warnings = []
    for line in invoice.lines:
        incident = incidents.get(line.incident_id) if line.incident_id else None
        warning = date_warning(line.line_date, incident) if incident else None
        if warning:
            warnings.append(f"Line {line.position}, {shortened(line.description)}: {warning}.")
    return warnings


# --- saving ----------------------------------------------------------------------------


def add_line(
    session: Session, incident: Incident, user_id: int | None, inp: LineInput, today: date
) -> list[CostLine]:
    """Add a line (and, for lost appointments with admin time, its rebooking staff line)."""
    context = pricing_context(session, incident.practice, inp.line_date)
    lines = []
    for one in lines_of(inp):
        _check(one, today)
        lines.append(_new_line(session, incident, user_id, one, context))
    return lines


def lines_of(inp: LineInput) -> list[LineInput]:
    """The lines one input makes: itself, and for lost appointments with admin time to
    rebook, that time as its own staff-time line."""
    if inp.kind == CostKind.APPOINTMENTS and inp.rebook_hours is not None:
        return [inp, _rebooking_line(inp)]
    return [inp]


class PricingContexts:
    """The pricing context of each day of one practice, its rate card read once: pricing
    many lines (an import) asks the card for each day's rates without a query per line."""

    def __init__(self, session: Session, practice: Practice) -> None:
        self.items = rate_card(session, practice.id)
        self.vat_registered = bool((practice.vat_number or "").strip())
        self.by_day: dict[date | None, PricingContext] = {}

    def on(self, day: date | None) -> PricingContext:
        if day not in self.by_day:
            rates = rates_on(self.items, day) if day is not None else {}
            self.by_day[day] = PricingContext(rates=rates, vat_registered=self.vat_registered)
        return self.by_day[day]


def add_lines(
    session: Session,
    incident: Incident,
    user_id: int | None,
    inputs: list[LineInput],
    today: date,
) -> list[CostLine]:
    """Add many lines at once (an import): each checked and priced exactly as `add_line`
    does (with its rebooking line), all inserted in one flush. No audit entry is recorded
    per line: the caller records one for the whole batch, listing its lines."""
    contexts = PricingContexts(session, incident.practice)
    lines = []
    for inp in inputs:
        for one in lines_of(inp):
            _check(one, today)
            line = CostLine(incident_id=incident.id, created_by_id=user_id)
            price_into(line, one, contexts.on(one.line_date))
            lines.append(line)
    session.add_all(lines)
    session.flush()
    return lines


def _rebooking_line(inp: LineInput) -> LineInput:
    """Admin time to rebook lost appointments, as its own staff-time line."""
    what = APPOINTMENT_TYPES.get(str(inp.details.get("appointment_type") or "other"), "Other")
    return LineInput(
        kind=CostKind.STAFF.value,
        line_date=inp.line_date,
        description=f"Admin time to rebook {format_number(inp.quantity)} {what} appointments",
        quantity=inp.rebook_hours,
        unit="hour",
        unit_rate=inp.rebook_rate,
        overtime_pct=inp.overtime_pct,
        details={"staff_role": REBOOK_ROLE, "pay_basis": inp.rebook_basis or PayBasis.OVERTIME},
    )


def _new_line(
    session: Session,
    incident: Incident,
    user_id: int | None,
    inp: LineInput,
    context: PricingContext,
) -> CostLine:
    line = CostLine(incident_id=incident.id, created_by_id=user_id)
    price_into(line, inp, context)
    session.add(line)
    session.flush()
    audit.record(
        session,
        user_id=user_id,
        entity=line,
        action="create",
        practice_id=incident.practice_id,
        incident_id=incident.id,
        summary=f"{CostKind(line.kind).label} added: {line.description} "
        f"({format_money(line.total_amount)})",
        changes=audit.diff({}, audit_snapshot(line)),
    )
    return line


FROZEN = (
    "This cost is on an issued invoice and can no longer be {verb}. "
    "To correct it, cancel the invoice with a credit note."
)


def ensure_editable(line: CostLine, verb: str = "changed") -> None:
    """Say early, on a page, that a line on an issued invoice is frozen. A read only: the
    line can be issued a moment later, so every write holds it with `hold_editable`."""
    if line.is_locked:
        raise Conflict(FROZEN.format(verb=verb))


def hold_editable(
    session: Session, line: CostLine, message: str | None = None, field: str | None = None
) -> None:
    """The one guard of every write to a cost line: hold the line if, and only if, it is
    on no issued invoice (services.locks: a row lock on PostgreSQL, the write lock on
    SQLite), then re-read it. Issuing holds the same row before it copies it, so an edit
    or a delete either comes first (and the invoice copies the result) or finds the line
    frozen and is refused with `message`; never both. Call it before changing the line's
    attributes: a pending change would be written before the hold."""
    cost_lines = table_of(CostLine)
    held = locks.hold(
        session, CostLine, cost_lines.c.id == line.id, cost_lines.c.invoice_id.is_(None)
    )
    if not held:
        raise Conflict(message or FROZEN.format(verb="changed"), field)
    session.expire(line)  # loaded before the hold: read it again, as committed


def update_line(
    session: Session, line: CostLine, user_id: int | None, inp: LineInput, today: date
) -> dict[str, list[Any]]:
    """Price a line again as typed, audit the change and rebuild the drafts copying it."""
    hold_editable(session, line)
    if inp.kind != line.kind:
        raise Invalid("The kind of a cost cannot change: delete it and add a new one", "kind")
    inp = replace(inp, rebook_hours=None, rebook_rate=None)
    _check(inp, today, editing=True)
    context = pricing_context(session, line.incident.practice, inp.line_date)
    practice_id = line.incident.practice_id
    changes = _price_again(session, line, inp, context, user_id, practice_id, why="changed")
    invoicing.refresh_drafts_holding(session, [line.id])
    return changes


def _price_again(
    session: Session,
    line: CostLine,
    inp: LineInput,
    context: PricingContext,
    user_id: int | None,
    practice_id: int,
    *,
    why: str,
) -> dict[str, list[Any]]:
    """Price a held line from `inp` and audit what moved ("<kind> <why>: <description>");
    nothing is audited when nothing changed."""
    before = audit_snapshot(line)
    price_into(line, inp, context)
    changes = audit.diff(before, audit_snapshot(line))
    if changes:
        audit.record(
            session,
            user_id=user_id,
            entity=line,
            action="update",
            practice_id=practice_id,
            incident_id=line.incident_id,
            summary=f"{CostKind(line.kind).label} {why}: {line.description}",
            changes=changes,
        )
    return changes


def reprice_expenses_for_vat(session: Session, practice: Practice, user_id: int | None) -> None:
    """After a practice's VAT registration changes, price its expenses not yet on an issued
    invoice again from their receipts: registered, it reclaims the VAT it paid and claims
    net + VAT; unregistered, the VAT is part of its cost. An expense uses no rate-card
    figure, so nothing else about the line moves (other lines keep the rates they used).

    Open points, recorded rather than hidden: HMRC lets a newly registered business reclaim
    VAT paid before registration only on goods still on hand (up to 4 years) and services up
    to 6 months back (VAT Notice 700, section 11), and consumed outage purchases rarely
    qualify.

    The expenses are held before they are read (services.locks), with `invoice_id IS NULL`
    in the holding statement: an expense issued a moment earlier is no longer uninvoiced
    when the hold is taken, so it keeps the price it was issued at; one issued a moment
    later is copied by the invoice as re-priced here."""
    cost_lines = table_of(CostLine)
    incidents = select(Incident.id).where(Incident.practice_id == practice.id)
    held = locks.hold(
        session,
        CostLine,
        cost_lines.c.incident_id.in_(incidents),
        cost_lines.c.kind == CostKind.EXPENSE.value,
        cost_lines.c.invoice_id.is_(None),
    )
    stmt = (
        select(CostLine)
        .where(CostLine.id.in_(held))
        .order_by(CostLine.id)
        .execution_options(populate_existing=True)
    )
    context = PricingContext(vat_registered=bool((practice.vat_number or "").strip()))
    for line in session.scalars(stmt).all():
        inp = line_input_from(line)
        _price_again(session, line, inp, context, user_id, practice.id, why="priced again for VAT")
    session.flush()


def delete_line(session: Session, line: CostLine, user_id: int | None) -> list[str]:
    """Delete an uninvoiced line and its evidence; returns the stored file names to remove
    once the transaction has committed."""
    hold_editable(session, line, FROZEN.format(verb="deleted"))
    invoicing.refresh_drafts_holding(session, [line.id], removing=True)
    stored = [item.stored_name for item in line.evidence]
    audit.record(
        session,
        user_id=user_id,
        entity=line,
        action="delete",
        practice_id=line.incident.practice_id,
        incident_id=line.incident_id,
        summary=f"{CostKind(line.kind).label} deleted: {line.description} "
        f"({format_money(line.total_amount)})",
        changes=audit.diff(audit_snapshot(line), {}),
    )
    for item in list(line.evidence):
        session.delete(item)
    session.delete(line)
    session.flush()
    return stored


# --- prefilling a new line from the practice's rate card -------------------------------


@dataclass
class Prefill:
    """Figures for a new line's form from the rate card, and the "fill in from your rate
    card" links: `options` are the rate-card items, `link_values` what each link passes as
    `param`, `chosen` the item in use. `on` is the day whose rates were used."""

    values: dict[str, Any] = field(default_factory=dict)
    options: list[RateCardItem] = field(default_factory=list)
    chosen: str = ""
    param: str = ""
    link_values: dict[str, str] = field(default_factory=dict)
    admin_rate: Decimal | None = None
    on: date | None = None


def prefill(
    card: Mapping[str, RateCardItem], kind: str, asked: str | None, on: date | None = None
) -> Prefill:
    """A new line's figures from the rate card in force on `on` (the incident's first day);
    `asked` is the link the user followed. Employer NI and pension are not prefilled: they
    are taken from the card for the line's own date when it is saved."""
    spec = spec_for(kind)
    premium = card["overtime_pct"].value if "overtime_pct" in card else ZERO
    if kind == CostKind.STAFF:
        return replace(_prefill_staff(card, spec, premium, asked or ""), on=on)
    if kind == CostKind.LOCUM:
        unit = asked if asked in spec.units else spec.units[0]
        item = card.get(f"locum_{unit}")
        return Prefill(
            values={"unit": unit, "unit_rate": item.value if item else None},
            options=[card[key] for key in ("locum_session", "locum_hour") if key in card],
            chosen=f"locum_{unit}",
            param=spec.prefill_param or "",
            link_values={"locum_session": "session", "locum_hour": "hour"},
            on=on,
        )
    if kind == CostKind.APPOINTMENTS:
        kind_key = asked if asked in APPOINTMENT_TYPES else "gp"
        item = card.get(APPOINTMENT_RATE_KEYS[kind_key])
        admin = card.get("afc_band_3")
        values = {key: t for t, key in APPOINTMENT_RATE_KEYS.items()}
        return Prefill(
            values={
                "appointment_type": kind_key,
                "unit_rate": item.value if item else None,
                "rebook_rate": None,
                "rebook_basis": PayBasis.OVERTIME.value,
                "overtime_pct": premium,
            },
            options=[card[key] for key in values if key in card],
            chosen=item.key if item else "",
            param=spec.prefill_param or "",
            link_values=values,
            admin_rate=admin.value if admin else None,
            on=on,
        )
    return Prefill(on=on)


def _prefill_staff(
    card: Mapping[str, RateCardItem], spec: KindSpec, premium: Decimal, asked: str
) -> Prefill:
    """Staff time from an hourly staff rate (Band 2 by default). PSSRU unit costs already
    include on-costs: they are marked so and nothing is added to them."""
    staff_rates = [
        item for item in card.values() if item.cost_kind == "staff" and item.unit == "hour"
    ]
    by_key = {item.key: item for item in staff_rates}
    item = (
        by_key.get(asked) or by_key.get("afc_band_2") or (staff_rates[0] if staff_rates else None)
    )
    values: dict[str, Any] = {}
    chosen = asked
    if item is not None:
        values = {"unit_rate": item.value, "staff_role": item.label}
        chosen = item.key
    includes_oncosts = chosen in RATES_INCLUDING_ONCOSTS
    values["pay_basis"] = PayBasis.INCLUSIVE.value if includes_oncosts else PayBasis.OVERTIME.value
    values["overtime_pct"] = ZERO if includes_oncosts else premium
    return Prefill(
        values=values,
        options=staff_rates,
        chosen=chosen,
        param=spec.prefill_param or "",
        link_values={key: key for key in by_key},
    )
