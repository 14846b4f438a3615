"""Plain data the invoice builders render. Filled by services.invoicing from the frozen
snapshot of an issued invoice (or a draft's preview), so PDF, Excel and screen show the same
figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property

from tracker import presentation

ZERO = Decimal("0.00")


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
        return presentation.details_text(self.details)


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

    @cached_property
    def incidents(self) -> tuple[IncidentGroup, ...]:
        """The lines by incident, then by cost kind, with subtotals: worked out once here so
        the PDF, the Excel file and the invoice page print the same groups and figures."""
        return tuple(
            IncidentGroup(
                title=title,
                kinds=tuple(
                    LineGroup(title, kind_label, tuple(members), first_of_incident=index == 0)
                    for index, (kind_label, members) in enumerate(
                        _runs(incident_lines, lambda line: line.kind_label)
                    )
                ),
            )
            for title, incident_lines in _runs(self.lines, lambda line: line.incident_title)
        )

    @cached_property
    def groups(self) -> tuple[LineGroup, ...]:
        """Every (incident, cost kind) group in print order."""
        return tuple(group for incident in self.incidents for group in incident.kinds)


@dataclass(frozen=True)
class LineGroup:
    """The lines of one cost kind within one incident, in print order, and their subtotal."""

    incident_title: str
    kind_label: str
    lines: tuple[DocumentLine, ...]
    first_of_incident: bool = False

    @property
    def net(self) -> Decimal:
        return sum((line.net for line in self.lines), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((line.vat for line in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), ZERO)


@dataclass(frozen=True)
class IncidentGroup:
    """One incident's lines, by cost kind, and the incident's total."""

    title: str
    kinds: tuple[LineGroup, ...]

    @property
    def net(self) -> Decimal:
        return sum((group.net for group in self.kinds), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((group.vat for group in self.kinds), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((group.total for group in self.kinds), ZERO)


def _runs(
    lines: Sequence[DocumentLine], key: Callable[[DocumentLine], str]
) -> list[tuple[str, list[DocumentLine]]]:
    """Consecutive runs of lines with the same key (lines come in print order)."""
    runs: list[tuple[str, list[DocumentLine]]] = []
    for line in lines:
        value = key(line)
        if runs and runs[-1][0] == value:
            runs[-1][1].append(line)
        else:
            runs.append((value, [line]))
    return runs


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
