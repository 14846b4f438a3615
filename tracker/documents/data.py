"""Plain data the invoice builders render. Filled by services.invoicing from the frozen
snapshot of an issued invoice (or a draft's preview), so PDF, Excel and screen show the same
figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Party:
    """Supplier (the practice) or customer (the ICB) as printed on the invoice."""

    name: str
    address_lines: tuple[str, ...]
    ods_code: str
    email: str | None = None
    phone: str | None = None
    vat_number: str | None = None


@dataclass(frozen=True)
class PaymentDetails:
    account_name: str | None
    sort_code: str | None
    account_number: str | None
    remittance_email: str | None
    terms_days: int = 30


@dataclass(frozen=True)
class DocumentLine:
    """One itemised line. Amounts are Decimal pounds, already rounded to the penny."""

    incident_title: str
    kind: str  # CostKind value: staff, locum, appointments, expense
    kind_label: str  # "Staff time", ...
    line_date: date
    description: str
    working: str
    quantity: Decimal
    unit: str
    unit_rate: Decimal
    vat_rate: Decimal | None  # None: no VAT charged
    net: Decimal
    vat: Decimal
    total: Decimal
    #: the kind's details printed under the description, frozen at issue:
    #: (("Locum", "Dr A Khan"), ("Locum invoice", "LOC-1234"))
    details: tuple[tuple[str, str], ...] = ()

    @property
    def details_text(self) -> str:
        """The details in one line: "Locum: Dr A Khan · Locum invoice: LOC-1234"."""
        return " · ".join(f"{label}: {value}" for label, value in self.details)


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything an invoice or credit note shows. Lines come in print order: grouped by
    incident, then by cost kind; subtotals are the sums of the lines in each group."""

    title: str  # "Invoice" or "Credit note"
    number: str | None  # None for a draft
    issue_date: date
    due_date: date | None
    supply_from: date | None
    supply_to: date | None
    po_reference: str | None
    supplier: Party
    customer: Party
    lines: tuple[DocumentLine, ...]
    net_total: Decimal
    vat_total: Decimal
    total: Decimal
    payment: PaymentDetails
    vat_statement: str | None = None  # printed when no VAT is charged
    evidence: tuple[str, ...] = field(default_factory=tuple)  # "Receipt.pdf (line 3)"
    notes: str = ""
    credited_number: str | None = None  # for a credit note: the invoice it reverses
    draft: bool = False  # marks every page DRAFT


@dataclass(frozen=True)
class RegisterRow:
    """One invoice or credit note in the finance register export. Amounts are Decimal pounds
    as stored (a credit note's are negative if the register shows them so)."""

    number: str
    kind: str  # "Invoice" or "Credit note"
    practice_name: str
    practice_ods_code: str
    icb_name: str
    issue_date: date
    due_date: date | None
    po_reference: str | None
    net: Decimal
    vat: Decimal
    total: Decimal
    paid: Decimal
    outstanding: Decimal
    status: str  # "Issued", "Part-paid", "Paid", "Overdue", "Cancelled", ...
