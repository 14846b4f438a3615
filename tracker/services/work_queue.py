"""The work queue: the claims waiting for an ICB's reviewers, oldest first, with the days each
has waited against the ICB's target; the claims waiting for its finance approvers; and the
assignment of claims to reviewers.

After a national outage an ICB receives claims from most of its practices in the same few
days, and each practice waits for its money until the ICB has decided. The queue puts the
oldest first and flags a claim once it has waited longer than the ICB's target: 30 days by
default, the period in which the NHS's Better Payment Practice Code asks NHS bodies to pay
a valid invoice (for example NHS Blood and Transplant's statement of it,
https://www.nhsbt.nhs.uk/who-we-are/transparency/accounts/compliance-and-exceptions/), and
the payment terms practices' invoices carry by default. Days are counted from the invoice's
issue date, the date the ICB was invoiced.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, joinedload

from tracker.models import (
    DocumentKind,
    Icb,
    Invoice,
    InvoiceStatus,
    Membership,
    ReviewStatus,
    Role,
    User,
    rows_updated,
    table_of,
)
from tracker.presentation import Tag
from tracker.services import audit
from tracker.services.errors import Conflict, Invalid
from tracker.services.review import claim_condition, status_tag

DEFAULT_TARGET_DAYS = 30
MAX_TARGET_DAYS = 365
PER_PAGE = 50


class Show(StrEnum):
    """Which of the reviewers' claims the queue lists."""

    MINE = "mine"
    UNASSIGNED = "unassigned"
    ALL = "all"

    @property
    def label(self) -> str:
        return SHOW_LABELS[self]


SHOW_LABELS = {Show.MINE: "Assigned to me", Show.UNASSIGNED: "Unassigned", Show.ALL: "All"}


def with_reviewers() -> ColumnElement[bool]:
    """Claims waiting for the reviewers: issued claims with a line not finally decided (one
    step), or not recommended yet, sent back included (two steps)."""
    return and_(
        Invoice.status == InvoiceStatus.ISSUED,
        or_(
            and_(
                Invoice.two_step_sign_off == false(),
                Invoice.review_status != ReviewStatus.DECIDED,
            ),
            and_(Invoice.two_step_sign_off == true(), Invoice.recommended_at.is_(None)),
        ),
    )


def awaiting_sign_off() -> ColumnElement[bool]:
    """Claims recommended by a reviewer and waiting for an ICB finance approver."""
    return and_(
        Invoice.status == InvoiceStatus.ISSUED,
        Invoice.two_step_sign_off == true(),
        Invoice.recommended_at.is_not(None),
        Invoice.authorised_at.is_(None),
    )


@dataclass(frozen=True)
class QueueRow:
    invoice: Invoice
    days_waiting: int
    target_days: int

    @property
    def over_target(self) -> bool:
        return self.days_waiting > self.target_days

    @property
    def tag(self) -> Tag:
        return status_tag(self.invoice)


@dataclass(frozen=True)
class Queue:
    rows: list[QueueRow]
    count: int  # every claim in the queue, all pages
    over_target: int  # of them, those waiting longer than their ICB's target
    page: int
    pages: int


def review_queue(
    session: Session,
    icb_ids: list[int],
    *,
    show: Show,
    user_id: int,
    today: date,
    page: int = 1,
    per_page: int = PER_PAGE,
) -> Queue:
    """The claims waiting for the reviewers of `icb_ids`: all, those assigned to `user_id`
    or those assigned to no one."""
    where = [with_reviewers()]
    if show is Show.MINE:
        where.append(Invoice.assigned_to_id == user_id)
    elif show is Show.UNASSIGNED:
        where.append(Invoice.assigned_to_id.is_(None))
    return _queue(session, icb_ids, where, today, page, per_page)


def sign_off_queue(
    session: Session, icb_ids: list[int], *, today: date, page: int = 1, per_page: int = PER_PAGE
) -> Queue:
    """The claims of `icb_ids` waiting for an ICB finance approver."""
    return _queue(session, icb_ids, [awaiting_sign_off()], today, page, per_page)


def _queue(
    session: Session,
    icb_ids: list[int],
    where: list[ColumnElement[bool]],
    today: date,
    page: int,
    per_page: int,
) -> Queue:
    """Oldest first (issue date, then number order); three queries whatever the size."""
    where = [claim_condition(icb_ids), *where]
    targets = dict(
        session.execute(select(Icb.id, Icb.review_target_days).where(Icb.id.in_(icb_ids))).all()
    )
    late = or_(
        false(),
        *(
            and_(Invoice.icb_id == icb_id, Invoice.issue_date < today - timedelta(days=days))
            for icb_id, days in targets.items()
        ),
    )
    count, over = session.execute(
        select(func.count(Invoice.id), func.count(case((late, 1)))).where(*where)
    ).one()
    pages = max(1, -(-(count or 0) // per_page))
    page = min(max(page, 1), pages)
    invoices = session.scalars(
        select(Invoice)
        .options(
            joinedload(Invoice.practice),
            joinedload(Invoice.assigned_to),
            joinedload(Invoice.recommended_by),
        )
        .where(*where)
        .order_by(Invoice.issue_date, Invoice.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    rows = [
        QueueRow(
            invoice,
            (today - invoice.issue_date).days if invoice.issue_date else 0,
            targets.get(invoice.icb_id, DEFAULT_TARGET_DAYS),
        )
        for invoice in invoices
    ]
    return Queue(rows, count or 0, over or 0, page, pages)


def waiting_for(session: Session, icb_ids: list[int], *, user_id: int, approver: bool) -> int:
    """What the navigation's badge counts: for an approver, the claims waiting for sign-off;
    for a reviewer, the claims assigned to them still waiting for the reviewers. One COUNT
    on indexed columns."""
    if not icb_ids:
        return 0
    waiting = (
        awaiting_sign_off()
        if approver
        else and_(with_reviewers(), Invoice.assigned_to_id == user_id)
    )
    return (
        session.scalar(select(func.count(Invoice.id)).where(claim_condition(icb_ids), waiting)) or 0
    )


# --- assignment ----------------------------------------------------------------------------


def reviewers_of(session: Session, icb_id: int) -> list[User]:
    """The active ICB reviewers of the ICB, by name: whom its claims can be assigned to."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.icb_id == icb_id,
                Membership.role == Role.ICB_REVIEWER,
                User.active == true(),
            )
            .order_by(User.name, User.id)
        )
    )


def assign(
    session: Session,
    invoice: Invoice,
    *,
    assignee_id: int | None,
    seen_assignee_id: int | None,
    user_id: int,
) -> None:
    """Assign the claim to a reviewer of its ICB, or to no one (`assignee_id` None). One
    conditional UPDATE: it changes the claim only while it is issued, still assigned as the
    user saw it (`seen_assignee_id`), and the assignee still reviews for the claim's ICB;
    so two people assigning the same claim at once cannot both think they did."""
    if assignee_id is not None and assignee_id not in {
        user.id for user in reviewers_of(session, invoice.icb_id)
    }:
        raise Invalid("Choose a reviewer of this claim's ICB", "assignee")
    invoices = table_of(Invoice)
    stmt = (
        update(invoices)
        .where(
            invoices.c.id == invoice.id,
            invoices.c.kind == DocumentKind.INVOICE,
            invoices.c.status == InvoiceStatus.ISSUED,
            invoices.c.assigned_to_id.is_not_distinct_from(seen_assignee_id),
        )
        .values(assigned_to_id=assignee_id)
    )
    if assignee_id is not None:
        stmt = stmt.where(
            exists().where(
                Membership.user_id == assignee_id,
                Membership.icb_id == invoices.c.icb_id,
                Membership.role == Role.ICB_REVIEWER,
            )
        )
    if rows_updated(session, stmt) != 1:
        session.expire(invoice)
        raise Conflict(_not_assigned(session, invoice))
    session.expire(invoice, ["assigned_to_id", "assigned_to"])
    assignee = session.get(User, assignee_id) if assignee_id is not None else None
    audit.record(
        session,
        user_id=user_id,
        entity=invoice,
        action="assign",
        changes={"assigned_to_id": [seen_assignee_id, assignee_id]},
        summary=f"Claim {invoice.number} "
        + (f"assigned to {assignee.name}" if assignee else "unassigned"),
        practice_id=invoice.practice_id,
    )


def _not_assigned(session: Session, invoice: Invoice) -> str:
    """Why the conditional assignment changed nothing, from the claim as committed."""
    if invoice.status != InvoiceStatus.ISSUED:
        return f"Claim {invoice.number} was withdrawn by a credit note: it needs no reviewer."
    if invoice.assigned_to is not None:
        return (
            f"Claim {invoice.number} was assigned to {invoice.assigned_to.name} a moment ago. "
            "Look at the queue again before you change it."
        )
    return (
        f"Claim {invoice.number} was unassigned a moment ago, or that reviewer no longer "
        "reviews for its ICB. Look at the queue again."
    )


# --- the ICB's target ----------------------------------------------------------------------


def set_review_target(session: Session, icb: Icb, days: int | None, *, user_id: int) -> None:
    """Set how many days a claim may wait before the queue flags it (1 to 365)."""
    if days is None or not 1 <= days <= MAX_TARGET_DAYS:
        raise Invalid(
            f"Enter the target as a whole number of days from 1 to {MAX_TARGET_DAYS}",
            "review_target_days",
        )
    before = icb.review_target_days
    icb.review_target_days = days
    audit.record(
        session,
        user_id=user_id,
        entity=icb,
        action="update",
        changes={"review_target_days": [before, days]},
        summary=f"ICB {icb.ods_code}: claims flagged after {days} days waiting",
    )
