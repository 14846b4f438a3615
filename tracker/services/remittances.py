"""Remittances: one payment from an ICB, allocated across several of a practice's invoices.

An ICB (through NHS Shared Business Services) pays in payment runs: one bank payment into the
practice's account, with a remittance advice listing the invoices it settles. Finance records
it once here: the date received, the ICB's reference, the amount, and how much of it goes to
each open invoice. The allocations must add up to the amount exactly, and none may be more
than its invoice's outstanding amount (services.payments.outstanding).

A remittance has one payee, the practice: the bank account it is paid into is the one on
that practice's invoices. A finance team acting for several practices records one remittance
per practice, as the ICB's payment run pays each practice's account separately.

Each allocation is a Payment linked to the remittance, recorded through
payments.record_payment, so it passes the same checks and the same conditional write
(payments.move_balance) as a payment typed on the invoice. The whole remittance is one
transaction: every allocation is written or none. Before anything is checked the invoices
are held (services.locks) in id order, so two remittances paying the same invoice at once
queue, and the second is checked against what the first left; holding in one order keeps
PostgreSQL free of deadlocks between remittances that share several invoices.

Refunds stay with the invoice (payments.record_payment with a negative amount): a remittance
is what the ICB sent, and is never changed afterwards.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from tracker.models import DocumentKind, Invoice, InvoiceStatus, Remittance, table_of
from tracker.presentation import format_money, long_date
from tracker.services import audit, locks
from tracker.services.costing import sum_amounts
from tracker.services.errors import Invalid
from tracker.services.money import ZERO, to_pence
from tracker.services.payments import outstanding, record_payment


def allocation_field(invoice_id: int) -> str:
    """The form field of the amount allocated to one invoice."""
    return f"allocate_{invoice_id}"


@dataclass(frozen=True)
class RemittanceEntry:
    """A remittance as finance typed it. `allocations`: the amount for each invoice, by
    invoice id (a blank allocation left out)."""

    practice_id: int
    icb_id: int
    received_on: date
    reference: str
    amount: Decimal
    allocations: Mapping[int, Decimal]

    @property
    def allocated(self) -> Decimal:
        return sum_amounts(self.allocations.values())

    @property
    def paid_ids(self) -> list[int]:
        """The invoices given more than £0.00, in id order (the order they are held in)."""
        return sorted(i for i, amount in self.allocations.items() if amount > ZERO)


def open_invoices(
    session: Session, practice_id: int, icb_id: int, also: Collection[int] = ()
) -> list[Invoice]:
    """The practice's issued invoices to the ICB with something outstanding, due soonest
    first; with `also`, those issued invoices too (a form named them: a refusal is then
    shown beside them rather than their allocation dropped). Read as committed now."""
    stmt = (
        select(Invoice)
        .where(
            Invoice.practice_id == practice_id,
            Invoice.icb_id == icb_id,
            Invoice.kind == DocumentKind.INVOICE,
            Invoice.status == InvoiceStatus.ISSUED,
            or_(Invoice.balance > 0, Invoice.id.in_(list(also))),
        )
        .order_by(Invoice.due_date, Invoice.issue_date, Invoice.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt))


def _recorded_already(session: Session, entry: RemittanceEntry) -> Remittance | None:
    return session.scalar(
        select(Remittance).where(
            Remittance.practice_id == entry.practice_id,
            Remittance.icb_id == entry.icb_id,
            Remittance.reference == entry.reference.strip(),
        )
    )


def _duplicate(entry: RemittanceEntry, received_on: date | None = None) -> Invalid:
    when = f" (received {long_date(received_on)})" if received_on else ""
    return Invalid(
        f"Remittance {entry.reference.strip()} from this ICB is recorded already{when}. "
        "Check the reference on the remittance advice",
        "reference",
    )


def _difference(entry: RemittanceEntry) -> str:
    """The allocations do not add up: by how much, and which way."""
    allocated = entry.allocated
    gap = abs(entry.amount - allocated)
    side = "less" if allocated < entry.amount else "more"
    return (
        f"The allocations add up to {format_money(allocated)}: {format_money(gap)} {side} "
        f"than the {format_money(entry.amount)} received. Allocate exactly the amount received"
    )


def _allocation_problem(invoice: Invoice | None, amount: Decimal, received_on: date) -> str | None:
    """What is wrong with allocating `amount` to `invoice` (None: not one of the open
    invoices as read), or None."""
    if amount < ZERO:
        return "Enter an amount of £0.00 or more"
    if amount != to_pence(amount):
        return "Enter the amount in pounds and pence, like 450.00"
    if amount == ZERO:
        return None
    if invoice is None:
        return "This invoice is no longer open to payment from this ICB"
    if amount > outstanding(invoice):
        return f"Only {format_money(outstanding(invoice))} is outstanding on {invoice.number}"
    if invoice.issue_date and received_on < invoice.issue_date:
        return (
            f"The remittance was received before {invoice.number} was issued "
            f"({long_date(invoice.issue_date)})"
        )
    return None


def remittance_problems(
    session: Session, entry: RemittanceEntry, invoices: Sequence[Invoice], today: date
) -> list[Invalid]:
    """Every rule the remittance breaks, each naming its field, checked against `invoices`
    (open_invoices as read): the form shows them all at once; record_remittance checks
    them again once the invoices are held."""
    problems: list[Invalid] = []
    if not entry.reference.strip():
        problems.append(Invalid("Enter the ICB's remittance reference", "reference"))
    elif (earlier := _recorded_already(session, entry)) is not None:
        problems.append(_duplicate(entry, earlier.received_on))
    if entry.received_on > today:
        problems.append(Invalid("The date received cannot be in the future", "received_on"))
    amount_ok = entry.amount > ZERO and entry.amount == to_pence(entry.amount)
    if not amount_ok:
        problems.append(Invalid("Enter an amount greater than £0, in pounds and pence", "amount"))
    by_id = {invoice.id: invoice for invoice in invoices}
    for invoice_id, amount in sorted(entry.allocations.items()):
        problem = _allocation_problem(by_id.get(invoice_id), amount, entry.received_on)
        if problem:
            problems.append(Invalid(problem, allocation_field(invoice_id)))
    if not entry.paid_ids:
        problems.append(Invalid("Allocate the remittance to at least one invoice"))
    elif amount_ok and entry.allocated != entry.amount:
        problems.append(Invalid(_difference(entry), "amount"))
    return problems


def record_remittance(
    session: Session, entry: RemittanceEntry, *, user_id: int | None, today: date
) -> Remittance:
    """Record the remittance and one payment per invoice it pays, all or none: the caller
    commits, and on any error must roll back. Raises the first problem found (Invalid,
    naming its field) once the invoices are held and read again."""
    paid = entry.paid_ids
    if paid:
        invoices_table = table_of(Invoice)
        locks.hold(session, Invoice, invoices_table.c.id.in_(paid))
    invoices = open_invoices(session, entry.practice_id, entry.icb_id, also=paid)
    problems = remittance_problems(session, entry, invoices, today)
    if problems:
        raise problems[0]
    remittance = Remittance(
        practice_id=entry.practice_id,
        icb_id=entry.icb_id,
        received_on=entry.received_on,
        reference=entry.reference.strip(),
        amount=entry.amount,
        recorded_by_id=user_id,
    )
    try:
        with session.begin_nested():  # the same reference recorded a moment ago
            session.add(remittance)
            session.flush()
    except IntegrityError:
        raise _duplicate(entry) from None
    by_id = {invoice.id: invoice for invoice in invoices}
    for invoice_id in paid:
        _allocate(session, remittance, by_id[invoice_id], entry.allocations[invoice_id], today)
    _audit(session, remittance, [by_id[i] for i in paid], entry, user_id)
    return remittance


def _allocate(
    session: Session, remittance: Remittance, invoice: Invoice, amount: Decimal, today: date
) -> None:
    """One invoice's share, as a payment of it; a refusal is shown beside its allocation."""
    try:
        record_payment(
            session,
            invoice,
            amount=amount,
            paid_on=remittance.received_on,
            reference=remittance.reference,
            user_id=remittance.recorded_by_id,
            today=today,
            remittance_id=remittance.id,
        )
    except Invalid as error:
        raise Invalid(error.message, allocation_field(invoice.id)) from error


def _audit(
    session: Session,
    remittance: Remittance,
    invoices: list[Invoice],
    entry: RemittanceEntry,
    user_id: int | None,
) -> None:
    count = len(invoices)
    audit.record(
        session,
        user_id=user_id,
        entity=remittance,
        action="remittance",
        practice_id=remittance.practice_id,
        summary=(
            f"Remittance {remittance.reference} of {format_money(remittance.amount)} "
            f"allocated to {count} invoice{'' if count == 1 else 's'}"
        ),
        changes={
            "amount": [None, str(remittance.amount)],
            "received_on": [None, remittance.received_on.isoformat()],
            "allocations": [
                None,
                {invoice.number: str(entry.allocations[invoice.id]) for invoice in invoices},
            ],
        },
    )


# --- reading ----------------------------------------------------------------------------


def remittances_of(
    session: Session, practice_ids: Sequence[int], *, limit: int, offset: int = 0
) -> list[Remittance]:
    """The remittances paid to these practices, latest received first."""
    return list(
        session.scalars(
            select(Remittance)
            .where(Remittance.practice_id.in_(list(practice_ids)))
            .options(joinedload(Remittance.practice), joinedload(Remittance.icb))
            .order_by(Remittance.received_on.desc(), Remittance.id.desc())
            .limit(limit)
            .offset(offset)
        )
    )


def count_of(session: Session, practice_ids: Sequence[int]) -> int:
    return (
        session.scalar(
            select(func.count(Remittance.id)).where(Remittance.practice_id.in_(list(practice_ids)))
        )
        or 0
    )
