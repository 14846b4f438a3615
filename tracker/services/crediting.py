"""Credit notes: taking all or part of an issued invoice off, any number of times.

One rule holds every credit note: it takes off no more than is still unpaid on the invoice
(total - credited - paid + refunded, services.payments.outstanding), and no more from any
line than is left of that line. Money received is never credited away: it is refunded
first (services.payments.record_payment), and the message says so.

Each credit note has its own number in the practice's credit-note series, refers to the
invoice's number and date, and itemises what it credits with negative amounts, one line per
invoice line it touches (`credits_line_id`). HMRC VAT Notice 700, section 18.2 ("Credit notes
and debit notes") asks that a credit note show its own identifying number and date, the
number and date of the original invoice, the reason, and for each description the quantity
and amount credited, the total credited excluding VAT and the VAT credited
(https://www.gov.uk/guidance/vat-guide-notice-700#section18).

A part of a VAT-rated line is credited net and VAT in the line's own proportion, rounded by
the one rule (money.to_pence) on the running total credited from that line, so the VAT of a
line's credit notes adds up to the line's VAT when the whole line has been credited, and the
net and VAT credited from a line never exceed the line's.

The invoice keeps what was credited (`Invoice.amount_credited`), raised in the transaction
that issues the credit note while the invoice row is held (services.locks): two credit
notes at once, or a credit note and a payment, queue behind each other and the second is
checked against what the first left. An invoice credited in full is cancelled, and its cost
lines are freed to go on a new, corrected invoice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tracker.models import (
    CostLine,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    table_of,
    utcnow,
)
from tracker.presentation import format_money
from tracker.services import audit, locks
from tracker.services.costing import sum_amounts
from tracker.services.errors import Conflict, Invalid
from tracker.services.invoicing import LINE_PARTS, negated, next_number
from tracker.services.money import ZERO, to_pence
from tracker.services.payments import move_balance, outstanding
from tracker.services.review import Decision, decisions_released

#: The unit of a line that credits part of an invoice line: "-1 part at £X".
PART = "part"


@dataclass(frozen=True)
class LineBalance:
    """One invoice line, and what credit notes have taken off it so far (positive)."""

    line: InvoiceLine
    credited_net: Decimal
    credited_vat: Decimal

    @property
    def credited(self) -> Decimal:
        return self.credited_net + self.credited_vat

    @property
    def remaining(self) -> Decimal:
        """What can still be credited from this line."""
        return self.line.total_amount - self.credited


def line_balances(session: Session, invoice: Invoice) -> list[LineBalance]:
    """Every line of the invoice with what its credit notes took off, in print order."""
    notes = table_of(Invoice)
    credit_lines = table_of(InvoiceLine)
    rows = session.execute(
        select(
            credit_lines.c.credits_line_id,
            func.coalesce(func.sum(credit_lines.c.net_amount), ZERO),
            func.coalesce(func.sum(credit_lines.c.vat_amount), ZERO),
        )
        .join(notes, notes.c.id == credit_lines.c.invoice_id)
        .where(
            notes.c.credited_invoice_id == invoice.id,
            notes.c.kind == DocumentKind.CREDIT_NOTE,
            credit_lines.c.credits_line_id.isnot(None),
        )
        .group_by(credit_lines.c.credits_line_id)
    ).all()
    taken = {line_id: (-net, -vat) for line_id, net, vat in rows}
    return [
        LineBalance(line, *taken.get(line.id, (ZERO, ZERO)))
        for line in sorted(invoice.lines, key=lambda line: line.position)
    ]


def credit_notes_of(session: Session, invoice: Invoice) -> list[Invoice]:
    """The credit notes issued against an invoice, oldest first."""
    return list(
        session.scalars(
            select(Invoice)
            .where(
                Invoice.credited_invoice_id == invoice.id,
                Invoice.kind == DocumentKind.CREDIT_NOTE,
            )
            .order_by(Invoice.id)
        )
    )


def creditable(invoice: Invoice) -> Decimal:
    """What a credit note may take off the invoice now: what is still unpaid."""
    return outstanding(invoice)


def _split(balance: LineBalance, amount: Decimal) -> tuple[Decimal, Decimal]:
    """(net, VAT) of crediting `amount` (VAT included) from a line: the line's VAT in
    proportion to the running total credited from it, to the penny by the one rule."""
    line = balance.line
    if amount == balance.remaining:
        return line.net_amount - balance.credited_net, line.vat_amount - balance.credited_vat
    after = balance.credited + amount
    vat_after = to_pence(line.vat_amount * after / line.total_amount)
    vat = vat_after - balance.credited_vat
    return amount - vat, vat


def _credit_line(balance: LineBalance, amount: Decimal, note: str) -> InvoiceLine:
    """The credit note's line for `amount` of an invoice line: the whole line negated when
    all of it is credited at once, else one "part" at the net amount."""
    line = balance.line
    net, vat = _split(balance, amount)
    whole = balance.credited == ZERO and amount == line.total_amount
    working = note or (
        line.working
        if whole
        else f"{format_money(amount)} of {format_money(line.total_amount)} credited"
    )
    return InvoiceLine(
        cost_line_id=None,
        credits_line_id=line.id,
        position=line.position,
        incident_id=line.incident_id,
        incident_title=line.incident_title,
        kind=line.kind,
        line_date=line.line_date,
        description=line.description,
        working=working,
        quantity=-line.quantity if whole else Decimal("-1"),
        unit=line.unit if whole else PART,
        unit_rate=line.unit_rate if whole else net,
        vat_rate=line.vat_rate,
        net_amount=-net,
        vat_amount=-vat,
        total_amount=-amount,
        details=line.details if whole else [],
        **{name: negated(getattr(line, name)) if whole else None for name in LINE_PARTS},
        rates_used=line.rates_used if whole else None,
    )


def _hold_issued(session: Session, invoice: Invoice) -> None:
    """Hold the invoice row while it is an issued invoice, and read it again as committed."""
    if invoice.kind != DocumentKind.INVOICE:
        raise Conflict("Only an invoice can be credited.")
    invoices = table_of(Invoice)
    held = locks.hold(
        session,
        Invoice,
        invoices.c.id == invoice.id,
        invoices.c.status == InvoiceStatus.ISSUED,
    )
    session.refresh(invoice)
    session.expire(invoice, ["lines"])
    if not held:
        raise Conflict("Only an issued invoice can be credited: this one is cancelled.")


def _unpaid_message(invoice: Invoice, asked: Decimal) -> str:
    left = creditable(invoice)
    if invoice.amount_paid > ZERO:
        return (
            f"Only {format_money(left)} is unpaid, and money received cannot be credited: "
            f"record a refund of {format_money(asked - left)} first, then credit it"
        )
    return f"Only {format_money(left)} is left to credit on this invoice"


def credit_lines(
    session: Session,
    invoice: Invoice,
    amounts: Mapping[int, Decimal],
    *,
    reason: str,
    user_id: int | None,
    today: date,
    line_notes: Mapping[int, str] | None = None,
) -> Invoice:
    """Issue a credit note taking `amounts` (VAT included, by invoice line id) off an issued
    invoice. The caller commits; on any error it must roll back.

    Refused (Invalid, naming the field ``amount_<line id>`` or ``reason``) when an amount is
    not in pence, not above £0.00, more than is left of its line, or when together they are
    more than is unpaid. `line_notes` replaces a line's working with a note (the reviewer's
    reason, say)."""
    if not reason.strip():
        raise Invalid("Enter the reason for the credit note", "reason")
    _hold_issued(session, invoice)
    return _credit_held(
        session,
        invoice,
        amounts,
        reason=reason,
        user_id=user_id,
        today=today,
        line_notes=line_notes,
    )


def _credit_held(
    session: Session,
    invoice: Invoice,
    amounts: Mapping[int, Decimal],
    *,
    reason: str,
    user_id: int | None,
    today: date,
    line_notes: Mapping[int, str] | None = None,
) -> Invoice:
    """credit_lines once the invoice is held (_hold_issued) and read again: every check
    below is made on the committed row, and the write cannot interleave with another."""
    balances = {b.line.id: b for b in line_balances(session, invoice)}
    chosen = {line_id: amount for line_id, amount in amounts.items() if amount != ZERO}
    if not chosen:
        raise Invalid("Enter an amount to credit on at least one line", "lines")
    for line_id, amount in chosen.items():
        field = f"amount_{line_id}"
        if line_id not in balances:
            raise Invalid("That line is not on this invoice", field)
        left = balances[line_id].remaining
        if amount != to_pence(amount):
            raise Invalid("Enter the amount in pounds and pence, like 12.50", field)
        if amount < ZERO:
            raise Invalid("Enter an amount greater than £0.00", field)
        if amount > left:
            raise Invalid(f"Only {format_money(left)} of this line is left to credit", field)
    total = sum_amounts(chosen.values())
    if total > creditable(invoice):
        raise Invalid(_unpaid_message(invoice, total), "lines")
    notes = line_notes or {}
    credit = Invoice(
        practice_id=invoice.practice_id,
        icb_id=invoice.icb_id,
        kind=DocumentKind.CREDIT_NOTE,
        status=InvoiceStatus.ISSUED,
        credited_invoice_id=invoice.id,
        issue_date=today,
        due_date=None,
        supply_from=invoice.supply_from,
        supply_to=invoice.supply_to,
        po_reference=invoice.po_reference,
        notes=reason.strip(),
        supplier_snapshot=invoice.supplier_snapshot,
        customer_snapshot=invoice.customer_snapshot,
        evidence_snapshot="[]",
        outage_event_id=invoice.outage_event_id,
        created_by_id=user_id,
        issued_at=utcnow(),
        issued_by_id=user_id,
    )
    for line_id, balance in balances.items():
        if line_id in chosen:
            credit.lines.append(_credit_line(balance, chosen[line_id], notes.get(line_id, "")))
    credit.net_total = sum_amounts(line.net_amount for line in credit.lines)
    credit.vat_total = sum_amounts(line.vat_amount for line in credit.lines)
    credit.total = credit.net_total + credit.vat_total
    in_full = invoice.amount_credited + total == invoice.total
    invoices = table_of(Invoice)
    moved = move_balance(
        session,
        invoice,
        amount_credited=invoices.c.amount_credited + total,
        status=InvoiceStatus.CANCELLED if in_full else InvoiceStatus.ISSUED,
    )
    if not moved:  # the hold makes this unreachable; kept as the write's own check
        raise Conflict("This invoice changed a moment ago. Reload the page and try again.")
    credit.number = next_number(session, invoice.practice, DocumentKind.CREDIT_NOTE, today.year)
    session.add(credit)
    if in_full:
        cost_lines = table_of(CostLine)
        session.execute(
            update(cost_lines).where(cost_lines.c.invoice_id == invoice.id).values(invoice_id=None)
        )
    session.refresh(invoice)
    what = "cancels" if in_full else "credits " + format_money(total) + " of"
    audit.record(
        session,
        user_id=user_id,
        entity=credit,
        action="credit",
        practice_id=invoice.practice_id,
        summary=f"Credit note {credit.number} {what} invoice {invoice.number}",
        changes={
            "amount_credited": [
                str(invoice.amount_credited - total),
                str(invoice.amount_credited),
            ],
            "status": [InvoiceStatus.ISSUED, invoice.status],
            "reason": [None, reason.strip()],
        },
    )
    return credit


def credit_invoice(
    session: Session, invoice: Invoice, *, user_id: int | None, today: date, reason: str
) -> Invoice:
    """Cancel an issued invoice with a credit note for everything not yet credited, and
    free its cost lines so they can go on a new invoice. Money received must be refunded
    first."""
    _hold_issued(session, invoice)
    if invoice.amount_paid != ZERO:
        raise Conflict(
            "This invoice has payments against it. Record a refund of "
            f"{format_money(invoice.amount_paid)} before crediting it."
        )
    if not reason.strip():
        raise Invalid("Enter the reason for the credit note", "reason")
    rest = {b.line.id: b.remaining for b in line_balances(session, invoice)}
    return _credit_held(session, invoice, rest, reason=reason, user_id=user_id, today=today)


# --- what the ICB did not approve -------------------------------------------------------


@dataclass(frozen=True)
class Disallowed:
    """A line the ICB rejected or part-approved, and what of it is still to credit."""

    line: InvoiceLine
    approved: Decimal
    reason: str
    to_credit: Decimal


def disallowed(session: Session, invoice: Invoice) -> list[Disallowed]:
    """The rejected and part-approved lines of a decided claim with what is left to credit
    of each (the line total less the approved amount less what was credited from the line
    already). Empty until the review is complete and released to the practice (authorised,
    when the ICB signs off in two steps: review.decisions_released), and once all of it is
    credited."""
    if (
        invoice.approved_total is None
        or invoice.status != InvoiceStatus.ISSUED
        or not decisions_released(invoice)
    ):
        return []
    decisions = {
        d.invoice_line_id: d
        for d in session.scalars(
            select(LineDecision).where(
                LineDecision.invoice_line_id.in_([line.id for line in invoice.lines])
            )
        )
    }
    found = []
    for balance in line_balances(session, invoice):
        decision = decisions.get(balance.line.id)
        if decision is None or decision.decision not in (
            Decision.REJECTED,
            Decision.PART_APPROVED,
        ):
            continue
        approved = decision.approved_amount or ZERO
        left = balance.remaining - approved
        if left > ZERO:
            found.append(Disallowed(balance.line, approved, decision.reason, left))
    return found


def _disallowed_note(item: Disallowed) -> str:
    """The working of a disallowed line on the credit note: what of the line was not
    approved, and the reviewer's reason."""
    part = (
        ""
        if item.approved == ZERO
        else f" ({format_money(item.to_credit)} of {format_money(item.line.total_amount)})"
    )
    reason = f": {item.reason.strip()}" if item.reason.strip() else ""
    return f"Not approved by the ICB{part}{reason}"


def disallowed_total(session: Session, invoice: Invoice) -> Decimal:
    return sum_amounts(item.to_credit for item in disallowed(session, invoice))


def credit_disallowed(
    session: Session, invoice: Invoice, *, user_id: int | None, today: date
) -> Invoice:
    """One credit note for everything the ICB did not approve, itemised by the rejected and
    part-approved lines with the reviewer's reason on each. Worked out again after the
    invoice is held, so a second request (a double click, two people) finds nothing left
    and is refused."""
    _hold_issued(session, invoice)
    items = disallowed(session, invoice)
    if not items:
        raise Conflict("Nothing the ICB did not approve is left to credit on this invoice.")
    return _credit_held(
        session,
        invoice,
        {item.line.id: item.to_credit for item in items},
        reason="Not approved by the ICB on review",
        user_id=user_id,
        today=today,
        line_notes={item.line.id: _disallowed_note(item) for item in items},
    )
