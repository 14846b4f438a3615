"""Plain data of a statement of account, which the page, the PDF and the Excel file all
show: filled by services.statements, so every figure is worked out once.

A statement goes from one supplier (a practice) to one customer (an ICB), as at a date:
every invoice, credit note, payment and refund between them up to that date, in date order,
with the running balance; and the invoices with something outstanding on that date, aged by
days past their due date.

Aged debt bands of 30 days (up to 30, 31 to 60, 61 to 90, over 90) are the accountants'
convention, not a rule of law; the same 30-day steps are those of the payment practices
reports large businesses file (Reporting on Payment Practices and Performance Regulations
2017, Schedule: https://www.legislation.gov.uk/uksi/2017/395/schedule). Days past due count
from the day after the due date, the day from which statutory interest would run on a late
payment (Late Payment of Commercial Debts (Interest) Act 1998, s. 4,
https://www.legislation.gov.uk/ukpga/1998/20/section/4); no interest is claimed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cached_property

from tracker.documents.data import Party, PaymentDetails

ZERO = Decimal("0.00")

#: The aged bands of what is overdue, by days past the due date: (label, last day in it).
AGE_BANDS: tuple[tuple[str, int | None], ...] = (
    ("Up to 30 days", 30),
    ("31 to 60 days", 60),
    ("61 to 90 days", 90),
    ("Over 90 days", None),
)
NOT_YET_DUE = "Not yet due"

INVOICE = "Invoice"
CREDIT_NOTE = "Credit note"
PAYMENT = "Payment"
REFUND = "Refund"


def age_band(days_overdue: int) -> int | None:
    """The index in AGE_BANDS of an invoice `days_overdue` days past its due date; None
    while it is not yet overdue (0 days or fewer)."""
    if days_overdue <= 0:
        return None
    for index, (_, last) in enumerate(AGE_BANDS):
        if last is None or days_overdue <= last:
            return index
    return len(AGE_BANDS) - 1  # unreachable: the last band has no end


@dataclass(frozen=True)
class StatementEntry:
    """One document or payment on the statement. `debit` raises what the ICB owes (an
    invoice, a refund of a payment); `credit` lowers it (a credit note, a payment)."""

    on: date
    kind: str  # INVOICE, CREDIT_NOTE, PAYMENT or REFUND
    reference: str  # the document's number, or the payment's reference
    details: str
    debit: Decimal
    credit: Decimal
    balance: Decimal  # the running balance after this entry


@dataclass(frozen=True)
class OpenInvoice:
    """An invoice with something outstanding on the statement's date."""

    number: str
    issue_date: date
    due_date: date
    total: Decimal
    outstanding: Decimal  # total less credit notes and payments (net of refunds) to the date
    days_overdue: int  # days past the due date on the statement's date; 0 or fewer: not due

    @property
    def band(self) -> int | None:
        return age_band(self.days_overdue)

    @property
    def band_label(self) -> str:
        band = self.band
        return NOT_YET_DUE if band is None else AGE_BANDS[band][0]


@dataclass(frozen=True)
class StatementDocument:
    """A statement of account from `supplier` to `customer` as at `as_at`."""

    supplier: Party
    customer: Party
    as_at: date
    entries: tuple[StatementEntry, ...]
    open_invoices: tuple[OpenInvoice, ...]
    payment: PaymentDetails

    @property
    def title(self) -> str:
        return "Statement of account"

    @property
    def debits(self) -> Decimal:
        return sum((entry.debit for entry in self.entries), ZERO)

    @property
    def credits(self) -> Decimal:
        return sum((entry.credit for entry in self.entries), ZERO)

    @property
    def balance(self) -> Decimal:
        """What the ICB owes on the date: every debit less every credit."""
        return self.debits - self.credits

    def total_of(self, kind: str) -> Decimal:
        """The total of one kind of entry: what was invoiced, credited, paid or refunded."""
        return sum(
            (entry.debit + entry.credit for entry in self.entries if entry.kind == kind), ZERO
        )

    @cached_property
    def aged(self) -> tuple[Decimal, ...]:
        """What is overdue in each of AGE_BANDS."""
        return tuple(
            sum((i.outstanding for i in self.open_invoices if i.band == index), ZERO)
            for index in range(len(AGE_BANDS))
        )

    @property
    def overdue(self) -> Decimal:
        return sum(self.aged, ZERO)

    @property
    def overdue_invoices(self) -> tuple[OpenInvoice, ...]:
        return tuple(invoice for invoice in self.open_invoices if invoice.band is not None)

    @property
    def not_yet_due(self) -> Decimal:
        return sum(
            (invoice.outstanding for invoice in self.open_invoices if invoice.band is None), ZERO
        )

    @property
    def open_total(self) -> Decimal:
        """What the open invoices still owe: not yet due and overdue together. It equals
        the balance but for a payment dated before a credit note it was recorded after."""
        return self.not_yet_due + self.overdue
