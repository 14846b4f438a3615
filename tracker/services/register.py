"""The finance register: invoices and credit notes filtered, with totals, for screen and Excel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import Session, joinedload

from tracker.documents.data import RegisterRow
from tracker.models import DocumentKind, Icb, Invoice, InvoiceStatus, Practice
from tracker.services import payments
from tracker.services.money import ZERO
from tracker.services.review import approved_for_practice, released_condition


@dataclass
class RegisterFilter:
    practice_ids: list[int]  # the practices the user may see
    practice_id: int | None = None
    status: str | None = None
    icb_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass
class RegisterTotals:
    count: int = 0
    net: Decimal = ZERO
    vat: Decimal = ZERO
    total: Decimal = ZERO  # net, vat and total: every document, credit notes negative
    #: The balance of the invoices listed (credit notes' rows add nothing here): what they
    #: claimed, what the ICB approved (decided claims), what credit notes took off them,
    #: what was paid net of refunds, and the sum of each one's outstanding, so that
    #: outstanding == claimed - credited - paid (services.payments.outstanding).
    claimed: Decimal = ZERO
    approved: Decimal = ZERO
    credited: Decimal = ZERO
    paid: Decimal = ZERO
    outstanding: Decimal = ZERO


@dataclass
class RegisterPage:
    invoices: list[Invoice] = field(default_factory=list)
    totals: RegisterTotals = field(default_factory=RegisterTotals)


def _filtered(filters: RegisterFilter, today: date) -> Select[Invoice]:
    stmt = select(Invoice).where(Invoice.practice_id.in_(filters.practice_ids))
    if filters.practice_id:
        stmt = stmt.where(Invoice.practice_id == filters.practice_id)
    if filters.icb_id:
        stmt = stmt.where(Invoice.icb_id == filters.icb_id)
    if filters.status:
        condition = payments.state_condition(filters.status, today)
        if condition is not None:
            stmt = stmt.where(condition)
    if filters.date_from:
        stmt = stmt.where(
            or_(Invoice.issue_date >= filters.date_from, Invoice.status == InvoiceStatus.DRAFT)
        )
    if filters.date_to:
        stmt = stmt.where(
            or_(Invoice.issue_date <= filters.date_to, Invoice.status == InvoiceStatus.DRAFT)
        )
    return stmt


def register(
    session: Session,
    filters: RegisterFilter,
    today: date,
    *,
    limit: int | None = None,
    offset: int = 0,
) -> RegisterPage:
    """Newest first; drafts at the top. Totals cover every matching issued document."""
    stmt = _filtered(filters, today)
    ordered = (
        stmt.options(joinedload(Invoice.practice).joinedload(Practice.icb))
        .order_by(
            (Invoice.status == InvoiceStatus.DRAFT).desc(),
            Invoice.issue_date.desc(),
            Invoice.id.desc(),
        )
        .offset(offset)
    )
    if limit is not None:
        ordered = ordered.limit(limit)
    invoices = list(session.scalars(ordered).unique())
    # the same WHERE, aggregated over the invoice table itself: an ORM alias of a subquery
    # is adapted afresh for every request, which cost more than the query (issue 13)
    figures = session.execute(
        stmt.where(Invoice.status != InvoiceStatus.DRAFT).with_only_columns(
            func.count(Invoice.id),
            func.coalesce(func.sum(Invoice.net_total), ZERO),
            func.coalesce(func.sum(Invoice.vat_total), ZERO),
            func.coalesce(func.sum(Invoice.total), ZERO),
            *balance_sums(),
        )
    ).one()
    return RegisterPage(invoices, RegisterTotals(*figures))


_Sum = ColumnElement[Decimal]


def balance_sums(rows: type[Invoice] = Invoice) -> tuple[_Sum, _Sum, _Sum, _Sum, _Sum]:
    """The register's balance figures over the issued documents selected (`rows`: Invoice
    or an alias), in SQL, in RegisterTotals' order: claimed, approved, credited, paid and
    outstanding. Credit notes add nothing to them: what they took off is each invoice's
    credited. Whatever else totals claims (the practice's dashboard) sums them this way,
    so it cannot disagree with the register by a penny."""
    is_invoice = rows.kind == DocumentKind.INVOICE
    # what the ICB approved, as the practice sees it: only decisions released to it
    approved = and_(is_invoice, released_condition(rows))
    return (
        func.coalesce(func.sum(case((is_invoice, rows.total), else_=ZERO)), ZERO),
        func.coalesce(func.sum(case((approved, rows.approved_total), else_=ZERO)), ZERO),
        func.coalesce(func.sum(rows.amount_credited), ZERO),
        func.coalesce(func.sum(rows.amount_paid), ZERO),
        payments.outstanding_sum(rows),
    )


def count(session: Session, filters: RegisterFilter, today: date) -> int:
    sub = _filtered(filters, today).subquery()
    return session.scalar(select(func.count()).select_from(sub)) or 0


def icbs_of(session: Session, practice_ids: list[int]) -> list[Icb]:
    """The ICBs the register can filter by: those the practices belong to now and those their
    invoices were sent to (a practice that moved ICB keeps its old ICB's invoices)."""
    invoiced = select(Invoice.icb_id).where(Invoice.practice_id.in_(practice_ids))
    current = select(Practice.icb_id).where(Practice.id.in_(practice_ids))
    return list(
        session.scalars(
            select(Icb).where(or_(Icb.id.in_(current), Icb.id.in_(invoiced))).order_by(Icb.name)
        )
    )


def register_row(invoice: Invoice, today: date) -> RegisterRow:
    """One row of the register as exported to Excel."""
    return RegisterRow(
        number=invoice.number or "Draft",
        kind="Credit note" if invoice.kind == "credit_note" else "Invoice",
        practice_name=invoice.practice.name,
        practice_ods_code=invoice.practice.ods_code,
        icb_name=invoice.practice.icb.name,
        issue_date=invoice.issue_date or today,
        due_date=invoice.due_date,
        po_reference=invoice.po_reference,
        net=invoice.net_total,
        vat=invoice.vat_total,
        total=invoice.total,
        approved=approved_for_practice(invoice),
        credited=invoice.amount_credited,
        paid=invoice.amount_paid,
        outstanding=payments.outstanding(invoice),
        status=payments.payment_state(invoice, today).label,
    )
