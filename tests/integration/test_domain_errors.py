"""Refusals by kind: a conflict with the record's state answers 409 with its reason, a
thing that is not there 404, and bad input stays on the form beside its field."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import login
from tests.factories import World, make_expense_line, make_incident, make_issued_invoice
from tracker.extensions import db
from tracker.models import Invoice, InvoiceStatus, Payment, Practice
from tracker.services.practices import normalise_sort_code


def issued(world: World) -> Invoice:
    incident = make_incident(db.session, world.practice_a)
    invoice = make_issued_invoice(
        db.session, world.practice_a, [make_expense_line(db.session, incident)]
    )
    db.session.commit()
    return invoice


def test_deleting_an_issued_invoice_is_a_conflict(as_finance: FlaskClient, world: World) -> None:
    invoice = issued(world)
    page_url = f"http://localhost/invoices/{invoice.id}"
    response = as_finance.post(f"/invoices/{invoice.id}/delete", headers={"Referer": page_url})
    assert response.status_code == 409
    page = response.data.decode()
    assert "An issued invoice cannot be changed. Cancel it with a credit note." in page
    assert f'href="{page_url}">Go back to the page you were on' in page
    # a referrer on another site is never offered as the way back
    elsewhere = as_finance.post(
        f"/invoices/{invoice.id}/delete", headers={"Referer": "https://evil.example/x"}
    ).data.decode()
    assert "evil.example" not in elsewhere and "Go back to the page" not in elsewhere
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == InvoiceStatus.ISSUED


def test_crediting_a_paid_invoice_is_a_conflict_that_says_what_to_do(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = issued(world)
    paid = as_finance.post(
        f"/invoices/{invoice.id}/payments",
        data={"amount": "10.00", "paid_on": invoice.issue_date.isoformat(), "reference": "BACS"},
    )
    assert paid.status_code == 302
    response = as_finance.post(f"/invoices/{invoice.id}/credit", data={"reason": "Wrong ICB"})
    assert response.status_code == 409
    assert "Record a refund of £10.00 before crediting it." in response.data.decode()
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).status == InvoiceStatus.ISSUED


def test_bad_input_stays_beside_its_field(as_finance: FlaskClient, world: World) -> None:
    invoice = issued(world)
    response = as_finance.post(
        f"/invoices/{invoice.id}/payments",
        data={"amount": "99999.00", "paid_on": invoice.issue_date.isoformat(), "reference": "X1"},
    )
    assert response.status_code == 422
    page = response.data.decode()
    assert "That is more than the" in page and 'value="X1"' in page
    assert db.session.scalar(select(Payment.id)) is None


def test_answering_on_a_line_of_another_claim_is_not_found(
    client: FlaskClient, world: World
) -> None:
    first, second = issued(world), issued(world)
    login(client, world.manager)
    other_line = second.lines[0].id
    response = client.post(
        f"/claims/{first.id}/lines/{other_line}/answer", data={"body": "See the receipt"}
    )
    assert response.status_code == 404


def test_admin_and_practice_staff_store_sort_codes_alike(
    as_admin: FlaskClient, world: World
) -> None:
    practice = world.practice_b
    response = as_admin.post(
        f"/admin/practices/{practice.id}/edit",
        data={
            "ods_code": practice.ods_code,
            "name": practice.name,
            "icb_id": practice.icb_id,
            "address": "1 Road\nTown",
            "bank_sort_code": "401122",
            "payment_terms_days": 30,
            "active": "y",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Practice, practice.id).bank_sort_code == "40-11-22"


def test_sort_codes_are_stored_with_dashes() -> None:
    assert normalise_sort_code("309457") == "30-94-57"
    assert normalise_sort_code("30-94-57") == "30-94-57"
    assert normalise_sort_code("30 94 57") == "30-94-57"
    assert normalise_sort_code(None) is None
    assert normalise_sort_code("12345") == "12345"  # left for the form to refuse
