"""The practice's view of what became of each cost it claimed (issue 11).

For every cost line of an incident: the invoice it is on (the live one when a cancelled
invoice was replaced; a draft it waits on; the cancelled ones it was on before), the ICB's
decision on it and the reviewer's reason (only once services.review.decisions_released says
the practice may see them), what credit notes took off it, and the payment state of its
invoice. A payment is made against an invoice, not a line, so a line is "paid" as far as its
invoice is: the state (part-paid, paid, settled, overdue) is the invoice's.

Two queries for an incident, whatever the number of its lines, invoices and credit notes.
And the settlement of one claim as the ICB's reviewer reads it: its balance, payment state,
credit notes and payments.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tracker.models import (
    CostLine,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    Payment,
)
from tracker.services import crediting, review
from tracker.services.costing import sum_amounts
from tracker.services.payments import Balance, PaymentState, balance_of, payment_state


@dataclass(frozen=True)
class LineCredit:
    """A credit note's share of one invoice line: its id and number, and the amount it took
    off the line (positive)."""

    credit_note_id: int
    number: str
    amount: Decimal


@dataclass(frozen=True)
class LineClaim:
    """What became of one cost line once it went on an invoice."""

    #: The issued invoice that holds the line now, if any.
    invoice: Invoice | None
    #: Invoices it was on that credit notes cancelled, oldest first.
    cancelled: tuple[Invoice, ...]
    #: A draft invoice it waits on, not issued yet.
    draft: Invoice | None
    #: The invoice line the decision, credits and state below are of: on the live invoice,
    #: else on the latest cancelled one (what the ICB said before it was withdrawn).
    claimed: InvoiceLine | None
    claimed_on: Invoice | None
    decision: LineDecision | None
    credits: tuple[LineCredit, ...]
    state: PaymentState | None

    @property
    def credited(self) -> Decimal:
        return sum_amounts(credit.amount for credit in self.credits)


_Row = tuple[InvoiceLine, Invoice, LineDecision | None]


@dataclass
class _Found:
    """The invoices one cost line is on, gathered row by row."""

    live: _Row | None = None
    latest_cancelled: _Row | None = None
    cancelled: list[Invoice] = field(default_factory=list)
    draft: Invoice | None = None


def line_claims(session: Session, incident_id: int, today: date) -> dict[int, LineClaim]:
    """Every cost line of the incident that is or was on an invoice, by cost line id; a
    line never put on one is left out (it is simply not invoiced yet)."""
    found: dict[int, _Found] = defaultdict(_Found)
    for line, invoice, decision in _invoice_lines(session, incident_id):
        assert line.cost_line_id is not None  # selected through the cost line
        entry = found[line.cost_line_id]
        if invoice.status == InvoiceStatus.ISSUED:
            entry.live = (line, invoice, decision)
        elif invoice.status == InvoiceStatus.CANCELLED:
            entry.latest_cancelled = (line, invoice, decision)
            entry.cancelled.append(invoice)
        else:
            entry.draft = invoice
    credits = _credits(session, incident_id)
    return {cost_line_id: _claim_of(entry, credits, today) for cost_line_id, entry in found.items()}


def _claim_of(entry: _Found, credits: dict[int, list[LineCredit]], today: date) -> LineClaim:
    shown = entry.live or entry.latest_cancelled
    line, invoice, decision = shown if shown else (None, None, None)
    visible = review.shown_to_practice(invoice, decision) if invoice is not None else None
    return LineClaim(
        invoice=entry.live[1] if entry.live else None,
        cancelled=tuple(entry.cancelled),
        draft=entry.draft,
        claimed=line,
        claimed_on=invoice,
        decision=visible,
        credits=tuple(credits.get(line.id, ())) if line is not None else (),
        state=payment_state(invoice, today) if invoice is not None else None,
    )


def _invoice_lines(session: Session, incident_id: int) -> list[_Row]:
    """The invoice lines copied from the incident's cost lines, on invoices of any state,
    with their invoice and decision: one query, oldest invoice first."""
    rows = session.execute(
        select(InvoiceLine, Invoice, LineDecision)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(CostLine, CostLine.id == InvoiceLine.cost_line_id)
        .outerjoin(LineDecision, LineDecision.invoice_line_id == InvoiceLine.id)
        .where(CostLine.incident_id == incident_id, Invoice.kind == DocumentKind.INVOICE)
        .order_by(Invoice.id, InvoiceLine.id)
    ).all()
    return [(line, invoice, decision) for line, invoice, decision in rows]


def _credits(session: Session, incident_id: int) -> dict[int, list[LineCredit]]:
    """What each credit note took off the invoice lines of the incident's cost lines, by
    invoice line id, oldest credit note first: one query."""
    credited = aliased(InvoiceLine)
    rows = session.execute(
        select(credited.id, InvoiceLine.total_amount, Invoice.id, Invoice.number)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .join(credited, credited.id == InvoiceLine.credits_line_id)
        .join(CostLine, CostLine.id == credited.cost_line_id)
        .where(CostLine.incident_id == incident_id, Invoice.kind == DocumentKind.CREDIT_NOTE)
        .order_by(Invoice.id, InvoiceLine.id)
    ).all()
    found: dict[int, list[LineCredit]] = defaultdict(list)
    for line_id, amount, note_id, number in rows:
        found[line_id].append(LineCredit(note_id, number or "", -amount))
    return found


# --- one claim, as the ICB's reviewer reads it ------------------------------------------


@dataclass(frozen=True)
class ClaimSettlement:
    """Where the money of one claim stands: its balance (claimed, approved, credited, paid,
    refunded, outstanding), its payment state, and the credit notes and payments that make
    it so, oldest first."""

    balance: Balance
    state: PaymentState
    credit_notes: list[Invoice]
    payments: list[Payment]


def claim_settlement(session: Session, invoice: Invoice, today: date) -> ClaimSettlement:
    """Two queries: the claim's credit notes, and its payments."""
    return ClaimSettlement(
        balance=balance_of(invoice),
        state=payment_state(invoice, today),
        credit_notes=crediting.credit_notes_of(session, invoice),
        payments=list(invoice.payments),
    )
