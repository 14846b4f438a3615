"""Each claim's lines summed per cost kind, kept in `claim_kind_total` for the outage reports.

Why kept: the national report adds up every claim of an outage event. Summed from the lines
each time, that is a pass over every line with its decision (315,000 lines for 6,300
practices: about 0.2 s on SQLite and 0.3-0.5 s on PostgreSQL with the best indexes, past the
report's 300 ms on its own; issue 13). Kept per claim and kind, it is a few rows a claim.

How it stays right: the rows are only ever recomputed from the lines, never adjusted by a
difference, by `refresh`, in the transaction that changes what they sum:
- when a claim is issued (services.invoicing.issue_invoice): its lines are frozen from then on;
- when a decision on one of its lines is made or changed (services.review.refresh_status,
  which every decision path calls with the claim's row held, services.locks): decisions on
  one claim queue behind each other, so each recomputation sees every decision committed
  before it;
- after a restore (services.restore), whatever the backup held.
Cancelling a claim or crediting part of it changes the invoice's status, not its lines or
decisions: the reports read the status from the invoice, as before. `differences` compares the
table with a recomputation over every claim (the property tests hold it to that).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, case, delete, func, insert, select
from sqlalchemy.orm import Session

from tracker.models import (
    ClaimKindTotal,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    table_of,
)
from tracker.services.decisions import FINAL_DECISIONS

#: The kept columns, in the order `summed` selects them.
COLUMNS = (
    "invoice_id",
    "kind",
    "lines",
    "claimed",
    "approved",
    "awaiting",
    "hours",
    "appointments",
)


def summed(invoice_ids: Sequence[int] | None = None) -> Select[Any]:
    """The claims' lines summed per claim and kind, from the lines and their decisions: what
    the table keeps. Claims are issued invoices (cancelled ones too: the reports leave those
    out by the invoice's status); credit notes and drafts have no rows."""
    final = LineDecision.decision.in_(FINAL_DECISIONS)
    money = InvoiceLine.total_amount
    statement = (
        select(
            InvoiceLine.invoice_id,
            InvoiceLine.kind,
            func.count(),
            func.coalesce(func.sum(money), 0),
            func.coalesce(func.sum(case((final, LineDecision.approved_amount), else_=0)), 0),
            func.coalesce(func.sum(case((final, 0), else_=money)), 0),
            func.coalesce(func.sum(InvoiceLine.hours), 0),
            func.coalesce(func.sum(InvoiceLine.appointments), 0),
        )
        .select_from(InvoiceLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(LineDecision, LineDecision.invoice_line_id == InvoiceLine.id)
        .where(Invoice.kind == DocumentKind.INVOICE, Invoice.status != InvoiceStatus.DRAFT)
        .group_by(InvoiceLine.invoice_id, InvoiceLine.kind)
    )
    if invoice_ids is not None:
        statement = statement.where(InvoiceLine.invoice_id.in_(list(invoice_ids)))
    return statement


def refresh(db: Session | Connection, invoice_ids: Sequence[int] | None = None) -> None:
    """Recompute the kept rows of these claims (of every claim: None) from their lines. The
    caller holds the claims (or the whole database, in a restore) and commits."""
    table = table_of(ClaimKindTotal)
    drop = delete(table)
    if invoice_ids is not None:
        drop = drop.where(table.c.invoice_id.in_(list(invoice_ids)))
    db.execute(drop)
    db.execute(insert(table).from_select(list(COLUMNS), summed(invoice_ids)))


def differences(db: Session | Connection) -> list[tuple[Any, ...]]:
    """Rows of the table that a recomputation would not write, and rows it would write that
    the table lacks: empty when the kept totals are right."""
    table = table_of(ClaimKindTotal)
    kept = select(*(table.c[name] for name in COLUMNS))
    fresh = summed()
    return [
        *(("kept only", *row) for row in db.execute(kept.except_(fresh))),
        *(("missing", *row) for row in db.execute(fresh.except_(kept))),
    ]
