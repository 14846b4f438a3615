"""Outage reports: what practices claimed for one outage event and what the ICB approved, by
practice, by cost kind and (nationally) by ICB.

Everything is aggregated in the database (GROUP BY over the frozen invoice lines); the number
of queries is fixed, whatever the number of practices, claims or lines.

What counts as claimed: the lines of issued invoices (kind "invoice", status "issued") whose
incidents all belong to the event. Drafts are not claims. A cancelled invoice and the credit
notes that cancel it are all left out: together they net to nothing; a replacement invoice
counts as a claim of its own. A credit note for part of an invoice still issued (what the ICB
did not approve, credited in one step) leaves the claim in the report as claimed, and is not
counted among the credit notes left out.
Approved: the approved amount of each line with a final decision (approved, part-approved,
rejected = £0). Awaiting decision: what is claimed on lines with no decision or a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    ColumnExpressionArgument,
    Select,
    and_,
    case,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from tracker.cost_kinds import is_notional
from tracker.documents.report_data import (
    FIGURE_FIELDS,
    HOURS_ZERO,
    Excluded,
    Figures,
    IcbRow,
    KindRow,
    OutageReport,
    PracticeRow,
)
from tracker.models import (
    COST_KIND_LABELS,
    CostKind,
    DocumentKind,
    Fixed,
    Icb,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    Money,
    OutageEvent,
    Practice,
)
from tracker.services.money import ZERO
from tracker.services.review import FINAL_DECISIONS

__all__ = [
    "Excluded",
    "Figures",
    "IcbRow",
    "KindRow",
    "OutageReport",
    "PracticeRow",
    "by_icb",
    "by_kind",
    "by_practice",
    "events_with_claims",
    "icb_report",
    "national_report",
]

# --- queries ---------------------------------------------------------------------------------


def _claim_filter(event_id: int, icb_ids: Sequence[int] | None) -> ColumnElement[bool]:
    conditions = [
        Invoice.outage_event_id == event_id,
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
    ]
    if icb_ids is not None:
        conditions.append(Invoice.icb_id.in_(list(icb_ids)))
    return and_(*conditions)


def _figure_columns() -> list[ColumnElement[Any]]:
    final = LineDecision.decision.in_(FINAL_DECISIONS)
    money = InvoiceLine.total_amount

    def total(
        expression: ColumnExpressionArgument[Any], type_: Fixed = Money
    ) -> ColumnElement[Decimal]:
        return type_coerce(func.coalesce(func.sum(expression), 0), type_)

    return [
        func.count(func.distinct(InvoiceLine.invoice_id)),
        func.count(InvoiceLine.id),
        total(money),
        total(case((final, LineDecision.approved_amount), else_=0)),
        total(case((final, 0), else_=money)),
        total(case((InvoiceLine.kind == CostKind.STAFF, InvoiceLine.hours), else_=0), Fixed(2)),
        total(case((InvoiceLine.kind == CostKind.LOCUM, InvoiceLine.hours), else_=0), Fixed(2)),
        func.coalesce(func.sum(InvoiceLine.appointments), 0),
    ]


def _lines_query(
    event_id: int, icb_ids: Sequence[int] | None, *group_by: InstrumentedAttribute[Any]
) -> Select[*tuple[Any, ...]]:
    return (
        select(*group_by, *_figure_columns())
        .select_from(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(LineDecision, LineDecision.invoice_line_id == InvoiceLine.id)
        .where(_claim_filter(event_id, icb_ids))
        .group_by(*group_by)
    )


def _figures(values: Sequence[Any]) -> Figures:
    claims, lines, claimed, approved, awaiting, staff, locum, appointments = values
    return Figures(
        int(claims or 0),
        int(lines or 0),
        claimed or ZERO,
        approved or ZERO,
        awaiting or ZERO,
        staff or HOURS_ZERO,
        locum or HOURS_ZERO,
        int(appointments or 0),
    )


def by_kind(session: Session, event_id: int, icb_ids: Sequence[int] | None) -> list[KindRow]:
    """One row per cost kind, costs incurred first and lost appointments (capacity lost,
    a notional value) last, zeros included."""
    found = {
        row[0]: _figures(row[1:])
        for row in session.execute(_lines_query(event_id, icb_ids, InvoiceLine.kind))
    }
    return [
        KindRow(kind.value, COST_KIND_LABELS[kind], found.get(kind.value, Figures()))
        for kind in sorted(CostKind, key=lambda kind: is_notional(kind.value))
    ]


def by_practice(
    session: Session, event_id: int, icb_ids: Sequence[int] | None
) -> list[PracticeRow]:
    """One row per practice with a claim in scope, with its list size (for services.peers)."""
    query = (
        _lines_query(
            event_id,
            icb_ids,
            Practice.id,
            Practice.ods_code,
            Practice.name,
            Icb.ods_code,
            Practice.list_size,
        )
        .join(Practice, Practice.id == Invoice.practice_id)
        .join(Icb, Icb.id == Invoice.icb_id)
        .order_by(Icb.ods_code, Practice.name, Practice.id)
    )
    return [
        PracticeRow(row[1], row[2], row[3], _figures(row[5:]), list_size=row[4])
        for row in session.execute(query)
    ]


def by_icb(session: Session, event_id: int, icb_ids: Sequence[int] | None) -> list[IcbRow]:
    figures = {
        row[0]: _figures(row[1:])
        for row in session.execute(_lines_query(event_id, icb_ids, Invoice.icb_id))
    }
    practices = dict(
        session.execute(
            select(Invoice.icb_id, func.count(func.distinct(Invoice.practice_id)))
            .where(_claim_filter(event_id, icb_ids))
            .group_by(Invoice.icb_id)
        ).all()
    )
    icbs = session.execute(
        select(Icb.id, Icb.ods_code, Icb.name).where(Icb.id.in_(list(figures))).order_by(Icb.name)
    ).all()
    return [
        IcbRow(code, name, practices.get(icb_id, 0), figures[icb_id]) for icb_id, code, name in icbs
    ]


def _status_counts(
    session: Session, event_id: int, icb_ids: Sequence[int] | None
) -> dict[str, int]:
    return dict(
        session.execute(
            select(Invoice.review_status, func.count(Invoice.id))
            .where(_claim_filter(event_id, icb_ids))
            .group_by(Invoice.review_status)
        ).all()
    )


def _excluded(session: Session, event_id: int, icb_ids: Sequence[int] | None) -> Excluded:
    scope = [Invoice.icb_id.in_(list(icb_ids))] if icb_ids is not None else []
    withdrawn = and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.CANCELLED,
        Invoice.outage_event_id == event_id,
    )
    credited = aliased(Invoice)
    cancelled = select(credited.id).where(credited.status == InvoiceStatus.CANCELLED)
    credit = and_(
        Invoice.kind == DocumentKind.CREDIT_NOTE,
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.outage_event_id == event_id,
        Invoice.credited_invoice_id.in_(cancelled),
    )
    mixed = and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.outage_event_id.is_(None),
    )
    row = session.execute(
        select(
            func.count(case((withdrawn, 1))),
            type_coerce(
                func.coalesce(func.sum(case((withdrawn, Invoice.total), else_=0)), 0), Money
            ),
            func.count(case((credit, 1))),
            type_coerce(func.coalesce(func.sum(case((credit, Invoice.total), else_=0)), 0), Money),
            func.count(case((mixed, 1))),
        ).where(*scope, Invoice.status != InvoiceStatus.DRAFT)
    ).one()
    return Excluded(row[0] or 0, row[1] or ZERO, row[2] or 0, row[3] or ZERO, row[4] or 0)


def events_with_claims(session: Session, icb_ids: Sequence[int] | None) -> list[OutageEvent]:
    """Outage events that have at least one issued claim in scope, newest first."""
    claims = select(Invoice.outage_event_id).where(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
        *([Invoice.icb_id.in_(list(icb_ids))] if icb_ids is not None else []),
    )
    return list(
        session.scalars(
            select(OutageEvent)
            .where(OutageEvent.id.in_(claims))
            .order_by(OutageEvent.started_on.desc(), OutageEvent.name)
        )
    )


# --- the reports -------------------------------------------------------------------------------


def icb_report(session: Session, event: OutageEvent, icb: Icb, *, today: date) -> OutageReport:
    """The report for one ICB: by practice and by cost kind. Six queries."""
    icb_ids = [icb.id]
    kinds = by_kind(session, event.id, icb_ids)
    practices = by_practice(session, event.id, icb_ids)
    return OutageReport(
        event_id=event.id,
        event_name=event.name,
        event_started_on=event.started_on,
        scope=f"{icb.name} ({icb.ods_code})",
        national=False,
        generated_on=today,
        totals=_total(kinds, practices_claims=sum(p.figures.claims for p in practices)),
        practices_claiming=len(practices),
        by_kind=kinds,
        by_practice=practices,
        status_counts=_status_counts(session, event.id, icb_ids),
        excluded=_excluded(session, event.id, icb_ids),
    )


def national_report(
    session: Session, event: OutageEvent, *, today: date, with_practices: bool = False
) -> OutageReport:
    """Every ICB: by ICB and by cost kind (and by practice for the workbook)."""
    kinds = by_kind(session, event.id, None)
    icbs = by_icb(session, event.id, None)
    return OutageReport(
        event_id=event.id,
        event_name=event.name,
        event_started_on=event.started_on,
        scope="England: all ICBs",
        national=True,
        generated_on=today,
        totals=_total(kinds, practices_claims=sum(i.figures.claims for i in icbs)),
        practices_claiming=sum(i.practices for i in icbs),
        by_kind=kinds,
        by_icb=icbs,
        by_practice=by_practice(session, event.id, None) if with_practices else [],
        status_counts=_status_counts(session, event.id, None),
        excluded=_excluded(session, event.id, None),
    )


def _total(kinds: list[KindRow], *, practices_claims: int) -> Figures:
    """The grand total: the sum of the four kinds; claims counted once (not per kind)."""
    total = Figures()
    for row in kinds:
        total = total + row.figures
    return Figures(practices_claims, *(getattr(total, name) for name in FIGURE_FIELDS[1:]))
