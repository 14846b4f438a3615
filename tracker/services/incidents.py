"""Incidents and outage events: validate, save, close, total up and list their history.

Plain Python over a SQLAlchemy session; views translate forms into the dataclasses here and
show an Invalid error next to the field it names. Every change is written to the audit trail.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from tracker.cost_kinds import (
    CAPACITY_LOST,
    COSTS_INCURRED,
    DETAIL_CHOICES,
    DETAIL_LABELS,
    is_notional,
)
from tracker.models import (
    COST_KIND_LABELS,
    SYSTEMS,
    AuditEntry,
    CostKind,
    CostLine,
    EventStatus,
    Incident,
    IncidentStatus,
    Invoice,
    Membership,
    OutageEvent,
    Practice,
    User,
    string_length,
)
from tracker.presentation import format_money, format_number, london_datetime, long_date
from tracker.services import audit, events, invoicing
from tracker.services.dates import NonexistentLocalTime, london_to_utc, utc_to_london
from tracker.services.errors import DomainError, Invalid
from tracker.services.money import ZERO
from tracker.services.text import parse_id, text_problem

#: Longest free text kept for a cause or impact description.
MAX_TEXT = 5000
#: An incident cannot reasonably start before this.
EARLIEST_START = datetime(2000, 1, 1)


@dataclass
class IncidentDetails:
    """What a practice manager types about an incident, in Europe/London wall-clock time."""

    title: str
    #: None when the start was not entered (or not understood)
    start_local: datetime | None
    end_local: datetime | None = None
    systems: list[str] = field(default_factory=list)
    systems_other: str | None = None
    cause: str = ""
    supplier_reference: str | None = None
    impact: str = ""
    outage_event_id: int | None = None


def _to_utc(local: datetime, field_name: str) -> datetime:
    try:
        return london_to_utc(local)
    except NonexistentLocalTime as error:
        raise Invalid(
            f"{error}: the clocks went forward an hour. Enter a time after 2am", field_name
        ) from error


#: An incident's texts: (field, noun, multi-line); each is as long as its column allows, or
#: MAX_TEXT where the column is unbounded.
INCIDENT_TEXTS = (
    ("title", "Title", False),
    ("systems_other", "Other system affected", False),
    ("supplier_reference", "Supplier's incident reference", False),
    ("cause", "Cause", True),
    ("impact", "Impact", True),
)


def _text_problems(details: IncidentDetails) -> list[DomainError]:
    """Each text fits its column and holds no control characters (services.text)."""
    problems: list[DomainError] = []
    for name, noun, multiline in INCIDENT_TEXTS:
        limit = string_length(Incident, name) or MAX_TEXT
        problem = text_problem(noun, getattr(details, name), limit, multiline=multiline)
        if problem:
            problems.append(Invalid(problem, name))
    return problems


def incident_problems(
    session: Session, details: IncidentDetails, now_utc: datetime, practice_id: int | None = None
) -> tuple[list[DomainError], datetime | None, datetime | None]:
    """Every problem with an incident's details, each naming its form field; and its start
    and end in UTC where they could be worked out. The outage event must be one the
    practice (`practice_id`) may choose: confirmed, or its own proposal (services.events)."""
    problems: list[DomainError] = []
    if not details.title.strip():
        problems.append(Invalid("Enter a title for the incident", "title"))
    problems += _text_problems(details)
    starts_at = ends_at = None
    if details.start_local is None:
        problems.append(Invalid("Enter the date and time the outage started", "start_date"))
    elif details.start_local < EARLIEST_START:
        problems.append(Invalid("Start date must be in the year 2000 or later", "start_date"))
    else:
        try:
            starts_at = _to_utc(details.start_local, "start_time")
        except Invalid as error:
            problems.append(error)
        else:
            if starts_at > now_utc:
                problems.append(
                    Invalid("Start date and time must be today or in the past", "start_date")
                )
    if details.end_local is not None:
        try:
            ends_at = _to_utc(details.end_local, "end_time")
        except Invalid as error:
            problems.append(error)
        else:
            if ends_at > now_utc:
                problems.append(
                    Invalid(
                        "End date and time must be in the past: leave them blank while the "
                        "outage continues",
                        "end_date",
                    )
                )
            elif starts_at is not None and ends_at <= starts_at:
                problems.append(Invalid("End must be after the start", "end_date"))
    unknown = [key for key in details.systems if key not in SYSTEMS]
    if unknown or not details.systems:
        problems.append(Invalid("Select the systems affected", "systems"))
    elif "other" in details.systems and not (details.systems_other or "").strip():
        problems.append(Invalid("Enter the other system affected", "systems_other"))
    if details.outage_event_id is not None and (
        problem := events.usable_problem(session, details.outage_event_id, practice_id)
    ):
        problems.append(problem)
    return problems, starts_at, ends_at


def check_incident(
    session: Session, details: IncidentDetails, now_utc: datetime, practice_id: int
) -> tuple[datetime, datetime | None]:
    """Check an incident's details; return its start and end in UTC. The outage event's row
    is then held (services.events.hold_usable), so a merge of it cannot pass this incident
    by: it comes after, and moves it too, or came before, and the event is refused."""
    problems, starts_at, ends_at = incident_problems(session, details, now_utc, practice_id)
    if problems:
        raise problems[0]
    assert starts_at is not None
    if details.outage_event_id is not None:
        events.hold_usable(session, details.outage_event_id)
    return starts_at, ends_at


def _apply(incident: Incident, details: IncidentDetails, starts_at: datetime, ends_at: Any) -> None:
    incident.title = details.title.strip()
    incident.starts_at = starts_at
    incident.ends_at = ends_at
    incident.systems = ",".join(key for key in SYSTEMS if key in details.systems)
    incident.systems_other = (
        (details.systems_other or "").strip() or None if "other" in details.systems else None
    )
    incident.cause = details.cause.strip()
    incident.supplier_reference = (details.supplier_reference or "").strip() or None
    incident.impact = details.impact.strip()
    incident.outage_event_id = details.outage_event_id


def create_incident(
    session: Session,
    practice_id: int,
    user_id: int | None,
    details: IncidentDetails,
    now_utc: datetime,
) -> Incident:
    starts_at, ends_at = check_incident(session, details, now_utc, practice_id)
    incident = Incident(practice_id=practice_id, created_by_id=user_id, status=IncidentStatus.OPEN)
    _apply(incident, details, starts_at, ends_at)
    session.add(incident)
    session.flush()
    audit.record(
        session,
        user_id=user_id,
        entity=incident,
        action="create",
        practice_id=practice_id,
        incident_id=incident.id,
        summary=f"Incident logged: {incident.title}",
        changes=audit.diff({}, _incident_snapshot(incident)),
    )
    return incident


AUDITED_INCIDENT_FIELDS = [
    "title",
    "starts_at",
    "ends_at",
    "systems",
    "systems_other",
    "cause",
    "supplier_reference",
    "impact",
    "outage_event_id",
    "status",
]


def _incident_snapshot(incident: Incident) -> dict[str, Any]:
    return audit.snapshot(incident, AUDITED_INCIDENT_FIELDS)


def update_incident(
    session: Session,
    incident: Incident,
    user_id: int | None,
    details: IncidentDetails,
    now_utc: datetime,
) -> dict[str, list[Any]]:
    starts_at, ends_at = check_incident(session, details, now_utc, incident.practice_id)
    if incident.status == IncidentStatus.CLOSED and ends_at is None:
        raise Invalid("A closed incident needs an end date and time", "end_date")
    before = _incident_snapshot(incident)
    _apply(incident, details, starts_at, ends_at)
    changes = audit.diff(before, _incident_snapshot(incident))
    if changes:
        audit.record(
            session,
            user_id=user_id,
            entity=incident,
            action="update",
            practice_id=incident.practice_id,
            incident_id=incident.id,
            summary="Incident details changed",
            changes=changes,
        )
        # drafts copy the incident's title and sort by its start
        invoicing.refresh_drafts_holding(session, [line.id for line in incident.cost_lines])
    return changes


def close_incident(session: Session, incident: Incident, user_id: int | None) -> None:
    """Close an incident: the outage is over and its end time is known."""
    if incident.status == IncidentStatus.CLOSED:
        return
    if incident.ends_at is None:
        raise Invalid("Enter when the outage ended before closing the incident", "end_date")
    _set_status(session, incident, user_id, IncidentStatus.CLOSED, "Incident closed")


def reopen_incident(session: Session, incident: Incident, user_id: int | None) -> None:
    if incident.status == IncidentStatus.OPEN:
        return
    _set_status(session, incident, user_id, IncidentStatus.OPEN, "Incident reopened")


def _set_status(
    session: Session, incident: Incident, user_id: int | None, status: str, summary: str
) -> None:
    before = incident.status
    incident.status = status
    audit.record(
        session,
        user_id=user_id,
        entity=incident,
        action="update",
        practice_id=incident.practice_id,
        incident_id=incident.id,
        summary=summary,
        changes={"status": [before, str(status)]},
    )


def duration(incident: Incident) -> timedelta | None:
    """Elapsed time (UTC arithmetic, so correct across the clock changes)."""
    if incident.ends_at is None:
        return None
    return incident.ends_at - incident.starts_at


# --- totals --------------------------------------------------------------------------


@dataclass
class IncidentTotals:
    by_kind: dict[str, Decimal]
    by_day: list[tuple[date, Decimal]]
    net: Decimal = ZERO
    vat: Decimal = ZERO
    total: Decimal = ZERO
    invoiced: Decimal = ZERO
    line_count: int = 0

    @property
    def not_invoiced(self) -> Decimal:
        return self.total - self.invoiced

    @property
    def kinds(self) -> list[tuple[str, str, Decimal]]:
        """(kind, label, total) for every kind, costs incurred first and capacity lost
        last (the order of the sections), zeros included."""
        return [
            (k.value, COST_KIND_LABELS[k], self.by_kind.get(k.value, ZERO))
            for k in kinds_in_section_order()
        ]

    @property
    def costs_incurred(self) -> Decimal:
        """Money spent: every kind but the notional value of capacity lost."""
        return sum((v for k, v in self.by_kind.items() if not is_notional(k)), ZERO)

    @property
    def capacity_lost(self) -> Decimal:
        """The notional value of clinical capacity lost (lost or cancelled appointments)."""
        return sum((v for k, v in self.by_kind.items() if is_notional(k)), ZERO)

    @property
    def sections(self) -> list[TotalsSection]:
        """The kinds in their two sections, each with its subtotal; together they add up to
        the total."""
        return [
            TotalsSection(
                title,
                [row for row in self.kinds if is_notional(row[0]) == notional],
                self.capacity_lost if notional else self.costs_incurred,
            )
            for notional, title in ((False, COSTS_INCURRED), (True, CAPACITY_LOST))
        ]


@dataclass(frozen=True)
class TotalsSection:
    """Costs incurred, or the value of clinical capacity lost (notional), by kind."""

    title: str
    kinds: list[tuple[str, str, Decimal]]
    subtotal: Decimal


def kinds_in_section_order() -> list[CostKind]:
    """The cost kinds with the notional ones (capacity lost) last, as every total shows them."""
    return sorted(CostKind, key=lambda kind: is_notional(kind.value))


def lines_with_evidence(session: Session, incident_id: int) -> list[CostLine]:
    """The incident's cost lines in date order, each with its evidence files loaded: two
    queries for the incident's page, however many lines it lists (not one per line)."""
    return list(
        session.scalars(
            select(CostLine)
            .where(CostLine.incident_id == incident_id)
            .options(selectinload(CostLine.evidence))
            .order_by(CostLine.line_date, CostLine.id)
        )
    )


def incident_totals(session: Session, incident_id: int) -> IncidentTotals:
    """Totals of an incident's lines: sums of already-rounded line amounts, in the database."""
    rows = session.execute(
        select(
            CostLine.kind,
            CostLine.line_date,
            CostLine.invoice_id.is_not(None),
            func.count(CostLine.id),
            func.coalesce(func.sum(CostLine.net_amount), ZERO),
            func.coalesce(func.sum(CostLine.vat_amount), ZERO),
            func.coalesce(func.sum(CostLine.total_amount), ZERO),
        )
        .where(CostLine.incident_id == incident_id)
        .group_by(CostLine.kind, CostLine.line_date, CostLine.invoice_id.is_not(None))
    ).all()
    by_kind: dict[str, Decimal] = defaultdict(lambda: ZERO)
    by_day: dict[date, Decimal] = defaultdict(lambda: ZERO)
    totals = IncidentTotals(by_kind={}, by_day=[])
    for kind, day, invoiced, count, net, vat, total in rows:
        by_kind[kind] += total
        by_day[day] += total
        totals.net += net
        totals.vat += vat
        totals.total += total
        totals.line_count += count
        if invoiced:
            totals.invoiced += total
    totals.by_kind = dict(by_kind)
    totals.by_day = sorted(by_day.items())
    return totals


@dataclass(frozen=True)
class IncidentFilter:
    """The incident list's filters as chosen: a status, and an event ("none" for incidents
    outside any event, or an event's id). Anything else means "any"."""

    status: str = ""
    event: str = ""


def incident_query(practice_id: int, chosen: IncidentFilter) -> Select[Incident]:
    """A practice's incidents matching the filters, newest first: a query, so the caller can
    page through it."""
    stmt = select(Incident).where(Incident.practice_id == practice_id)
    if chosen.status in set(IncidentStatus):
        stmt = stmt.where(Incident.status == chosen.status)
    if chosen.event == "none":
        stmt = stmt.where(Incident.outage_event_id.is_(None))
    elif (event_id := parse_id(chosen.event)) is not None:
        stmt = stmt.where(Incident.outage_event_id == event_id)
    return stmt.order_by(Incident.starts_at.desc(), Incident.id.desc())


def totals_for_incidents(session: Session, incident_ids: list[int]) -> dict[int, Decimal]:
    """Total cost of each incident in a page of the list."""
    if not incident_ids:
        return {}
    rows = session.execute(
        select(CostLine.incident_id, func.coalesce(func.sum(CostLine.total_amount), ZERO))
        .where(CostLine.incident_id.in_(incident_ids))
        .group_by(CostLine.incident_id)
    )
    found = {incident_id: total for incident_id, total in rows}
    return {incident_id: found.get(incident_id, ZERO) for incident_id in incident_ids}


# --- outage events ---------------------------------------------------------------------


@dataclass
class EventDetails:
    name: str
    started_on: date | None
    description: str = ""


def save_event(
    session: Session,
    event: OutageEvent | None,
    user_id: int | None,
    details: EventDetails,
    today: date,
) -> OutageEvent:
    """Create or rename an outage event; names are unique (case-insensitively). An event an
    ICB reviewer or administrator adds is confirmed at once (services.events)."""
    problems = events.event_problems(details.name, details.started_on, details.description, today)
    if problems:
        raise problems[0]
    name = events.normal_name(details.name)
    clash = session.scalar(
        select(OutageEvent.id).where(func.lower(OutageEvent.name) == name.lower())
    )
    if clash is not None and (event is None or clash != event.id):
        raise Invalid("An outage event with this name already exists", "name")
    is_new = event is None
    before = {} if event is None else audit.snapshot(event, ["name", "started_on", "description"])
    event = event or OutageEvent(created_by_id=user_id, status=EventStatus.CONFIRMED)
    event.name = name
    event.started_on = details.started_on
    event.description = details.description.strip()
    session.add(event)
    session.flush()
    audit.record(
        session,
        user_id=user_id,
        entity=event,
        action="create" if is_new else "update",
        summary=f"Outage event saved: {name}",
        changes=audit.diff(before, audit.snapshot(event, ["name", "started_on", "description"])),
    )
    return event


def event_choices(session: Session, practice_id: int | None) -> list[OutageEvent]:
    """The events the practice's incidents may name: confirmed ones and the practice's own
    proposals (services.events)."""
    return events.choices(session, practice_id)


def event_owners(session: Session, event_ids: list[int]) -> dict[int, int | None]:
    """Per outage event, the one ICB it belongs to, or None for a national event.

    An event belongs to an ICB when an ICB reviewer of that ICB (and of no other) created it
    and no practice outside that ICB uses it: no incident of a practice now in another ICB
    names it, and no claim sent to another ICB does. An event an administrator created, whose
    creator is gone, or that practices of several ICBs share is national, so renaming it is
    a decision for administrators: one ICB cannot rename what other ICBs report by."""
    creators = _creator_icbs(session, event_ids)
    users = _icbs_using(session, event_ids)
    owners: dict[int, int | None] = {}
    for event_id in event_ids:
        created_by = creators.get(event_id)
        icbs = (created_by or set()) | users.get(event_id, set())
        owners[event_id] = next(iter(icbs)) if created_by and len(icbs) == 1 else None
    return owners


def _creator_icbs(session: Session, event_ids: list[int]) -> dict[int, set[int]]:
    """Per event, the ICBs its creator reviews; an empty set when an administrator (or
    nobody we still know) created it."""
    found: dict[int, set[int]] = {event_id: set() for event_id in event_ids}
    national: set[int] = set()
    for event_id, is_admin, creator_icb in session.execute(
        select(OutageEvent.id, User.is_admin, Membership.icb_id)
        .outerjoin(User, User.id == OutageEvent.created_by_id)
        .outerjoin(Membership, (Membership.user_id == User.id) & Membership.icb_id.is_not(None))
        .where(OutageEvent.id.in_(event_ids))
    ):
        if is_admin is not False or creator_icb is None:
            national.add(event_id)
        else:
            found[event_id].add(creator_icb)
    return {event_id: set() if event_id in national else icbs for event_id, icbs in found.items()}


def _icbs_using(session: Session, event_ids: list[int]) -> dict[int, set[int]]:
    """Per event, the ICBs of the practices whose incidents name it today and the ICBs that
    claims naming it were sent to."""
    found: dict[int, set[int]] = defaultdict(set)
    for event_id, icb_id in session.execute(
        select(Incident.outage_event_id, Practice.icb_id)
        .join(Practice, Practice.id == Incident.practice_id)
        .where(Incident.outage_event_id.in_(event_ids))
        .union(
            select(Invoice.outage_event_id, Invoice.icb_id).where(
                Invoice.outage_event_id.in_(event_ids)
            )
        )
    ):
        if event_id is not None:  # the WHERE keeps only these events; the type cannot say so
            found[event_id].add(icb_id)
    return found


# --- the audit trail as people read it -------------------------------------------------

FIELD_LABELS = {
    "title": "Title",
    "starts_at": "Start",
    "ends_at": "End",
    "systems": "Systems affected",
    "systems_other": "Other system",
    "cause": "Cause",
    "supplier_reference": "Supplier reference",
    "impact": "Impact",
    "outage_event_id": "Outage event",
    "status": "Status",
    "kind": "Kind",
    "line_date": "Date",
    "description": "Description",
    "quantity": "Quantity",
    "unit": "Unit",
    "unit_rate": "Rate",
    "overtime_pct": "Overtime %",
    "pension_pct": "Pension %",
    "ni_pct": "NI %",
    "vat_rate": "VAT rate %",
    "net_amount": "Net",
    "vat_amount": "VAT",
    "total_amount": "Amount",
    "working": "Working",
    **DETAIL_LABELS,
    "original_filename": "File",
}
MONEY_FIELDS = {"unit_rate", "net_amount", "vat_amount", "total_amount"}
NUMBER_FIELDS = {"quantity", "overtime_pct", "pension_pct", "ni_pct", "vat_rate"}


@dataclass
class AuditRow:
    at: datetime
    who: str
    action: str
    summary: str
    changes: list[tuple[str, str, str]]


def _readable(session: Session, name: str, value: Any) -> str:
    if value is None or value == "":
        return "(blank)"
    if name in ("starts_at", "ends_at"):
        return london_datetime(datetime.fromisoformat(value))
    if name == "line_date":
        return long_date(date.fromisoformat(value))
    if name in MONEY_FIELDS:
        return format_money(Decimal(value))
    if name in NUMBER_FIELDS:
        return format_number(Decimal(value))
    if name == "systems":
        return ", ".join(SYSTEMS.get(key, key) for key in str(value).split(",") if key)
    if name == "kind":
        text = str(value)
        return COST_KIND_LABELS.get(CostKind(text), text) if text in set(CostKind) else text
    if name in DETAIL_CHOICES:
        return DETAIL_CHOICES[name].get(str(value), str(value))
    if name == "outage_event_id":
        event = session.get(OutageEvent, value)
        return event.name if event else f"Event {value}"
    text = str(value)
    return text if len(text) <= 200 else text[:200] + "…"


def history(session: Session, incident_id: int) -> list[AuditRow]:
    """The incident's audit trail, newest first, with field names and values as people
    read them."""
    entries = session.scalars(
        select(AuditEntry)
        .where(AuditEntry.incident_id == incident_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    rows = []
    for entry in entries:
        changes = [
            (
                FIELD_LABELS.get(name, name.replace("_", " ").capitalize()),
                _readable(session, name, old),
                _readable(session, name, new),
            )
            for name, (old, new) in audit.changes_of(entry).items()
            if name in FIELD_LABELS
        ]
        rows.append(
            AuditRow(
                at=entry.at,
                who=entry.user.name if entry.user else "System",
                action=entry.action,
                summary=entry.summary,
                changes=changes,
            )
        )
    return rows


def local_parts(utc: datetime | None) -> tuple[date | None, Any]:
    """Split a stored UTC time into the London date and time a form shows."""
    if utc is None:
        return None, None
    local = utc_to_london(utc)
    return local.date(), local.time()
