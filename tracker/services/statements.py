"""The statement of account: what a practice's finance team sends an ICB when chasing.

A statement is from one supplier to one customer, so it is made for one practice and one
ICB (the ICB the invoices were sent to: a practice that moved ICB has a statement with
each), as at a date: every invoice, credit note, payment and refund up to that date in date
order with the running balance, and the invoices with something outstanding on that date,
aged by days past their due date (documents.statement_data, which says why those bands).

Each invoice's balance on the date is the one balance (services.payments) counted over the
documents dated up to then: total - credit notes - payments + refunds. On today's date that
is exactly payments.outstanding of each invoice, so the statement's closing balance is the
sum of the invoices' outstanding amounts and the register's to the penny. An invoice is
dated by its issue date, a credit note by its own, a payment or refund by the day the money
moved; on one day, invoices come first, then credit notes, payments and refunds.

The ICB is expected to pay the undisputed part of a valid invoice within 30 days (NHS
standard terms through NHS Shared Business Services, "NHS standard terms are 30 days":
http://www.sbs.nhs.uk/home/working-with-suppliers/accounts-payable; the public-sector rule,
Public Contracts Regulations 2015, reg. 113:
https://www.legislation.gov.uk/uksi/2015/102/regulation/113): what is past its due date
is overdue, as payments.payment_state says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from tracker.documents.statement_data import (
    CREDIT_NOTE,
    INVOICE,
    PAYMENT,
    REFUND,
    OpenInvoice,
    StatementDocument,
    StatementEntry,
)
from tracker.models import DocumentKind, Icb, Invoice, InvoiceStatus, Payment, Practice
from tracker.presentation import short_date
from tracker.services import invoicing
from tracker.services.invoice_documents import party, payment_details
from tracker.services.money import ZERO

#: On one day: invoices first, then what lowers them, then refunds.
ORDER = {INVOICE: 0, CREDIT_NOTE: 1, PAYMENT: 2, REFUND: 3}


class Movement(NamedTuple):
    """A document or payment as it moves the balance of one invoice."""

    on: date
    kind: str
    row_id: int
    reference: str
    details: str
    debit: Decimal
    credit: Decimal
    invoice_id: int


def _invoices(session: Session, practice_id: int, icb_id: int, as_at: date) -> list[Invoice]:
    """The issued (or since cancelled) invoices the practice sent the ICB up to the date."""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.practice_id == practice_id,
                Invoice.icb_id == icb_id,
                Invoice.kind == DocumentKind.INVOICE,
                Invoice.status.in_([InvoiceStatus.ISSUED, InvoiceStatus.CANCELLED]),
                Invoice.issue_date <= as_at,
            )
            .order_by(Invoice.issue_date, Invoice.id)
        )
    )


def _credit_notes(session: Session, ids: list[int], as_at: date) -> list[Invoice]:
    return list(
        session.scalars(
            select(Invoice).where(
                Invoice.kind == DocumentKind.CREDIT_NOTE,
                Invoice.credited_invoice_id.in_(ids),
                Invoice.issue_date <= as_at,
            )
        )
    )


def _payments(session: Session, ids: list[int], as_at: date) -> list[Payment]:
    return list(
        session.scalars(
            select(Payment)
            .options(joinedload(Payment.remittance))
            .where(Payment.invoice_id.in_(ids), Payment.paid_on <= as_at)
        )
    )


def _movements(session: Session, invoices: list[Invoice], as_at: date) -> list[Movement]:
    """Every invoice, credit note, payment and refund up to the date, in statement order."""
    numbers = {invoice.id: invoice.number or "" for invoice in invoices}
    ids = list(numbers)
    moves = [_invoice_movement(invoice, as_at) for invoice in invoices]
    for note in _credit_notes(session, ids, as_at):
        credited = note.credited_invoice_id
        assert credited is not None
        moves.append(
            Movement(
                on=note.issue_date or as_at,
                kind=CREDIT_NOTE,
                row_id=note.id,
                reference=note.number or "",
                details=f"Credits invoice {numbers[credited]}",
                debit=ZERO,
                credit=-note.total,
                invoice_id=credited,
            )
        )
    moves += [_payment_movement(p, numbers[p.invoice_id]) for p in _payments(session, ids, as_at)]
    return sorted(moves, key=lambda move: (move.on, ORDER[move.kind], move.row_id))


def _invoice_movement(invoice: Invoice, as_at: date) -> Movement:
    due = f"Due {short_date(invoice.due_date)}" if invoice.due_date else ""
    po = f"PO {invoice.po_reference}" if invoice.po_reference else ""
    return Movement(
        on=invoice.issue_date or as_at,
        kind=INVOICE,
        row_id=invoice.id,
        reference=invoice.number or "",
        details=" · ".join(part for part in (due, po) if part),
        debit=invoice.total,
        credit=ZERO,
        invoice_id=invoice.id,
    )


def _payment_movement(payment: Payment, number: str) -> Movement:
    """A payment (or refund) as the statement lists it: its reference (the remittance's,
    when it was part of one) and the invoice it went to."""
    remittance = payment.remittance
    paid = payment.amount > ZERO
    details = f"{'To' if paid else 'Of a payment to'} invoice {number}"
    return Movement(
        on=payment.paid_on,
        kind=PAYMENT if paid else REFUND,
        row_id=payment.id,
        reference=remittance.reference if remittance else payment.reference,
        details=details + (" (remittance)" if remittance is not None else ""),
        debit=ZERO if paid else -payment.amount,
        credit=payment.amount if paid else ZERO,
        invoice_id=payment.invoice_id,
    )


def _entries(moves: Iterable[Movement]) -> tuple[StatementEntry, ...]:
    balance = ZERO
    entries = []
    for move in moves:
        balance += move.debit - move.credit
        entries.append(
            StatementEntry(
                move.on, move.kind, move.reference, move.details, move.debit, move.credit, balance
            )
        )
    return tuple(entries)


def _open_invoices(
    invoices: list[Invoice], moves: list[Movement], as_at: date
) -> tuple[OpenInvoice, ...]:
    """The invoices with something outstanding on the date, oldest due first."""
    balances: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for move in moves:
        balances[move.invoice_id] += move.debit - move.credit
    found = [
        OpenInvoice(
            number=invoice.number or "",
            issue_date=invoice.issue_date or as_at,
            due_date=invoice.due_date or invoice.issue_date or as_at,
            total=invoice.total,
            outstanding=balances[invoice.id],
            days_overdue=(as_at - (invoice.due_date or as_at)).days,
        )
        for invoice in invoices
        if balances[invoice.id] > ZERO
    ]
    return tuple(sorted(found, key=lambda item: (item.due_date, item.number)))


def statement(session: Session, practice: Practice, icb: Icb, as_at: date) -> StatementDocument:
    """The practice's statement of account with the ICB as at `as_at`, addressed from the
    practice's details and to the ICB's payables address as they are today."""
    invoices = _invoices(session, practice.id, icb.id, as_at)
    moves = _movements(session, invoices, as_at)
    supplier = invoicing.supplier_snapshot(practice)
    return StatementDocument(
        supplier=party(supplier),
        customer=party(invoicing.customer_snapshot(icb)),
        as_at=as_at,
        entries=_entries(moves),
        open_invoices=_open_invoices(invoices, moves, as_at),
        payment=payment_details(supplier),
    )
