"""The demo data holds a claim in each state of settlement (issue 11), made by the real
services, so the pages a newcomer opens after `make run` show each of them consistently."""

from __future__ import annotations

from collections import defaultdict

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import login
from tracker import demo
from tracker.extensions import db
from tracker.models import Incident, Invoice, InvoiceStatus, Practice, User
from tracker.services import dashboard, payments, register
from tracker.services.dates import today_in_london
from tracker.services.payments import PaymentState

PASSWORD = "demo-password-for-tests-1"


@pytest.fixture
def seeded(app_ctx: Flask) -> Flask:
    demo.seed_demo(db.session, PASSWORD)
    db.session.commit()
    return app_ctx


def claims_by_state() -> dict[PaymentState, list[Invoice]]:
    today = today_in_london()
    found: dict[PaymentState, list[Invoice]] = defaultdict(list)
    for invoice in db.session.scalars(
        select(Invoice).where(Invoice.kind == "invoice", Invoice.status != InvoiceStatus.DRAFT)
    ):
        found[payments.payment_state(invoice, today)].append(invoice)
    return found


def test_the_demo_holds_a_claim_in_each_state(seeded: Flask) -> None:
    states = claims_by_state()
    # part-approved, what was not approved credited, the approved amount paid: settled
    settled = states[PaymentState.SETTLED]
    assert {claim.practice.ods_code for claim in settled} == {"Y09901", "Y09904"}
    for claim in settled:
        assert claim.approved_total is not None and claim.approved_total < claim.total
        assert claim.amount_credited == claim.total - claim.approved_total
        assert claim.amount_paid == claim.approved_total
    # approved in full and paid in full
    (paid,) = states[PaymentState.PAID]
    assert paid.approved_total == paid.total == paid.amount_paid
    # rejected in full and credited: cancelled
    (cancelled,) = states[PaymentState.CANCELLED]
    assert cancelled.approved_total == 0 and cancelled.amount_credited == cancelled.total
    # overdue: past their due date with all of it still owed (Camden's waits for the
    # approver's sign-off, Tufnell Park's is still in review)
    overdue = states[PaymentState.OVERDUE]
    assert {claim.practice.ods_code for claim in overdue} == {"Y09905", "Y09906"}
    for claim in overdue:
        assert claim.due_date < today_in_london()
        assert payments.outstanding(claim) == claim.total


def test_each_demo_practices_dashboard_agrees_with_its_register(seeded: Flask) -> None:
    for practice in db.session.scalars(select(Practice)):
        claims = dashboard.practice_summary(db.session, practice.id).claims
        totals = register.register(
            db.session, register.RegisterFilter(practice_ids=[practice.id]), today_in_london()
        ).totals
        for name in ("claimed", "approved", "credited", "paid", "outstanding"):
            assert getattr(claims, name) == getattr(totals, name), (practice.name, name)


def test_the_practice_manager_sees_what_became_of_each_cost(
    seeded: Flask, client: FlaskClient
) -> None:
    manager = db.session.scalar(select(User).where(User.email == "manager@example.org"))
    incident = db.session.scalar(select(Incident).where(Incident.title == demo.TELEPHONY_TITLE))
    login(client, manager, PASSWORD)
    page = client.get(f"/incidents/{incident.id}").get_data(as_text=True)
    for text in (
        ">Settled<",
        ">Approved<",
        ">Part-approved<",
        "Three of the five hours agreed",
        ">Rejected<",
        "The phones stay with the practice",
        "Credited £89.99 by",
        "Not on an invoice now",
        "none was lost",
    ):
        assert text in page, text


def test_the_reviewer_sees_each_state_in_the_claims_list(
    seeded: Flask, client: FlaskClient
) -> None:
    reviewer = db.session.scalar(select(User).where(User.email == "reviewer@example.org"))
    login(client, reviewer, PASSWORD)
    page = client.get("/review").get_data(as_text=True)
    for label in ("Settled", "Paid", "Cancelled", "Overdue", "Part-paid", "Issued"):
        assert f'data-testid="payment-state">{label}<' in page, label
