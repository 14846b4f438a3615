"""Plain data the invoice builders render. Filled by services.invoicing from the frozen
snapshot of an issued invoice (or a draft's preview), so PDF, Excel and screen show the same
figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property

from tracker import presentation
from tracker.cost_kinds import CAPACITY_LOST, COSTS_INCURRED, is_notional

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
    #: Peppol electronic address (EN 16931 BT-34 / BT-49): EAS scheme code and identifier,
    #: the party's current setting (a routing address, not a printed detail)
    endpoint_scheme: str | None = None
    endpoint_id: str | None = None


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
    #: the names of the evidence files that support this line, frozen at issue
    evidence: tuple[str, ...] = ()
    #: for lost appointments: their type as printed ("GP", "Nurse", "HCA", "Other clinician")
    appointment_type: str | None = None
    #: the line's number on the invoice (its position, 1 up), as the evidence list cites it
    #: ("Receipt.pdf (line 3)") and a clerk quotes it in a query
    number: int = 0

    @property
    def details_text(self) -> str:
        """The details in one line: "Locum: Dr A Khan · Locum invoice: LOC-1234"."""
        return presentation.details_text(self.details)

    @property
    def notional(self) -> bool:
        """A notional value (clinical capacity lost), not money spent."""
        return is_notional(self.kind)

    @property
    def unit_text(self) -> str:
        """The unit as printed beside the quantity: "hours", "GP appointments"."""
        unit = presentation.unit_label(self.unit, self.quantity)
        return f"{self.appointment_type} {unit}" if self.appointment_type else unit

    @property
    def quantity_text(self) -> str:
        """ "6.5 hours", "38 GP appointments": appointments are whole, so no decimals."""
        if self.appointment_type is None:
            return presentation.quantity_text(self.quantity, self.unit)
        return f"{presentation.quantity_figure(self.quantity, self.unit)} {self.unit_text}"

    @property
    def vat_percent(self) -> Decimal | None:
        """The rate the line's VAT was charged at; None when no VAT is charged. An expense
        records the VAT on its receipt, not a rate: its rate is the VAT over the net, to a
        tenth of a percent."""
        if not self.vat:
            return None
        if self.vat_rate is not None:
            return self.vat_rate
        if not self.net:
            return None
        return (self.vat * 100 / self.net).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def vat_rate_text(self) -> str:
        """The line's VAT rate as a VAT invoice must show it per item: "20%", or "No VAT"
        when none is charged (see vat_percent)."""
        if not self.vat:
            return "No VAT"
        rate = self.vat_percent
        return "" if rate is None else presentation.format_percent(rate)

    @property
    def evidence_text(self) -> str:
        return "Evidence: " + ", ".join(self.evidence) if self.evidence else ""


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
    #: for a credit note: the date of the invoice it reverses, which a credit note gives
    #: with that invoice's number (HMRC VAT Notice 700, paragraph 18.2.2, as the VAT Traders'
    #: Records manual VATREC13040 asks: https://www.gov.uk/hmrc-internal-manuals/
    #: vat-trader-records/vatrec13040)
    credited_issue_date: date | None = None
    #: for a credit note: whether it reverses the invoice in full (False: it credits part)
    credits_in_full: bool = True
    draft: bool = False  # marks every page DRAFT

    @cached_property
    def sections(self) -> tuple[Section, ...]:
        """The costs incurred, then the value of clinical capacity lost (notional), each with
        its lines by incident and cost kind and its subtotal: worked out once here so the
        PDF, the Excel file and the invoice page print the same groups and figures. Lines
        keep their order within a section, so an invoice issued before sections existed
        (capacity lines between the others) still splits correctly."""
        sections = []
        for notional, title in ((False, COSTS_INCURRED), (True, CAPACITY_LOST)):
            members = [line for line in self.lines if line.notional == notional]
            if members:
                sections.append(Section(title, notional, _incident_groups(members)))
        return tuple(sections)

    @property
    def has_notional(self) -> bool:
        """True when capacity lost is claimed: the sections are then printed with their
        headings and subtotals; an invoice of costs incurred alone prints as before."""
        return any(section.notional for section in self.sections)

    @cached_property
    def incidents(self) -> tuple[IncidentGroup, ...]:
        """Every incident group in print order (an incident with lines in both sections
        appears once in each)."""
        return tuple(incident for section in self.sections for incident in section.incidents)

    @cached_property
    def groups(self) -> tuple[LineGroup, ...]:
        """Every (incident, cost kind) group in print order."""
        return tuple(group for incident in self.incidents for group in incident.kinds)

    @property
    def shows_vat(self) -> bool:
        """Whether lines show their VAT and its rate. Only a practice with a VAT number
        charges VAT (services.invoicing invoices an unregistered practice's lines gross,
        with none), and only its invoice shows VAT line by line; a document that somehow
        carries VAT always shows it."""
        return bool(self.supplier.vat_number) or self.vat_total != ZERO

    @cached_property
    def no_vat_lines_total(self) -> Decimal:
        """The total of the lines that carry no VAT, which a VAT invoice must show
        separately when it also has lines with VAT (see vat_rate_text)."""
        return sum(
            (line.total for line in self.lines if not line.vat),
            ZERO,
        )

    @property
    def mixed_vat(self) -> bool:
        """A VAT-registered practice's invoice with lines with VAT and lines without."""
        return self.shows_vat and self.vat_total != ZERO and self.no_vat_lines_total != ZERO


@dataclass(frozen=True)
class Section:
    """Costs incurred, or the value of clinical capacity lost (notional): its incidents and
    its subtotal. The sections' subtotals add up to the invoice's totals."""

    title: str
    notional: bool
    incidents: tuple[IncidentGroup, ...]

    @property
    def subtotal_label(self) -> str:
        """ "Costs incurred subtotal": the section's title as printed, then "subtotal"."""
        return f"{self.title} subtotal"

    @property
    def net(self) -> Decimal:
        return sum((incident.net for incident in self.incidents), ZERO)

    @property
    def vat(self) -> Decimal:
        return sum((incident.vat for incident in self.incidents), ZERO)

    @property
    def total(self) -> Decimal:
        return sum((incident.total for incident in self.incidents), ZERO)


def _incident_groups(lines: Sequence[DocumentLine]) -> tuple[IncidentGroup, ...]:
    """Lines (in print order) by incident, then by cost kind."""
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
        for title, incident_lines in _runs(lines, lambda line: line.incident_title)
    )


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
    approved: Decimal | None  # what the ICB approved, once it has decided the claim
    credited: Decimal  # what credit notes took off an invoice (0 on a credit note's row)
    paid: Decimal
    outstanding: Decimal
    status: str  # "Issued", "Part-paid", "Paid", "Settled", "Overdue", "Cancelled", ...
