"""Factories for test data: real rows through the real models, with sensible defaults."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from tracker.models import (
    CostKind,
    CostLine,
    EventStatus,
    Icb,
    Incident,
    OutageEvent,
    Practice,
    Role,
    User,
)
from tracker.services import costing
from tracker.services.directory import UserDetails, save_user
from tracker.services.rates import seed_rate_card

PASSWORD = "correct-horse-battery"


def parts(amounts: costing.LineAmounts) -> dict[str, Decimal]:
    """The parts of a priced line's net amount, as the cost line stores them."""
    return {
        "base_amount": amounts.base,
        "premium_amount": amounts.premium,
        "ni_amount": amounts.ni,
        "pension_amount": amounts.pension,
    }


_counter = itertools.count(1)


def make_icb(session: Session, ods_code: str | None = None, **fields: object) -> Icb:
    n = next(_counter)
    icb = Icb(
        ods_code=ods_code or f"Z{n % 100:02d}",
        name=fields.pop("name", f"NHS Test {n} Integrated Care Board"),
        region=fields.pop("region", "London"),
        payables_code=fields.pop("payables_code", "AB12"),
        **fields,
    )
    session.add(icb)
    session.flush()
    return icb


def make_practice(
    session: Session, icb: Icb, ods_code: str | None = None, **fields: object
) -> Practice:
    n = next(_counter)
    defaults: dict[str, object] = {
        "name": f"Test Surgery {n}",
        "address": f"{n} High Street\nLondon\nN1 1AA",
        "contact_email": f"surgery{n}@nhs.net",
        "contact_phone": "020 7946 0000",
        "bank_account_name": f"Test Surgery {n}",
        "bank_sort_code": "30-94-57",
        "bank_account_number": "12345678",
        "remittance_email": f"finance{n}@nhs.net",
    }
    defaults.update(fields)
    practice = Practice(ods_code=ods_code or f"T{n:05d}", icb_id=icb.id, **defaults)
    session.add(practice)
    session.flush()
    seed_rate_card(session, practice)
    session.flush()
    return practice


def make_user(
    session: Session,
    role: Role | None,
    *,
    practices: list[Practice] = (),
    icb: Icb | None = None,
    admin: bool = False,
    email: str | None = None,
    name: str | None = None,
) -> User:
    n = next(_counter)
    user = save_user(
        session,
        None,
        UserDetails(
            name=name or f"User {n}",
            email=email or f"user{n}@example.org",
            role=role.value if role else None,
            practice_ids=[p.id for p in practices],
            icb_id=icb.id if icb else None,
            is_admin=admin,
            password=PASSWORD,
        ),
    )
    session.flush()
    return user


def make_event(
    session: Session, name: str = "CrowdStrike global IT outage, 19 July 2024"
) -> OutageEvent:
    event = OutageEvent(name=f"{name} #{next(_counter)}", started_on=date(2024, 7, 19))
    session.add(event)
    session.flush()
    return event


def make_proposed_event(
    session: Session, practice: Practice, name: str = "Camden broadband outage, 3 March 2025"
) -> OutageEvent:
    """An outage event the practice proposed, waiting for its ICB (services.events)."""
    event = OutageEvent(
        name=f"{name} #{next(_counter)}",
        started_on=date(2025, 3, 3),
        systems="internet",
        status=EventStatus.PROPOSED,
        proposed_by_practice_id=practice.id,
    )
    session.add(event)
    session.flush()
    return event


def make_incident(session: Session, practice: Practice, **fields: object) -> Incident:
    defaults: dict[str, object] = {
        "title": "EMIS outage",
        "starts_at": datetime(2024, 7, 19, 6, 10),
        "ends_at": datetime(2024, 7, 19, 16, 0),
        "systems": "emis_web",
        "impact": "Worked on paper",
    }
    defaults.update(fields)
    incident = Incident(practice_id=practice.id, **defaults)
    session.add(incident)
    session.flush()
    return incident


def make_staff_line(
    session: Session,
    incident: Incident,
    hours: str = "6.5",
    rate: str = "18.66",
    overtime: str = "50",
    pension: str = "14.38",
    ni: str = "13.8",
    line_date: date = date(2024, 7, 19),
    description: str = "Practice nurse overtime",
    basis: str = "overtime",
) -> CostLine:
    amounts = costing.staff_time(
        Decimal(hours),
        Decimal(rate),
        basis=basis,
        overtime_pct=Decimal(overtime),
        ni_pct=Decimal(ni),
        pension_pct=Decimal(pension),
    )
    line = CostLine(
        incident_id=incident.id,
        kind=CostKind.STAFF.value,
        line_date=line_date,
        description=description,
        quantity=Decimal(hours),
        unit="hour",
        unit_rate=Decimal(rate),
        overtime_pct=Decimal(overtime) if basis == "overtime" else Decimal(0),
        pension_pct=Decimal(pension) if basis == "additional" else Decimal(0),
        ni_pct=Decimal(ni),
        net_amount=amounts.net,
        vat_amount=amounts.vat,
        total_amount=amounts.total,
        working=amounts.working,
        **parts(amounts),
        details={"staff_role": "Practice nurse", "pay_basis": basis},
    )
    session.add(line)
    session.flush()
    return line


def make_expense_line(
    session: Session,
    incident: Incident,
    net: str = "42.50",
    vat: str = "8.50",
    description: str = "Printer paper",
    supplier: str = "Ryman",
    vat_registered: bool = False,
) -> CostLine:
    amounts = costing.other_expense(Decimal(net), Decimal(vat), vat_registered=vat_registered)
    line = CostLine(
        incident_id=incident.id,
        kind=CostKind.EXPENSE.value,
        line_date=date(2024, 7, 19),
        description=description,
        quantity=Decimal(1),
        unit="item",
        unit_rate=amounts.unit_rate,
        receipt_net=Decimal(net),
        receipt_vat=Decimal(vat),
        vat_rate=amounts.vat_rate,
        net_amount=amounts.net,
        vat_amount=amounts.vat,
        total_amount=amounts.total,
        working=amounts.working,
        **parts(amounts),
        details={"supplier": supplier},
    )
    session.add(line)
    session.flush()
    return line


@dataclass
class World:
    """A small NHS: ICB X with practices A and A2, ICB Y with practice B, a user per role."""

    icb_x: Icb
    icb_y: Icb
    practice_a: Practice
    practice_a2: Practice
    practice_b: Practice
    manager: User  # practice A
    finance: User  # practices A and A2
    manager_b: User  # practice B
    reviewer: User  # ICB X
    reviewer_y: User  # ICB Y
    admin: User


def build_world(session: Session) -> World:
    icb_x = make_icb(session, "QXA", name="NHS Exampleshire Integrated Care Board")
    icb_y = make_icb(session, "QYB", name="NHS Otherton Integrated Care Board")
    practice_a = make_practice(session, icb_x, "A81001", name="Alpha Surgery")
    practice_a2 = make_practice(session, icb_x, "A81002", name="Alpha Two Practice")
    practice_b = make_practice(session, icb_y, "B82001", name="Beta Medical Centre")
    world = World(
        icb_x=icb_x,
        icb_y=icb_y,
        practice_a=practice_a,
        practice_a2=practice_a2,
        practice_b=practice_b,
        manager=make_user(
            session,
            Role.PRACTICE_MANAGER,
            practices=[practice_a],
            email="manager.a@example.org",
            name="Manager A",
        ),
        finance=make_user(
            session,
            Role.FINANCE,
            practices=[practice_a, practice_a2],
            email="finance.a@example.org",
            name="Finance A",
        ),
        manager_b=make_user(
            session,
            Role.PRACTICE_MANAGER,
            practices=[practice_b],
            email="manager.b@example.org",
            name="Manager B",
        ),
        reviewer=make_user(
            session, Role.ICB_REVIEWER, icb=icb_x, email="reviewer.x@example.org", name="Reviewer X"
        ),
        reviewer_y=make_user(
            session, Role.ICB_REVIEWER, icb=icb_y, email="reviewer.y@example.org", name="Reviewer Y"
        ),
        admin=make_user(session, None, admin=True, email="admin@example.org", name="Admin"),
    )
    session.commit()
    return world


def make_issued_invoice(
    session: Session,
    practice: Practice,
    lines: list[CostLine],
    *,
    today: date = date(2024, 7, 26),
    po_reference: str = "PO-1234",
    user_id: int | None = None,
):
    """An invoice issued through the real invoicing service."""
    from tracker.services import invoicing

    draft = invoicing.create_draft(
        session,
        practice=practice,
        cost_line_ids=[line.id for line in lines],
        user_id=user_id,
        po_reference=po_reference,
    )
    session.flush()
    invoice = invoicing.issue_invoice(session, draft, user_id=user_id, today=today)
    session.commit()
    return invoice


# --- claims (issued invoices) for the review and report tests --------------------------------


def make_locum_line(
    session: Session, incident: Incident, sessions: str = "2", rate: str = "357.00"
) -> CostLine:
    amounts = costing.locum_cover(
        Decimal(sessions),
        Decimal(rate),
        "session",
        pays_into_scheme=True,
        pension_pct=Decimal("14.38"),
    )
    line = CostLine(
        incident_id=incident.id,
        kind=CostKind.LOCUM.value,
        line_date=date(2024, 7, 19),
        description="Locum GP cover",
        quantity=Decimal(sessions),
        unit="session",
        unit_rate=Decimal(rate),
        pension_pct=Decimal("14.38"),
        net_amount=amounts.net,
        vat_amount=amounts.vat,
        total_amount=amounts.total,
        working=amounts.working,
        **parts(amounts),
        details={"locum_name": "Dr Siân O'Brien", "locum_pension": "scheme"},
    )
    session.add(line)
    session.flush()
    return line


def make_appointments_line(
    session: Session, incident: Incident, count: int = 38, cost: str = "45.00"
) -> CostLine:
    amounts = costing.lost_appointments(Decimal(count), Decimal(cost))
    line = CostLine(
        incident_id=incident.id,
        kind=CostKind.APPOINTMENTS.value,
        line_date=date(2024, 7, 19),
        description="GP appointments cancelled",
        quantity=Decimal(count),
        unit="appointment",
        unit_rate=Decimal(cost),
        net_amount=amounts.net,
        vat_amount=amounts.vat,
        total_amount=amounts.total,
        working=amounts.working,
        **parts(amounts),
        details={"appointment_type": "gp"},
    )
    session.add(line)
    session.flush()
    return line


def make_claim(
    session: Session,
    practice: Practice,
    event: OutageEvent | None,
    *,
    user: User | None = None,
    scale: int = 1,
    today: date = date(2024, 7, 26),
):  # -> Invoice
    """An issued invoice, through the invoicing service, for an incident of `event` with one
    line of each cost kind (staff, locum, appointments, expense) scaled by `scale`."""
    from tracker.services import invoicing

    incident = make_incident(
        session, practice, outage_event_id=event.id if event else None, title="EMIS outage"
    )
    lines = [
        make_staff_line(session, incident, hours=str(6 * scale)),
        make_locum_line(session, incident, sessions=str(scale)),
        make_appointments_line(session, incident, count=10 * scale),
        make_expense_line(session, incident, description="=SUM(A1:A9) paper"),
    ]
    draft = invoicing.create_draft(
        session,
        practice=practice,
        cost_line_ids=[line.id for line in lines],
        user_id=user.id if user else None,
        po_reference="PO-4711",
    )
    session.flush()
    return invoicing.issue_invoice(session, draft, user_id=user.id if user else None, today=today)


def make_payment(session: Session, invoice, user: User, amount: str = "10.00"):  # -> Payment
    """A payment received on 1 August 2024, through the payments service."""
    from tracker.services import payments

    return payments.record_payment(
        session,
        invoice,
        amount=Decimal(amount),
        paid_on=date(2024, 8, 1),
        reference="BACS",
        user_id=user.id,
        today=date(2024, 8, 2),
    )
