"""Figures for the dashboards, aggregated in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tracker.models import (
    CostLine,
    DocumentKind,
    Incident,
    IncidentStatus,
    Invoice,
    InvoiceStatus,
    Practice,
)
from tracker.services.money import ZERO


@dataclass
class PracticeSummary:
    open_incidents: list[Incident] = field(default_factory=list)
    not_invoiced: Decimal = ZERO
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO
    incident_count: int = 0
    #: cost so far of each open incident, by incident id
    open_totals: dict[int, Decimal] = field(default_factory=dict)

    @property
    def outstanding(self) -> Decimal:
        return self.invoiced - self.paid


def practice_summary(session: Session, practice_id: int) -> PracticeSummary:
    open_incidents = list(
        session.scalars(
            select(Incident)
            .where(Incident.practice_id == practice_id, Incident.status == IncidentStatus.OPEN)
            .order_by(Incident.starts_at.desc())
            .limit(10)
        )
    )
    incident_count = session.scalar(
        select(func.count(Incident.id)).where(Incident.practice_id == practice_id)
    )
    not_invoiced = session.scalar(
        select(func.coalesce(func.sum(CostLine.total_amount), ZERO))
        .join(Incident, CostLine.incident_id == Incident.id)
        .where(Incident.practice_id == practice_id, CostLine.invoice_id.is_(None))
    )
    invoiced, paid = session.execute(
        select(
            func.coalesce(func.sum(Invoice.total), ZERO),
            func.coalesce(func.sum(Invoice.amount_paid), ZERO),
        ).where(
            Invoice.practice_id == practice_id,
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
        )
    ).one()
    from tracker.services.incidents import totals_for_incidents

    return PracticeSummary(
        open_totals=totals_for_incidents(session, [i.id for i in open_incidents]),
        open_incidents=open_incidents,
        not_invoiced=not_invoiced or ZERO,
        invoiced=invoiced or ZERO,
        paid=paid or ZERO,
        incident_count=incident_count or 0,
    )


@dataclass
class IcbSummary:
    practice_count: int
    claims: int
    claimed: Decimal


def icb_summary(session: Session, icb_id: int) -> IcbSummary:
    practice_count = session.scalar(
        select(func.count(Practice.id)).where(Practice.icb_id == icb_id)
    )
    claims, claimed = session.execute(
        select(func.count(Invoice.id), func.coalesce(func.sum(Invoice.total), ZERO)).where(
            Invoice.icb_id == icb_id,
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
        )
    ).one()
    return IcbSummary(practice_count or 0, claims or 0, claimed or ZERO)
