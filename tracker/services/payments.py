"""Payments and refunds against issued invoices, and the payment state finance staff see
(issued, part-paid, paid, overdue), derived from the amounts and the due date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.orm import Session

from tracker.models import DocumentKind, Invoice, InvoiceStatus, Payment, rows_updated, table_of
from tracker.presentation import PAYMENT_STATE_TAGS, format_money
from tracker.services import audit
from tracker.services.errors import Conflict, Invalid
from tracker.services.money import ZERO


class PaymentState(StrEnum):
    """What finance staff see: stored status plus payments and the due date."""

    DRAFT = "draft"
    UNPAID = "unpaid"
    PART_PAID = "part_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CANCELLED = "cancelled"
    CREDIT_NOTE = "credit_note"

    @property
    def label(self) -> str:
        return PAYMENT_STATE_TAGS[self.value].label

    @property
    def colour(self) -> str:
        """The NHS.UK tag colour."""
        return PAYMENT_STATE_TAGS[self.value].colour


def outstanding(invoice: Invoice) -> Decimal:
    """What is still owed: nothing on a draft, a cancelled invoice or a credit note."""
    if invoice.kind != DocumentKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
        return ZERO
    return invoice.total - invoice.amount_paid


def payment_state(invoice: Invoice, today: date) -> PaymentState:
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return PaymentState.CREDIT_NOTE
    if invoice.status == InvoiceStatus.DRAFT:
        return PaymentState.DRAFT
    if invoice.status == InvoiceStatus.CANCELLED:
        return PaymentState.CANCELLED
    if invoice.amount_paid >= invoice.total:
        return PaymentState.PAID
    if invoice.due_date and today > invoice.due_date:
        return PaymentState.OVERDUE
    if invoice.amount_paid > ZERO:
        return PaymentState.PART_PAID
    return PaymentState.UNPAID


def record_payment(
    session: Session,
    invoice: Invoice,
    *,
    amount: Decimal,
    paid_on: date,
    reference: str,
    user_id: int | None,
    today: date,
) -> Payment:
    """A payment (positive) or refund (negative). Never more than is owed or was paid."""
    if invoice.kind != DocumentKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
        raise Conflict("Payments can only be recorded against an issued invoice.")
    if amount == ZERO:
        raise Invalid("Enter an amount other than £0.00", "amount")
    if paid_on > today:
        raise Invalid("The payment date cannot be in the future", "paid_on")
    if invoice.issue_date and paid_on < invoice.issue_date:
        raise Invalid("The payment date cannot be before the invoice date", "paid_on")
    if amount > ZERO and amount > outstanding(invoice):
        raise Invalid(
            f"That is more than the {format_money(outstanding(invoice))} still owed", "amount"
        )
    if amount < ZERO and -amount > invoice.amount_paid:
        raise Invalid(
            f"A refund cannot be more than the {format_money(invoice.amount_paid)} paid", "amount"
        )
    table = table_of(Invoice)
    applied = rows_updated(
        session,
        update(table)
        .where(
            table.c.id == invoice.id,
            table.c.status == InvoiceStatus.ISSUED,
            table.c.amount_paid == invoice.amount_paid,
        )  # nobody paid in between
        .values(amount_paid=table.c.amount_paid + amount),
    )
    if applied != 1:
        raise Conflict("Another payment was recorded a moment ago. Reload and try again.")
    session.refresh(invoice)
    payment = Payment(
        invoice_id=invoice.id,
        paid_on=paid_on,
        amount=amount,
        reference=reference.strip(),
        recorded_by_id=user_id,
    )
    session.add(payment)
    word = "Payment" if amount > ZERO else "Refund"
    audit.record(
        session,
        user_id=user_id,
        entity=payment,
        action="payment",
        practice_id=invoice.practice_id,
        summary=f"{word} of {format_money(abs(amount))} on {invoice.number}",
        changes={"amount_paid": [str(invoice.amount_paid - amount), str(invoice.amount_paid)]},
    )
    return payment
