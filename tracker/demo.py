"""Demo data for the first start: one ICB, two practices, the
CrowdStrike / EMIS outage of 19–20 July 2024 with realistic costs, one user per role. The
ICB signs claims off in two steps: the reviewer recommends, the finance approver authorises.

Each part is a function so later areas can add their own (invoices, reviews) in order.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.cost_kinds import DETAIL_LABELS
from tracker.models import (
    ICB_ROLES,
    CostKind,
    CostLine,
    Icb,
    Incident,
    IncidentStatus,
    Invoice,
    InvoiceStatus,
    OutageEvent,
    Practice,
    Role,
    User,
)
from tracker.presentation import format_money
from tracker.services import audit, cost_lines
from tracker.services.accounts import password_problem
from tracker.services.cost_lines import LineInput, PricingContext
from tracker.services.dates import london_to_utc
from tracker.services.directory import UserDetails, load_icbs, save_user
from tracker.services.money import ZERO
from tracker.services.rates import seed_rate_card

DEMO_ICB = "QMJ"  # NHS North Central London ICB
DEMO_EVENT = "CrowdStrike global IT outage, 19 July 2024"
DEMO_USERS = {
    "manager@example.org": ("Priya Shah", Role.PRACTICE_MANAGER),
    "finance@example.org": ("Zoë Łukasiewicz", Role.FINANCE),
    "reviewer@example.org": ("Siân O'Brien", Role.ICB_REVIEWER),
    "approver@example.org": ("Tomás Ó Briain", Role.ICB_FINANCE_APPROVER),
    "admin@example.org": ("Alex Admin", None),
}
DEMO_PRACTICES = (
    {
        "ods_code": "Y09901",
        "name": "Riverside Medical Centre",
        "address": "12 Riverside Walk\nLondon\nN1 9AB",
        "pcn_name": "Islington Central PCN",
        "contact_email": "riverside.practice@nhs.net",
        "contact_phone": "020 7946 0101",
        "bank_account_name": "Riverside Medical Centre",
        "bank_sort_code": "30-94-57",
        "bank_account_number": "12345678",
        "remittance_email": "riverside.finance@nhs.net",
        "endpoint_scheme": "0088",
        "endpoint_id": "5099999000011",
    },
    {
        "ods_code": "Y09902",
        "name": "Canal Street Surgery",
        "address": "1 Canal Street\nLondon\nN7 8QE",
        "pcn_name": "Islington Central PCN",
        "contact_email": "canalstreet.surgery@nhs.net",
        "contact_phone": "020 7946 0202",
        "bank_account_name": "Canal Street Surgery Partnership",
        "bank_sort_code": "20-00-00",
        "bank_account_number": "87654321",
        "remittance_email": "canalstreet.accounts@nhs.net",
        "endpoint_scheme": "0088",
        "endpoint_id": "5099999000028",
    },
)

DEMO_DAY = date(2024, 7, 19)


def demo_present(session: Session) -> bool:
    return session.scalar(select(User.id).where(User.email == "manager@example.org")) is not None


def seed_directory(session: Session) -> tuple[Icb, list[Practice]]:
    load_icbs(session)
    session.flush()
    icb = session.scalar(select(Icb).where(Icb.ods_code == DEMO_ICB))
    assert icb is not None, "the ICB directory must contain QMJ"
    icb.payables_code = icb.payables_code or "M105"
    icb.invoice_email = icb.invoice_email or "nclicb.accountspayable@nhs.net"
    # Peppol electronic addresses: fake GS1 GLNs (prefix 50, the UK's) with valid check
    # digits, so the demo's e-invoices pass Peppol's GLN rule (PEPPOL-COMMON-R040)
    if not icb.endpoint_id:
        icb.endpoint_scheme, icb.endpoint_id = "0088", "5099999000103"
    icb.two_step_sign_off = True  # before any claim is issued: each claim takes it at issue
    practices = []
    for details in DEMO_PRACTICES:
        practice = session.scalar(select(Practice).where(Practice.ods_code == details["ods_code"]))
        if practice is None:
            practice = Practice(icb_id=icb.id, **details)
            session.add(practice)
            session.flush()
        seed_rate_card(session, practice)
        practices.append(practice)
    return icb, practices


def seed_users(session: Session, icb: Icb, practices: list[Practice], password: str) -> None:
    for email, (name, role) in DEMO_USERS.items():
        user = session.scalar(select(User).where(User.email == email))
        practice_ids = (
            [practices[0].id] if role == Role.PRACTICE_MANAGER else [p.id for p in practices]
        )
        save_user(
            session,
            user,
            UserDetails(
                name=name,
                email=email,
                role=role.value if role else None,
                practice_ids=practice_ids if role in (Role.PRACTICE_MANAGER, Role.FINANCE) else [],
                icb_id=icb.id if role in ICB_ROLES else None,
                is_admin=role is None,
                password=password,
            ),
        )


def seed_event(session: Session) -> OutageEvent:
    event = session.scalar(select(OutageEvent).where(OutageEvent.name == DEMO_EVENT))
    if event is None:
        event = OutageEvent(
            name=DEMO_EVENT,
            started_on=DEMO_DAY,
            description="A faulty CrowdStrike Falcon update crashed Windows machines worldwide; "
            "EMIS Web was unreachable for most of the day and practices worked on paper.",
        )
        session.add(event)
        session.flush()
    return event


def _add_line(
    session: Session, incident: Incident, context: PricingContext, inp: LineInput
) -> None:
    """A line priced as the form would price it (services.cost_lines), at the rates of the
    practice's card in force on its date."""
    line = CostLine(incident_id=incident.id)
    cost_lines.price_into(line, inp, context)
    session.add(line)
    session.flush()
    # the demo history reads as if the practice manager had typed the costs in
    audit.record(
        session,
        user_id=incident.created_by_id,
        entity=line,
        action="create",
        practice_id=incident.practice_id,
        incident_id=incident.id,
        summary=f"{CostKind(line.kind).label} added: {line.description} "
        f"({format_money(line.total_amount)})",
        changes=audit.diff({}, cost_lines.audit_snapshot(line)),
    )


def seed_incidents(session: Session, practices: list[Practice], event: OutageEvent) -> None:
    manager = session.scalar(select(User).where(User.email == "manager@example.org"))
    for practice, scale in zip(practices, (1, 2), strict=True):
        if session.scalar(select(Incident.id).where(Incident.practice_id == practice.id)):
            continue
        incident = Incident(
            practice_id=practice.id,
            outage_event_id=event.id,
            title="CrowdStrike / EMIS outage 19–20 July 2024",
            starts_at=london_to_utc(datetime(2024, 7, 19, 7, 10)),
            ends_at=london_to_utc(datetime(2024, 7, 20, 13, 0)),
            systems="emis_web,docman,eps",
            cause="Faulty CrowdStrike Falcon sensor update crashed the Windows machines that host "
            "EMIS Web access; clinical records, Docman and EPS unavailable.",
            supplier_reference="EMIS-INC-2407-1931",
            impact="Clinicians worked from paper; repeat prescriptions written by hand; routine "
            "appointments cancelled and rebooked; extra reception and admin hours to phone "
            "patients and re-enter paper notes into EMIS once it returned.",
            status=IncidentStatus.CLOSED,
            created_by_id=manager.id if manager else None,
        )
        _log_incident(session, incident)
        _seed_incident_lines(session, incident, scale)


def _cost_adder(session: Session, incident: Incident, day: date) -> Callable[..., None]:
    """add(kind, description, **fields): a cost on `day` typed as the form takes it (the
    kind's details by field name among the fields), priced by the card in force that day."""
    context = cost_lines.pricing_context(session, incident.practice, day)

    def add(kind: CostKind, description: str, **values: Any) -> None:
        details = {name: values.pop(name) for name in list(values) if name in DETAIL_LABELS}
        inp = LineInput(kind=kind.value, line_date=day, description=description, details=details)
        for name, value in values.items():
            setattr(inp, name, value)
        _add_line(session, incident, context, inp)

    return add


def _log_incident(session: Session, incident: Incident) -> None:
    """Save the incident, its history saying the practice manager logged it."""
    session.add(incident)
    session.flush()
    audit.record(
        session,
        user_id=incident.created_by_id,
        entity=incident,
        action="create",
        practice_id=incident.practice_id,
        incident_id=incident.id,
        summary=f"Incident logged: {incident.title}",
    )


def _seed_incident_lines(session: Session, incident: Incident, scale: int) -> None:
    add = _cost_adder(session, incident, DEMO_DAY)
    ot = Decimal("50")

    staff = (
        # (description, hours, hourly rate, role, how the hours were paid)
        (
            "Reception team (Band 2): extra hours phoning and rebooking patients",
            Decimal("12") * scale,
            "12.08",
            "Reception team",
            "overtime",
        ),
        (
            "Practice nurse (Band 5): paper clinics and re-entering notes",
            Decimal("6.5"),
            "18.66",
            "Practice nurse",
            "overtime",
        ),
        (
            "Part-time administrator (Band 4): additional hours scanning paper records",
            Decimal("4"),
            "14.89",
            "Administrator (part-time)",
            "additional",
        ),
        (
            "Practice manager (Band 7): incident coordination and ICB liaison",
            Decimal("4"),
            "27.01",
            "Practice manager",
            "overtime",
        ),
    )
    for description, hours, rate, role, basis in staff:
        add(
            CostKind.STAFF,
            description,
            quantity=hours,
            unit_rate=Decimal(rate),
            overtime_pct=ot if basis == "overtime" else ZERO,
            staff_role=role,
            pay_basis=basis,
        )
    add(
        CostKind.LOCUM,
        "Locum GP cover for the backlog clinic",
        quantity=Decimal(2 * scale),
        unit="session",
        unit_rate=Decimal("357.00"),
        locum_name="Dr Łukasz Nowak",
        locum_invoice_ref=f"LN-2407-{19 + scale}",
        locum_pension="scheme",
    )
    for kind_label, count, cost in (("gp", 38 * scale, "45.00"), ("nurse", 12 * scale, "11.75")):
        add(
            CostKind.APPOINTMENTS,
            f"{'GP' if kind_label == 'gp' else 'Nurse'} appointments cancelled while records "
            "were unavailable",
            quantity=Decimal(count),
            unit="appointment",
            unit_rate=Decimal(cost),
            appointment_type=kind_label,
        )
    for supplier, description, net, vat in (
        ("Ryman", "Printer paper and paper prescription pads", Decimal("42.50"), Decimal("8.50")),
        (
            "CitySprint",
            "Courier for paper prescriptions to pharmacies",
            Decimal("65.00"),
            Decimal("0"),
        ),
    ):
        add(
            CostKind.EXPENSE,
            description,
            unit_rate=net,
            vat_paid=vat,
            supplier=supplier,
        )


def seed_invoices(session: Session) -> None:
    """Riverside's claim as finance would leave it: one invoice part-paid, one issued and
    unpaid, and a draft for the expenses still waiting for the ICB's reference."""
    from tracker.services import invoicing, payments
    from tracker.services.dates import today_in_london

    practice = session.scalar(select(Practice).where(Practice.ods_code == "Y09901"))
    finance = session.scalar(select(User).where(User.email == "finance@example.org"))
    if practice is None or finance is None:
        return
    if session.scalar(select(Invoice.id).where(Invoice.practice_id == practice.id)):
        return
    lines = invoicing.uninvoiced_lines(session, practice.id)
    by_kind = {kind: [line.id for line in lines if line.kind == kind] for kind in CostKind}
    today = today_in_london()
    staff_and_locum = _issue(
        session,
        practice,
        by_kind[CostKind.STAFF] + by_kind[CostKind.LOCUM],
        user_id=finance.id,
        po_reference="NCL-PO-240719-01",
        issued=today - timedelta(days=12),
        notes="Claim for the CrowdStrike outage of 19 July 2024, as advised by the BMA GPC.",
    )
    payments.record_payment(
        session,
        staff_and_locum,
        amount=Decimal("1000.00"),
        paid_on=today - timedelta(days=3),
        reference="NCL ICB BACS 88213",
        user_id=finance.id,
        today=today,
    )
    _issue(
        session,
        practice,
        by_kind[CostKind.APPOINTMENTS],
        user_id=finance.id,
        po_reference="NCL-PO-240719-02",
        issued=today - timedelta(days=5),
    )
    invoicing.create_draft(
        session, practice=practice, user_id=finance.id, cost_line_ids=by_kind[CostKind.EXPENSE]
    )


def _issue(
    session: Session,
    practice: Practice,
    cost_line_ids: list[int],
    *,
    user_id: int | None,
    po_reference: str,
    issued: date,
    notes: str = "",
) -> Invoice:
    """An invoice drafted from the lines and issued on `issued`, as finance would."""
    from tracker.services import invoicing
    from tracker.services.dates import today_in_london

    draft = invoicing.create_draft(
        session,
        practice=practice,
        user_id=user_id,
        po_reference=po_reference,
        cost_line_ids=cost_line_ids,
        issue_date=issued,
        notes=notes,
    )
    session.flush()
    return invoicing.issue_invoice(session, draft, user_id=user_id, today=today_in_london())


REVIEW_PRACTICES = (
    # (ODS code, name, PCN, scale of costs, review state to leave the claim in, days since
    # it was issued: Holloway's and Archway's were paid; Tufnell Park's and Camden's have
    # waited longer than the ICB's 30-day review target and their 30 days' payment terms, so
    # they are overdue; 31 days is as far back as an invoice may be dated)
    ("Y09903", "Holloway Road Health Centre", "Upper Islington PCN", 3, "approved", 20),
    ("Y09904", "Archway Family Practice", "Upper Islington PCN", 2, "part_approved", 17),
    ("Y09905", "Tufnell Park Surgery", "Upper Islington PCN", 1, "in_review", 31),
    ("Y09906", "Camden Town Medical Practice", "Camden South PCN", 2, "rejected_one", 31),
)


def seed_review_claims(session: Session) -> None:
    """Four more practices in the demo ICB, each with an issued CrowdStrike claim, left in
    every review state: approved in full, part-approved, in review (a query the practice has
    answered, assigned to the reviewer) and decided with one line rejected (and overdue: the
    ICB has neither signed it off nor paid it within its 30 days). The decided claims are
    recommended by the reviewer (seed_sign_off): Holloway's and Archway's authorised by the
    approver, then paid and settled (seed_paid_claim, seed_settled_claim); Camden's waiting
    for the approver. With Riverside's claims (new, one of them assigned) that makes five
    practices claiming."""
    from tracker.services import invoicing
    from tracker.services.dates import today_in_london

    icb = session.scalar(select(Icb).where(Icb.ods_code == DEMO_ICB))
    event = session.scalar(select(OutageEvent).where(OutageEvent.name == DEMO_EVENT))
    reviewer = session.scalar(select(User).where(User.email == "reviewer@example.org"))
    if icb is None or event is None or reviewer is None:
        return
    today = today_in_london()
    for offset, (code, name, pcn, scale, state, days_ago) in enumerate(REVIEW_PRACTICES):
        if session.scalar(select(Practice.id).where(Practice.ods_code == code)):
            continue
        slug = name.split()[0].lower()
        practice = Practice(
            icb_id=icb.id,
            ods_code=code,
            name=name,
            pcn_name=pcn,
            address=f"{10 + offset} {name.split()[0]} Road\nLondon\nN{offset + 4} 1AA",
            contact_email=f"{slug}.practice@nhs.net",
            contact_phone=f"020 7946 03{offset:02d}",
            bank_account_name=name,
            bank_sort_code="30-94-57",
            bank_account_number=f"4455{offset:04d}",
            remittance_email=f"{slug}.finance@nhs.net",
        )
        session.add(practice)
        session.flush()
        seed_rate_card(session, practice)
        incident = Incident(
            practice_id=practice.id,
            outage_event_id=event.id,
            title="CrowdStrike outage: EMIS Web down 19 July 2024",
            starts_at=london_to_utc(datetime(2024, 7, 19, 7, 30)),
            ends_at=london_to_utc(datetime(2024, 7, 19, 18, 30)),
            systems="emis_web,eps",
            cause="Faulty CrowdStrike Falcon update",
            impact="Paper clinics; appointments cancelled and rebooked.",
            status=IncidentStatus.CLOSED,
        )
        session.add(incident)
        session.flush()
        _seed_incident_lines(session, incident, scale)
        if state == "in_review":
            _seed_lines_to_check(session, incident)
        session.flush()
        claim = _issue(
            session,
            practice,
            [line.id for line in invoicing.uninvoiced_lines(session, practice.id)],
            user_id=None,
            po_reference=f"NCL-PO-2407-{code}",
            issued=today - timedelta(days=days_ago),
        )
        _leave_in_state(session, claim, state, reviewer.id)


def _seed_lines_to_check(session: Session, incident: Incident) -> None:
    """More of Tufnell Park's costs, as a busy practice claims them: one the ICB caps, one
    entered twice, a night shift counted on both its dates, a nurse's hours that add up to
    more than a day's work, and backlog scanning long after the outage. With the ICB's
    policy (seed_claim_policy) each raises a flag of the automatic checks."""
    ot = Decimal("50")

    def add(kind: CostKind, day: date, description: str, **values: Any) -> None:
        _cost_adder(session, incident, day)(kind, description, **values)

    add(
        CostKind.LOCUM,
        DEMO_DAY,
        "Locum GP evening session for urgent on-the-day patients",
        quantity=Decimal(1),
        unit="session",
        unit_rate=Decimal("357.00"),
        locum_name="Dr Amara Okafor",
        locum_invoice_ref="AO-0719",
        locum_pension="none",
    )
    add(
        CostKind.EXPENSE,
        DEMO_DAY,
        "Courier for paper prescriptions to pharmacies",
        unit_rate=Decimal("65.00"),
        vat_paid=Decimal("0"),
        supplier="CitySprint",
    )
    for day in (DEMO_DAY, DEMO_DAY + timedelta(days=1)):
        add(
            CostKind.STAFF,
            day,
            "Night shift re-entering paper notes into EMIS (Band 3)",
            quantity=Decimal("8"),
            unit_rate=Decimal("13.13"),
            overtime_pct=ot,
            staff_role="Siân Evans, senior receptionist",
            pay_basis="overtime",
        )
    add(
        CostKind.STAFF,
        DEMO_DAY,
        "Practice nurse (Band 5): evening catch-up clinic",
        quantity=Decimal("7"),
        unit_rate=Decimal("18.66"),
        overtime_pct=ot,
        staff_role="Practice nurse",
        pay_basis="overtime",
    )
    add(
        CostKind.STAFF,
        date(2024, 9, 2),
        "Part-time administrator (Band 4): scanning the last paper records",
        quantity=Decimal("3"),
        unit_rate=Decimal("14.89"),
        staff_role="Administrator (part-time)",
        pay_basis="additional",
    )


def _leave_in_state(session: Session, claim: Invoice, state: str, reviewer_id: int) -> None:
    from tracker.services import review

    lines = claim.lines
    if state == "new":
        return
    decide = review.LineDecisionInput
    if state == "part_approved":
        locum = next(line for line in lines if line.kind == CostKind.LOCUM)
        review.decide_line(
            session,
            claim,
            locum,
            decide(
                "part_approved",
                (locum.total_amount / 2).quantize(Decimal("0.01")),
                "Locum cover agreed for one session of the two claimed.",
            ),
            user_id=reviewer_id,
        )
        courier = next(line for line in lines if line.kind == CostKind.EXPENSE)
        review.decide_line(
            session,
            claim,
            courier,
            decide(
                "rejected", reason="Printer paper is a routine running cost, not an outage cost."
            ),
            user_id=reviewer_id,
        )
    if state == "rejected_one":
        expense = next(line for line in lines if line.kind == CostKind.EXPENSE)
        review.decide_line(
            session,
            claim,
            expense,
            decide("rejected", reason="Stationery is a routine running cost, not an outage cost."),
            user_id=reviewer_id,
        )
    if state == "in_review":
        appointments = next(line for line in lines if line.kind == CostKind.APPOINTMENTS)
        review.decide_line(
            session,
            claim,
            appointments,
            decide(
                "queried",
                reason="Please send the list of cancelled appointments (numbers only, "
                "no patient details).",
            ),
            user_id=reviewer_id,
        )
        review.add_message(
            session,
            claim,
            line=appointments,
            user_id=None,
            body="Attached our appointment book export for 19 July: 38 GP and "
            "12 nurse appointments cancelled.",
        )
        for line in lines[:3]:
            review.decide_line(session, claim, line, decide("approved"), user_id=reviewer_id)
        return
    review.approve_remaining(session, claim, user_id=reviewer_id)


def _standing_claim(session: Session, ods_code: str) -> Invoice | None:
    """The practice's issued (not cancelled) CrowdStrike claim."""
    return session.scalar(
        select(Invoice)
        .join(Practice, Practice.id == Invoice.practice_id)
        .where(Practice.ods_code == ods_code, Invoice.status == InvoiceStatus.ISSUED)
        .order_by(Invoice.id)
        .limit(1)
    )


def seed_sign_off(session: Session) -> None:
    """Two-step sign-off and the work queue as the ICB would leave them: the decided claims
    recommended by the reviewer, Holloway's and Archway's authorised by the approver (they
    are paid and settled next), Camden's waiting for the approver; Tufnell Park's claim and
    Riverside's first assigned to the reviewer, the rest unassigned."""
    from tracker.services import sign_off, work_queue

    reviewer = session.scalar(select(User).where(User.email == "reviewer@example.org"))
    approver = session.scalar(select(User).where(User.email == "approver@example.org"))
    if reviewer is None or approver is None:
        return
    for code in ("Y09904", "Y09903", "Y09906"):
        claim = _standing_claim(session, code)
        if claim is not None and claim.recommended_at is None:
            sign_off.recommend(session, claim, user_id=reviewer.id)
    for code in ("Y09904", "Y09903"):
        claim = _standing_claim(session, code)
        if claim is not None and claim.authorised_at is None:
            sign_off.authorise(session, claim, user_id=approver.id)
    for code in ("Y09905", "Y09901"):
        claim = _standing_claim(session, code)
        if claim is not None and claim.assigned_to_id is None:
            work_queue.assign(
                session, claim, assignee_id=reviewer.id, seen_assignee_id=None, user_id=reviewer.id
            )


def _remit(
    session: Session, claim: Invoice, reference: str, *, user_id: int | None, days_ago: int
) -> None:
    """The ICB's payment of all that is owed on the claim, `days_ago`, recorded as the
    remittance it came in (services.remittances)."""
    from tracker.services import payments, remittances
    from tracker.services.dates import today_in_london

    today = today_in_london()
    owed = payments.outstanding(claim)
    remittance = remittances.RemittanceEntry(
        practice_id=claim.practice_id,
        icb_id=claim.icb_id,
        received_on=today - timedelta(days=days_ago),
        reference=reference,
        amount=owed,
        allocations={claim.id: owed},
    )
    remittances.record_remittance(session, remittance, user_id=user_id, today=today)


def _credit_not_approved(session: Session, claim: Invoice, user_id: int | None) -> None:
    """Finance credits what the ICB did not approve, in one step: a credit note itemised by
    the rejected and part-approved lines, with the reviewer's reasons. Every demo claim the
    ICB decided is credited here, so this is the one place to sign its decisions off first
    where a review needs a second signature."""
    from tracker.services import crediting
    from tracker.services.dates import today_in_london

    crediting.credit_disallowed(session, claim, user_id=user_id, today=today_in_london())


def _settle(session: Session, claim: Invoice, reference: str, user_id: int | None) -> None:
    """What the ICB did not approve credited, then the ICB's payment of the rest by
    remittance, yesterday: the claim reads Settled."""
    _credit_not_approved(session, claim, user_id)
    _remit(session, claim, reference, user_id=user_id, days_ago=1)


def seed_settled_claim(session: Session) -> None:
    """Archway's part-approved claim, settled: its finance team credited what the ICB did
    not approve in one step, and the ICB paid the approved amount by remittance."""
    claim = _standing_claim(session, "Y09904")
    if claim is None or claim.approved_total is None or claim.amount_credited:
        return
    _settle(session, claim, "NCL ICB BACS 90417", user_id=None)


def seed_paid_claim(session: Session) -> None:
    """Holloway Road's claim, approved in full and paid in full by the ICB: Paid."""
    claim = _standing_claim(session, "Y09903")
    if claim is None or claim.approved_total != claim.total or claim.amount_paid:
        return
    _remit(session, claim, "NCL ICB BACS 90388", user_id=None, days_ago=2)


TELEPHONY_TITLE = "Telephone lines down: cloud telephony outage"
TELEPHONY_DAY = date(2024, 9, 3)


def seed_telephony_claims(session: Session) -> None:
    """Riverside's second outage, its phone lines down for a morning, claimed on two invoices
    the ICB has decided, so the practice manager sees on the incident's page what became of
    each cost: the staff time and phones part-approved (one line approved, one part-approved,
    one rejected), what was not approved credited in one step and the rest paid (Settled);
    the appointments lost rejected in full and credited (Cancelled)."""
    from tracker.services.dates import today_in_london

    practice = session.scalar(select(Practice).where(Practice.ods_code == "Y09901"))
    finance = session.scalar(select(User).where(User.email == "finance@example.org"))
    reviewer = session.scalar(select(User).where(User.email == "reviewer@example.org"))
    if practice is None or finance is None or reviewer is None:
        return
    if session.scalar(select(Incident.id).where(Incident.title == TELEPHONY_TITLE)):
        return
    incident = _telephony_incident(session, practice)
    costs = session.scalars(select(CostLine).where(CostLine.incident_id == incident.id)).all()
    appointments = [line.id for line in costs if line.kind == CostKind.APPOINTMENTS]
    others = [line.id for line in costs if line.id not in appointments]
    today = today_in_london()
    claim, lost = (
        _issue(
            session,
            practice,
            ids,
            user_id=finance.id,
            po_reference=f"NCL-PO-240903-0{n}",
            issued=today - timedelta(days=4),
        )
        for n, ids in ((1, others), (2, appointments))
    )
    _decide_telephony(session, claim, lost, reviewer.id)
    _sign_off_telephony(session, (claim, lost), reviewer.id)
    _settle(session, claim, "NCL ICB BACS 90631", user_id=finance.id)
    _credit_not_approved(session, lost, user_id=finance.id)


def _sign_off_telephony(session: Session, claims: tuple[Invoice, ...], reviewer_id: int) -> None:
    """The reviewer recommends the decided telephony claims and the approver authorises them,
    where the ICB signs off in two steps: only authorised decisions reach the practice and
    may be credited."""
    from tracker.services import sign_off

    approver = session.scalar(select(User).where(User.email == "approver@example.org"))
    for claim in claims:
        if not claim.two_step_sign_off or approver is None:
            continue
        sign_off.recommend(session, claim, user_id=reviewer_id)
        sign_off.authorise(session, claim, user_id=approver.id)


def _telephony_incident(session: Session, practice: Practice) -> Incident:
    manager = session.scalar(select(User).where(User.email == "manager@example.org"))
    incident = Incident(
        practice_id=practice.id,
        title=TELEPHONY_TITLE,
        starts_at=london_to_utc(datetime.combine(TELEPHONY_DAY, time(8, 0))),
        ends_at=london_to_utc(datetime.combine(TELEPHONY_DAY, time(14, 30))),
        systems="telephony",
        cause="The cloud telephony supplier's platform failed: calls to the practice did "
        "not connect.",
        supplier_reference="TEL-INC-240903-07",
        impact="Patients could not phone the practice; reception called patients back from "
        "mobiles and booked them at the front desk.",
        status=IncidentStatus.CLOSED,
        created_by_id=manager.id if manager else None,
    )
    _log_incident(session, incident)
    add = _cost_adder(session, incident, TELEPHONY_DAY)
    for description, hours, rate, role in (
        ("Reception team (Band 2): calling patients back", "8", "12.08", "Receptionist"),
        ("Practice manager (Band 7): liaising with the supplier", "5", "27.01", "Practice manager"),
    ):
        add(
            CostKind.STAFF,
            description,
            quantity=Decimal(hours),
            unit_rate=Decimal(rate),
            overtime_pct=Decimal("50"),
            staff_role=role,
            pay_basis="overtime",
        )
    add(
        CostKind.EXPENSE,
        "Pay-as-you-go mobile phones and credit for the call-backs",
        unit_rate=Decimal("74.99"),
        vat_paid=Decimal("15.00"),
        supplier="Currys",
    )
    add(
        CostKind.APPOINTMENTS,
        "GP appointments that could not be booked by phone",
        quantity=Decimal("14"),
        unit="appointment",
        unit_rate=Decimal("45.00"),
        appointment_type="gp",
    )
    session.flush()
    return incident


def _decide_telephony(session: Session, claim: Invoice, lost: Invoice, reviewer_id: int) -> None:
    """The ICB's decisions on Riverside's telephony claims, with the reasons it gives."""
    from tracker.services import review
    from tracker.services.money import to_pence

    decide = review.LineDecisionInput
    for line in claim.lines:
        if line.kind == CostKind.EXPENSE:
            choice = decide(
                "rejected",
                reason="The phones stay with the practice after the outage: equipment, "
                "not a cost of the outage.",
            )
        elif line.description.startswith("Practice manager"):
            choice = decide(
                "part_approved",
                to_pence(line.total_amount * 3 / 5),
                "Three of the five hours agreed: liaising with the supplier beyond that is "
                "routine contract management.",
            )
        else:
            choice = decide("approved")
        review.decide_line(session, claim, line, choice, user_id=reviewer_id)
    review.decide_line(
        session,
        lost,
        lost.lines[0],
        decide(
            "rejected",
            reason="Appointments could still be booked online and at the front desk: none "
            "was lost.",
        ),
        user_id=reviewer_id,
    )


#: Registered list sizes of the demo practices: made up, of the size most English practices
#: have (NHS England, "Patients Registered at a GP Practice": most lists 4,000 to 20,000).
#: Tufnell Park's small list makes its claim stand out per 1,000 patients in the ICB's
#: comparison with peers (services.peers).
DEMO_LIST_SIZES = {
    "Y09901": 11_240,
    "Y09902": 7_860,
    "Y09903": 14_350,
    "Y09904": 9_120,
    "Y09905": 3_290,
    "Y09906": 12_900,
}


def seed_list_sizes(session: Session) -> None:
    """Every demo practice's registered list size, where it has none yet."""
    for practice in session.scalars(
        select(Practice).where(Practice.ods_code.in_(DEMO_LIST_SIZES), Practice.list_size.is_(None))
    ):
        practice.list_size = DEMO_LIST_SIZES[practice.ods_code]


#: NHS North Central London ICB's claim policy for the CrowdStrike outage. Locum GP rates are
#: not regulated: each locum negotiates their own, and neither the BMA nor NHS Employers
#: publishes a scale (BMA, "Competition law and locum GPs",
#: bma.org.uk/pay-and-contracts/pay/gp-pay/competition-law-and-locum-gps). The locum caps are
#: the ICB's choice, here a little under the Management in Practice survey's median of £357
#: a session (the rate card's default), and £340 / 4 h 10 min an hour. Staff caps are
#: a little over the Agenda for Change 2024/25 top of each band (NHS Employers, "Pay scales
#: for 2024/25"); appointment caps are the PSSRU unit costs the rate card uses (Unit Costs of
#: Health and Social Care 2024, tables 9.4.2 and 9.3.1, kar.kent.ac.uk/109563/).
DEMO_POLICY_CAPS = {
    "staff_band_2": Decimal("12.50"),
    "staff_band_3": Decimal("13.50"),
    "staff_band_4": Decimal("15.50"),
    "staff_band_5": Decimal("19.00"),
    "staff_band_6": Decimal("23.50"),
    "staff_band_7": Decimal("27.50"),
    "locum_session": Decimal("340.00"),
    "locum_hour": Decimal("81.60"),
    "appointments_gp": Decimal("45.00"),
    "appointments_nurse": Decimal("11.75"),
}


def seed_claim_policy(session: Session) -> None:
    """The demo ICB's policy for the CrowdStrike outage, in two versions: version 1 (a month
    ago, under which the decided claims were decided) reimbursed everything; version 2 (now)
    no longer reimburses lost appointments, a notional value rather than money spent. Its
    deadline passed a week ago, so a claim issued since is flagged as late."""
    from tracker.services import claim_policy
    from tracker.services.dates import today_in_london

    icb = session.scalar(select(Icb).where(Icb.ods_code == DEMO_ICB))
    event = session.scalar(select(OutageEvent).where(OutageEvent.name == DEMO_EVENT))
    reviewer = session.scalar(select(User).where(User.email == "reviewer@example.org"))
    if (
        icb is None
        or event is None
        or reviewer is None
        or claim_policy.current(session, event.id, icb.id)
    ):
        return
    everything = claim_policy.PolicyInput(
        claimable=frozenset(kind.value for kind in CostKind),
        caps=DEMO_POLICY_CAPS,
        deadline=today_in_london() - timedelta(days=8),
        window_days=28,
        evidence_above=Decimal("500.00"),
        max_hours_per_day=Decimal("12"),
    )
    first = claim_policy.save_policy(
        session, event, icb, everything, seen_version=0, user_id=reviewer.id
    )
    assert first is not None
    first.created_at = first.created_at - timedelta(days=30)
    costs_only = replace(everything, claimable=everything.claimable - {CostKind.APPOINTMENTS.value})
    claim_policy.save_policy(session, event, icb, costs_only, seen_version=1, user_id=reviewer.id)


#: Steps run in order by seed_demo; later areas append theirs (invoices, reviews).
PROPOSED_EVENT = "Riverside Walk broadband outage, 3 March 2025"
PROPOSED_DAY = date(2025, 3, 3)


def seed_proposed_event(session: Session) -> None:
    """Riverside's practice manager proposed a local outage the ICB has no event for (a
    broadband line cut by street works) and logged the incident under it at once; the
    proposal waits for the demo reviewer to confirm it or merge it (services.events)."""
    from tracker.services import events

    practice = session.scalar(select(Practice).where(Practice.ods_code == "Y09901"))
    manager = session.scalar(select(User).where(User.email == "manager@example.org"))
    if practice is None or manager is None:
        return
    if session.scalar(select(OutageEvent.id).where(OutageEvent.name == PROPOSED_EVENT)):
        return
    event = events.propose(
        session,
        practice.id,
        manager.id,
        events.Proposal(
            name=PROPOSED_EVENT,
            started_on=PROPOSED_DAY,
            description="Street works on Riverside Walk cut the fibre to the practice and "
            "its neighbours: no internet, so no EMIS Web, NHSmail or EPS, from 8am to 3pm.",
            systems=["internet", "emis_web", "nhsmail", "eps"],
        ),
        events.Viewer(practice_ids=frozenset({practice.id})),
        PROPOSED_DAY,
    )
    incident = Incident(
        practice_id=practice.id,
        outage_event_id=event.id,
        title="Broadband cut by street works",
        starts_at=london_to_utc(datetime.combine(PROPOSED_DAY, time(8, 0))),
        ends_at=london_to_utc(datetime.combine(PROPOSED_DAY, time(15, 0))),
        systems="internet,emis_web,nhsmail,eps",
        cause="Contractors cut the fibre cable in the street; the provider repaired it by 3pm.",
        supplier_reference="OR-FAULT-250303-114",
        impact="No clinical system for the day's surgeries: paper notes and prescriptions, "
        "notes entered into EMIS Web in the evening.",
        status=IncidentStatus.CLOSED,
        created_by_id=manager.id,
    )
    _log_incident(session, incident)
    add = _cost_adder(session, incident, PROPOSED_DAY)
    add(
        CostKind.STAFF,
        "Administrator (Band 3): entering paper notes into EMIS Web",
        quantity=Decimal("4"),
        unit_rate=Decimal("12.31"),  # Band 3 entry, 2024/25 (services.rates)
        overtime_pct=Decimal("50"),
        staff_role="Administrator",
        pay_basis="overtime",
    )
    add(
        CostKind.EXPENSE,
        "4G router and data for the reception desk",
        unit_rate=Decimal("49.99"),
        vat_paid=Decimal("10.00"),
        supplier="EE",
    )


EXTRA_STEPS: list[Callable[[Session], None]] = [
    seed_invoices,
    seed_review_claims,
    seed_sign_off,
    seed_settled_claim,
    seed_paid_claim,
    seed_telephony_claims,
    seed_list_sizes,
    seed_claim_policy,
    seed_proposed_event,
]


def receipt_pdf(
    supplier: str, number: str, day: date, items: list[tuple[str, Decimal]], vat: Decimal
) -> bytes:
    """A small, real PDF receipt, as a supplier would send it."""
    from io import BytesIO

    from reportlab.lib.pagesizes import A5
    from reportlab.pdfgen import canvas

    from tracker.presentation import format_money

    buffer = BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A5)
    width, height = A5
    pdf.setTitle(f"{supplier} receipt {number}")
    pdf.setFont("Helvetica-Bold", 16)
    pdf.drawString(40, height - 60, supplier)
    pdf.setFont("Helvetica", 10)
    pdf.drawString(40, height - 80, f"Receipt {number}    {day:%d/%m/%Y}")
    y = height - 120
    net = sum((amount for _text, amount in items), Decimal("0"))
    for text, amount in items:
        pdf.drawString(40, y, text)
        pdf.drawRightString(width - 40, y, format_money(amount))
        y -= 16
    for label, amount in (("Net", net), ("VAT", vat), ("Total paid", net + vat)):
        y -= 4
        pdf.drawString(40, y, label)
        pdf.drawRightString(width - 40, y, format_money(amount))
        y -= 12
    pdf.drawString(40, 40, "Paid by card. Thank you for your custom.")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def seed_evidence(session: Session, upload_folder: str) -> None:
    """Attach a receipt to each practice's paper-and-pads expense."""
    from io import BytesIO

    from tracker.services import evidence

    lines = session.scalars(
        select(CostLine).where(
            CostLine.kind == CostKind.EXPENSE,
            CostLine.invoice_id.is_(None),
            ~CostLine.evidence.any(),
        )
    ).all()
    lines = [line for line in lines if (line.details or {}).get("supplier") == "Ryman"]
    for line in lines:
        pdf = receipt_pdf(
            "Ryman Stationery, Islington",
            f"R-2407-{line.id:04d}",
            line.line_date,
            [
                ("Copier paper A4, 5 reams", Decimal("22.50")),
                ("FP10 overflow pads and pens", Decimal("20.00")),
            ],
            line.vat_amount,
        )
        evidence.store(
            session,
            upload_folder,
            line,
            "ryman-receipt-19-july.pdf",
            BytesIO(pdf),
            len(pdf),
            user_id=line.incident.created_by_id,
        )


def seed_demo(session: Session, password: str, upload_folder: str | None = None) -> bool:
    """Create the demo data. Returns False (and changes nothing) when it is already there.
    With `upload_folder`, the demo expenses get their receipts."""
    if demo_present(session):
        return False
    icb, practices = seed_directory(session)
    seed_users(session, icb, practices, password)
    session.flush()
    event = seed_event(session)
    seed_incidents(session, practices, event)
    session.flush()
    if upload_folder:
        seed_evidence(session, upload_folder)
        session.flush()
    for step in EXTRA_STEPS:
        step(session)
        session.flush()
    return True


def demo_password_problem(password: str) -> str | None:
    """Why `password` cannot be every demo user's password, or None (the password policy
    of services.accounts, for each demo user's email and name)."""
    for email, (name, _role) in DEMO_USERS.items():
        problem = password_problem(password, email=email, name=name)
        if problem:
            return problem
    return None


def random_demo_password() -> str:
    """A random password (16 characters) that the password policy accepts for every demo user."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if demo_password_problem(candidate) is None:
            return candidate


def reset_demo_passwords(session: Session, password: str) -> int:
    users = session.scalars(select(User).where(User.email.in_(DEMO_USERS))).all()
    for user in users:
        user.set_password(password)
    return len(users)
