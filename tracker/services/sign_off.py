"""Two-step sign-off of a claim's decisions: a reviewer recommends them, an ICB finance
approver authorises them or sends them back.

The two tiers are those of CQRS Local, the claims system ICBs use for local schemes on
NHS England's behalf: a Tier 1 approver checks each claim and its evidence, a Tier 2
approver, typically more senior, approves it financially for payment, and one person is not
meant to hold both ("CQRS Local user roles",
https://welcome.cqrs.nhs.uk/icb-regional-commissioners/local-claims/user-roles-for-commissioners;
NHS England, https://www.england.nhs.uk/long-read/calculating-quality-reporting-service-cqrs/).
Here the reviewer is Tier 1 and the ICB finance approver Tier 2, and whoever recommended a
claim never authorises it (segregation of duties), whatever roles they hold since.

The claim moves: with the reviewers (decided line by line, services.review) -> recommended
(every line has a final decision; decisions fixed) -> authorised (the practice sees them,
review.decisions_released) or sent back with a reason (review status in review again, the
decisions kept and open to change, then recommended again).

Each step holds the claim (review.hold_claim) and checks its state on the held row, so two
people acting at once queue: two approvers pressing Authorise together authorise it once and
the second is told who did; an authorisation racing a send-back leaves one of them done and
the other refused with what happened. Each step is audited. These functions are what the
notifications hook into: each returns nothing and the caller commits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from tracker.models import (
    DocumentKind,
    Invoice,
    InvoiceStatus,
    ReviewStatus,
    User,
    table_of,
    utcnow,
)
from tracker.presentation import format_money, london_datetime
from tracker.services import audit, notifications
from tracker.services.errors import Conflict, Invalid
from tracker.services.review import (
    SignOff,
    decided_count,
    hold_claim,
    refresh_status,
    sign_off_stage,
)
from tracker.services.text import text_problem

MAX_SEND_BACK_REASON = 2000


def recommend(
    session: Session, invoice: Invoice, *, user_id: int, now: datetime | None = None
) -> None:
    """A reviewer recommends the claim's decisions for authorisation: every line must have a
    final decision (approved, part-approved or rejected), as held now."""
    _hold_two_step(session, invoice)
    stage = sign_off_stage(invoice)
    if stage is not SignOff.TO_RECOMMEND:
        raise Conflict(_already(session, invoice, stage))
    refresh_status(session, invoice, user_id=user_id)  # a sent-back claim reads decided again
    if invoice.review_status != ReviewStatus.DECIDED or invoice.approved_total is None:
        raise Conflict(
            f"Claim {invoice.number} cannot be recommended yet: {decided_count(invoice)} of "
            f"{len(invoice.lines)} lines have a final decision (a queried line has none)."
        )
    invoice.recommended_by_id = user_id
    invoice.recommended_at = now or utcnow()
    _record(
        session,
        invoice,
        user_id,
        "recommend",
        f"recommended for authorisation: {format_money(invoice.approved_total)} approved "
        f"of {format_money(invoice.total)}",
    )


def authorise(
    session: Session, invoice: Invoice, *, user_id: int, now: datetime | None = None
) -> None:
    """An ICB finance approver authorises the recommended decisions: from now on the practice
    sees them, and its finance team may credit what was not approved."""
    _hold_two_step(session, invoice)
    _ensure_recommended(session, invoice)
    if invoice.recommended_by_id == user_id:
        raise Conflict(
            f"You recommended claim {invoice.number}, so another ICB finance approver must "
            "authorise it: whoever recommends a claim's decisions never authorises them too."
        )
    invoice.authorised_by_id = user_id
    invoice.authorised_at = now or utcnow()
    assert invoice.approved_total is not None  # recommended claims are decided
    _record(
        session,
        invoice,
        user_id,
        "authorise",
        f"authorised: {format_money(invoice.approved_total)} approved "
        f"of {format_money(invoice.total)}",
    )
    notifications.claim_released(session, invoice)


def send_back(
    session: Session,
    invoice: Invoice,
    *,
    user_id: int,
    reason: str,
    now: datetime | None = None,
) -> None:
    """An ICB finance approver returns the recommended claim to the reviewers, saying why:
    it is in review again, its decisions kept and open to change."""
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why you are sending the claim back", "reason")
    if problem := text_problem("Reason", reason, MAX_SEND_BACK_REASON, multiline=True):
        raise Invalid(problem, "reason")
    _hold_two_step(session, invoice)
    _ensure_recommended(session, invoice)
    before = (invoice.review_status, invoice.approved_total)
    invoice.recommended_by_id = None
    invoice.recommended_at = None
    invoice.sent_back_by_id = user_id
    invoice.sent_back_at = now or utcnow()
    invoice.sent_back_reason = reason
    invoice.review_status = ReviewStatus.IN_REVIEW
    invoice.approved_total = None
    _record(
        session,
        invoice,
        user_id,
        "send_back",
        f"sent back to the reviewers: {reason}",
        changes={
            "review_status": [before[0], ReviewStatus.IN_REVIEW],
            "approved_total": [str(before[1]), None],
            "reason": reason,
        },
    )


def _hold_two_step(session: Session, invoice: Invoice) -> None:
    """Hold the claim and check, on the held row, that it is an issued two-step claim."""
    hold_claim(session, invoice)
    if invoice.status != InvoiceStatus.ISSUED or invoice.kind != DocumentKind.INVOICE:
        raise Conflict(
            f"Claim {invoice.number} was withdrawn by a credit note: it can no longer be "
            "signed off."
        )
    if not invoice.two_step_sign_off:
        raise Conflict(
            f"Claim {invoice.number} is signed off in one step: its decisions reach the "
            "practice as they are made."
        )


def _ensure_recommended(session: Session, invoice: Invoice) -> None:
    stage = sign_off_stage(invoice)
    if stage is not SignOff.RECOMMENDED:
        raise Conflict(_already(session, invoice, stage))


def _already(session: Session, invoice: Invoice, stage: SignOff) -> str:
    """Why the claim is not where the step needs it, naming who moved it and when."""
    claim = f"Claim {invoice.number}"
    if stage is SignOff.AUTHORISED:
        who, when = _name(session, invoice.authorised_by_id), invoice.authorised_at
        return (
            f"{claim} was authorised by {who} on {london_datetime(when)}: its decisions are final."
        )
    if stage is SignOff.RECOMMENDED:
        who, when = _name(session, invoice.recommended_by_id), invoice.recommended_at
        return (
            f"{claim} was recommended by {who} on {london_datetime(when)} and is waiting for "
            "an ICB finance approver."
        )
    if invoice.sent_back_at is not None:
        who, when = _name(session, invoice.sent_back_by_id), invoice.sent_back_at
        return (
            f"{claim} was sent back to the reviewers by {who} on {london_datetime(when)}: it is "
            "waiting for a reviewer to recommend it again."
        )
    return f"{claim} has not been recommended for authorisation yet."


def _name(session: Session, user_id: int | None) -> str:
    user = session.get(User, user_id) if user_id is not None else None
    return user.name if user is not None else "someone"


def _record(
    session: Session,
    invoice: Invoice,
    user_id: int,
    action: str,
    what: str,
    changes: dict[str, object] | None = None,
) -> None:
    audit.record(
        session,
        user_id=user_id,
        entity=invoice,
        action=action,
        changes=changes
        or {
            "approved_total": str(invoice.approved_total),
            "recommended_by_id": invoice.recommended_by_id,
            "authorised_by_id": invoice.authorised_by_id,
        },
        summary=f"Claim {invoice.number}: {what}",
        practice_id=invoice.practice_id,
    )


def follow_icb_setting(session: Session, icb_id: int, two_step: bool) -> int:
    """Apply an ICB's changed sign-off setting to its claims, returning how many follow it.

    A claim takes the setting when it is issued, so what a practice has been shown never
    disappears. Switched on, claims the ICB has not started reviewing (status new) need
    authorisation too; switched off, no claim waits for an approver any more: every claim
    not yet authorised is one-step again and its decisions reach the practice at once."""
    invoices = table_of(Invoice)
    stmt = update(invoices).where(
        invoices.c.icb_id == icb_id,
        invoices.c.kind == DocumentKind.INVOICE,
        invoices.c.status == InvoiceStatus.ISSUED,
        invoices.c.two_step_sign_off == (not two_step),
    )
    if two_step:
        stmt = stmt.where(invoices.c.review_status == ReviewStatus.NEW)
    else:
        stmt = stmt.where(invoices.c.authorised_at.is_(None))
    changed = session.execute(
        stmt.values(two_step_sign_off=two_step).returning(invoices.c.id, invoices.c.review_status)
    ).all()
    if not two_step:
        for invoice_id, status in changed:
            if status == ReviewStatus.DECIDED:
                # its decisions reach the practice now, as an authorisation would release them
                _announce_release(session, invoice_id)
    return len(changed)


def _announce_release(session: Session, invoice_id: int) -> None:
    invoice = session.get(Invoice, invoice_id)
    if invoice is not None:
        session.refresh(invoice)  # read as the UPDATE left it (one step now)
        notifications.claim_released(session, invoice)
