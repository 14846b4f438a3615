"""ICB review of practices' claims: a decision on every line, queries and their answers.

A claim is an issued invoice (not a credit note). Reviewers only ever write LineDecision and
ClaimMessage rows and the invoice's review fields (review_status, approved_total); the
practice's lines, invoice and costs are never touched.

Review status moves new -> in_review (first decision or message) -> decided (every line has
a final decision: approved, part-approved or rejected; a queried line is not decided). When
decided, approved_total is the sum of the lines' approved amounts; until then it is None.

A claim sent to an ICB that signs off in two steps (Invoice.two_step_sign_off) is then
recommended by a reviewer and authorised by an ICB finance approver (services.sign_off);
its decisions are fixed while it waits for authorisation and after, and the practice sees
them only once they are authorised: `decisions_released` is the one rule every page,
export and credit asks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ColumnElement, Row, Select, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker.models import (
    ClaimMessage,
    CostKind,
    DocumentKind,
    Evidence,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    OutageEvent,
    Practice,
    ReviewStatus,
    User,
    utcnow,
)
from tracker.presentation import (
    REVIEW_STATUS_TAGS,
    Tag,
    claim_tag,
    cost_kind_label,
    decision_tag,
)
from tracker.services import audit, claim_totals, locks, notifications, payments
from tracker.services.decisions import DECISION_LABELS as DECISION_LABELS
from tracker.services.decisions import FINAL_DECISIONS as FINAL_DECISIONS
from tracker.services.decisions import Decision as Decision
from tracker.services.errors import Conflict, Invalid, NotFound
from tracker.services.evidence import PreparedFile
from tracker.services.money import ZERO, to_pence
from tracker.services.payments import PaymentState
from tracker.services.release import approved_for_practice as approved_for_practice
from tracker.services.release import decisions_released as decisions_released
from tracker.services.release import released_condition as released_condition

REVIEW_STATUS_LABELS = {status: REVIEW_STATUS_TAGS[status.value].label for status in ReviewStatus}
MAX_REASON = 2000
MAX_ANSWER = 4000


def decision_label(value: str | None) -> str:
    return decision_tag(Decision(value).value if value else None).label


def kind_label(kind: str) -> str:
    return cost_kind_label(CostKind(kind).value)


def decided_count(invoice: Invoice) -> int:
    return sum(
        1 for line in invoice.lines if line.decision and Decision(line.decision.decision).is_final
    )


def review_status_label(value: str) -> str:
    return REVIEW_STATUS_LABELS[ReviewStatus(value)]


def overall_decision(invoice: Invoice) -> str | None:
    """The claim's overall decision once every line is decided, else None."""
    if invoice.review_status != ReviewStatus.DECIDED:
        return None
    return _overall(invoice.approved_total, invoice.total)


def _overall(approved: Decimal | None, claimed: Decimal) -> str | None:
    if approved is None:
        return None
    if approved == claimed:
        return "Approved in full"
    if approved == ZERO:
        return "Rejected"
    return "Part-approved"


# --- sign-off, and what the practice sees of the review ------------------------------------


class SignOff(StrEnum):
    """Where a claim's sign-off has got to."""

    ONE_STEP = "one_step"  # each decision reaches the practice as it is made
    TO_RECOMMEND = "to_recommend"  # two steps: with the reviewers (also once sent back)
    RECOMMENDED = "recommended"  # waiting for an ICB finance approver
    AUTHORISED = "authorised"


def sign_off_stage(invoice: Invoice) -> SignOff:
    if not invoice.two_step_sign_off:
        return SignOff.ONE_STEP
    if invoice.authorised_at is not None:
        return SignOff.AUTHORISED
    if invoice.recommended_at is not None:
        return SignOff.RECOMMENDED
    return SignOff.TO_RECOMMEND


def decision_for_practice(invoice: Invoice, line: InvoiceLine) -> LineDecision | None:
    """The line's decision as the practice sees it: a query at once, because the practice
    must answer it before the line can be decided (and a claim is recommended only once no
    line is queried, so a query never waits for authorisation); a final decision once the
    claim's decisions are released."""
    return shown_to_practice(invoice, line.decision)


def shown_to_practice(invoice: Invoice, decision: LineDecision | None) -> LineDecision | None:
    """decision_for_practice for a decision already in hand (read with its line in one
    query, as the incident page does)."""
    if decision is None or decisions_released(invoice) or decision.decision == Decision.QUERIED:
        return decision
    return None


def practice_sees_decision() -> ColumnElement[bool]:
    """decision_for_practice as a WHERE clause on LineDecision joined to its Invoice."""
    return or_(released_condition(), LineDecision.decision == Decision.QUERIED.value)


def sign_off_tag_key(invoice: Invoice) -> str | None:
    """The presentation.SIGN_OFF_TAGS key that says where a two-step claim is, for ICB users:
    sent back, decided (to recommend), awaiting authorisation or authorised; None when its
    review status says it all (one step, or still being decided)."""
    stage = sign_off_stage(invoice)
    if stage in (SignOff.RECOMMENDED, SignOff.AUTHORISED):
        return stage.value
    if stage is SignOff.ONE_STEP:
        return None
    if invoice.review_status == ReviewStatus.DECIDED:
        return "to_recommend"
    return "sent_back" if invoice.sent_back_at is not None else None


def status_tag(invoice: Invoice) -> Tag:
    """The claim's state as ICB users see it."""
    return claim_tag(invoice.status, invoice.review_status, sign_off_tag_key(invoice))


@dataclass(frozen=True)
class ClaimReview:
    """A claim's review as one audience's page shows it: ICB users see every decision as it
    is made; the practice sees what `decisions_released` lets it see."""

    tag: Tag
    status: str  # the ReviewStatus value shown
    approved_total: Decimal | None
    overall: str | None
    lines_decided: int
    decisions: dict[int, LineDecision | None]  # by invoice line id
    released: bool  # whether the practice sees the decisions (decisions_released)
    stage: SignOff
    undecided_note: str  # what the page says while there is no approved total to show

    @property
    def queried(self) -> int:
        return sum(1 for d in self.decisions.values() if d and d.decision == Decision.QUERIED)


def icb_view(invoice: Invoice) -> ClaimReview:
    """The review as the ICB's reviewers, approvers and administrators see it."""
    return _review_view(invoice, {line.id: line.decision for line in invoice.lines}, True)


def practice_view(invoice: Invoice) -> ClaimReview:
    """The review as the practice sees it: final decisions, the approved total and the
    claim's decided state only once released; until then a decided claim reads "in review"
    and nothing says how far the ICB's sign-off has got."""
    decisions = {line.id: decision_for_practice(invoice, line) for line in invoice.lines}
    return _review_view(invoice, decisions, decisions_released(invoice))


def _review_view(
    invoice: Invoice, decisions: dict[int, LineDecision | None], sees_all: bool
) -> ClaimReview:
    status, tag = invoice.review_status, status_tag(invoice)
    if not sees_all:
        if status == ReviewStatus.DECIDED:
            status = ReviewStatus.IN_REVIEW
        tag = claim_tag(invoice.status, status)
    approved = invoice.approved_total if sees_all else None
    note = (
        "Not decided yet: every line needs a decision (a queried line is not decided)"
        if sees_all or invoice.review_status != ReviewStatus.DECIDED
        else "Not decided yet: the ICB is still reviewing this claim"
    )
    return ClaimReview(
        tag=tag,
        status=status,
        approved_total=approved,
        overall=_overall(approved, invoice.total) if status == ReviewStatus.DECIDED else None,
        lines_decided=sum(
            1 for d in decisions.values() if d is not None and Decision(d.decision).is_final
        ),
        decisions=decisions,
        released=decisions_released(invoice),
        stage=sign_off_stage(invoice),
        undecided_note=note,
    )


# --- which claims a reviewer sees ----------------------------------------------------------


def claim_condition(icb_ids: list[int]) -> ColumnElement[bool]:
    """Claims sent to one of `icb_ids`: issued invoices, and cancelled ones (shown as
    withdrawn). Drafts and credit notes are never claims."""
    return and_(
        Invoice.icb_id.in_(icb_ids),
        Invoice.kind == DocumentKind.INVOICE,
        Invoice.status.in_((InvoiceStatus.ISSUED, InvoiceStatus.CANCELLED)),
    )


@dataclass(frozen=True)
class ClaimFilters:
    outage_event_id: int | None = None
    practice_id: int | None = None
    review_status: str | None = None
    issued_from: date | None = None
    issued_to: date | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.outage_event_id:
            found.append(Invoice.outage_event_id == self.outage_event_id)
        if self.practice_id:
            found.append(Invoice.practice_id == self.practice_id)
        if self.review_status:
            found.append(Invoice.review_status == self.review_status)
        if self.issued_from:
            found.append(Invoice.issue_date >= self.issued_from)
        if self.issued_to:
            found.append(Invoice.issue_date <= self.issued_to)
        return found


@dataclass(frozen=True)
class ClaimRow:
    invoice: Invoice
    line_count: int
    decided_count: int
    queried_count: int
    unanswered_queries: int
    #: Its settlement: the payment state (services.payments) and what is still owed.
    state: PaymentState
    outstanding: Decimal

    @property
    def withdrawn(self) -> bool:
        return self.invoice.status == InvoiceStatus.CANCELLED

    @property
    def tag(self) -> Tag:
        return status_tag(self.invoice)


@dataclass
class ClaimList:
    rows: list[ClaimRow]
    count: int  # all matching claims, every page
    claimed: Decimal  # total of matching claims still standing (not withdrawn)
    approved: Decimal  # approved total of the decided ones among them
    decided_claimed: Decimal  # claimed total of the decided ones, to compare with approved
    #: Their settlement: credited, paid net of refunds, and outstanding (claimed - credited
    #: - paid), over the claims still standing, as the practice's register sums them.
    credited: Decimal
    paid: Decimal
    outstanding: Decimal
    page: int
    pages: int
    status_counts: dict[str, int] = field(default_factory=dict)


def list_claims(
    session: Session,
    icb_ids: list[int],
    filters: ClaimFilters,
    *,
    page: int = 1,
    per_page: int = 25,
    today: date,
) -> ClaimList:
    """One page of claims, each with its settlement as at `today`, with totals over all
    matching claims. Four queries whatever the number of claims or lines."""
    where = [claim_condition(icb_ids), *filters.conditions()]
    standing = Invoice.status == InvoiceStatus.ISSUED
    decided = and_(standing, Invoice.review_status == ReviewStatus.DECIDED)
    count, claimed, approved, decided_claimed, credited, paid, outstanding = session.execute(
        select(
            func.count(Invoice.id),
            func.coalesce(func.sum(case((standing, Invoice.total), else_=ZERO)), ZERO),
            func.coalesce(func.sum(case((decided, Invoice.approved_total), else_=ZERO)), ZERO),
            func.coalesce(func.sum(case((decided, Invoice.total), else_=ZERO)), ZERO),
            func.coalesce(func.sum(case((standing, Invoice.amount_credited), else_=ZERO)), ZERO),
            func.coalesce(func.sum(case((standing, Invoice.amount_paid), else_=ZERO)), ZERO),
            payments.outstanding_sum(),
        ).where(*where)
    ).one()
    status_counts = dict(
        session.execute(
            select(Invoice.review_status, func.count(Invoice.id))
            .where(
                claim_condition(icb_ids),
                *ClaimFilters(**(vars(filters) | {"review_status": None})).conditions(),
                standing,
            )
            .group_by(Invoice.review_status)
        ).all()
    )
    pages = max(1, -(-(count or 0) // per_page))
    page = min(max(page, 1), pages)
    invoices = list(
        session.scalars(
            select(Invoice)
            .options(joinedload(Invoice.practice))
            .where(*where)
            .order_by(Invoice.issue_date.desc(), Invoice.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    counts = _line_counts(session, [inv.id for inv in invoices])
    rows = [
        ClaimRow(
            inv,
            *counts.get(inv.id, (0, 0, 0, 0)),
            state=payments.payment_state(inv, today),
            outstanding=payments.outstanding(inv),
        )
        for inv in invoices
    ]
    return ClaimList(
        rows=rows,
        count=count or 0,
        claimed=claimed or ZERO,
        approved=approved or ZERO,
        decided_claimed=decided_claimed or ZERO,
        credited=credited or ZERO,
        paid=paid or ZERO,
        outstanding=outstanding or ZERO,
        page=page,
        pages=pages,
        status_counts=status_counts,
    )


def _line_counts(session: Session, invoice_ids: list[int]) -> dict[int, tuple[int, int, int, int]]:
    """Per invoice: lines, finally decided lines, queried lines, and queried lines still
    waiting for an answer (no practice note since the query)."""
    if not invoice_ids:
        return {}
    answered = (
        select(ClaimMessage.invoice_line_id, func.max(ClaimMessage.created_at).label("at"))
        .where(ClaimMessage.invoice_id.in_(invoice_ids))
        .group_by(ClaimMessage.invoice_line_id)
        .subquery()
    )
    is_query = LineDecision.decision == Decision.QUERIED
    rows = session.execute(
        select(
            InvoiceLine.invoice_id,
            func.count(InvoiceLine.id),
            func.count(case((LineDecision.decision.in_(FINAL_DECISIONS), 1))),
            func.count(case((is_query, 1))),
            func.count(
                case(
                    (
                        and_(
                            is_query,
                            answered.c.at.is_(None) | (answered.c.at < LineDecision.decided_at),
                        ),
                        1,
                    )
                )
            ),
        )
        .outerjoin(LineDecision, LineDecision.invoice_line_id == InvoiceLine.id)
        .outerjoin(answered, answered.c.invoice_line_id == InvoiceLine.id)
        .where(InvoiceLine.invoice_id.in_(invoice_ids))
        .group_by(InvoiceLine.invoice_id)
    ).all()
    return {row[0]: (row[1], row[2], row[3], row[4]) for row in rows}


def filter_choices(
    session: Session, icb_ids: list[int]
) -> tuple[list[Row[int, str]], list[Row[int, str, str]]]:
    """Outage events and practices that appear on the ICBs' claims, for the filter form."""
    events = session.execute(
        select(OutageEvent.id, OutageEvent.name)
        .where(OutageEvent.id.in_(select(Invoice.outage_event_id).where(claim_condition(icb_ids))))
        .order_by(OutageEvent.started_on.desc(), OutageEvent.name)
    ).all()
    practices = session.execute(
        select(Practice.id, Practice.name, Practice.ods_code)
        .where(Practice.id.in_(select(Invoice.practice_id).where(claim_condition(icb_ids))))
        .order_by(Practice.name)
    ).all()
    return list(events), list(practices)


def claim_for_reviewer(session: Session, invoice_id: int, icb_ids: list[int]) -> Invoice | None:
    """A claim of one of the ICBs, with its lines, decisions and practice loaded."""
    return session.scalars(claim_query(invoice_id).where(claim_condition(icb_ids))).first()


def claim_query(invoice_id: int) -> Select[Invoice]:
    return (
        select(Invoice)
        .options(
            joinedload(Invoice.practice),
            selectinload(Invoice.lines).joinedload(InvoiceLine.decision),
        )
        .where(Invoice.id == invoice_id)
    )


# --- deciding ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineDecisionInput:
    decision: str
    approved_amount: Decimal | None = None
    reason: str = ""


def _validated(line: InvoiceLine, data: LineDecisionInput) -> tuple[Decision, Decimal | None, str]:
    try:
        decision = Decision(data.decision)
    except ValueError:
        raise Invalid("Choose a decision for this line", "decision") from None
    reason = (data.reason or "").strip()
    if decision is not Decision.APPROVED and not reason:
        raise Invalid(
            f"Give a reason: it is required when a line is {decision.label.lower()}", "reason"
        )
    if len(reason) > MAX_REASON:
        raise Invalid(f"Reason must be {MAX_REASON} characters or fewer", "reason")
    claimed = line.total_amount
    if decision is Decision.APPROVED:
        return decision, claimed, reason
    if decision is Decision.REJECTED:
        return decision, ZERO, reason
    if decision is Decision.QUERIED:
        return decision, None, reason
    amount = data.approved_amount
    if amount is None:
        raise Invalid("Enter the amount approved for this line", "approved_amount")
    if to_pence(amount) != amount:
        raise Invalid(
            "Enter the approved amount in pounds and pence, like 12.50", "approved_amount"
        )
    if amount <= ZERO:
        raise Invalid(
            "The approved amount must be more than £0.00 (or reject the line)", "approved_amount"
        )
    if amount > claimed:
        raise Invalid(
            f"The approved amount cannot be more than the £{claimed:,.2f} claimed",
            "approved_amount",
        )
    return decision, amount, reason


def _ensure_reviewable(invoice: Invoice) -> None:
    if invoice.kind != DocumentKind.INVOICE or invoice.status != InvoiceStatus.ISSUED:
        raise Conflict(
            "This claim was withdrawn by a credit note (or is not an issued invoice): "
            "it can no longer be reviewed"
        )


def decisions_open(invoice: Invoice) -> bool:
    """Whether reviewers may still decide or change the claim's lines: an issued claim that
    is not waiting for authorisation nor authorised (what an approver authorises is what
    the reviewer recommended)."""
    return (
        invoice.kind == DocumentKind.INVOICE
        and invoice.status == InvoiceStatus.ISSUED
        and sign_off_stage(invoice) in (SignOff.ONE_STEP, SignOff.TO_RECOMMEND)
    )


def signed_off_reason(invoice: Invoice) -> str | None:
    """Why the claim's decisions cannot change now it is recommended or authorised, or None."""
    stage = sign_off_stage(invoice)
    if stage is SignOff.RECOMMENDED:
        return (
            f"Claim {invoice.number} is waiting for authorisation: its decisions cannot be "
            "changed unless an ICB finance approver sends it back."
        )
    if stage is SignOff.AUTHORISED:
        return f"Claim {invoice.number} was authorised: its decisions are final."
    return None


def _ensure_decisions_open(invoice: Invoice) -> None:
    """Refuse a decision on a claim the caller holds once it is recommended or authorised."""
    _ensure_reviewable(invoice)
    if reason := signed_off_reason(invoice):
        raise Conflict(reason)


def hold_claim(session: Session, invoice: Invoice) -> None:
    """Hold the claim's invoice row (services.locks) and read the claim again as committed:
    its status, its lines and their decisions. Every change to a claim's review (a decision,
    "approve remaining", a practice's answer) holds it first, so they queue one behind the
    other and each computes the claim's status from every decision made before it: the
    last decision completes the claim, whoever makes it. Computing from decisions loaded
    before the hold would miss the one another reviewer is saving at the same moment."""
    locks.hold_one(session, Invoice, invoice.id)
    session.expire(invoice)
    session.scalars(
        select(InvoiceLine)
        .where(InvoiceLine.invoice_id == invoice.id)
        .options(selectinload(InvoiceLine.decision))
        .execution_options(populate_existing=True)
    ).all()


def decide_line(
    session: Session,
    invoice: Invoice,
    line: InvoiceLine,
    data: LineDecisionInput,
    *,
    user_id: int,
    now: datetime | None = None,
) -> LineDecision:
    """Record (or change) the decision on one line, audit it and move the claim's status.
    A line the reviewer saw undecided that another reviewer has decided since is refused
    rather than silently decided again."""
    seen = line.decision.id if line.decision is not None else None
    hold_claim(session, invoice)
    _ensure_decisions_open(invoice)
    if line.invoice_id != invoice.id:
        raise NotFound("That line is not on this claim")
    current = line.decision.id if line.decision is not None else None
    if current != seen:
        raise Conflict(ANOTHER_REVIEWER)
    decision = _decide(session, invoice, line, data, user_id=user_id, now=now)
    refresh_status(session, invoice, user_id=user_id)
    return decision


ANOTHER_REVIEWER = "Another reviewer decided this line a moment ago. Reload the claim to see it."


def _decide(
    session: Session,
    invoice: Invoice,
    line: InvoiceLine,
    data: LineDecisionInput,
    *,
    user_id: int,
    now: datetime | None = None,
) -> LineDecision:
    """Record the decision on a line of a claim the caller holds, and audit it."""
    decision, amount, reason = _validated(line, data)
    now = now or utcnow()
    existing = line.decision
    before = audit.snapshot(existing, ["decision", "approved_amount", "reason"]) if existing else {}
    if existing is None:
        existing = LineDecision(invoice_line_id=line.id)
    existing.decision = decision.value
    existing.approved_amount = amount
    existing.reason = reason
    existing.decided_by_id = user_id
    existing.decided_at = now
    try:
        with session.begin_nested():  # one decision per line, whatever else goes wrong
            session.add(existing)
            session.flush()
    except IntegrityError as error:
        raise Conflict(ANOTHER_REVIEWER) from error
    line.decision = existing
    after = audit.snapshot(existing, ["decision", "approved_amount", "reason"])
    audit.record(
        session,
        user_id=user_id,
        entity=existing,
        action="decide" if not before else "change_decision",
        changes=audit.diff(before, after)
        | {"invoice_line_id": line.id, "claimed": str(line.total_amount)},
        summary=f"Claim {invoice.number} line {line.position}: {decision.label}"
        + (f" £{amount:,.2f}" if amount is not None else ""),
        practice_id=invoice.practice_id,
    )
    if decision is Decision.QUERIED and before != after:
        # a query reaches the practice at once (shown_to_practice), so does its email
        notifications.line_queried(session, invoice, line, reason)
    return existing


#: Chooses, from a claim held and read again as committed, the decisions to record.
Chooser = Callable[[Invoice], list[tuple[InvoiceLine, LineDecisionInput]]]


def decide_many(session: Session, invoice: Invoice, choose: Chooser, *, user_id: int) -> int:
    """Record several decisions at once (a bulk action): hold the claim, let `choose` pick
    the lines and decisions from the claim as committed (so a line another reviewer decided
    a moment ago is seen decided), record each as its own decision with its own audit entry,
    and move the claim's status once. Returns how many were recorded."""
    hold_claim(session, invoice)
    _ensure_decisions_open(invoice)
    chosen = choose(invoice)
    for line, data in chosen:
        _decide(session, invoice, line, data, user_id=user_id)
    refresh_status(session, invoice, user_id=user_id)
    return len(chosen)


def undecided(invoice: Invoice) -> list[InvoiceLine]:
    """The lines with no decision yet (a queried line has one: the query)."""
    return [line for line in invoice.lines if line.decision is None]


def approve_remaining(session: Session, invoice: Invoice, *, user_id: int) -> int:
    """Approve in full every line that has no decision yet (queried lines are left alone).
    Returns how many: none when another reviewer approved them a moment ago."""
    approve = LineDecisionInput(Decision.APPROVED)
    return decide_many(
        session,
        invoice,
        lambda claim: [(line, approve) for line in undecided(claim)],
        user_id=user_id,
    )


def refresh_status(session: Session, invoice: Invoice, *, user_id: int | None = None) -> None:
    """Derive review_status and approved_total from the line decisions, and the reports'
    kept totals of the claim (services.claim_totals): every change to a decision ends here,
    with the claim held."""
    claim_totals.refresh(session, [invoice.id])
    decisions = [line.decision for line in invoice.lines]
    final = [d for d in decisions if d is not None and Decision(d.decision).is_final]
    before = (invoice.review_status, invoice.approved_total)
    if invoice.lines and len(final) == len(decisions):
        invoice.review_status = ReviewStatus.DECIDED
        invoice.approved_total = sum((d.approved_amount or ZERO for d in final), ZERO)
    else:
        has_activity = any(d is not None for d in decisions) or session.scalar(
            select(func.count(ClaimMessage.id)).where(ClaimMessage.invoice_id == invoice.id)
        )
        invoice.review_status = ReviewStatus.IN_REVIEW if has_activity else ReviewStatus.NEW
        invoice.approved_total = None
    after = (invoice.review_status, invoice.approved_total)
    if after != before:
        session.flush()
        audit.record(
            session,
            user_id=user_id,
            entity=invoice,
            action="review_status",
            changes={
                "review_status": [before[0], after[0]],
                "approved_total": [
                    None if before[1] is None else str(before[1]),
                    None if after[1] is None else str(after[1]),
                ],
            },
            summary=f"Claim {invoice.number}: {review_status_label(after[0]).lower()}"
            + (
                f", approved £{after[1]:,.2f} of £{invoice.total:,.2f}"
                if after[1] is not None
                else ""
            ),
            practice_id=invoice.practice_id,
        )
        if after[0] == ReviewStatus.DECIDED and before[0] != ReviewStatus.DECIDED:
            # a one-step claim's decisions reach the practice as they are made: the last one
            # completes the claim (a two-step claim waits for sign_off.authorise)
            notifications.claim_released(session, invoice)


# --- messages: the practice's answers to queries ---------------------------------------------


def add_message(
    session: Session,
    invoice: Invoice,
    *,
    body: str,
    user_id: int | None,
    line: InvoiceLine | None = None,
    upload: PreparedFile | None = None,
) -> ClaimMessage:
    """A note on a claim (a practice answering a query on `line`), with an optional evidence
    file already checked and written by services.evidence.prepare (the caller discards it if
    this fails). `user_id` None: no signed-in author (the demo data's practice answers),
    shown as "The practice"."""
    hold_claim(session, invoice)  # its review status may move (new -> in review)
    if invoice.kind != DocumentKind.INVOICE or invoice.status == InvoiceStatus.DRAFT:
        raise Conflict("Only issued claims take answers")
    body = (body or "").strip()
    if not body:
        raise Invalid("Write your answer to the query", "body")
    if len(body) > MAX_ANSWER:
        raise Invalid(f"Answer must be {MAX_ANSWER} characters or fewer", "body")
    if line is not None and line.invoice_id != invoice.id:
        raise NotFound("That line is not on this claim")
    message = ClaimMessage(
        invoice_id=invoice.id,
        invoice_line_id=line.id if line is not None else None,
        author_id=user_id,
        body=body,
    )
    session.add(message)
    session.flush()
    if upload is not None:
        session.add(
            Evidence(
                practice_id=invoice.practice_id,
                claim_message_id=message.id,
                original_filename=upload.original_filename,
                stored_name=upload.path.name,
                content_type=upload.content_type,
                size_bytes=upload.size_bytes,
                sha256=upload.sha256,
                uploaded_by_id=user_id,
            )
        )
    audit.record(
        session,
        user_id=user_id,
        entity=message,
        action="answer",
        changes={
            "invoice_line_id": message.invoice_line_id,
            "body": body[:500],
            "evidence": upload.original_filename if upload else None,
        },
        summary=f"Claim {invoice.number}"
        + (f" line {line.position}" if line is not None else "")
        + ": answer to query",
        practice_id=invoice.practice_id,
    )
    notifications.query_answered(session, invoice, line, message)
    if invoice.review_status == ReviewStatus.NEW:
        refresh_status(session, invoice, user_id=user_id)
    return message


@dataclass(frozen=True)
class MessageView:
    message: ClaimMessage
    author_name: str
    evidence: list[Evidence]


def evidence_by_line(session: Session, invoice_id: int) -> dict[int, list[Evidence]]:
    """The receipts and documents the practice attached to the cost lines it claimed on this
    invoice, keyed by invoice line id, in upload order: one query for the whole claim."""
    rows = session.execute(
        select(InvoiceLine.id, Evidence)
        .join(Evidence, Evidence.cost_line_id == InvoiceLine.cost_line_id)
        .where(InvoiceLine.invoice_id == invoice_id)
        .order_by(InvoiceLine.position, Evidence.id)
    ).all()
    grouped: dict[int, list[Evidence]] = {}
    for line_id, item in rows:
        grouped.setdefault(line_id, []).append(item)
    return grouped


def messages_by_line(session: Session, invoice_id: int) -> dict[int | None, list[MessageView]]:
    """The claim's messages, oldest first, keyed by line id (None for the claim as a whole)."""
    rows = session.execute(
        select(ClaimMessage, User.name)
        .outerjoin(User, User.id == ClaimMessage.author_id)
        .where(ClaimMessage.invoice_id == invoice_id)
        .order_by(ClaimMessage.created_at, ClaimMessage.id)
    ).all()
    ids = [message.id for message, _ in rows]
    files: dict[int, list[Evidence]] = {}
    if ids:
        for item in session.scalars(
            select(Evidence).where(Evidence.claim_message_id.in_(ids)).order_by(Evidence.id)
        ):
            assert item.claim_message_id is not None  # selected by claim_message_id IN ids
            files.setdefault(item.claim_message_id, []).append(item)
    grouped: dict[int | None, list[MessageView]] = {}
    for message, name in rows:
        grouped.setdefault(message.invoice_line_id, []).append(
            MessageView(message, name or "The practice", files.get(message.id, []))
        )
    return grouped
