"""Comparison with peers: what each practice of an ICB claimed for one outage event, per
1,000 registered patients, against the ICB's median and quartiles, with outliers marked.

The figures are the outage report's own (services.reports.by_practice: issued claims, net of
withdrawn ones, sent to the ICB), so the comparison agrees with the ICB report to the penny,
and they come from one GROUP BY query over the claim lines, whatever the number of practices.
The arithmetic is pure (compare, quartiles) and in Decimal:

- per 1,000 patients: total × 1,000 ÷ list size, rounded to two places by the one rounding
  rule (services.money.to_pence: halves away from zero);
- quartiles by the inclusive method (Python's statistics.quantiles(method="inclusive"),
  Excel's QUARTILE.INC; Hyndman and Fan's type 7) over the rounded figures, so anyone can
  check them from the table; the median is the second quartile;
- outliers by Tukey's fences (Tukey, Exploratory Data Analysis, 1977): above
  Q3 + 1.5 × IQR or below Q1 − 1.5 × IQR, the fences rounded as the figures are and compared
  with the figures as shown.

A practice without a list size is listed with its totals and left out of the statistics.
List sizes: NHS England, "Patients Registered at a GP Practice" (monthly, by practice),
https://digital.nhs.uk/data-and-information/publications/statistical/patients-registered-at-a-gp-practice
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy.orm import Session

from tracker.documents.report_data import (
    PEER_MEASURES,
    OutageReport,
    PeerRow,
    PeerTable,
    PracticeRow,
    Spread,
)
from tracker.models import Icb, Invoice, OutageEvent
from tracker.services.money import to_pence
from tracker.services.reports import by_practice

__all__ = [
    "MIN_PEERS",
    "ClaimPeers",
    "compare",
    "compare_by_icb",
    "for_claim",
    "per_thousand",
    "quartiles",
    "spread",
    "with_peers",
]

#: The fewest practices with a list size for which quartiles are worked out.
MIN_PEERS = 2
PER = Decimal(1000)
TUKEY = Decimal("1.5")


def per_thousand(total: Decimal, list_size: int) -> Decimal:
    """`total` per 1,000 registered patients, to two places, halves up."""
    return to_pence(total * PER / list_size)


def quartiles(values: Sequence[Decimal]) -> tuple[Decimal, Decimal, Decimal]:
    """Q1, median and Q3 by the inclusive method, exactly in Decimal: the cut points of the
    sorted values at (n − 1) × i / 4, interpolated linearly between neighbours. The same
    arithmetic as statistics.quantiles(values, n=4, method="inclusive"), written out so a
    single value is its own quartiles (Python 3.11 refuses fewer than two) and the rule is
    in view here. Needs at least one value."""
    if not values:
        raise ValueError("quartiles of no values")
    data = sorted(values)
    last = len(data) - 1
    cuts = []
    for i in (1, 2, 3):
        j, delta = divmod(i * last, 4)
        cuts.append(data[j] if delta == 0 else (data[j] * (4 - delta) + data[j + 1] * delta) / 4)
    return cuts[0], cuts[1], cuts[2]


def spread(values: Sequence[Decimal]) -> Spread:
    """The quartiles and Tukey's fences of `values`, each rounded as the figures are."""
    q1, median, q3 = quartiles(values)
    reach = TUKEY * (q3 - q1)
    return Spread(
        q1=to_pence(q1),
        median=to_pence(median),
        q3=to_pence(q3),
        low_fence=to_pence(q1 - reach),
        high_fence=to_pence(q3 + reach),
    )


def _totals(row: PracticeRow) -> dict[str, Decimal]:
    f = row.figures
    return {
        "claimed": f.claimed,
        "hours": f.staff_hours + f.locum_hours,
        "appointments": Decimal(f.appointments),
    }


def _outliers(rates: dict[str, Decimal], spreads: dict[str, Spread]) -> dict[str, str]:
    found = {}
    for key, s in spreads.items():
        if rates[key] > s.high_fence:
            found[key] = "high"
        elif rates[key] < s.low_fence:
            found[key] = "low"
    return found


def compare(rows: Iterable[PracticeRow]) -> PeerTable:
    """The comparison of the practices in `rows` (one ICB's, for one event), in their order."""
    practices = []
    for row in rows:
        totals = _totals(row)
        rates = None
        if row.list_size:
            rates = {key: per_thousand(value, row.list_size) for key, value in totals.items()}
        practices.append((row, totals, rates))
    compared = [rates for _, _, rates in practices if rates is not None]
    spreads = (
        {m.key: spread([rates[m.key] for rates in compared]) for m in PEER_MEASURES}
        if len(compared) >= MIN_PEERS
        else {}
    )
    return PeerTable(
        rows=[
            PeerRow(
                ods_code=row.ods_code,
                name=row.name,
                icb_code=row.icb_code,
                list_size=row.list_size if rates is not None else None,
                totals=totals,
                rates=rates,
                outliers=_outliers(rates, spreads) if rates is not None else {},
            )
            for row, totals, rates in practices
        ],
        spreads=spreads,
        compared=len(compared),
        without_list_size=len(practices) - len(compared),
    )


def compare_by_icb(rows: Iterable[PracticeRow]) -> dict[str, PeerTable]:
    """One comparison per ICB code, for the national view (practices of all ICBs)."""
    groups: dict[str, list[PracticeRow]] = {}
    for row in rows:
        groups.setdefault(row.icb_code, []).append(row)
    return {code: compare(group) for code, group in groups.items()}


def with_peers(report: OutageReport) -> OutageReport:
    """The report with its comparison of peers, from the practice rows it already holds (no
    query): the ICB's, or nationally one per ICB when the report lists practices."""
    if not report.national:
        return replace(report, peers=compare(report.by_practice))
    return replace(report, peers_by_icb=compare_by_icb(report.by_practice))


@dataclass(frozen=True)
class ClaimPeers:
    """A claim's practice against its ICB's peers for the claim's event. `row` is None when
    the practice has no claim counted for the event (this one withdrawn, say)."""

    event: OutageEvent
    icb: Icb
    table: PeerTable
    row: PeerRow | None


def for_claim(session: Session, claim: Invoice) -> ClaimPeers | None:
    """The comparison a reviewer sees on a claim: its practice (all its claims for the event
    sent to this ICB) against the ICB's practices. None for a claim of no single event.
    One aggregate query, whatever the number of practices (and the event and ICB by id)."""
    if claim.outage_event_id is None:
        return None
    event = session.get(OutageEvent, claim.outage_event_id)
    icb = session.get(Icb, claim.icb_id)
    if event is None or icb is None:
        return None
    table = compare(by_practice(session, event.id, [icb.id]))
    code = claim.practice.ods_code
    return ClaimPeers(event, icb, table, next((r for r in table.rows if r.ods_code == code), None))
