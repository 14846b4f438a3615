"""Races between people pressing buttons at the same moment (issue 12, defects 1 and 2, and
the VAT re-pricing open point), with real threads released together by a barrier, on
SQLite and PostgreSQL.

Each round builds fresh records, fires the racing requests through the Flask test client
(one client, one signed-in user per thread) and then checks what was committed:

- an issued invoice's lines equal their cost lines (quantity, amounts, working), and no
  issued line has lost its cost line;
- a claim whose every line has a final decision is decided, with the sum as approved total;
- the reports' totals kept per claim and cost kind equal a recomputation from the committed
  lines and decisions (issue 13);
- every response is a success or a redirect, or a refusal that says what happened (409
  page, or the form again with the message); never a server error.

The rounds are repeated: before the fixes a few rounds were enough to catch each race.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from typing import TypeVar

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD
from tests.factories import (
    World,
    make_claim,
    make_event,
    make_expense_line,
    make_incident,
    make_practice,
    make_staff_line,
    make_user,
)
from tests.integration.test_incidents import staff_form
from tests.integration.test_review import RECEIPT
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    CostLine,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    ReviewStatus,
    Role,
    User,
)
from tracker.services import claim_totals, invoicing

ROUNDS = 20
REVIEW_ROUNDS = 12

#: What the refused side of a race may be told: the line or invoice changed under it.
REFUSALS = (
    "This cost is on an issued invoice",
    "This invoice has already been issued",
    "An invoice needs at least one line",
    "Some lines were invoiced by someone else",
    "This invoice was issued a moment ago",
    "Another reviewer decided this line a moment ago",
    "An issued invoice cannot be changed",
)


@dataclass
class Outcome:
    """What one racing request got back: its status and page, or the exception it raised
    (the test client re-raises a view's exception where a browser would see a 500)."""

    status: int | None = None
    text: str = ""
    error: str | None = None

    @property
    def acceptable(self) -> bool:
        """A success or redirect, or a refusal whose page says why."""
        if self.error is not None or self.status is None:
            return False
        if self.status < 400:
            return True
        return self.status == 409 and any(refusal in self.text for refusal in REFUSALS)

    def __str__(self) -> str:
        return self.error or f"{self.status}"


Request = Callable[[FlaskClient], TestResponse]
T = TypeVar("T")


def race(requests: list[tuple[FlaskClient, Request]]) -> list[Outcome]:
    """Run each request in its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(requests))
    outcomes = [Outcome() for _ in requests]

    def run(index: int, client: FlaskClient, request: Request) -> None:
        try:
            barrier.wait()
            response = request(client)
            outcomes[index].status = response.status_code
            outcomes[index].text = response.get_data(as_text=True)
        except Exception as error:  # what a user would see as a server error
            outcomes[index].error = f"{type(error).__name__}: {error}"

    threads = [
        threading.Thread(target=run, args=(index, client, request))
        for index, (client, request) in enumerate(requests)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def in_thread(work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own. A request made from the test's thread shares the
    test's application context, hence `g` and the signed-in user it caches: the second
    client signed in there would find the first user already signed in."""
    results: list[T] = []
    thread = threading.Thread(target=lambda: results.append(work()))
    thread.start()
    thread.join()
    assert results, "the request raised an exception (see the thread's traceback)"
    return results[0]


def signed_in(app: Flask, user: User) -> FlaskClient:
    email = user.email

    def sign_in() -> FlaskClient:
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 302 and client.get_cookie("session") is not None
        return client

    return in_thread(sign_in)


def frozen_line_problems(invoice_id: int) -> list[str]:
    """The invoice's lines, if it was issued, that no longer match their cost line, or
    have lost it."""
    db.session.expire_all()
    rows = db.session.execute(
        select(InvoiceLine, CostLine)
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .outerjoin(CostLine, CostLine.id == InvoiceLine.cost_line_id)
        .where(
            Invoice.id == invoice_id,
            Invoice.status == InvoiceStatus.ISSUED,
            Invoice.kind == DocumentKind.INVOICE,
        )
    ).all()
    problems = []
    for frozen, cost in rows:
        if cost is None:
            problems.append(f"invoice {frozen.invoice_id} line {frozen.position}: no cost line")
            continue
        copied = (frozen.quantity, frozen.total_amount, frozen.working, frozen.description)
        actual = (cost.quantity, cost.total_amount, cost.working, cost.description)
        if copied != actual or cost.invoice_id != frozen.invoice_id:
            problems.append(
                f"invoice {frozen.invoice_id} line {frozen.position}: issued {copied}, "
                f"cost line now {actual} on invoice {cost.invoice_id}"
            )
    return problems + kept_total_problems()


def kept_total_problems() -> list[str]:
    """The reports' kept totals (services.claim_totals) that a recomputation from the lines
    and decisions as committed would not write: a race that slipped past them."""
    return [f"kept totals differ: {row}" for row in claim_totals.differences(db.session)]


def fresh_draft(world: World) -> tuple[Invoice, CostLine, CostLine]:
    """A draft invoice for a new incident's staff line and expense line."""
    incident = make_incident(db.session, world.practice_a, title="EMIS down all day")
    staff = make_staff_line(db.session, incident, hours="1")
    expense = make_expense_line(db.session, incident)
    db.session.commit()
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[staff.id, expense.id],
        user_id=world.manager.id,
    )
    db.session.commit()
    return draft, staff, expense


def issue(invoice_id: int) -> Request:
    return lambda client: client.post(f"/invoices/{invoice_id}/issue")


def run_rounds(
    app: Flask, world: World, second: Callable[[CostLine, CostLine], Request], rounds: int
) -> None:
    """`rounds` times: issue a fresh draft while `second` acts on its lines; then check."""
    issuer, other = signed_in(app, world.manager), signed_in(app, world.manager)
    corrupted, refused_badly = [], []
    for number in range(rounds):
        draft, staff, expense = fresh_draft(world)
        outcomes = race([(issuer, issue(draft.id)), (other, second(staff, expense))])
        bad = [str(outcome) for outcome in outcomes if not outcome.acceptable]
        if bad:
            refused_badly.append(f"round {number}: {bad}")
        problems = frozen_line_problems(draft.id)
        if problems:
            corrupted.append(f"round {number}: {problems}")
    assert not corrupted and not refused_badly, (
        f"{len(corrupted)} of {rounds} rounds corrupted, {len(refused_badly)} answered "
        f"badly: {corrupted[:3]} {refused_badly[:3]}"
    )


# --- defect 1: a cost line changed at the moment its draft is issued -------------------------


def test_editing_a_line_while_its_draft_is_issued_never_changes_the_issued_invoice(
    app_ctx: Flask, world: World
) -> None:
    def edit(staff: CostLine, _expense: CostLine) -> Request:
        url = f"/incidents/{staff.incident_id}/costs/{staff.id}/edit"
        return lambda client: client.post(url, data=staff_form(quantity="99"))

    run_rounds(app_ctx, world, edit, ROUNDS)


def test_deleting_a_line_while_its_draft_is_issued_never_leaves_an_issued_line_without_it(
    app_ctx: Flask, world: World
) -> None:
    def delete(staff: CostLine, _expense: CostLine) -> Request:
        url = f"/incidents/{staff.incident_id}/costs/{staff.id}/delete"
        return lambda client: client.post(url)

    run_rounds(app_ctx, world, delete, ROUNDS)


def test_registering_for_vat_while_a_draft_is_issued_never_reprices_an_issued_line(
    app_ctx: Flask, world: World
) -> None:
    """The VAT re-pricing open point: an expense issued a moment before the practice records
    its VAT number keeps the price it was issued at."""
    flip = {"vat_number": "GB123456789"}

    def register(_staff: CostLine, _expense: CostLine) -> Request:
        data = {
            "address": "1 High Street\nLondon",
            "vat_number": flip["vat_number"],
            "bank_sort_code": "309457",
            "bank_account_number": "12345678",
            "payment_terms_days": 30,
        }
        # registered one round, not the next: every round changes the registration
        flip["vat_number"] = "" if flip["vat_number"] else "GB123456789"
        return lambda client: client.post("/practice/settings", data=data)

    run_rounds(app_ctx, world, register, ROUNDS)


def test_attaching_evidence_while_a_draft_is_issued_is_refused_or_listed(
    app_ctx: Flask, world: World
) -> None:
    """A receipt uploaded as the draft is issued is either on the invoice's evidence list or
    refused: never attached to a frozen line behind the invoice's back."""

    def attach(staff: CostLine, _expense: CostLine) -> Request:
        url = f"/incidents/{staff.incident_id}/costs/{staff.id}"

        def post(client: FlaskClient) -> TestResponse:
            return client.post(
                url,
                data={"evidence": (BytesIO(RECEIPT), "late-receipt.pdf")},
                content_type="multipart/form-data",
            )

        return post

    issuer, other = signed_in(app_ctx, world.manager), signed_in(app_ctx, world.manager)
    unlisted = []
    for number in range(ROUNDS):
        draft, staff, expense = fresh_draft(world)
        outcomes = race([(issuer, issue(draft.id)), (other, attach(staff, expense))])
        assert all(o.acceptable for o in outcomes), [str(o) for o in outcomes]
        db.session.expire_all()
        issued = db.session.get(Invoice, draft.id)
        assert issued is not None and issued.status == InvoiceStatus.ISSUED
        names = [e.original_filename for e in db.session.get(CostLine, staff.id).evidence]
        if names and "late-receipt.pdf" not in (issued.evidence_snapshot or ""):
            unlisted.append(number)
    assert not unlisted, f"{len(unlisted)} of {ROUNDS} rounds attached a receipt unlisted"


def test_changing_or_deleting_a_draft_while_it_is_issued_never_touches_the_issued_invoice(
    app_ctx: Flask, world: World
) -> None:
    """The draft itself, not only its lines: its reference edited, or the draft deleted, as
    it is issued. An issued invoice is never changed afterwards, nor deleted, and neither
    side gets a server error."""
    issuer, other = signed_in(app_ctx, world.manager), signed_in(app_ctx, world.manager)
    changed_after, lost, bad = [], [], []
    for number in range(ROUNDS):
        draft_id = fresh_draft(world)[0].id
        if number % 2:
            url, data = f"/invoices/{draft_id}/delete", {}
        else:
            url, data = f"/invoices/{draft_id}/details", {"po_reference": "PO-CHANGED"}
        outcomes = race(
            [
                (issuer, issue(draft_id)),
                (other, lambda c, url=url, data=data: c.post(url, data=data)),
            ]
        )
        db.session.expire_all()
        invoice = db.session.get(Invoice, draft_id)
        # issuing a draft deleted before the request found it: not found, as for any draft gone
        gone = invoice is None and outcomes[0].status == 404
        bad += [f"round {number}: {o}" for o in outcomes[gone:] if not o.acceptable]
        issued = outcomes[0].status == 302  # else refused: the draft was deleted first
        if issued and (invoice is None or invoice.status != InvoiceStatus.ISSUED):
            lost.append(number)
        if invoice is not None and invoice.status == InvoiceStatus.ISSUED:
            actions = db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_type == "Invoice", AuditEntry.entity_id == invoice.id)
                .order_by(AuditEntry.id)
            ).all()
            if "update" in actions[actions.index("issue") :]:
                changed_after.append(number)
    assert not changed_after and not lost and not bad, (
        f"{len(changed_after)} of {ROUNDS} issued invoices changed afterwards, {len(lost)} "
        f"lost, {len(bad)} bad answers: {bad[:3]}"
    )


# --- defect 2: two reviewers deciding one claim at once --------------------------------------


def reviewers(app: Flask, world: World) -> tuple[FlaskClient, FlaskClient]:
    second = make_user(
        db.session, Role.ICB_REVIEWER, icb=world.icb_x, email="reviewer2.x@example.org"
    )
    db.session.commit()
    return signed_in(app, world.reviewer), signed_in(app, second)


def approve(claim_id: int, line_id: int) -> Request:
    url = f"/review/claims/{claim_id}/lines/{line_id}"
    return lambda client: client.post(url, data={"decision": "approved"})


def claim_problems(claim_id: int) -> list[str]:
    """A claim whose lines all have a final decision must be decided, its approved total the
    sum of theirs; every line has at most one decision."""
    db.session.expire_all()
    claim = db.session.get(Invoice, claim_id)
    assert claim is not None
    decisions = [line.decision for line in claim.lines]
    if kept := kept_total_problems():
        return [f"claim {claim_id}: {problem}" for problem in kept]
    if any(d is None for d in decisions):
        return [f"claim {claim_id}: a line has no decision"]
    approved = sum((d.approved_amount or Decimal(0) for d in decisions if d), Decimal(0))
    if claim.review_status != ReviewStatus.DECIDED or claim.approved_total != approved:
        return [
            f"claim {claim_id}: {claim.review_status}, approved {claim.approved_total} "
            f"though every line is decided ({approved})"
        ]
    return []


def test_two_reviewers_deciding_the_last_lines_at_once_complete_the_claim(
    app_ctx: Flask, world: World
) -> None:
    first, second = reviewers(app_ctx, world)
    event = make_event(db.session)
    stuck, bad = [], []
    for number in range(REVIEW_ROUNDS):
        claim = make_claim(db.session, world.practice_a, event)
        db.session.commit()
        lines = [line.id for line in claim.lines]
        for request in (approve(claim.id, lines[0]), approve(claim.id, lines[1])):
            decided = in_thread(lambda request=request: request(first))
            assert decided.status_code == 302
        outcomes = race(
            [(first, approve(claim.id, lines[2])), (second, approve(claim.id, lines[3]))]
        )
        bad += [f"round {number}: {o}" for o in outcomes if not o.acceptable]
        stuck += claim_problems(claim.id)
    assert not stuck and not bad, (
        f"{len(stuck)} of {REVIEW_ROUNDS} claims left undecided, {len(bad)} bad answers: "
        f"{stuck[:3]} {bad[:3]}"
    )


def test_two_reviewers_approving_the_remaining_lines_at_once_both_get_an_answer(
    app_ctx: Flask, world: World
) -> None:
    first, second = reviewers(app_ctx, world)
    event = make_event(db.session)
    stuck, bad = [], []
    for number in range(REVIEW_ROUNDS):
        claim = make_claim(db.session, world.practice_a, event)
        db.session.commit()
        url = f"/review/claims/{claim.id}/approve-remaining"

        def remaining(client: FlaskClient, url: str = url) -> TestResponse:
            return client.post(url)

        outcomes = race([(first, remaining), (second, remaining)])
        # nothing is refused here: the second reviewer is told there was nothing left
        bad += [f"round {number}: {o}" for o in outcomes if o.error or (o.status or 500) >= 400]
        stuck += claim_problems(claim.id)
        count = db.session.scalar(
            select(db.func.count(LineDecision.id))
            .join(InvoiceLine, InvoiceLine.id == LineDecision.invoice_line_id)
            .where(InvoiceLine.invoice_id == claim.id)
        )
        assert count == len(claim.lines)
    assert not stuck and not bad, (
        f"{len(stuck)} of {REVIEW_ROUNDS} claims left undecided, {len(bad)} bad answers: "
        f"{stuck[:3]} {bad[:3]}"
    )


# --- issue 14: bulk decisions at the same moment ---------------------------------------------


def _policy_capping_locums(world: World):  # -> OutageEvent
    """An event whose ICB X policy caps locum sessions at £340: a make_claim claim then has
    three lines that pass the checks and a locum line over the cap (and nothing else)."""
    from tracker.services import claim_policy

    event = make_event(db.session)
    claim_policy.save_policy(
        db.session,
        event,
        world.icb_x,
        claim_policy.PolicyInput(
            claimable=frozenset({"staff", "locum", "appointments", "expense"}),
            caps={"locum_session": Decimal("340.00")},
        ),
        seen_version=0,
        user_id=world.reviewer.id,
    )
    db.session.commit()
    return event


def decisions_per_line(claim_id: int) -> dict[int, tuple[int, int]]:
    """Per line of the claim: (its decisions, the audit entries of a decision on it)."""
    db.session.expire_all()
    claim = db.session.get(Invoice, claim_id)
    assert claim is not None
    audited = [
        json.loads(entry.changes).get("invoice_line_id")
        for entry in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "decide"))
    ]
    return {
        line.id: (
            db.session.scalar(
                select(db.func.count(LineDecision.id)).where(
                    LineDecision.invoice_line_id == line.id
                )
            )
            or 0,
            audited.count(line.id),
        )
        for line in claim.lines
    }


def test_two_bulk_decisions_at_once_decide_each_line_once(app_ctx: Flask, world: World) -> None:
    """Two reviewers press "approve the lines that pass" (or one of them "part-approve at the
    cap") at the same moment: every line is decided once, with one audit entry, the lines
    that pass approved and the locum over the cap part-approved at it."""
    first, second = reviewers(app_ctx, world)
    event = _policy_capping_locums(world)
    bad, wrong = [], []
    for number in range(REVIEW_ROUNDS):
        # a practice of its own each round: the same lines again would be duplicates
        practice = make_practice(db.session, world.icb_x)
        claim = make_claim(db.session, practice, event)
        db.session.commit()
        passing = f"/review/claims/{claim.id}/approve-passing"
        capped = f"/review/claims/{claim.id}/part-approve-at-cap"
        other = passing if number % 2 else capped

        def press(url: str) -> Request:
            return lambda client: client.post(url)

        outcomes = race([(first, press(passing)), (second, press(other))])
        bad += [f"round {number}: {o}" for o in outcomes if o.error or (o.status or 500) >= 400]
        counts = decisions_per_line(claim.id)
        db.session.expire_all()
        fresh = db.session.get(Invoice, claim.id)
        assert fresh is not None
        for line in fresh.lines:
            expected = 0 if (line.kind == "locum" and other == passing) else 1
            if counts[line.id] != (expected, expected):
                wrong.append(f"round {number}, {line.kind}: {counts[line.id]}")
            locum = line.decision if line.kind == "locum" else None
            if locum is not None and locum.decision != "part_approved":
                wrong.append(f"round {number}: locum {locum.decision}")
        wrong += [f"round {number}: {problem}" for problem in kept_total_problems()]
    assert not bad and not wrong, f"{len(bad)} bad answers, {wrong[:5]} {bad[:3]}"
