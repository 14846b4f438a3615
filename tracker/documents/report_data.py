"""The plain shape of an outage report, filled by services.reports and rendered by the page,
report_xlsx and report_pdf. No database, no Flask: values only (money in Decimal pounds)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tracker.cost_kinds import CAPACITY_LOST, COSTS_INCURRED, is_notional

ZERO = Decimal("0.00")
HOURS_ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Figures:
    """Totals over a set of claim lines."""

    claims: int = 0
    lines: int = 0
    claimed: Decimal = ZERO
    approved: Decimal = ZERO
    awaiting: Decimal = ZERO  # claimed on lines not yet decided (or queried)
    staff_hours: Decimal = HOURS_ZERO
    locum_hours: Decimal = HOURS_ZERO
    appointments: int = 0

    @property
    def disallowed(self) -> Decimal:
        """Claimed on decided lines but not approved (rejections and part-approvals)."""
        return self.claimed - self.approved - self.awaiting

    def __add__(self, other: Figures) -> Figures:
        return Figures(*(getattr(self, name) + getattr(other, name) for name in FIGURE_FIELDS))


FIGURE_FIELDS = (
    "claims",
    "lines",
    "claimed",
    "approved",
    "awaiting",
    "staff_hours",
    "locum_hours",
    "appointments",
)


@dataclass(frozen=True)
class PracticeRow:
    ods_code: str
    name: str
    icb_code: str
    figures: Figures


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    figures: Figures


@dataclass(frozen=True)
class IcbRow:
    ods_code: str
    name: str
    practices: int  # practices with at least one claim for the event
    figures: Figures


@dataclass(frozen=True)
class Excluded:
    """Documents in scope for the event that the figures leave out, so readers can check."""

    withdrawn_claims: int = 0
    withdrawn_total: Decimal = ZERO
    credit_notes: int = 0
    credit_total: Decimal = ZERO
    mixed_claims: int = 0  # issued claims whose incidents are of several events (or none)


@dataclass
class OutageReport:
    event_id: int
    event_name: str
    event_started_on: date | None
    scope: str  # "NHS North Central London ICB (QMJ)" or "England: all ICBs"
    national: bool
    generated_on: date
    totals: Figures
    practices_claiming: int
    by_kind: list[KindRow]
    by_practice: list[PracticeRow] = field(default_factory=list)
    by_icb: list[IcbRow] = field(default_factory=list)
    status_counts: dict[str, int] = field(default_factory=dict)
    excluded: Excluded = field(default_factory=Excluded)

    @property
    def costs_incurred(self) -> Figures:
        """The kinds of money spent, summed (claims counted per kind: see section_rows)."""
        return _sum(k.figures for k in self.by_kind if not is_notional(k.kind))

    @property
    def capacity_lost(self) -> Figures:
        """Lost appointments: the notional value of clinical capacity lost, not spend."""
        return _sum(k.figures for k in self.by_kind if is_notional(k.kind))

    @property
    def section_rows(self) -> list[tuple[str, Figures]]:
        """The subtotals printed under the kinds on the page, the PDF and the workbook, so
        capacity lost (notional) always reads apart from the costs incurred."""
        return [
            (f"{COSTS_INCURRED} subtotal", self.costs_incurred),
            (f"{CAPACITY_LOST} subtotal", self.capacity_lost),
        ]


def _sum(figures: Iterable[Figures]) -> Figures:
    total = Figures()
    for item in figures:
        total = total + item
    return total


#: How the figures are counted, printed on the page, the workbook and the PDF.
COUNTING_NOTE = (
    "Claimed: lines of issued invoices whose incidents belong to this outage event. "
    "Drafts are not claims. An invoice cancelled by credit notes is left out together with "
    "them (together they net to nothing); a replacement invoice counts. A credit note for part "
    "of a claim (what the ICB did not approve, say) leaves the claim in, as claimed. "
    "Approved: the amounts approved on lines with a final decision (a rejected line approves "
    "£0). Awaiting decision: claimed on lines not yet decided or queried. Disallowed: the "
    "rest, cut by part-approvals and rejections. Hours: staff time and locum cover "
    "(a session is 4 h 10 min)."
)
