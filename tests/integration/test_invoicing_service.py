"""The invoicing rules against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories import World, make_expense_line, make_incident, make_staff_line
from tracker.extensions import db
from tracker.models import CostLine, Invoice, InvoiceStatus, NumberSeries
from tracker.services import crediting, invoice_documents, invoicing, payments
from tracker.services.errors import DomainError
from tracker.services.payments import PaymentState, payment_state

TODAY = date(2024, 7, 26)


def costed_incident(world: World, lines: int = 2) -> list[CostLine]:
    incident = make_incident(db.session, world.practice_a)
    made = [make_staff_line(db.session, incident, hours=str(n + 1)) for n in range(lines - 1)]
    made.append(make_expense_line(db.session, incident))
    db.session.commit()
    return made


def draft_for(world: World, lines: list[CostLine]) -> Invoice:
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[line.id for line in lines],
        user_id=world.manager.id,
        po_reference="PO-77",
    )
    db.session.commit()
    return draft


def test_issuing_numbers_freezes_and_locks(world: World) -> None:
    lines = costed_incident(world, 3)
    invoice = draft_for(world, lines)
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None
    invoicing.issue_invoice(db.session, invoice, user_id=world.manager.id, today=TODAY)
    db.session.commit()
    assert invoice.number == "A8100120240001"
    assert invoice.due_date == date(2024, 8, 25)
    assert invoice.total == sum(line.total_amount for line in lines)
    assert invoice.total == invoice.net_total + invoice.vat_total
    assert [line.total_amount for line in invoice.lines] == [
        line.total_amount for line in invoicing.sort_for_print(lines)
    ]
    assert all(line.invoice_id == invoice.id for line in lines)
    assert invoicing.uninvoiced_lines(db.session, world.practice_a.id) == []


def test_issued_invoice_keeps_the_details_it_was_issued_with(world: World) -> None:
    invoice = factories.make_issued_invoice(db.session, world.practice_a, costed_incident(world))
    world.practice_a.name = "Renamed Surgery"
    world.icb_x.payables_code = "ZZZZ"
    db.session.commit()
    document = invoice_documents.invoice_document(invoice, TODAY)
    assert document.supplier.name == "Alpha Surgery"
    assert document.customer.address_lines == ("QXA Payables AB12", "PO Box 312", "LS11 1HP")
    assert document.draft is False


def test_a_line_cannot_be_invoiced_twice(world: World) -> None:
    lines = costed_incident(world)
    first, second = draft_for(world, lines), draft_for(world, lines)
    invoicing.issue_invoice(db.session, first, user_id=None, today=TODAY)
    db.session.commit()
    with pytest.raises(DomainError, match="at least one line"):
        invoicing.issue_invoice(db.session, second, user_id=None, today=TODAY)
    db.session.rollback()
    with pytest.raises(DomainError, match="already on an issued invoice"):
        draft_for(world, lines)


def test_an_invoice_needs_lines_from_its_own_practice(world: World) -> None:
    other = make_incident(db.session, world.practice_b)
    foreign = make_staff_line(db.session, other)
    with pytest.raises(DomainError, match="do not belong"):
        draft_for(world, [foreign])
    with pytest.raises(DomainError, match="at least one cost line"):
        draft_for(world, [])


def test_a_failed_issue_leaves_no_gap(world: World) -> None:
    lines = costed_incident(world)
    invoicing.issue_invoice(db.session, draft_for(world, lines[:1]), user_id=None, today=TODAY)
    db.session.commit()
    empty = draft_for(world, lines[1:])
    db.session.delete(lines[1].incident.cost_lines[1])
    db.session.commit()
    with pytest.raises(DomainError):
        invoicing.issue_invoice(
            db.session, db.session.get(Invoice, empty.id), user_id=None, today=TODAY
        )
    db.session.rollback()
    extra = make_staff_line(db.session, lines[0].incident)
    db.session.commit()
    issued = invoicing.issue_invoice(
        db.session, draft_for(world, [extra]), user_id=None, today=TODAY
    )
    db.session.commit()
    assert issued.number == "A8100120240002"


def test_concurrent_issuing_gives_consecutive_unique_numbers(app_ctx: Flask, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    drafts = []
    for n in range(8):
        line = make_staff_line(db.session, incident, hours=str(n + 1))
        db.session.commit()
        drafts.append(draft_for(world, [line]).id)
    barrier = threading.Barrier(len(drafts))
    errors: list[BaseException] = []

    def issue(draft_id: int) -> None:
        with app_ctx.app_context():
            try:
                barrier.wait()
                draft = db.session.get(Invoice, draft_id)
                invoicing.issue_invoice(db.session, draft, user_id=None, today=TODAY)
                db.session.commit()
            except BaseException as error:  # collected and re-raised below
                db.session.rollback()
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue, args=(draft_id,)) for draft_id in drafts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    db.session.expire_all()
    numbers = sorted(db.session.scalars(select(Invoice.number).where(Invoice.number.isnot(None))))
    assert numbers == [f"A810012024{n:04d}" for n in range(1, 9)]
    assert db.session.scalar(select(NumberSeries.last_value)) == 8


def test_issuing_the_same_draft_twice_at_once_issues_it_once(app_ctx: Flask, world: World) -> None:
    draft_id = draft_for(world, costed_incident(world)).id
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def issue() -> None:
        with app_ctx.app_context():
            try:
                barrier.wait()
                invoicing.issue_invoice(
                    db.session, db.session.get(Invoice, draft_id), user_id=None, today=TODAY
                )
                db.session.commit()
                outcomes.append("issued")
            except DomainError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=issue) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["issued", "refused"]
    assert db.session.scalar(select(NumberSeries.last_value)) == 1


def test_credit_note_reverses_in_full_and_frees_the_lines(world: World) -> None:
    lines = costed_incident(world)
    invoice = factories.make_issued_invoice(db.session, world.practice_a, lines)
    credit = crediting.credit_invoice(
        db.session, invoice, user_id=world.finance.id, today=TODAY, reason="Wrong hours on line 1"
    )
    db.session.commit()
    assert credit.number == "A81001CN20240001"
    assert credit.total == -invoice.total
    assert sum(line.total_amount for line in credit.lines) == -invoice.total
    assert credit.credited_invoice_id == invoice.id
    assert invoice.status == InvoiceStatus.CANCELLED
    assert payment_state(invoice, TODAY) == PaymentState.CANCELLED
    assert all(line.invoice_id is None for line in lines)
    again = factories.make_issued_invoice(db.session, world.practice_a, lines)
    assert again.number == "A8100120240002"
    with pytest.raises(DomainError):
        crediting.credit_invoice(db.session, invoice, user_id=None, today=TODAY, reason="x")


def test_payments_part_paid_paid_and_refund(world: World) -> None:
    invoice = factories.make_issued_invoice(db.session, world.practice_a, costed_incident(world))
    total = invoice.total
    assert payment_state(invoice, TODAY) == PaymentState.UNPAID
    assert payment_state(invoice, date(2024, 9, 1)) == PaymentState.OVERDUE
    payments.record_payment(
        db.session,
        invoice,
        amount=Decimal("10.00"),
        paid_on=TODAY,
        reference="BACS 1",
        user_id=None,
        today=TODAY,
    )
    db.session.commit()
    assert payment_state(invoice, TODAY) == PaymentState.PART_PAID
    with pytest.raises(DomainError, match="more than the"):
        payments.record_payment(
            db.session,
            invoice,
            amount=total,
            paid_on=TODAY,
            reference="",
            user_id=None,
            today=TODAY,
        )
    payments.record_payment(
        db.session,
        invoice,
        amount=total - Decimal("10.00"),
        paid_on=TODAY,
        reference="BACS 2",
        user_id=None,
        today=TODAY,
    )
    db.session.commit()
    assert payment_state(invoice, date(2025, 1, 1)) == PaymentState.PAID
    with pytest.raises(DomainError, match="Record a refund"):
        crediting.credit_invoice(db.session, invoice, user_id=None, today=TODAY, reason="x")
    payments.record_payment(
        db.session,
        invoice,
        amount=-total,
        paid_on=TODAY,
        reference="Refund",
        user_id=None,
        today=TODAY,
    )
    db.session.commit()
    crediting.credit_invoice(db.session, invoice, user_id=None, today=TODAY, reason="Refunded")
    db.session.commit()
    assert invoice.status == InvoiceStatus.CANCELLED


def test_payment_dates_are_checked(world: World) -> None:
    invoice = factories.make_issued_invoice(db.session, world.practice_a, costed_incident(world))
    with pytest.raises(DomainError, match="future"):
        payments.record_payment(
            db.session,
            invoice,
            amount=Decimal(1),
            paid_on=date(2024, 7, 27),
            reference="",
            user_id=None,
            today=TODAY,
        )
    with pytest.raises(DomainError, match="before the invoice date"):
        payments.record_payment(
            db.session,
            invoice,
            amount=Decimal(1),
            paid_on=date(2024, 7, 1),
            reference="",
            user_id=None,
            today=TODAY,
        )


def test_warnings_before_issuing(world: World) -> None:
    world.icb_x.payables_code = None
    world.practice_a.bank_account_number = None
    db.session.commit()
    draft = draft_for(world, costed_incident(world))
    draft.po_reference = None
    draft.issue_date = date(2024, 8, 20)
    warnings = " ".join(invoicing.issue_warnings(draft, TODAY))
    assert "no invoice address" in warnings
    assert "No PO, no pay" in warnings
    assert "no bank details" in warnings
    assert "more than 14 days ahead" in warnings


def test_draft_follows_edits_to_its_cost_lines(world: World) -> None:
    lines = costed_incident(world)
    draft = draft_for(world, lines)
    lines[0].total_amount = lines[0].net_amount = Decimal("999.99")
    db.session.commit()
    invoicing.refresh_draft(db.session, draft)
    assert Decimal("999.99") in [line.total_amount for line in draft.lines]
    assert draft.total == sum(line.total_amount for line in lines)


def test_invoice_date_must_follow_the_outage_and_not_run_far_ahead(world: World) -> None:
    draft = draft_for(world, costed_incident(world))
    for bad, message in (
        (date(2024, 7, 18), "cannot be before 19 July 2024"),
        (date(2024, 11, 1), "more than 90 days ahead"),
    ):
        with pytest.raises(DomainError, match=message):
            invoicing.update_draft(
                db.session,
                draft,
                po_reference=None,
                notes="",
                issue_date=bad,
                user_id=None,
                today=TODAY,
            )
    with pytest.raises(DomainError, match="more than 31 days before today"):
        invoicing.update_draft(
            db.session,
            draft,
            po_reference=None,
            notes="",
            issue_date=date(2024, 7, 19),
            user_id=None,
            today=date(2024, 9, 30),
        )


def test_vat_is_charged_only_by_a_vat_registered_practice(world: World) -> None:
    lines = costed_incident(world)  # the expense carries £8.50 VAT paid
    unregistered = factories.make_issued_invoice(db.session, world.practice_a, lines)
    assert unregistered.vat_total == Decimal("0.00")
    assert unregistered.total == sum(line.total_amount for line in lines)
    assert invoice_documents.invoice_document(unregistered, TODAY).vat_statement
    incident = make_incident(db.session, world.practice_a2)
    world.practice_a2.vat_number = "GB123456789"
    # registered: net 42.50 with VAT 8.50 at 20% on the line (reclaimed as input tax)
    expense = make_expense_line(db.session, incident, vat_registered=True)
    db.session.commit()
    registered = factories.make_issued_invoice(db.session, world.practice_a2, [expense])
    assert registered.vat_total == Decimal("8.50")
    assert registered.net_total == Decimal("42.50")
    assert invoice_documents.invoice_document(registered, TODAY).vat_statement is None
