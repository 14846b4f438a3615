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
    Icb,
    Incident,
    IncidentStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    Practice,
    ReviewStatus,
)
from tracker.services import register
from tracker.services.costing import sum_amounts
from tracker.services.money import ZERO
from tracker.services.review import practice_sees_decision
from tracker.services.work_queue import awaiting_sign_off


@dataclass(frozen=True)
class ClaimTotals:
    """A practice's claims to one ICB (`icb_id` None: to every ICB), as the register totals
    its issued invoices: claimed (every invoice issued, those later cancelled included),
    approved by the ICB (decided claims), credited, paid net of refunds and outstanding
    (claimed - credited - paid)."""

    icb_id: int | None
    icb_name: str
    claims: int
    claimed: Decimal
    approved: Decimal
    credited: Decimal
    paid: Decimal
    outstanding: Decimal


@dataclass
class PracticeSummary:
    """A practice's costs and claims: what is not invoiced yet, and its claims by ICB (one
    row but for a practice that moved ICB) with their total."""

    open_incidents: list[Incident] = field(default_factory=list)
    not_invoiced: Decimal = ZERO
    incident_count: int = 0
    #: cost so far of each open incident, by incident id
    open_totals: dict[int, Decimal] = field(default_factory=dict)
    claims_by_icb: list[ClaimTotals] = field(default_factory=list)
    claims: ClaimTotals = field(
        default_factory=lambda: ClaimTotals(None, "All ICBs", 0, ZERO, ZERO, ZERO, ZERO, ZERO)
    )


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
    from tracker.services.incidents import totals_for_incidents

    by_icb = claims_by_icb(session, practice_id)
    return PracticeSummary(
        open_totals=totals_for_incidents(session, [i.id for i in open_incidents]),
        open_incidents=open_incidents,
        not_invoiced=not_invoiced or ZERO,
        incident_count=incident_count or 0,
        claims_by_icb=by_icb,
        claims=_all_icbs(by_icb),
    )


def claims_by_icb(session: Session, practice_id: int) -> list[ClaimTotals]:
    """The practice's issued invoices (and credit notes) by the ICB they were sent to, summed
    as the register sums them (services.register.balance_sums): each row is what the
    register shows filtered to the practice and that ICB. One query."""
    rows = session.execute(
        select(
            Icb.id,
            Icb.name,
            func.count(case((Invoice.kind == DocumentKind.INVOICE, 1))),
            *register.balance_sums(),
        )
        .join(Icb, Icb.id == Invoice.icb_id)
        .where(Invoice.practice_id == practice_id, Invoice.status != InvoiceStatus.DRAFT)
        .group_by(Icb.id, Icb.name)
        .order_by(Icb.name)
    ).all()
    return [ClaimTotals(*row) for row in rows]


def _all_icbs(rows: list[ClaimTotals]) -> ClaimTotals:
    """The rows added up: each sum is of amounts already in pence, so nothing is rounded."""
    return ClaimTotals(
        icb_id=None,
        icb_name="All ICBs",
        claims=sum(row.claims for row in rows),
        claimed=sum_amounts(row.claimed for row in rows),
        approved=sum_amounts(row.approved for row in rows),
        credited=sum_amounts(row.credited for row in rows),
        paid=sum_amounts(row.paid for row in rows),
        outstanding=sum_amounts(row.outstanding for row in rows),
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
    """The practice's claims with queried lines, and how many still wait for an answer
    (a query reaches the practice at once, whatever the sign-off: review.decision_for_practice)."""
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
            practice_sees_decision(),
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
    awaiting_sign_off: int = 0  # recommended, waiting for an ICB finance approver
    two_step: bool = False  # whether the ICB signs off in two steps


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
    awaiting = session.scalar(
        select(func.count(Invoice.id)).where(Invoice.icb_id == icb_id, awaiting_sign_off())
    )
    return ReviewCounts(
        new=by_status.get(ReviewStatus.NEW, 0),
        in_review=by_status.get(ReviewStatus.IN_REVIEW, 0),
        decided=by_status.get(ReviewStatus.DECIDED, 0),
        answered_queries=answered or 0,
        awaiting_sign_off=awaiting or 0,
        two_step=bool(session.scalar(select(Icb.two_step_sign_off).where(Icb.id == icb_id))),
    )
