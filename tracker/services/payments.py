"""Payments and refunds against issued invoices, the one balance (outstanding = total -
credited - paid + refunded) and the state finance staff see (issued, part-paid, paid,
settled, overdue, cancelled), derived from the amounts and the due date, in Python
(payment_state) and in SQL (state_condition) side by side."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, case, func, or_, update
from sqlalchemy.orm import Session

from tracker.models import DocumentKind, Invoice, InvoiceStatus, Payment, rows_updated, table_of
from tracker.presentation import PAYMENT_STATE_TAGS, format_money
from tracker.services import audit
from tracker.services.errors import Conflict, Invalid
from tracker.services.money import ZERO
from tracker.services.release import approved_for_practice


class PaymentState(StrEnum):
    """What finance staff see: stored status plus credits, payments and the due date."""

    DRAFT = "draft"
    UNPAID = "unpaid"
    PART_PAID = "part_paid"
    PAID = "paid"
    SETTLED = "settled"  # credit notes and payments make up the total, something credited
    OVERDUE = "overdue"
    CANCELLED = "cancelled"  # credited in full
    CREDIT_NOTE = "credit_note"

    @property
    def label(self) -> str:
        return PAYMENT_STATE_TAGS[self.value].label

    @property
    def colour(self) -> str:
        """The NHS.UK tag colour."""
        return PAYMENT_STATE_TAGS[self.value].colour


def _is_open(invoice: Invoice) -> bool:
    return invoice.kind == DocumentKind.INVOICE and invoice.status == InvoiceStatus.ISSUED


def outstanding(invoice: Invoice) -> Decimal:
    """What is still owed: total - credited - paid + refunded (Invoice.balance); nothing on
    a draft, a cancelled invoice or a credit note. Never negative: every credit note and
    payment is checked against it in the write that records it."""
    if not _is_open(invoice):
        return ZERO
    return max(invoice.balance, ZERO)


@dataclass(frozen=True)
class Balance:
    """An invoice's balance as the invoice page shows it: outstanding = claimed - credited
    - paid + refunded."""

    claimed: Decimal
    approved: Decimal | None  # None until the ICB's decisions reach the practice
    credited: Decimal
    paid: Decimal
    refunded: Decimal
    outstanding: Decimal


def balance_of(invoice: Invoice) -> Balance:
    received = [payment.amount for payment in invoice.payments]
    return Balance(
        claimed=invoice.total,
        approved=approved_for_practice(invoice),
        credited=invoice.amount_credited,
        paid=sum((amount for amount in received if amount > ZERO), ZERO),
        refunded=-sum((amount for amount in received if amount < ZERO), ZERO),
        outstanding=outstanding(invoice),
    )


def payment_state(invoice: Invoice, today: date) -> PaymentState:
    """The state of one document. state_condition is the same rule in SQL: change both."""
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return PaymentState.CREDIT_NOTE
    if invoice.status == InvoiceStatus.DRAFT:
        return PaymentState.DRAFT
    if invoice.status == InvoiceStatus.CANCELLED:
        return PaymentState.CANCELLED
    if outstanding(invoice) == ZERO:
        return PaymentState.SETTLED if invoice.amount_credited > ZERO else PaymentState.PAID
    if invoice.due_date and today > invoice.due_date:
        return PaymentState.OVERDUE
    if invoice.amount_paid > ZERO:
        return PaymentState.PART_PAID
    return PaymentState.UNPAID


def state_condition(state: str, today: date) -> ColumnElement[bool] | None:
    """payment_state as a WHERE clause, for the register's filter (None: no such state)."""
    open_invoice = and_(
        Invoice.kind == DocumentKind.INVOICE, Invoice.status == InvoiceStatus.ISSUED
    )
    owing = Invoice.balance > 0
    not_due = or_(Invoice.due_date.is_(None), Invoice.due_date >= today)
    conditions: dict[str, ColumnElement[bool]] = {
        PaymentState.DRAFT: and_(
            Invoice.kind == DocumentKind.INVOICE, Invoice.status == InvoiceStatus.DRAFT
        ),
        PaymentState.UNPAID: and_(open_invoice, owing, Invoice.amount_paid <= 0, not_due),
        PaymentState.PART_PAID: and_(open_invoice, owing, Invoice.amount_paid > 0, not_due),
        PaymentState.PAID: and_(open_invoice, ~owing, Invoice.amount_credited <= 0),
        PaymentState.SETTLED: and_(open_invoice, ~owing, Invoice.amount_credited > 0),
        PaymentState.OVERDUE: and_(open_invoice, owing, Invoice.due_date < today),
        PaymentState.CANCELLED: and_(
            Invoice.kind == DocumentKind.INVOICE, Invoice.status == InvoiceStatus.CANCELLED
        ),
        PaymentState.CREDIT_NOTE: Invoice.kind == DocumentKind.CREDIT_NOTE,
    }
    return conditions.get(state)


def outstanding_sum(rows: type[Invoice] = Invoice) -> ColumnElement[Decimal]:
    """SUM of outstanding() over the rows selected (`rows`: Invoice or an alias), in SQL."""
    open_invoice = and_(rows.kind == DocumentKind.INVOICE, rows.status == InvoiceStatus.ISSUED)
    owed = case((and_(open_invoice, rows.balance > 0), rows.balance), else_=ZERO)
    return func.coalesce(func.sum(owed), ZERO)


def move_balance(session: Session, invoice: Invoice, **values: object) -> bool:
    """Write `values` to an issued invoice's row only if nobody paid, refunded or credited
    since it was read (its amounts as `invoice` holds them): the check is in the write, so
    a payment and a credit note at the same moment cannot both pass a check made before
    either wrote. False when the row had moved (or is no longer issued)."""
    table = table_of(Invoice)
    applied = rows_updated(
        session,
        update(table)
        .where(
            table.c.id == invoice.id,
            table.c.status == InvoiceStatus.ISSUED,
            table.c.amount_paid == invoice.amount_paid,
            table.c.amount_credited == invoice.amount_credited,
        )
        .values(**values),
    )
    return applied == 1


def record_payment(
    session: Session,
    invoice: Invoice,
    *,
    amount: Decimal,
    paid_on: date,
    reference: str,
    user_id: int | None,
    today: date,
    remittance_id: int | None = None,
) -> Payment:
    """A payment (positive) or refund (negative). Never more than is owed or was paid.
    `remittance_id`: the remittance this payment is an allocation of (services.remittances
    records each allocation through here, so every payment passes the same checks and the
    same conditional write)."""
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
    if not move_balance(session, invoice, amount_paid=table.c.amount_paid + amount):
        raise Conflict(
            "Another payment or a credit note was recorded a moment ago. Reload and try again."
        )
    session.refresh(invoice)
    payment = Payment(
        invoice_id=invoice.id,
        paid_on=paid_on,
        amount=amount,
        reference=reference.strip(),
        recorded_by_id=user_id,
        remittance_id=remittance_id,
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
