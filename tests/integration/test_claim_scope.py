"""A claim is read by the reviewers of the ICB it was sent to (the invoice's ICB, recorded at
issue), whatever ICB the practice belongs to today (issue 12, defect 5)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask import current_app
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import World, make_event, make_expense_line, make_incident
from tracker.extensions import db
from tracker.models import Evidence, Invoice, User
from tracker.services import evidence as evidence_service
from tracker.services import invoicing, review

RECEIPT = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _claim_with_receipt(world: World) -> tuple[Invoice, Evidence, Evidence]:
    """A claim of practice A sent to ICB X: a receipt on its cost line, and a file attached
    to the practice's answer to a query."""
    event = make_event(db.session)
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    cost = make_expense_line(db.session, incident)
    receipt = evidence_service.store(
        db.session,
        current_app.config["UPLOAD_FOLDER"],
        cost,
        "receipt.pdf",
        io.BytesIO(RECEIPT),
        100_000,
        world.manager.id,
    )
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[cost.id], user_id=world.manager.id
    )
    db.session.flush()
    claim = invoicing.issue_invoice(
        db.session, draft, user_id=world.manager.id, today=date(2024, 7, 26)
    )
    line = claim.lines[0]
    review.decide_line(
        db.session,
        claim,
        line,
        review.LineDecisionInput("queried", reason="Proof?"),
        user_id=world.reviewer.id,
    )
    prepared = evidence_service.prepare(
        current_app.config["UPLOAD_FOLDER"], "answer.png", io.BytesIO(PNG), 100_000
    )
    review.add_message(
        db.session, claim, body="Attached", user_id=world.manager.id, line=line, upload=prepared
    )
    db.session.commit()
    answer = db.session.scalars(
        db.select(Evidence).where(Evidence.claim_message_id.is_not(None))
    ).one()
    return claim, receipt, answer


def _claim_urls(claim: Invoice, receipt: Evidence, answer: Evidence) -> list[str]:
    """Every page and download a reviewer reaches a claim through."""
    return [
        f"/review/claims/{claim.id}",
        f"/review/claims/{claim.id}/lines/{claim.lines[0].id}",
        f"/evidence/{receipt.id}",
        f"/claims/{claim.id}/evidence/{answer.id}",
        f"/invoices/{claim.id}.pdf",
        f"/invoices/{claim.id}.xlsx",
    ]


def _statuses(client: FlaskClient, user: User, urls: list[str]) -> dict[str, int]:
    login(client, user)
    found = {url: client.get(url).status_code for url in urls}
    client.post("/logout")
    return found


@pytest.fixture
def moved(world: World) -> tuple[Invoice, Evidence, Evidence]:
    """The claim, after practice A has moved from ICB X to ICB Y."""
    found = _claim_with_receipt(world)
    world.practice_a.icb_id = world.icb_y.id
    db.session.commit()
    return found


def test_old_icb_reviewer_still_reads_the_claim_after_the_practice_moves(
    client: FlaskClient, world: World, moved: tuple[Invoice, Evidence, Evidence]
) -> None:
    urls = _claim_urls(*moved)
    assert _statuses(client, world.reviewer, urls) == dict.fromkeys(urls, 200)


def test_new_icb_reviewer_cannot_read_a_claim_sent_before_the_move(
    client: FlaskClient, world: World, moved: tuple[Invoice, Evidence, Evidence]
) -> None:
    urls = _claim_urls(*moved)
    assert _statuses(client, world.reviewer_y, urls) == dict.fromkeys(urls, 404)


def test_reports_count_the_claim_for_the_icb_it_was_sent_to(
    client: FlaskClient, world: World, moved: tuple[Invoice, Evidence, Evidence]
) -> None:
    claim = moved[0]
    number = (claim.number or "").encode()
    login(client, world.reviewer)
    page = client.get(f"/reports/events/{claim.outage_event_id}/icbs/{world.icb_x.id}")
    assert page.status_code == 200 and b"Alpha Surgery" in page.data
    assert number in client.get("/review").data
    client.post("/logout")
    login(client, world.reviewer_y)
    page = client.get(f"/reports/events/{claim.outage_event_id}/icbs/{world.icb_y.id}")
    assert b"Alpha Surgery" not in page.data
    assert number not in client.get("/review").data


def test_practice_members_keep_their_own_files(
    client: FlaskClient, world: World, moved: tuple[Invoice, Evidence, Evidence]
) -> None:
    claim, receipt, answer = moved
    urls = [f"/evidence/{receipt.id}", f"/claims/{claim.id}/evidence/{answer.id}"]
    assert _statuses(client, world.manager, urls) == dict.fromkeys(urls, 200)
    assert _statuses(client, world.manager_b, urls) == dict.fromkeys(urls, 404)


def test_register_still_filters_by_the_icb_an_invoice_was_sent_to(
    client: FlaskClient, world: World, moved: tuple[Invoice, Evidence, Evidence]
) -> None:
    login(client, world.manager)
    page = client.get("/invoices").get_data(as_text=True)
    assert f'<option value="{world.icb_x.id}">{world.icb_x.name}</option>' in page
    filtered = client.get(f"/invoices?icb={world.icb_x.id}").get_data(as_text=True)
    assert moved[0].number in filtered
