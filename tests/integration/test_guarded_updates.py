"""Rules whose code paths the typing work reshaped: the conditional UPDATEs that refuse a
stale change, and the rate card's all-or-nothing save (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.factories import World, make_expense_line, make_incident, make_issued_invoice
from tracker.extensions import db
from tracker.models import Invoice, InvoiceStatus, Payment, RateCardItem
from tracker.services import invoicing, payments
from tracker.services.errors import Conflict
from tracker.services.rates import rate_card, update_rate_card

TODAY = date(2024, 7, 26)


def issued_invoice(world: World) -> Invoice:
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident)
    db.session.commit()
    return make_issued_invoice(db.session, world.practice_a, [line])


def test_a_payment_recorded_from_a_stale_page_is_refused(world: World) -> None:
    invoice = issued_invoice(world)
    # someone else records £1.00 after this invoice was loaded: the object still says £0.00
    db.session.execute(
        update(Invoice).where(Invoice.id == invoice.id).values(amount_paid=Decimal("1.00")),
        execution_options={"synchronize_session": False},
    )
    assert invoice.amount_paid == Decimal("0.00")
    with pytest.raises(Conflict, match="Another payment or a credit note was recorded"):
        payments.record_payment(
            db.session,
            invoice,
            amount=Decimal("2.00"),
            paid_on=TODAY,
            reference="BACS",
            user_id=world.finance.id,
            today=TODAY,
        )
    db.session.rollback()
    assert db.session.scalars(select(Payment)).all() == []


def test_a_payment_counts_once_it_is_recorded(world: World) -> None:
    invoice = issued_invoice(world)
    payments.record_payment(
        db.session,
        invoice,
        amount=Decimal("2.00"),
        paid_on=TODAY,
        reference="BACS",
        user_id=world.finance.id,
        today=TODAY,
    )
    db.session.commit()
    assert invoice.amount_paid == Decimal("2.00")


def test_an_invoice_already_issued_elsewhere_is_not_issued_again(world: World) -> None:
    invoice = issued_invoice(world)
    number = invoice.number
    # as from a second tab still showing the draft: the UPDATE from draft finds no draft
    with pytest.raises(Conflict, match="already been issued"):
        invoicing.issue_invoice(db.session, invoice, user_id=world.manager.id, today=TODAY)
    db.session.rollback()
    db.session.refresh(invoice)
    assert invoice.status == InvoiceStatus.ISSUED and invoice.number == number


def test_a_rate_card_with_one_blank_rate_saves_nothing(world: World) -> None:
    items = rate_card(db.session, world.practice_a.id)
    first, second = items[:2]
    before = {item.id: (item.value, item.source) for item in items}
    problems = update_rate_card(
        db.session,
        world.practice_a.id,
        world.manager.id,
        {str(first.id): (Decimal("99.99"), "Our own rate"), str(second.id): (None, "")},
    )
    assert list(problems) == [str(second.id)]
    assert problems[str(second.id)].startswith("Enter the")
    db.session.rollback()
    after = {
        item.id: (item.value, item.source)
        for item in db.session.scalars(
            select(RateCardItem).where(RateCardItem.practice_id == world.practice_a.id)
        )
    }
    assert after == before


def test_a_rate_card_saves_every_valid_rate(world: World) -> None:
    items = rate_card(db.session, world.practice_a.id)
    first, second = items[:2]
    problems = update_rate_card(
        db.session,
        world.practice_a.id,
        world.manager.id,
        {
            str(first.id): (Decimal("99.99"), "  Our own rate "),
            str(second.id): (Decimal("12.5"), ""),
        },
    )
    db.session.commit()
    assert problems == {}
    saved = {item.id: item for item in rate_card(db.session, world.practice_a.id)}
    assert (saved[first.id].value, saved[first.id].source) == (Decimal("99.99"), "Our own rate")
    assert saved[second.id].value == Decimal("12.50")
