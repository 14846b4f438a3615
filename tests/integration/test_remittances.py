"""Remittances (issue 11): one payment from an ICB allocated across a practice's invoices,
adding up exactly, all or nothing; through the service, the pages, and races on SQLite and
PostgreSQL (two remittances paying the same invoice at once never overpay it)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import World
from tests.integration.test_races import Outcome, race, signed_in
from tests.integration.test_settlement import ISSUED_ON, TODAY, invoice_of, pay, scenario
from tracker.extensions import db
from tracker.models import AuditEntry, Invoice, Payment, Remittance
from tracker.services import crediting, payments, remittances
from tracker.services.errors import Invalid
from tracker.services.remittances import RemittanceEntry, allocation_field

D = Decimal
RECEIVED = ISSUED_ON + timedelta(days=20)


def entry(
    world: World,
    allocations: dict[Invoice, str],
    amount: str | None = None,
    reference: str = "NCL ICB BACS 90555",
    received_on: date = RECEIVED,
) -> RemittanceEntry:
    total = sum((D(a) for a in allocations.values()), D("0.00"))
    return RemittanceEntry(
        practice_id=world.practice_a.id,
        icb_id=world.icb_x.id,
        received_on=received_on,
        reference=reference,
        amount=D(amount) if amount is not None else total,
        allocations={invoice.id: D(a) for invoice, a in allocations.items()},
    )


def record(world: World, typed: RemittanceEntry) -> Remittance:
    try:
        saved = remittances.record_remittance(
            db.session, typed, user_id=world.finance.id, today=RECEIVED
        )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return saved


def counts() -> tuple[int, int]:
    return (
        db.session.scalar(select(func.count(Remittance.id))) or 0,
        db.session.scalar(select(func.count(Payment.id))) or 0,
    )


# --- the service -------------------------------------------------------------------------


def test_one_remittance_pays_several_invoices_each_by_a_linked_payment(world: World) -> None:
    settled = scenario(world)  # £1,124.61 claimed, £674.61 approved
    crediting.credit_disallowed(db.session, settled, user_id=None, today=TODAY)
    db.session.commit()
    part = invoice_of(world, "250.00")
    saved = record(world, entry(world, {settled: "674.61", part: "100.00"}))
    assert saved.amount == D("774.61") and saved.reference == "NCL ICB BACS 90555"
    assert sorted(p.amount for p in saved.payments) == [D("100.00"), D("674.61")]
    assert {p.invoice_id for p in saved.payments} == {settled.id, part.id}
    assert all(p.paid_on == RECEIVED and p.reference == saved.reference for p in saved.payments)
    assert sum((p.amount for p in saved.payments), D(0)) == saved.amount
    db.session.expire_all()
    assert payments.payment_state(settled, RECEIVED) is payments.PaymentState.SETTLED
    assert payments.outstanding(settled) == D("0.00")
    assert payments.outstanding(part) == D("150.00") and part.amount_paid == D("100.00")
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    mine = [a for a in audit if a.entity_type == "Remittance"]
    assert len(mine) == 1 and mine[0].action == "remittance"
    assert "NCL ICB BACS 90555 of £774.61 allocated to 2 invoices" in mine[0].summary
    assert json.loads(mine[0].changes)["allocations"][1] == {
        settled.number: "674.61",
        part.number: "100.00",
    }
    paid = [a for a in audit if a.action == "payment" and a.entity_type == "Payment"]
    assert {a.entity_id for a in paid} >= {p.id for p in saved.payments}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("350.00", r"add up to £300\.00: £50\.00 less than the £350\.00 received"),
        ("250.00", r"add up to £300\.00: £50\.00 more than the £250\.00 received"),
    ],
)
def test_allocations_must_add_up_to_the_amount_received(
    world: World, amount: str, message: str
) -> None:
    first, second = invoice_of(world, "200.00"), invoice_of(world, "100.00")
    with pytest.raises(Invalid, match=message) as refused:
        record(world, entry(world, {first: "200.00", second: "100.00"}, amount=amount))
    assert refused.value.field == "amount"
    assert counts() == (0, 0)


def test_no_allocation_may_be_more_than_its_invoice_owes_and_nothing_is_kept(
    world: World,
) -> None:
    first, second = invoice_of(world, "200.00"), invoice_of(world, "100.00")
    pay(second, "30.00")
    before = counts()
    with pytest.raises(Invalid, match=r"Only £70\.00 is outstanding on") as refused:
        record(world, entry(world, {first: "200.00", second: "70.01"}))
    assert refused.value.field == allocation_field(second.id)
    assert counts() == before  # the first invoice's allocation was not kept either
    db.session.expire_all()
    assert first.amount_paid == D("0.00") and second.amount_paid == D("30.00")


def test_every_problem_is_found_at_once_each_beside_its_field(world: World) -> None:
    invoice = invoice_of(world, "100.00")
    typed = entry(
        world,
        {invoice: "100.005"},
        amount="0",
        reference=" ",
        received_on=RECEIVED + timedelta(days=1),
    )
    problems = remittances.remittance_problems(db.session, typed, [invoice], RECEIVED)
    assert {p.field for p in problems} == {
        "reference",
        "received_on",
        "amount",
        allocation_field(invoice.id),
    }


def test_only_the_practices_open_invoices_to_that_icb_can_be_paid(world: World) -> None:
    other_practice = invoice_of(world, "50.00", practice=world.practice_a2)
    other_icb = invoice_of(world, "50.00", practice=world.practice_b)
    cancelled = invoice_of(world, "50.00")
    crediting.credit_invoice(db.session, cancelled, user_id=None, today=TODAY, reason="x")
    db.session.commit()
    note = crediting.credit_notes_of(db.session, cancelled)[0]
    for stranger in (other_practice, other_icb, cancelled, note):
        with pytest.raises(Invalid, match="no longer open to payment") as refused:
            record(world, entry(world, {stranger: "10.00"}))
        assert refused.value.field == allocation_field(stranger.id)
    assert counts() == (0, 0)
    open_now = remittances.open_invoices(db.session, world.practice_a.id, world.icb_x.id)
    assert open_now == []


def test_a_remittance_is_recorded_once_per_reference(world: World) -> None:
    invoice = invoice_of(world, "100.00")
    record(world, entry(world, {invoice: "40.00"}))
    with pytest.raises(Invalid, match="NCL ICB BACS 90555 from this ICB is recorded already"):
        record(world, entry(world, {invoice: "40.00"}))
    assert counts() == (1, 1)
    record(world, entry(world, {invoice: "40.00"}, reference="NCL ICB BACS 90556"))
    assert counts() == (2, 2)


def test_dates_received_are_checked(world: World) -> None:
    invoice = invoice_of(world, "100.00")
    with pytest.raises(Invalid, match="cannot be in the future"):
        record(world, entry(world, {invoice: "10.00"}, received_on=RECEIVED + timedelta(1)))
    with pytest.raises(Invalid, match=r"received before .* was issued") as refused:
        record(world, entry(world, {invoice: "10.00"}, received_on=ISSUED_ON - timedelta(1)))
    assert refused.value.field == allocation_field(invoice.id)


def test_a_payment_of_a_remittance_is_refunded_on_its_invoice(world: World) -> None:
    invoice = invoice_of(world, "100.00")
    saved = record(world, entry(world, {invoice: "100.00"}))
    payments.record_payment(
        db.session,
        invoice,
        amount=D("-25.00"),
        paid_on=RECEIVED,
        reference="Refund",
        user_id=None,
        today=RECEIVED,
    )
    db.session.commit()
    db.session.expire_all()
    assert payments.outstanding(invoice) == D("25.00")
    assert saved.amount == D("100.00") and len(saved.payments) == 1


# --- the pages ---------------------------------------------------------------------------


def new_url(world: World, **query: object) -> str:
    params = "&".join(f"{k}={v}" for k, v in {"practice": world.practice_a.id, **query}.items())
    return f"/invoices/remittances/new?{params}"


def form_data(
    invoices: dict[Invoice, str], amount: str, reference: str = "NCL ICB BACS 90555"
) -> dict[str, str]:
    return {
        "reference": reference,
        "received_on": RECEIVED.isoformat(),
        "amount": amount,
        **{f"allocate_{invoice.id}": value for invoice, value in invoices.items()},
    }


def test_the_form_lists_open_invoices_and_can_allocate_each_in_full(
    as_finance: FlaskClient, world: World
) -> None:
    first, second = invoice_of(world, "200.00"), invoice_of(world, "100.00")
    pay(second, "40.00")
    page = as_finance.get(new_url(world)).get_data(as_text=True)
    assert first.number in page and second.number in page and "£60.00" in page
    assert "Allocate every invoice in full (£260.00)" in page
    full = as_finance.get(new_url(world, fill="all")).get_data(as_text=True)
    assert f'name="allocate_{first.id}"' in full
    assert 'value="200.00"' in full and 'value="60.00"' in full and 'value="260.00"' in full


def test_recording_a_remittance_through_the_pages(as_finance: FlaskClient, world: World) -> None:
    first, second = invoice_of(world, "200.00"), invoice_of(world, "100.00")
    untouched = invoice_of(world, "30.00")
    response = as_finance.post(
        new_url(world), data=form_data({first: "200.00", second: "50", untouched: ""}, "250.00")
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    saved = db.session.scalars(select(Remittance)).one()
    assert response.headers["Location"].endswith(f"/invoices/remittances/{saved.id}")
    detail = as_finance.get(f"/invoices/remittances/{saved.id}").get_data(as_text=True)
    assert "Remittance NCL ICB BACS 90555" in detail and "£250.00" in detail
    assert first.number in detail and second.number in detail and "Paid" in detail
    db.session.expire_all()
    assert untouched.amount_paid == D("0.00") and second.amount_paid == D("50.00")
    invoice_page = as_finance.get(f"/invoices/{second.id}").get_data(as_text=True)
    assert f'href="/invoices/remittances/{saved.id}"' in invoice_page
    assert "part of £250.00" in invoice_page
    listing = as_finance.get("/invoices/remittances").get_data(as_text=True)
    assert "NCL ICB BACS 90555" in listing and "£250.00" in listing


def test_a_remittance_that_does_not_add_up_is_refused_with_the_difference_and_kept(
    as_finance: FlaskClient, world: World
) -> None:
    first, second = invoice_of(world, "200.00"), invoice_of(world, "100.00")
    response = as_finance.post(
        new_url(world), data=form_data({first: "200.00", second: "90.00"}, "300.00")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "The allocations add up to £290.00: £10.00 less than the £300.00 received" in page
    assert 'id="amount-error"' in page
    assert 'value="NCL ICB BACS 90555"' in page and 'value="90.00"' in page
    assert 'value="300.00"' in page
    assert counts() == (0, 0)


def test_an_allocation_over_what_is_owed_is_shown_beside_it(
    as_finance: FlaskClient, world: World
) -> None:
    first, second = invoice_of(world, "200.00"), invoice_of(world, "100.00")
    response = as_finance.post(
        new_url(world), data=form_data({first: "abc", second: "100.01"}, "100.01")
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f'id="allocate_{first.id}-error"' in page and "Enter the amount as a number" in page
    assert counts() == (0, 0)
    response = as_finance.post(
        new_url(world), data=form_data({first: "", second: "100.01"}, "100.01")
    )
    page = response.get_data(as_text=True)
    assert f'id="allocate_{second.id}-error"' in page
    assert f"Only £100.00 is outstanding on {second.number}" in page
    assert counts() == (0, 0)


def test_an_invoice_paid_meanwhile_is_still_shown_with_why(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = invoice_of(world, "100.00")
    pay(invoice, "100.00")  # someone recorded it on the invoice page a moment ago
    response = as_finance.post(new_url(world), data=form_data({invoice: "100.00"}, "100.00"))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert f"Only £0.00 is outstanding on {invoice.number}" in page
    assert counts() == (0, 1)


def test_who_may_see_and_record_remittances(client: FlaskClient, world: World) -> None:
    invoice = invoice_of(world, "100.00")
    saved = record(world, entry(world, {invoice: "100.00"}))
    login(client, world.manager)  # practice A's manager: reads them, records none
    assert client.get("/invoices/remittances").status_code == 200
    assert client.get(f"/invoices/remittances/{saved.id}").status_code == 200
    assert "Record a remittance" not in client.get("/invoices/remittances").get_data(as_text=True)
    assert client.get("/invoices/remittances/new").status_code == 403
    assert client.post("/invoices/remittances/new", data={}).status_code == 403
    client.post("/logout")
    login(client, world.manager_b)  # another practice: not found
    assert client.get(f"/invoices/remittances/{saved.id}").status_code == 404
    assert saved.reference not in client.get("/invoices/remittances").get_data(as_text=True)
    client.post("/logout")
    login(client, world.reviewer)
    assert client.get(f"/invoices/remittances/{saved.id}").status_code == 403


def test_a_practice_the_user_is_not_finance_for_cannot_be_paid(
    as_finance: FlaskClient, world: World
) -> None:
    theirs = invoice_of(world, "100.00", practice=world.practice_b)
    url = f"/invoices/remittances/new?practice={world.practice_b.id}&icb={world.icb_y.id}"
    page = as_finance.get(url).get_data(as_text=True)
    assert theirs.number not in page and world.practice_b.name not in page
    response = as_finance.post(url, data=form_data({theirs: "100.00"}, "100.00"))
    assert response.status_code == 422
    assert counts() == (0, 0)


def test_the_remittance_form_needs_a_csrf_token(app: Flask, world: World, tmp_path) -> None:
    from tests.conftest import build_app

    strict = build_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, WTF_CSRF_ENABLED=True)
    invoice = invoice_of(world, "100.00")
    client = strict.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = world.finance.get_id()
        session["_fresh"] = True
    response = client.post(new_url(world), data=form_data({invoice: "100.00"}, "100.00"))
    assert response.status_code == 400
    assert counts() == (0, 0)


# --- races ---------------------------------------------------------------------------------

ROUNDS = 6


def post_together(app: Flask, world: World, posts: list[dict[str, str]]) -> list[Outcome]:
    """The remittance forms `posts`, each by finance in its own thread, all at once; every
    answer is a success or a refusal that says why, never an error."""
    url = new_url(world)
    clients = [signed_in(app, world.finance) for _ in posts]
    outcomes = race(
        [
            (client, lambda c, data=data: c.post(url, data=data))
            for client, data in zip(clients, posts, strict=True)
        ]
    )
    assert all(o.error is None for o in outcomes), outcomes
    assert sorted(o.status for o in outcomes) == [302, 422], outcomes
    return outcomes


def test_two_remittances_paying_one_invoice_at_once_never_overpay_it(
    app: Flask, world: World
) -> None:
    for round_ in range(ROUNDS):
        shared, own = invoice_of(world, "100.00"), invoice_of(world, "20.00")
        posts = [
            form_data({shared: "100.00", own: "20.00"}, "120.00", f"RUN {round_} A"),
            form_data({shared: "100.00"}, "100.00", f"RUN {round_} B"),
        ]
        outcomes = post_together(app, world, posts)
        refused = next(o for o in outcomes if o.status == 422)
        assert f"Only £0.00 is outstanding on {shared.number}" in refused.text
        db.session.expire_all()
        assert shared.amount_paid == D("100.00") and shared.balance == 0
        made = db.session.scalars(
            select(Remittance).where(Remittance.reference.like(f"RUN {round_} %"))
        ).all()
        assert len(made) == 1
        assert sum((p.amount for p in made[0].payments), D(0)) == made[0].amount
        # the loser's other allocation was not kept either
        assert own.amount_paid == (D("20.00") if made[0].reference.endswith("A") else D(0))


def test_the_same_remittance_recorded_twice_at_once_is_kept_once(app: Flask, world: World) -> None:
    for round_ in range(ROUNDS):
        one, other = invoice_of(world, "10.00"), invoice_of(world, "10.00")
        posts = [
            form_data({one: "10.00"}, "10.00", f"SAME {round_}"),
            form_data({other: "10.00"}, "10.00", f"SAME {round_}"),
        ]
        outcomes = post_together(app, world, posts)
        refused = next(o for o in outcomes if o.status == 422)
        assert "is recorded already" in refused.text
        db.session.expire_all()
        assert one.amount_paid + other.amount_paid == D("10.00")
        kept = db.session.scalars(
            select(Remittance).where(Remittance.reference == f"SAME {round_}")
        ).all()
        assert len(kept) == 1
