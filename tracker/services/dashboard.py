"""Figures for the dashboards, aggregated in the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tracker.models import (
    ClaimMessage,
    CostLine,
    DocumentKind,
    Incident,
    IncidentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    Practice,
    ReviewStatus,
)
from tracker.services import payments
from tracker.services.money import ZERO


@dataclass
class PracticeSummary:
    """A practice's costs and claims. Across its issued invoices (cancelled ones left
    out): claimed, approved by the ICB (decided claims only), credited, paid net of
    refunds and outstanding (services.payments.outstanding, summed)."""

    open_incidents: list[Incident] = field(default_factory=list)
    not_invoiced: Decimal = ZERO
    invoiced: Decimal = ZERO
    paid: Decimal = ZERO
    incident_count: int = 0
    #: cost so far of each open incident, by incident id
    open_totals: dict[int, Decimal] = field(default_factory=dict)
    approved: Decimal = ZERO
    credited: Decimal = ZERO
    outstanding: Decimal = ZERO


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
    invoiced, approved, credited, paid, outstanding = session.execute(
        select(
            func.coalesce(func.sum(Invoice.total), ZERO),
            func.coalesce(func.sum(Invoice.approved_total), ZERO),
            func.coalesce(func.sum(Invoice.amount_credited), ZERO),
            func.coalesce(func.sum(Invoice.amount_paid), ZERO),
            payments.outstanding_sum(),
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
        approved=approved or ZERO,
        credited=credited or ZERO,
        outstanding=outstanding or ZERO,
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


@dataclass(frozen=True)
class QueriedClaim:
    """An issued invoice on which the ICB has queried lines."""

    invoice_id: int
    number: str
    queried: int
    unanswered: int


def _latest_answers() -> Any:
    """Per invoice line, when the latest note on it was written."""
    return (
        select(ClaimMessage.invoice_line_id, func.max(ClaimMessage.created_at).label("at"))
        .where(ClaimMessage.invoice_line_id.isnot(None))
        .group_by(ClaimMessage.invoice_line_id)
        .subquery()
    )


def _answered(answers: Any) -> Any:
    return answers.c.at.isnot(None) & (answers.c.at >= LineDecision.decided_at)


def queried_claims(session: Session, practice_id: int) -> list[QueriedClaim]:
    """The practice's claims with queried lines, and how many still wait for an answer."""
    answers = _latest_answers()
    rows = session.execute(
        select(
            Invoice.id,
            Invoice.number,
            func.count(LineDecision.id),
            func.count(case((~_answered(answers), 1))),
        )
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .join(LineDecision, LineDecision.invoice_line_id == InvoiceLine.id)
        .outerjoin(answers, answers.c.invoice_line_id == InvoiceLine.id)
        .where(
            Invoice.practice_id == practice_id,
            Invoice.status == InvoiceStatus.ISSUED,
            LineDecision.decision == "queried",
        )
        .group_by(Invoice.id, Invoice.number)
        .order_by(Invoice.number)
    ).all()
    claims = []
    for invoice_id, number, queried, unanswered in rows:
        assert number is not None  # only issued invoices are selected, and issuing numbers them
        claims.append(QueriedClaim(invoice_id, number, queried, unanswered))
    return claims


@dataclass(frozen=True)
class ReviewCounts:
    new: int = 0
    in_review: int = 0
    decided: int = 0
    answered_queries: int = 0  # queried lines the practice has answered since


def review_counts(session: Session, icb_id: int) -> ReviewCounts:
    """What waits for an ICB's reviewers: claims by review status, and answered queries."""
    by_status = dict(
        session.execute(
            select(Invoice.review_status, func.count(Invoice.id))
            .where(
                Invoice.icb_id == icb_id,
                Invoice.kind == DocumentKind.INVOICE,
                Invoice.status == InvoiceStatus.ISSUED,
            )
            .group_by(Invoice.review_status)
        ).all()
    )
    answers = _latest_answers()
    answered = session.scalar(
        select(func.count(LineDecision.id))
        .join(InvoiceLine, LineDecision.invoice_line_id == InvoiceLine.id)
        .join(Invoice, InvoiceLine.invoice_id == Invoice.id)
        .join(answers, answers.c.invoice_line_id == InvoiceLine.id)
        .where(
            Invoice.icb_id == icb_id,
            Invoice.status == InvoiceStatus.ISSUED,
            LineDecision.decision == "queried",
            _answered(answers),
        )
    )
    return ReviewCounts(
        new=by_status.get(ReviewStatus.NEW, 0),
        in_review=by_status.get(ReviewStatus.IN_REVIEW, 0),
        decided=by_status.get(ReviewStatus.DECIDED, 0),
        answered_queries=answered or 0,
    )
