"""The finance register: invoices and credit notes filtered, with totals, for screen and Excel."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, joinedload

from tracker.documents.data import RegisterRow
from tracker.models import DocumentKind, Icb, Invoice, InvoiceStatus, Practice
from tracker.services import payments
from tracker.services.money import ZERO


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
    total: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def outstanding(self) -> Decimal:
        return self.total - self.paid


@dataclass
class RegisterPage:
    invoices: list[Invoice] = field(default_factory=list)
    totals: RegisterTotals = field(default_factory=RegisterTotals)


def _status_condition(status: str, today: date) -> ColumnElement[bool] | None:
    issued_invoice = and_(
        Invoice.kind == DocumentKind.INVOICE, Invoice.status == InvoiceStatus.ISSUED
    )
    not_paid = Invoice.amount_paid < Invoice.total
    return {
        "draft": Invoice.status == InvoiceStatus.DRAFT,
        "unpaid": and_(issued_invoice, Invoice.amount_paid == 0, Invoice.due_date >= today),
        "part_paid": and_(
            issued_invoice, Invoice.amount_paid > 0, not_paid, Invoice.due_date >= today
        ),
        "paid": and_(issued_invoice, Invoice.amount_paid >= Invoice.total),
        "overdue": and_(issued_invoice, not_paid, Invoice.due_date < today),
        "cancelled": Invoice.status == InvoiceStatus.CANCELLED,
        "credit_note": Invoice.kind == DocumentKind.CREDIT_NOTE,
    }.get(status)


def _filtered(filters: RegisterFilter, today: date) -> Select[Invoice]:
    stmt = select(Invoice).where(Invoice.practice_id.in_(filters.practice_ids))
    if filters.practice_id:
        stmt = stmt.where(Invoice.practice_id == filters.practice_id)
    if filters.icb_id:
        stmt = stmt.where(Invoice.icb_id == filters.icb_id)
    if filters.status:
        condition = _status_condition(filters.status, today)
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
    sub = stmt.where(Invoice.status != InvoiceStatus.DRAFT).subquery()
    count, net, vat, total, paid = session.execute(
        select(
            func.count(sub.c.id),
            func.coalesce(func.sum(sub.c.net_total), ZERO),
            func.coalesce(func.sum(sub.c.vat_total), ZERO),
            func.coalesce(func.sum(sub.c.total), ZERO),
            func.coalesce(func.sum(sub.c.amount_paid), ZERO),
        )
    ).one()
    return RegisterPage(invoices, RegisterTotals(count, net, vat, total, paid))


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
        paid=invoice.amount_paid,
        outstanding=payments.outstanding(invoice),
        status=payments.payment_state(invoice, today).label,
    )
