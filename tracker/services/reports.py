"""Outage reports: what practices claimed for one outage event and what the ICB approved, by
practice, by cost kind and (nationally) by ICB.

Everything is aggregated in the database (GROUP BY over the frozen invoice lines, in one pass
for all of a report's views); the number of queries is fixed, whatever the number of
practices, claims or lines.

What counts as claimed: the lines of issued invoices (kind "invoice", status "issued") whose
incidents all belong to the event. Drafts are not claims. A cancelled invoice and the credit
notes that cancel it are all left out: together they net to nothing; a replacement invoice
counts as a claim of its own. A credit note for part of an invoice still issued (what the ICB
did not approve, credited in one step) leaves the claim in the report as claimed, and is not
counted among the credit notes left out.
Approved: the approved amount of each line with a final decision (approved, part-approved,
rejected = £0). Awaiting decision: what is claimed on lines with no decision or a query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from tracker.cost_kinds import is_notional
from tracker.documents.report_data import (
    FIGURE_FIELDS,
    HOURS_ZERO,
    Excluded,
    Figures,
    IcbRow,
    KindRow,
    OutageReport,
    PracticeRow,
)
from tracker.models import (
    COST_KIND_LABELS,
    ClaimKindTotal,
    CostKind,
    DocumentKind,
    Fixed,
    Icb,
    Invoice,
    InvoiceStatus,
    Money,
    OutageEvent,
    Practice,
)
from tracker.services.money import ZERO

__all__ = [
    "Excluded",
    "Figures",
    "IcbRow",
    "KindRow",
    "OutageReport",
    "PracticeRow",
    "by_icb",
    "by_kind",
    "by_practice",
    "events_with_claims",
    "icb_report",
    "national_report",
]

# --- queries ---------------------------------------------------------------------------------


def _claim_filter(event_id: int, icb_ids: Sequence[int] | None) -> ColumnElement[bool]:
    conditions = [
        Invoice.outage_event_id == event_id,
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
    ]
    if icb_ids is not None:
        conditions.append(Invoice.icb_id.in_(list(icb_ids)))
    return and_(*conditions)


#: The figures of a view, in Figures' order after `claims`, as the per-claim rows carry them.
_SUMMED = ("lines", "claimed", "approved", "awaiting", "staff_hours", "locum_hours", "appointments")
_TYPES: dict[str, Any] = {
    "claimed": Money,
    "approved": Money,
    "awaiting": Money,
    "staff_hours": Fixed(2),
    "locum_hours": Fixed(2),
}


def _per_claim(event_id: int, icb_ids: Sequence[int] | None) -> CTE:
    """The claims' lines summed per claim and cost kind, as services.claim_totals keeps them
    (a few rows a claim), which every view of the report (by kind, ICB, practice) then adds
    up: the report reads 6,300 claims' rows, not 315,000 lines with their decisions, at
    national scale (issue 13)."""
    kept = ClaimKindTotal
    return (
        select(
            kept.invoice_id.label("invoice_id"),
            Invoice.icb_id.label("icb_id"),
            Invoice.practice_id.label("practice_id"),
            kept.kind.label("kind"),
            kept.lines.label("lines"),
            kept.claimed.label("claimed"),
            kept.approved.label("approved"),
            kept.awaiting.label("awaiting"),
            case((kept.kind == CostKind.STAFF, kept.hours), else_=0).label("staff_hours"),
            case((kept.kind == CostKind.LOCUM, kept.hours), else_=0).label("locum_hours"),
            kept.appointments.label("appointments"),
        )
        .select_from(Invoice)
        .join(kept, kept.invoice_id == Invoice.id)
        .where(_claim_filter(event_id, icb_ids))
        .cte("per_claim")
        # read by every view: worked out once (PostgreSQL and SQLite take the hint)
        .prefix_with("MATERIALIZED")
    )


def _view(per_claim: CTE, view: str) -> Select[Any]:
    """One view's rows summed from the per-claim rows: (view, key, ODS code, name, ICB ODS
    code, list size, claims, figures...). By practice, the practice is named, with its list
    size and the ICB its claims were sent to (a practice that moved ICB has a row for each);
    the other views leave those empty."""
    c = per_claim.c
    figures = [
        type_coerce(func.coalesce(func.sum(c[field]), 0), _TYPES.get(field, Integer))
        for field in _SUMMED
    ]
    no_name = literal(None, String)
    names: list[Any] = [no_name, no_name, no_name, literal(None, Integer)]
    group: list[Any] = [c.kind if view == "kind" else c.icb_id]
    statement = select(per_claim)
    if view == "practice":
        names = [Practice.ods_code, Practice.name, Icb.ods_code, Practice.list_size]
        group = [c.practice_id, c.icb_id, *names]
        statement = statement.join(Practice, Practice.id == c.practice_id).join(
            Icb, Icb.id == c.icb_id
        )
    return statement.with_only_columns(
        literal(view, String),
        cast(group[0], String),  # the kind, or an id as text: one column in the union
        *names,
        func.count(func.distinct(c.invoice_id)),
        *figures,
        maintain_column_froms=True,
    ).group_by(*group)


def _views(
    session: Session, event_id: int, icb_ids: Sequence[int] | None, views: Sequence[str]
) -> dict[str, list[tuple[Any, ...]]]:
    """The rows of each asked-for view ("kind", "icb", "practice"): (key, ODS code, name,
    ICB ODS code, list size, Figures), in one statement and one pass over the lines."""
    per_claim = _per_claim(event_id, icb_ids)
    found: dict[str, list[tuple[Any, ...]]] = {view: [] for view in views}
    for row in session.execute(union_all(*(_view(per_claim, view) for view in views))):
        found[row[0]].append((*row[1:6], _figures(row[6:])))
    return found


def _figures(values: Sequence[Any]) -> Figures:
    claims, lines, claimed, approved, awaiting, staff, locum, appointments = values
    return Figures(
        int(claims or 0),
        int(lines or 0),
        claimed or ZERO,
        approved or ZERO,
        awaiting or ZERO,
        staff or HOURS_ZERO,
        locum or HOURS_ZERO,
        int(appointments or 0),
    )


def _kind_rows(rows: list[tuple[Any, ...]]) -> list[KindRow]:
    """One row per cost kind, costs incurred first and lost appointments (capacity lost,
    a notional value) last, zeros included."""
    found = {key: figures for key, *_names, figures in rows}
    return [
        KindRow(kind.value, COST_KIND_LABELS[kind], found.get(kind.value, Figures()))
        for kind in sorted(CostKind, key=lambda kind: is_notional(kind.value))
    ]


def _practice_rows(rows: list[tuple[Any, ...]]) -> list[PracticeRow]:
    """By the ICB's code, then the practice's name (and id, for two of one name), each with
    its list size (for services.peers)."""
    ordered = sorted(rows, key=lambda row: (row[3], row[2], int(row[0])))
    return [
        PracticeRow(ods, name, icb, figures, list_size=list_size)
        for _key, ods, name, icb, list_size, figures in ordered
    ]


def _icb_rows(
    session: Session, event_id: int, icb_ids: Sequence[int] | None, rows: list[tuple[Any, ...]]
) -> list[IcbRow]:
    """By the ICB's name, with how many practices claimed in it."""
    figures = {int(key): found for key, *_names, found in rows}
    practices = dict(
        session.execute(
            select(Invoice.icb_id, func.count(func.distinct(Invoice.practice_id)))
            .where(_claim_filter(event_id, icb_ids))
            .group_by(Invoice.icb_id)
        ).all()
    )
    icbs = session.execute(
        select(Icb.id, Icb.ods_code, Icb.name).where(Icb.id.in_(list(figures))).order_by(Icb.name)
    ).all()
    return [
        IcbRow(code, name, practices.get(icb_id, 0), figures[icb_id]) for icb_id, code, name in icbs
    ]


def by_kind(session: Session, event_id: int, icb_ids: Sequence[int] | None) -> list[KindRow]:
    return _kind_rows(_views(session, event_id, icb_ids, ["kind"])["kind"])


def by_practice(
    session: Session, event_id: int, icb_ids: Sequence[int] | None
) -> list[PracticeRow]:
    return _practice_rows(_views(session, event_id, icb_ids, ["practice"])["practice"])


def by_icb(session: Session, event_id: int, icb_ids: Sequence[int] | None) -> list[IcbRow]:
    return _icb_rows(session, event_id, icb_ids, _views(session, event_id, icb_ids, ["icb"])["icb"])


def _status_counts(
    session: Session, event_id: int, icb_ids: Sequence[int] | None
) -> dict[str, int]:
    return dict(
        session.execute(
            select(Invoice.review_status, func.count(Invoice.id))
            .where(_claim_filter(event_id, icb_ids))
            .group_by(Invoice.review_status)
        ).all()
    )


def _excluded(session: Session, event_id: int, icb_ids: Sequence[int] | None) -> Excluded:
    scope = [Invoice.icb_id.in_(list(icb_ids))] if icb_ids is not None else []
    withdrawn = and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.CANCELLED,
        Invoice.outage_event_id == event_id,
    )
    credited = aliased(Invoice)
    cancelled = select(credited.id).where(credited.status == InvoiceStatus.CANCELLED)
    credit = and_(
        Invoice.kind == DocumentKind.CREDIT_NOTE,
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.outage_event_id == event_id,
        Invoice.credited_invoice_id.in_(cancelled),
    )
    mixed = and_(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.outage_event_id.is_(None),
    )
    row = session.execute(
        select(
            func.count(case((withdrawn, 1))),
            type_coerce(
                func.coalesce(func.sum(case((withdrawn, Invoice.total), else_=0)), 0), Money
            ),
            func.count(case((credit, 1))),
            type_coerce(func.coalesce(func.sum(case((credit, Invoice.total), else_=0)), 0), Money),
            func.count(case((mixed, 1))),
        ).where(*scope, Invoice.status != InvoiceStatus.DRAFT)
    ).one()
    return Excluded(row[0] or 0, row[1] or ZERO, row[2] or 0, row[3] or ZERO, row[4] or 0)


def events_with_claims(session: Session, icb_ids: Sequence[int] | None) -> list[OutageEvent]:
    """Outage events that have at least one issued claim in scope, newest first."""
    claims = select(Invoice.outage_event_id).where(
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status == InvoiceStatus.ISSUED,
        *([Invoice.icb_id.in_(list(icb_ids))] if icb_ids is not None else []),
    )
    return list(
        session.scalars(
            select(OutageEvent)
            .where(OutageEvent.id.in_(claims))
            .order_by(OutageEvent.started_on.desc(), OutageEvent.name)
        )
    )


# --- the reports -------------------------------------------------------------------------------


def icb_report(session: Session, event: OutageEvent, icb: Icb, *, today: date) -> OutageReport:
    """The report for one ICB: by practice and by cost kind."""
    icb_ids = [icb.id]
    views = _views(session, event.id, icb_ids, ["kind", "practice"])
    kinds = _kind_rows(views["kind"])
    practices = _practice_rows(views["practice"])
    return OutageReport(
        event_id=event.id,
        event_name=event.name,
        event_started_on=event.started_on,
        scope=f"{icb.name} ({icb.ods_code})",
        national=False,
        generated_on=today,
        totals=_total(kinds, practices_claims=sum(p.figures.claims for p in practices)),
        practices_claiming=len(practices),
        by_kind=kinds,
        by_practice=practices,
        status_counts=_status_counts(session, event.id, icb_ids),
        excluded=_excluded(session, event.id, icb_ids),
    )


def national_report(
    session: Session, event: OutageEvent, *, today: date, with_practices: bool = False
) -> OutageReport:
    """Every ICB: by ICB and by cost kind (and by practice for the workbook)."""
    views = _views(
        session, event.id, None, ["kind", "icb", *(["practice"] if with_practices else [])]
    )
    kinds = _kind_rows(views["kind"])
    icbs = _icb_rows(session, event.id, None, views["icb"])
    return OutageReport(
        event_id=event.id,
        event_name=event.name,
        event_started_on=event.started_on,
        scope="England: all ICBs",
        national=True,
        generated_on=today,
        totals=_total(kinds, practices_claims=sum(i.figures.claims for i in icbs)),
        practices_claiming=sum(i.practices for i in icbs),
        by_kind=kinds,
        by_icb=icbs,
        by_practice=_practice_rows(views["practice"]) if with_practices else [],
        status_counts=_status_counts(session, event.id, None),
        excluded=_excluded(session, event.id, None),
    )


def _total(kinds: list[KindRow], *, practices_claims: int) -> Figures:
    """The grand total: the sum of the four kinds; claims counted once (not per kind)."""
    total = Figures()
    for row in kinds:
        total = total + row.figures
    return Figures(practices_claims, *(getattr(total, name) for name in FIGURE_FIELDS[1:]))
