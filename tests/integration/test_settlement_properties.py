"""Property tests of the one balance (issue 11): any sequence of issue, partial credit, full
credit, payment, refund and remittance, through the services on SQLite, one fresh database
per example.

After every step: outstanding = total - credited - paid + refunded >= 0; what an invoice
says is credited is what its credit notes took off, never more than the invoice nor any
line more than itself; the state agrees with the amounts; the register's totals and the
statement of account's are the sums of the documents; each remittance is the sum of its
payments. Each operation is refused exactly when a rule says it must be (a remittance that
does not add up, or pays an invoice more than it owes, is refused whole). At the end finance
can always reach "paid" or "settled" (or "cancelled"), by one remittance: no dead end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import wipe
from tests.factories import World, build_world, make_expense_line, make_incident
from tests.factories import make_issued_invoice as issue_for
from tracker.extensions import db
from tracker.models import DocumentKind, Invoice, InvoiceStatus, Payment, Remittance
from tracker.services import crediting, payments, register, remittances, statements
from tracker.services.errors import DomainError
from tracker.services.money import ZERO, to_pence

D = Decimal
ISSUED_ON = date(2024, 7, 26)
DAY = ISSUED_ON + timedelta(days=3)
LATE = ISSUED_ON + timedelta(days=365)

#: A line's receipt: net and VAT in pence (the practice is VAT-registered, so VAT is charged)
receipts = st.tuples(st.integers(1, 50_000), st.integers(0, 10_000))
#: A share of something, in hundredths: 0 to 120% (over 100% to try too much)
shares = st.integers(0, 120)

operations = st.lists(
    st.one_of(
        st.tuples(st.just("issue"), st.lists(receipts, min_size=1, max_size=3)),
        st.tuples(st.just("credit"), st.integers(0, 9), st.integers(0, 2), shares),
        st.tuples(st.just("credit_all"), st.integers(0, 9)),
        st.tuples(st.just("pay"), st.integers(0, 9), shares),
        st.tuples(st.just("refund"), st.integers(0, 9), shares),
        # allocations (invoice, share of what it owes), and pence off the amount received
        st.tuples(
            st.just("remit"),
            st.lists(st.tuples(st.integers(0, 9), shares), min_size=1, max_size=3),
            st.sampled_from([0, 0, 0, -1, 1]),
        ),
    ),
    max_size=10,
)


@pytest.fixture
def sqlite_app(app: Flask) -> Flask:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("the property tests run through the services on SQLite")
    return app


@dataclass
class Books:
    """The test's own model of what each invoice should hold, by id."""

    world: World
    invoices: list[int]
    remitted: int = 0  # remittances recorded, for their references


def issue(books: Books, lines: list[tuple[int, int]]) -> None:
    practice = books.world.practice_a
    incident = make_incident(db.session, practice, title="Outage")
    costs = [
        make_expense_line(
            db.session,
            incident,
            net=str(D(net) / 100),
            vat=str(D(vat) / 100),
            vat_registered=True,
            description=f"Cost {n}",
        )
        for n, (net, vat) in enumerate(lines)
    ]
    books.invoices.append(issue_for(db.session, practice, costs, today=ISSUED_ON).id)


def share_of(amount: Decimal, share: int) -> Decimal:
    return to_pence(amount * share / 100)


def attempt(work, allowed: bool) -> None:  # type: ignore[no-untyped-def]
    """Run one operation; it must succeed exactly when `allowed`."""
    try:
        work()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        assert not allowed, f"refused although allowed: {error.message}"
    else:
        assert allowed, "accepted although a rule forbids it"


def remit(books: Books, allocations: list[tuple[int, int]], off_by: int) -> None:
    """One remittance paying shares of what several invoices owe; `off_by` pence off."""
    chosen: dict[int, Decimal] = {}
    allowed = True
    for index, share in allocations:
        invoice = db.session.get(Invoice, books.invoices[index % len(books.invoices)])
        assert invoice is not None
        owed = payments.outstanding(invoice)
        amount = share_of(owed, share) if owed else share_of(D("10.00"), share)
        chosen[invoice.id] = amount
    for invoice_id, amount in chosen.items():
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice is not None
        if amount > ZERO and amount > payments.outstanding(invoice):
            allowed = False  # more than it owes, or it is cancelled
    total = sum(chosen.values(), ZERO)
    received = total + D(off_by) / 100
    allowed = allowed and off_by == 0 and total > ZERO
    books.remitted += 1
    entry = remittances.RemittanceEntry(
        practice_id=books.world.practice_a.id,
        icb_id=books.world.icb_x.id,
        received_on=DAY,
        reference=f"REM {books.remitted}",
        amount=received,
        allocations=chosen,
    )
    attempt(
        lambda: remittances.record_remittance(db.session, entry, user_id=None, today=DAY),
        allowed,
    )


def step(books: Books, operation: tuple) -> None:  # type: ignore[type-arg]
    kind = operation[0]
    if kind == "issue":
        issue(books, operation[1])
        return
    if kind == "remit":
        remit(books, operation[1], operation[2])
        return
    invoice = db.session.get(Invoice, books.invoices[operation[1] % len(books.invoices)])
    assert invoice is not None
    is_open = invoice.status == InvoiceStatus.ISSUED
    unpaid = payments.outstanding(invoice)
    if kind == "credit":
        balances = crediting.line_balances(db.session, invoice)
        balance = balances[operation[2] % len(balances)]
        amount = share_of(balance.line.total_amount, operation[3])
        allowed = is_open and ZERO < amount <= min(balance.remaining, unpaid)
        attempt(
            lambda: crediting.credit_lines(
                db.session,
                invoice,
                {balance.line.id: amount},
                reason="Agreed",
                user_id=None,
                today=DAY,
            ),
            allowed,
        )
    elif kind == "credit_all":
        allowed = is_open and invoice.amount_paid == ZERO
        attempt(
            lambda: crediting.credit_invoice(
                db.session, invoice, user_id=None, today=DAY, reason="Wrong"
            ),
            allowed,
        )
    else:
        sign = 1 if kind == "pay" else -1
        base = unpaid if kind == "pay" else invoice.amount_paid
        amount = share_of(base, operation[2]) if base else share_of(D("10.00"), operation[2])
        limit = unpaid if kind == "pay" else invoice.amount_paid
        allowed = is_open and ZERO < amount <= limit
        attempt(
            lambda: payments.record_payment(
                db.session,
                invoice,
                amount=sign * amount,
                paid_on=DAY,
                reference="",
                user_id=None,
                today=DAY,
            ),
            allowed,
        )


def check(books: Books, *, every_state: bool = False) -> None:
    """The invariants; with `every_state`, also that the register's filters by state
    partition the documents (the slower part, run at the end of an example)."""
    db.session.expire_all()
    invoices = [db.session.get(Invoice, i) for i in books.invoices]
    for invoice in invoices:
        assert invoice is not None
        notes = crediting.credit_notes_of(db.session, invoice)
        received = db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount), ZERO)).where(
                Payment.invoice_id == invoice.id
            )
        )
        assert invoice.amount_paid == received >= ZERO
        assert invoice.amount_credited == -sum((n.total for n in notes), ZERO)
        assert ZERO <= invoice.amount_credited <= invoice.total
        expected = invoice.total - invoice.amount_credited - invoice.amount_paid
        assert expected >= ZERO
        open_ = invoice.status == InvoiceStatus.ISSUED
        assert payments.outstanding(invoice) == (expected if open_ else ZERO)
        for balance in crediting.line_balances(db.session, invoice):
            assert ZERO <= balance.credited_net <= balance.line.net_amount
            assert ZERO <= balance.credited_vat <= balance.line.vat_amount
        for note in notes:
            assert note.net_total + note.vat_total == note.total < ZERO
            assert note.total == sum((line.total_amount for line in note.lines), ZERO)
        cancelled = invoice.amount_credited == invoice.total
        assert (invoice.status == InvoiceStatus.CANCELLED) == cancelled
        for today in (DAY, LATE):
            state = payments.payment_state(invoice, today)
            if cancelled:
                assert state is payments.PaymentState.CANCELLED
            elif expected == ZERO:
                assert state in (payments.PaymentState.PAID, payments.PaymentState.SETTLED)
                assert (state is payments.PaymentState.SETTLED) == (invoice.amount_credited > 0)
            else:
                assert state is not payments.PaymentState.PAID
    for remittance in db.session.scalars(select(Remittance)):
        assert remittance.amount == sum((p.amount for p in remittance.payments), ZERO) > ZERO
    check_statement(books, [i for i in invoices if i is not None])
    scope = [books.world.practice_a.id]
    for today in (DAY, LATE) if every_state else (LATE,):
        page = register.register(db.session, register.RegisterFilter(scope), today)
        documents = db.session.scalars(
            select(Invoice).where(Invoice.status != InvoiceStatus.DRAFT)
        ).all()
        assert page.totals.count == len(documents)
        assert page.totals.total == sum((d.total for d in documents), ZERO)
        assert page.totals.credited == -sum(
            (d.total for d in documents if d.kind == DocumentKind.CREDIT_NOTE), ZERO
        )
        assert page.totals.paid == sum((i.amount_paid for i in invoices if i), ZERO)
        assert page.totals.outstanding == sum(
            (payments.outstanding(i) for i in invoices if i), ZERO
        )
        assert page.totals.outstanding == (
            page.totals.claimed - page.totals.credited - page.totals.paid
        )
        if not every_state:
            continue
        by_state = {
            state: register.register(
                db.session, register.RegisterFilter(scope, status=state.value), today
            ).totals.count
            for state in payments.PaymentState
        }
        assert sum(by_state.values()) == len(documents)


def check_statement(books: Books, invoices: list[Invoice]) -> None:
    """The statement of account agrees with the documents to the penny: its closing balance
    is the invoices' outstanding, its aged bands what is overdue, its totals the totals of
    the invoices, credit notes and payments."""
    world = books.world
    owed = sum((payments.outstanding(i) for i in invoices), ZERO)
    for as_at in (DAY, LATE):  # nothing is due on DAY; everything is 335 days late on LATE
        doc = statements.statement(db.session, world.practice_a, world.icb_x, as_at)
        assert doc.balance == doc.open_total == owed
        assert doc.entries == () or doc.entries[-1].balance == owed
        assert doc.overdue == sum(doc.aged, ZERO) == (owed if as_at == LATE else ZERO)
        assert doc.total_of("Invoice") == sum((i.total for i in invoices), ZERO)
        assert doc.total_of("Credit note") == sum((i.amount_credited for i in invoices), ZERO)
        net_paid = doc.total_of("Payment") - doc.total_of("Refund")
        assert net_paid == sum((i.amount_paid for i in invoices), ZERO)


def settle(books: Books) -> None:
    """From wherever the steps left each invoice, finance can finish it: credit what the
    ICB will not pay (in a savepoint, then undone), or be paid what is outstanding, every
    invoice at once by one remittance."""
    owing: dict[int, Decimal] = {}
    for invoice_id in books.invoices:
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice is not None
        owed = payments.outstanding(invoice)
        if invoice.status != InvoiceStatus.ISSUED or owed == ZERO:
            continue
        left = owed
        amounts = {}
        for balance in crediting.line_balances(db.session, invoice):
            take = min(balance.remaining, left)
            if take > ZERO:
                amounts[balance.line.id] = take
                left -= take
        savepoint = db.session.begin_nested()
        crediting.credit_lines(
            db.session, invoice, amounts, reason="Not payable", user_id=None, today=DAY
        )
        assert payments.payment_state(invoice, LATE) in (
            payments.PaymentState.SETTLED,
            payments.PaymentState.CANCELLED,
        )
        savepoint.rollback()
        db.session.expire_all()
        owing[invoice_id] = owed
    if not owing:
        return
    world = books.world
    remittances.record_remittance(
        db.session,
        remittances.RemittanceEntry(
            practice_id=world.practice_a.id,
            icb_id=world.icb_x.id,
            received_on=DAY,
            reference="SETTLES ALL",
            amount=sum(owing.values(), ZERO),
            allocations=owing,
        ),
        user_id=None,
        today=DAY,
    )
    db.session.commit()
    for invoice_id in owing:
        invoice = db.session.get(Invoice, invoice_id)
        assert invoice is not None
        assert payments.payment_state(invoice, LATE) in (
            payments.PaymentState.PAID,
            payments.PaymentState.SETTLED,
        )


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=st.lists(receipts, min_size=1, max_size=3), steps=operations)
def test_any_sequence_keeps_one_balance_and_reaches_settlement(
    sqlite_app: Flask,
    first: list[tuple[int, int]],
    steps: list[tuple],  # type: ignore[type-arg]
) -> None:
    wipe(sqlite_app)
    with sqlite_app.app_context():
        world = build_world(db.session)
        world.practice_a.vat_number = "GB123456789"
        db.session.commit()
        books = Books(world, [])
        issue(books, first)
        check(books)
        for operation in steps:
            step(books, operation)
            check(books)
        settle(books)
        check(books, every_state=True)
        db.session.remove()
