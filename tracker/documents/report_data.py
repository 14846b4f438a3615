"""The plain shape of an outage report, filled by services.reports and rendered by the page,
report_xlsx and report_pdf. No database, no Flask: values only (money in Decimal pounds)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from tracker.cost_kinds import CAPACITY_LOST, COSTS_INCURRED, is_notional
from tracker.presentation import format_fixed, format_money

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
    list_size: int | None = None  # registered patients, when the practice has given it


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
    #: The ICB report's comparison of its practices per 1,000 patients (services.peers);
    #: nationally, one comparison per ICB code (the workbook's statistics by ICB).
    peers: PeerTable | None = None
    peers_by_icb: dict[str, PeerTable] = field(default_factory=dict)

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


# --- comparison with peers ---------------------------------------------------------------------


@dataclass(frozen=True)
class PeerMeasure:
    """One figure compared between practices, per 1,000 registered patients."""

    key: str
    label: str  # what is counted: "Claimed"
    unit: str  # what one figure per 1,000 patients is: "£ per 1,000 patients"
    money: bool = False

    def format(self, value: Decimal | None) -> str:
        """£1,234.56 for money, 12.50 for hours and appointments; blank for no figure."""
        if value is None:
            return ""
        return format_money(value) if self.money else format_fixed(value)

    def spread_texts(self, spread: Spread) -> list[str]:
        """The statistics as printed, in SPREAD_ROWS' order. A lower fence at or below zero
        cannot be undercut (no figure is negative): it reads "none possible"."""
        return [
            "none possible"
            if attribute == "low_fence" and spread.low_fence <= 0
            else self.format(getattr(spread, attribute))
            for _, attribute in SPREAD_ROWS
        ]


PEER_MEASURES = (
    PeerMeasure("claimed", "Claimed", "£ per 1,000 patients", money=True),
    PeerMeasure("hours", "Staff and locum hours", "hours per 1,000 patients"),
    PeerMeasure("appointments", "Appointments lost", "per 1,000 patients"),
)


@dataclass(frozen=True)
class Spread:
    """The ICB's statistics of one measure, rounded as the figures are: the quartiles (the
    median is the second) and Tukey's fences, Q1 - 1.5 × IQR and Q3 + 1.5 × IQR."""

    q1: Decimal
    median: Decimal
    q3: Decimal
    low_fence: Decimal
    high_fence: Decimal


#: How each statistic of a Spread is headed, in the order printed.
SPREAD_ROWS = (
    ("Lower quartile", "q1"),
    ("Median", "median"),
    ("Upper quartile", "q3"),
    ("Outlier if under", "low_fence"),
    ("Outlier if over", "high_fence"),
)


@dataclass(frozen=True)
class PeerRow:
    """One practice: its totals for the event, and per 1,000 patients when it has a list
    size (`rates`, None without one). `outliers` maps a measure's key to "high" or "low"."""

    ods_code: str
    name: str
    icb_code: str
    list_size: int | None
    totals: dict[str, Decimal]
    rates: dict[str, Decimal] | None = None
    outliers: dict[str, str] = field(default_factory=dict)

    @property
    def outlier_text(self) -> str:
        """ "Claimed high; Staff and locum hours high" (blank when none), or why the practice
        is not compared."""
        if self.rates is None:
            return "No list size: not compared"
        return "; ".join(
            f"{m.label} {self.outliers[m.key]}" for m in PEER_MEASURES if m.key in self.outliers
        )


@dataclass(frozen=True)
class PeerTable:
    """The practices of one ICB that claimed for one event, compared per 1,000 patients.
    `spreads` is empty when fewer than MIN_PEERS practices have a list size."""

    rows: list[PeerRow]
    spreads: dict[str, Spread]
    compared: int  # practices in the statistics: those with a list size
    without_list_size: int

    @property
    def outlier_rows(self) -> list[PeerRow]:
        return [row for row in self.rows if row.outliers]


#: How the peer figures are worked out, printed with them on the page, workbook and PDF.
PEER_NOTE = (
    "Per 1,000 patients: the practice's figure for this event × 1,000 ÷ its registered list "
    "size, rounded to two places (halves up). Claimed is counted as in the rest of this "
    "report; hours are staff time and locum cover together. Peers are the ICB's practices "
    "with a claim for the event. Quartiles by the inclusive method (as Python's "
    "statistics.quantiles(method='inclusive') and Excel's QUARTILE.INC) over the figures as "
    "shown; the median is the second quartile. Outliers by Tukey's fences: a figure above "
    "Q3 + 1.5 × IQR or below Q1 − 1.5 × IQR (IQR = Q3 − Q1), fences rounded as the figures. "
    "A practice without a list size is listed but left out of the statistics."
)


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
