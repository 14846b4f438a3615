"""ICB review: line decisions, the claim's status and approved total, the practice's answers,
and the walls between ICBs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.conftest import login
from tests.factories import World, make_claim, make_event
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    ClaimMessage,
    CostLine,
    Evidence,
    Invoice,
    InvoiceLine,
    LineDecision,
    ReviewStatus,
)
from tracker.services import crediting, review
from tracker.services.errors import DomainError


@pytest.fixture
def claims(world: World):
    event = make_event(db.session)
    claim_a = make_claim(db.session, world.practice_a, event, user=world.manager)
    claim_a2 = make_claim(db.session, world.practice_a2, event, user=world.finance, scale=2)
    claim_b = make_claim(db.session, world.practice_b, event, user=world.manager_b)
    db.session.commit()
    return event, claim_a, claim_a2, claim_b


def _decide(client: FlaskClient, claim: Invoice, line: InvoiceLine, **data: str):
    return client.post(f"/review/claims/{claim.id}/lines/{line.id}", data=data)


def test_service_moves_status_and_totals(world: World, claims) -> None:
    _, claim, _, _ = claims
    lines = claim.lines
    assert claim.review_status == ReviewStatus.NEW
    review.decide_line(
        db.session, claim, lines[0], review.LineDecisionInput("approved"), user_id=world.reviewer.id
    )
    assert claim.review_status == ReviewStatus.IN_REVIEW and claim.approved_total is None
    review.decide_line(
        db.session,
        claim,
        lines[1],
        review.LineDecisionInput("part_approved", Decimal("100.00"), "Only one session agreed"),
        user_id=world.reviewer.id,
    )
    review.decide_line(
        db.session,
        claim,
        lines[2],
        review.LineDecisionInput("queried", reason="Which clinics?"),
        user_id=world.reviewer.id,
    )
    review.decide_line(
        db.session,
        claim,
        lines[3],
        review.LineDecisionInput("rejected", reason="Not outage-related"),
        user_id=world.reviewer.id,
    )
    assert claim.review_status == ReviewStatus.IN_REVIEW, "a queried line is not decided"
    review.decide_line(
        db.session, claim, lines[2], review.LineDecisionInput("approved"), user_id=world.reviewer.id
    )
    assert claim.review_status == ReviewStatus.DECIDED
    assert claim.approved_total == lines[0].total_amount + Decimal("100.00") + lines[2].total_amount
    assert review.overall_decision(claim) == "Part-approved"
    db.session.commit()
    actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"decide", "change_decision", "review_status"} <= actions


@pytest.mark.parametrize(
    ("decision", "amount", "reason", "field"),
    [
        ("part_approved", "0", "too much", "approved_amount"),
        ("part_approved", "99999", "too much", "approved_amount"),
        ("part_approved", "1.005", "too much", "approved_amount"),
        ("part_approved", None, "why", "approved_amount"),
        ("rejected", None, "  ", "reason"),
        ("queried", None, "", "reason"),
        ("part_approved", "10", "", "reason"),
        ("maybe", None, "x", "decision"),
    ],
)
def test_service_refuses_bad_decisions(world: World, claims, decision, amount, reason, field):
    _, claim, _, _ = claims
    with pytest.raises(DomainError) as error:
        review.decide_line(
            db.session,
            claim,
            claim.lines[0],
            review.LineDecisionInput(decision, Decimal(amount) if amount else None, reason),
            user_id=world.reviewer.id,
        )
    assert error.value.field == field


def test_part_approval_up_to_the_claimed_amount(world: World, claims) -> None:
    _, claim, _, _ = claims
    line = claim.lines[0]
    review.decide_line(
        db.session,
        claim,
        line,
        review.LineDecisionInput("part_approved", line.total_amount, "all of it"),
        user_id=world.reviewer.id,
    )
    assert line.decision.approved_amount == line.total_amount


def test_reviewer_decides_through_the_pages(as_reviewer: FlaskClient, world: World, claims):
    _, claim, _, _ = claims
    page = as_reviewer.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert claim.number in page and "Decide" in page
    line = claim.lines[0]
    response = _decide(
        as_reviewer,
        claim,
        line,
        decision="part_approved",
        approved_amount="£10.50",
        reason="Half the hours",
    )
    assert response.status_code == 302
    saved = db.session.scalar(select(LineDecision).where(LineDecision.invoice_line_id == line.id))
    assert saved.approved_amount == Decimal("10.50") and saved.decided_by_id == world.reviewer.id
    # reason missing: the form says so and nothing is saved
    response = _decide(as_reviewer, claim, claim.lines[1], decision="rejected", reason="")
    assert response.status_code == 200 and b"Give a reason" in response.data
    too_much = _decide(
        as_reviewer,
        claim,
        claim.lines[1],
        decision="part_approved",
        approved_amount="999999",
        reason="x",
    )
    assert b"cannot be more than" in too_much.data
    assert db.session.scalar(select(func.count(LineDecision.id))) == 1
    # approve the rest in one go
    as_reviewer.post(f"/review/claims/{claim.id}/approve-remaining")
    db.session.expire_all()
    decided = db.session.get(Invoice, claim.id)
    assert decided.review_status == ReviewStatus.DECIDED
    assert decided.approved_total == decided.total - line.total_amount + Decimal("10.50")


def test_reviewer_list_filters_and_totals(as_reviewer: FlaskClient, world: World, claims):
    _, claim_a, claim_a2, claim_b = claims
    page = as_reviewer.get("/review").get_data(as_text=True)
    assert claim_a.number in page and claim_a2.number in page
    assert claim_b.number not in page and "Beta Medical Centre" not in page
    total = claim_a.total + claim_a2.total
    assert f"£{total:,.2f}" in page
    filtered = as_reviewer.get(f"/review?practice_id={world.practice_a2.id}").get_data(as_text=True)
    assert claim_a2.number in filtered and claim_a.number not in filtered
    decided = as_reviewer.get("/review?review_status=decided").get_data(as_text=True)
    assert claim_a.number not in decided
    # a practice of another ICB as filter shows nothing, rather than its claims
    other = as_reviewer.get(f"/review?practice_id={world.practice_b.id}").get_data(as_text=True)
    assert claim_b.number not in other


def test_reviewer_of_another_icb_gets_404(client: FlaskClient, world: World, claims) -> None:
    _, _, _, claim_b = claims
    login(client, world.reviewer)
    line = claim_b.lines[0]
    assert client.get(f"/review/claims/{claim_b.id}").status_code == 404
    assert client.get(f"/review/claims/{claim_b.id}/lines/{line.id}").status_code == 404
    assert _decide(client, claim_b, line, decision="approved").status_code == 404
    assert client.post(f"/review/claims/{claim_b.id}/approve-remaining").status_code == 404
    assert client.get(f"/claims/{claim_b.id}/feedback").status_code == 404
    assert db.session.scalar(select(func.count(LineDecision.id))) == 0


def test_reviewer_never_changes_practice_data(as_reviewer: FlaskClient, world: World, claims):
    _, claim, _, _ = claims
    before_lines = [(ln.id, ln.total_amount, ln.description) for ln in claim.lines]
    before_costs = db.session.execute(select(CostLine.id, CostLine.total_amount)).all()
    before_total = claim.total
    for line in claim.lines:
        _decide(as_reviewer, claim, line, decision="rejected", reason="No evidence")
    # the practice's side refuses the reviewer
    assert as_reviewer.get(f"/claims/{claim.id}/feedback").status_code == 404
    assert (
        as_reviewer.post(
            f"/claims/{claim.id}/lines/{claim.lines[0].id}/answer", data={"body": "x"}
        ).status_code
        == 404
    )
    db.session.expire_all()
    fresh = db.session.get(Invoice, claim.id)
    assert [(ln.id, ln.total_amount, ln.description) for ln in fresh.lines] == before_lines
    assert fresh.total == before_total and fresh.approved_total == Decimal("0.00")
    assert db.session.execute(select(CostLine.id, CostLine.total_amount)).all() == before_costs


def test_practice_and_admin_cannot_decide(client: FlaskClient, world: World, claims) -> None:
    _, claim, _, _ = claims
    for user in (world.manager, world.finance, world.admin):
        login(client, user)
        assert _decide(client, claim, claim.lines[0], decision="approved").status_code == 403
        client.post("/logout")
    login(client, world.manager)
    assert client.get("/review").status_code == 403
    assert db.session.scalar(select(func.count(LineDecision.id))) == 0


def test_practice_sees_decisions_and_answers_a_query(client: FlaskClient, world: World, claims):
    _, claim, _, claim_b = claims
    login(client, world.reviewer)
    _decide(
        client,
        claim,
        claim.lines[0],
        decision="part_approved",
        approved_amount="20",
        reason="Overtime premium not agreed",
    )
    _decide(client, claim, claim.lines[1], decision="queried", reason="Send the locum's invoice")
    client.post("/logout")

    login(client, world.manager)
    page = client.get(f"/claims/{claim.id}/feedback").get_data(as_text=True)
    assert "Overtime premium not agreed" in page and "Send the locum&#39;s invoice" in page
    assert "£20.00" in page and "Answer the query" in page
    queried = claim.lines[1]
    assert (
        client.post(f"/claims/{claim.id}/lines/{queried.id}/answer", data={"body": ""}).status_code
        == 200
    )
    response = client.post(
        f"/claims/{claim.id}/lines/{queried.id}/answer",
        data={"body": "Invoice LN-2407-20 attached <b>now</b>"},
    )
    assert response.status_code == 302
    # another practice's claim is not there
    assert client.get(f"/claims/{claim_b.id}/feedback").status_code == 404
    assert (
        client.post(
            f"/claims/{claim_b.id}/lines/{claim_b.lines[0].id}/answer", data={"body": "x"}
        ).status_code
        == 404
    )
    client.post("/logout")

    login(client, world.reviewer)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert "Invoice LN-2407-20 attached &lt;b&gt;now&lt;/b&gt;" in page
    listing = client.get("/review").get_data(as_text=True)
    assert "1 answered" in listing
    assert db.session.scalar(select(func.count(ClaimMessage.id))) == 1


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_answer_with_evidence_reaches_only_the_right_reviewer(
    client: FlaskClient, world: World, claims
) -> None:
    import io

    _, claim, _, _ = claims
    line = claim.lines[1]
    review.decide_line(
        db.session,
        claim,
        line,
        review.LineDecisionInput("queried", reason="Proof?"),
        user_id=world.reviewer.id,
    )
    db.session.commit()
    login(client, world.manager)
    refused = client.post(
        f"/claims/{claim.id}/lines/{line.id}/answer",
        data={"body": "See file", "evidence": (io.BytesIO(b"MZ not an image"), "virus.exe")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200 and b"PDF, PNG or JPEG" in refused.data
    response = client.post(
        f"/claims/{claim.id}/lines/{line.id}/answer",
        data={
            "body": "Locum invoice attached",
            "evidence": (io.BytesIO(PNG), "Łukasz invoice.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    client.post("/logout")
    login(client, world.reviewer)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert "Łukasz invoice.png" in page
    import re

    href = re.search(r'href="(/claims/\d+/evidence/\d+)"', page).group(1)
    download = client.get(href)
    assert download.status_code == 200 and download.data == PNG
    client.post("/logout")
    login(client, world.reviewer_y)
    assert client.get(href).status_code == 404
    client.post("/logout")
    login(client, world.manager_b)
    assert client.get(href).status_code == 404


def test_two_reviewers_deciding_one_line_at_once_get_a_message_not_an_error(
    world: World,
) -> None:
    """The second reviewer's insert hits the one-decision-per-line rule: a DomainError."""
    claim = make_claim(db.session, world.practice_a, make_event(db.session))
    db.session.commit()
    line = claim.lines[0]
    assert line.decision is None  # this reviewer's page shows the line undecided
    with Session(db.engine) as other_reviewer:
        other_reviewer.add(
            LineDecision(
                invoice_line_id=line.id,
                decision="approved",
                approved_amount=line.total_amount,
                reason="",
            )
        )
        other_reviewer.commit()
    with pytest.raises(DomainError, match="Another reviewer"):
        review.decide_line(
            db.session,
            claim,
            line,
            review.LineDecisionInput(review.Decision.APPROVED),
            user_id=world.reviewer.id,
        )


RECEIPT = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _claim_with_receipts(world: World, lines_with_files: int, lines: int = 4) -> Invoice:
    """An issued claim of practice A with `lines` expense lines, the first
    `lines_with_files` of them carrying two receipts each."""
    import io

    from flask import current_app

    from tests.factories import make_expense_line, make_incident
    from tracker.services import evidence as evidence_service
    from tracker.services import invoicing

    event = make_event(db.session)
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    costs = [
        make_expense_line(db.session, incident, description=f"Paper batch {n}")
        for n in range(lines)
    ]
    db.session.flush()
    for n, cost in enumerate(costs[:lines_with_files]):
        for name in (f"receipt-{n + 1}a.pdf", f"receipt-{n + 1}b.pdf"):
            evidence_service.store(
                db.session,
                current_app.config["UPLOAD_FOLDER"],
                cost,
                name,
                io.BytesIO(RECEIPT),
                100_000,
                world.manager.id,
            )
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[c.id for c in costs],
        user_id=world.manager.id,
    )
    db.session.flush()
    claim = invoicing.issue_invoice(
        db.session, draft, user_id=world.manager.id, today=date(2024, 7, 26)
    )
    db.session.commit()
    return claim


def _evidence_links(page: str) -> list[str]:
    import re

    return re.findall(r'href="/evidence/(\d+)">(receipt-[^<]+)<', page)


def test_reviewer_and_practice_see_each_lines_receipts(client: FlaskClient, world: World):
    claim = _claim_with_receipts(world, lines_with_files=2)
    files = db.session.scalars(select(Evidence).order_by(Evidence.id)).all()
    expected = [(str(f.id), f.original_filename) for f in files]
    login(client, world.reviewer)
    page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert _evidence_links(page) == expected
    first, second = claim.lines[0], claim.lines[1]
    decide = client.get(f"/review/claims/{claim.id}/lines/{second.id}").get_data(as_text=True)
    assert _evidence_links(decide) == expected[2:], "only this line's files"
    assert "None attached" in client.get(
        f"/review/claims/{claim.id}/lines/{claim.lines[3].id}"
    ).get_data(as_text=True)
    download = client.get(f"/evidence/{files[0].id}")
    assert download.status_code == 200 and download.data == RECEIPT
    assert first.cost_line_id == files[0].cost_line_id
    client.post("/logout")
    login(client, world.manager)
    feedback = client.get(f"/claims/{claim.id}/feedback").get_data(as_text=True)
    assert _evidence_links(feedback) == expected


def test_claim_page_fetches_receipts_in_one_query(client: FlaskClient, world: World):
    from tests.queries import count_statements

    few = _claim_with_receipts(world, lines_with_files=1, lines=2)
    many = _claim_with_receipts(world, lines_with_files=6, lines=6)
    login(client, world.reviewer)

    def count(url: str) -> int:
        def read() -> None:
            page = client.get(url)
            assert page.status_code == 200 and b"receipt-1a.pdf" in page.data

        return count_statements(read)

    assert count(f"/review/claims/{few.id}") == count(f"/review/claims/{many.id}")


def test_deciding_a_withdrawn_claim_says_so(client: FlaskClient, world: World, claims) -> None:

    _, claim, _, _ = claims
    crediting.credit_invoice(
        db.session, claim, user_id=world.manager.id, today=claim.issue_date, reason="Duplicate"
    )
    db.session.commit()
    login(client, world.reviewer)
    line = claim.lines[0]
    for response in (
        client.get(f"/review/claims/{claim.id}/lines/{line.id}", follow_redirects=True),
        _decide_following(client, claim, line),
        client.post(f"/review/claims/{claim.id}/approve-remaining", follow_redirects=True),
    ):
        page = response.get_data(as_text=True)
        assert response.status_code == 200, page
        assert response.request.path == f"/review/claims/{claim.id}"
        assert f"Claim {claim.number} was withdrawn by a credit note" in page
        assert "can no longer be reviewed" in page
        assert "Your role does not include" not in page
        assert "Decide<" not in page
    assert db.session.scalar(select(func.count(LineDecision.id))) == 0


def _decide_following(client: FlaskClient, claim: Invoice, line: InvoiceLine):
    return client.post(
        f"/review/claims/{claim.id}/lines/{line.id}",
        data={"decision": "approved"},
        follow_redirects=True,
    )
