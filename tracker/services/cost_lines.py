"""Cost lines of an incident: check what was typed, compute the amount, save, audit.

The amount is always computed here, on the server, by services.costing (Decimal, rounded to
the penny per line). A line on an issued invoice is frozen: it is never edited or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from tracker.models import CostKind, CostLine, Incident
from tracker.presentation import format_money, format_number
from tracker.services import audit, costing, invoicing
from tracker.services.errors import DomainError
from tracker.services.money import ZERO, to_pence

#: Highest hourly, sessional or per-appointment rate accepted: anything above is a typo.
MAX_RATE = Decimal("10000")
MAX_EXPENSE = Decimal("1000000")
MAX_QUANTITY = {
    "hour": Decimal("10000"),
    "session": Decimal("1000"),
    "appointment": Decimal("100000"),
}
MAX_DESCRIPTION = 500
EARLIEST_DATE = date(2000, 1, 1)

APPOINTMENT_TYPES = {
    "gp": "GP",
    "nurse": "Nurse",
    "hca": "HCA",
    "other": "Other clinician",
}
#: Rate-card keys that prefill each appointment type's unit cost.
APPOINTMENT_RATE_KEYS = {
    "gp": "gp_appointment",
    "nurse": "nurse_appointment",
    "hca": "hca_appointment",
    "other": "other_appointment",
}
QUANTITY_WORDS = {"hour": "Hours", "session": "Sessions", "appointment": "Number of appointments"}
RATE_WORDS = {"hour": "Hourly rate", "session": "Rate per session", "appointment": "Unit cost"}


@dataclass
class LineInput:
    """One cost line as typed. Numbers are Decimals already parsed by the form."""

    kind: str
    line_date: date | None
    description: str
    quantity: Decimal | None = None
    unit: str = "hour"
    unit_rate: Decimal | None = None
    overtime_pct: Decimal | None = ZERO
    pension_pct: Decimal | None = ZERO
    ni_pct: Decimal | None = ZERO
    vat_rate: Decimal | None = None
    staff_role: str | None = None
    locum_name: str | None = None
    locum_invoice_ref: str | None = None
    appointment_type: str | None = None
    supplier: str | None = None
    #: other expenses: the receipt's VAT
    vat_paid: Decimal | None = ZERO
    #: lost appointments: admin time to rebook, added as its own staff-time line
    rebook_hours: Decimal | None = None
    rebook_rate: Decimal | None = None


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
    maximum: Decimal,
    money: bool = False,
    allow_zero: bool = True,
    required: bool = True,
) -> DomainError | None:
    if value is None:
        return DomainError(f"Enter the {_lower_first(what)}", field) if required else None
    if value < 0:
        return DomainError(f"{what} must be 0 or more", field)
    if value == 0 and not allow_zero:
        return DomainError(f"{what} must be more than 0", field)
    if value > maximum:
        limit = format_money(maximum) if money else format_number(maximum)
        return DomainError(f"{what} must be {limit} or less", field)
    if _places(value) > 2:
        return DomainError(f"{what} must have no more than 2 decimal places", field)
    return None


def line_problems(inp: LineInput, today: date) -> list[DomainError]:
    """Every problem with a line as typed, each naming its form field."""
    problems: list[DomainError | None] = []
    if inp.kind not in set(CostKind):
        return [DomainError("Choose the kind of cost", "kind")]
    if inp.line_date is None:
        problems.append(DomainError("Enter the date of the cost", "line_date"))
    elif inp.line_date > today:
        problems.append(DomainError("Date must be today or in the past", "line_date"))
    elif inp.line_date < EARLIEST_DATE:
        problems.append(DomainError("Date must be in the year 2000 or later", "line_date"))
    if not inp.description.strip():
        problems.append(DomainError("Enter a description", "description"))
    elif len(inp.description) > MAX_DESCRIPTION:
        problems.append(
            DomainError(
                f"Description must be {MAX_DESCRIPTION} characters or fewer "
                f"(you entered {len(inp.description):,})",
                "description",
            )
        )
    if inp.kind == CostKind.EXPENSE:
        problems += _expense_problems(inp)
    else:
        problems += _rated_problems(inp)
    return [p for p in problems if p is not None]


def _rated_problems(inp: LineInput) -> list[DomainError | None]:
    unit = inp.unit
    expected_units = {
        CostKind.STAFF: ("hour",),
        CostKind.LOCUM: ("session", "hour"),
        CostKind.APPOINTMENTS: ("appointment",),
    }[CostKind(inp.kind)]
    if unit not in expected_units:
        return [DomainError("Choose sessions or hours", "unit")]
    quantity_word = QUANTITY_WORDS[unit]
    problems = [
        _check_number(
            inp.quantity, "quantity", quantity_word, maximum=MAX_QUANTITY[unit], allow_zero=False
        ),
        _check_number(inp.unit_rate, "unit_rate", RATE_WORDS[unit], maximum=MAX_RATE, money=True),
        _check_number(inp.vat_rate, "vat_rate", "VAT rate", maximum=Decimal(100), required=False),
    ]
    if inp.kind == CostKind.STAFF:
        if not (inp.staff_role or "").strip():
            problems.append(DomainError("Enter the staff member or role", "staff_role"))
        problems.append(
            _check_number(
                inp.overtime_pct, "overtime_pct", "Overtime premium", maximum=Decimal(200)
            )
        )
    if inp.kind in (CostKind.STAFF, CostKind.LOCUM):
        problems.append(
            _check_number(inp.pension_pct, "pension_pct", "Pension", maximum=Decimal(100))
        )
    if inp.kind == CostKind.STAFF:
        problems.append(
            _check_number(inp.ni_pct, "ni_pct", "National Insurance", maximum=Decimal(100))
        )
    if inp.kind == CostKind.LOCUM and not (inp.locum_name or "").strip():
        problems.append(DomainError("Enter the locum's name", "locum_name"))
    if inp.kind == CostKind.APPOINTMENTS:
        if inp.appointment_type not in APPOINTMENT_TYPES:
            problems.append(DomainError("Select the type of appointment", "appointment_type"))
        if (inp.rebook_hours is None) != (inp.rebook_rate is None):
            missing = "rebook_rate" if inp.rebook_rate is None else "rebook_hours"
            problems.append(
                DomainError("Enter both the admin hours and their hourly rate, or neither", missing)
            )
        elif inp.rebook_hours is not None:
            problems.append(
                _check_number(
                    inp.rebook_hours,
                    "rebook_hours",
                    "Admin hours",
                    maximum=MAX_QUANTITY["hour"],
                    allow_zero=False,
                )
            )
            problems.append(
                _check_number(
                    inp.rebook_rate,
                    "rebook_rate",
                    "Admin hourly rate",
                    maximum=MAX_RATE,
                    money=True,
                )
            )
            for name, what in (
                ("overtime_pct", "Overtime premium"),
                ("pension_pct", "Pension"),
                ("ni_pct", "National Insurance"),
            ):
                problems.append(_check_number(getattr(inp, name), name, what, maximum=Decimal(200)))
    return problems


def _expense_problems(inp: LineInput) -> list[DomainError | None]:
    problems = [
        _check_number(
            inp.unit_rate,
            "net_amount",
            "Net amount",
            maximum=MAX_EXPENSE,
            money=True,
            allow_zero=False,
        ),
        # blank VAT paid means none was paid: £0.00
        _check_number(
            inp.vat_paid, "vat_paid", "VAT paid", maximum=MAX_EXPENSE, money=True, required=False
        ),
    ]
    if not (inp.supplier or "").strip():
        problems.append(DomainError("Enter the supplier", "supplier"))
    if (
        inp.unit_rate is not None
        and inp.vat_paid is not None
        and inp.unit_rate > 0
        and inp.vat_paid > inp.unit_rate
    ):
        problems.append(DomainError("VAT paid cannot be more than the net amount", "vat_paid"))
    return problems


def compute(inp: LineInput) -> costing.LineAmounts:
    """The line's amounts and working, by the cost model's formula for its kind."""
    assert inp.quantity is not None or inp.kind == CostKind.EXPENSE
    rate = inp.unit_rate or ZERO
    if inp.kind == CostKind.STAFF:
        return costing.staff_time(
            inp.quantity,
            rate,
            inp.overtime_pct or ZERO,
            inp.pension_pct or ZERO,
            inp.ni_pct or ZERO,
            inp.vat_rate,
        )
    if inp.kind == CostKind.LOCUM:
        return costing.locum_cover(
            inp.quantity, rate, inp.unit, inp.pension_pct or ZERO, inp.vat_rate
        )
    if inp.kind == CostKind.APPOINTMENTS:
        return costing.lost_appointments(inp.quantity, rate, inp.vat_rate)
    return costing.other_expense(rate, inp.vat_paid or ZERO)


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
    "net_amount",
    "vat_amount",
    "total_amount",
    "working",
    "staff_role",
    "locum_name",
    "locum_invoice_ref",
    "appointment_type",
    "supplier",
]


def _apply(line: CostLine, inp: LineInput) -> None:
    amounts = compute(inp)
    kind = CostKind(inp.kind)
    line.kind = kind.value
    line.line_date = inp.line_date
    line.description = inp.description.strip()
    if kind == CostKind.EXPENSE:
        line.quantity, line.unit, line.unit_rate = Decimal(1), "item", to_pence(inp.unit_rate)
    else:
        line.quantity, line.unit, line.unit_rate = inp.quantity, inp.unit, inp.unit_rate
    line.overtime_pct = (inp.overtime_pct or ZERO) if kind == CostKind.STAFF else ZERO
    line.pension_pct = (
        (inp.pension_pct or ZERO) if kind in (CostKind.STAFF, CostKind.LOCUM) else ZERO
    )
    line.ni_pct = (inp.ni_pct or ZERO) if kind == CostKind.STAFF else ZERO
    line.vat_rate = inp.vat_rate if (kind != CostKind.EXPENSE and inp.vat_rate) else None
    line.net_amount, line.vat_amount, line.total_amount = amounts.net, amounts.vat, amounts.total
    line.working = amounts.working[:300]
    line.staff_role = _text(inp.staff_role) if kind == CostKind.STAFF else None
    line.locum_name = _text(inp.locum_name) if kind == CostKind.LOCUM else None
    line.locum_invoice_ref = _text(inp.locum_invoice_ref) if kind == CostKind.LOCUM else None
    line.appointment_type = inp.appointment_type if kind == CostKind.APPOINTMENTS else None
    line.supplier = _text(inp.supplier) if kind == CostKind.EXPENSE else None


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _check(inp: LineInput, today: date) -> None:
    problems = line_problems(inp, today)
    if problems:
        raise problems[0]


def add_line(
    session: Session, incident: Incident, user_id: int | None, inp: LineInput, today: date
) -> list[CostLine]:
    """Add a line (and, for lost appointments with admin time, its rebooking staff line)."""
    _check(inp, today)
    lines = [_new_line(session, incident, user_id, inp)]
    if inp.kind == CostKind.APPOINTMENTS and inp.rebook_hours is not None:
        what = APPOINTMENT_TYPES[inp.appointment_type or "other"]
        rebook = LineInput(
            kind=CostKind.STAFF.value,
            line_date=inp.line_date,
            description=f"Admin time to rebook {format_number(inp.quantity)} {what} appointments",
            quantity=inp.rebook_hours,
            unit="hour",
            unit_rate=inp.rebook_rate,
            overtime_pct=inp.overtime_pct,
            pension_pct=inp.pension_pct,
            ni_pct=inp.ni_pct,
            staff_role="Administrative staff (rebooking)",
        )
        _check(rebook, today)
        lines.append(_new_line(session, incident, user_id, rebook))
    return lines


def _new_line(
    session: Session, incident: Incident, user_id: int | None, inp: LineInput
) -> CostLine:
    line = CostLine(incident_id=incident.id, created_by_id=user_id)
    _apply(line, inp)
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
        changes=audit.diff({}, audit.snapshot(line, AUDITED_LINE_FIELDS)),
    )
    return line


def ensure_editable(line: CostLine) -> None:
    if line.is_locked:
        raise DomainError(
            "This cost is on an issued invoice and can no longer be changed. "
            "To correct it, cancel the invoice with a credit note."
        )


def update_line(
    session: Session, line: CostLine, user_id: int | None, inp: LineInput, today: date
) -> dict[str, list[Any]]:
    ensure_editable(line)
    if inp.kind != line.kind:
        raise DomainError("The kind of a cost cannot change: delete it and add a new one")
    inp.rebook_hours = inp.rebook_rate = None
    _check(inp, today)
    before = audit.snapshot(line, AUDITED_LINE_FIELDS)
    _apply(line, inp)
    changes = audit.diff(before, audit.snapshot(line, AUDITED_LINE_FIELDS))
    invoicing.refresh_drafts_holding(session, [line.id])
    if changes:
        audit.record(
            session,
            user_id=user_id,
            entity=line,
            action="update",
            practice_id=line.incident.practice_id,
            incident_id=line.incident_id,
            summary=f"{CostKind(line.kind).label} changed: {line.description}",
            changes=changes,
        )
    return changes


def delete_line(session: Session, line: CostLine, user_id: int | None) -> list[str]:
    """Delete an uninvoiced line and its evidence; returns the stored file names to remove
    once the transaction has committed."""
    ensure_editable(line)
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
        changes=audit.diff(audit.snapshot(line, AUDITED_LINE_FIELDS), {}),
    )
    for item in list(line.evidence):
        session.delete(item)
    session.delete(line)
    session.flush()
    return stored


def line_input_from(line: CostLine) -> LineInput:
    """A stored line as form input, for the edit form."""
    return LineInput(
        kind=line.kind,
        line_date=line.line_date,
        description=line.description,
        quantity=line.quantity,
        unit=line.unit,
        unit_rate=line.unit_rate if line.kind != CostKind.EXPENSE else line.net_amount,
        overtime_pct=line.overtime_pct,
        pension_pct=line.pension_pct,
        ni_pct=line.ni_pct,
        vat_rate=line.vat_rate,
        staff_role=line.staff_role,
        locum_name=line.locum_name,
        locum_invoice_ref=line.locum_invoice_ref,
        appointment_type=line.appointment_type,
        supplier=line.supplier,
        vat_paid=line.vat_amount,
    )
