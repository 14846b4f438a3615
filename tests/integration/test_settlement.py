"""One balance, partial credit notes and crediting what the ICB did not approve (issue 11):
through the services, through the Flask client, and in races on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import login
from tests.factories import (
    World,
    make_expense_line,
    make_incident,
    make_issued_invoice,
)
from tests.integration.test_races import race, signed_in
from tracker.extensions import db
from tracker.models import Invoice, InvoiceLine, InvoiceStatus, LineDecision, Practice
from tracker.services import crediting, payments, register, review
from tracker.services.errors import Conflict, Invalid
from tracker.services.review import Decision, LineDecisionInput

D = Decimal
ISSUED_ON = date(2024, 7, 26)
TODAY = ISSUED_ON + timedelta(days=5)
LONG_AFTER = ISSUED_ON + timedelta(days=400)


def invoice_of(world: World, *totals: str, practice: Practice | None = None) -> Invoice:
    """An issued invoice with one expense line per total (no VAT: the practice is not
    VAT-registered, so each line is its receipt's gross)."""
    practice = practice or world.practice_a
    incident = make_incident(db.session, practice, title="EMIS outage")
    lines = [
        make_expense_line(db.session, incident, net=total, vat="0.00", description=f"Cost {n}")
        for n, total in enumerate(totals, start=1)
    ]
    return make_issued_invoice(db.session, practice, lines, today=ISSUED_ON)


def vat_invoice(world: World, net: str = "100.00", vat: str = "20.00") -> Invoice:
    """An issued invoice of a VAT-registered practice: one line with VAT charged."""
    practice = world.practice_a
    practice.vat_number = "GB123456789"
    db.session.commit()
    incident = make_incident(db.session, practice, title="EMIS outage")
    line = make_expense_line(db.session, incident, net=net, vat=vat, vat_registered=True)
    return make_issued_invoice(db.session, practice, [line], today=ISSUED_ON)


def decide(world: World, invoice: Invoice, *decisions: tuple[str, str | None, str]) -> None:
    """One (decision, approved amount, reason) per line, in print order."""
    for line, (decision, amount, reason) in zip(invoice.lines, decisions, strict=True):
        review.decide_line(
            db.session,
            invoice,
            line,
            LineDecisionInput(decision, D(amount) if amount else None, reason),
            user_id=world.reviewer.id,
        )
    db.session.commit()


def pay(invoice: Invoice, amount: str, on: date = TODAY) -> None:
    payments.record_payment(
        db.session, invoice, amount=D(amount), paid_on=on, reference="BACS", user_id=None, today=on
    )
    db.session.commit()


def credit(invoice: Invoice, amounts: dict[int, str], reason: str = "Agreed") -> Invoice:
    note = crediting.credit_lines(
        db.session,
        invoice,
        {line_id: D(amount) for line_id, amount in amounts.items()},
        reason=reason,
        user_id=None,
        today=TODAY,
    )
    db.session.commit()
    return note


def scenario(world: World) -> Invoice:
    """The issue's claim: £1,124.61, of which the ICB approves £674.61 (one line rejected,
    one part-approved)."""
    invoice = invoice_of(world, "300.00", "824.61")
    decide(
        world,
        invoice,
        (Decision.REJECTED, None, "Not caused by the outage"),
        (Decision.PART_APPROVED, "674.61", "Overtime agreed at 6 hours, not 8"),
    )
    return invoice


# --- the issue's scenario ---------------------------------------------------------------


def test_part_approved_claim_is_settled_by_crediting_the_rest_and_paying_the_approved(
    world: World,
) -> None:
    invoice = scenario(world)
    assert invoice.total == D("1124.61") and invoice.approved_total == D("674.61")
    assert crediting.disallowed_total(db.session, invoice) == D("450.00")
    note = crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    assert note.total == D("-450.00") and note.credited_invoice_id == invoice.id
    assert [line.total_amount for line in note.lines] == [D("-300.00"), D("-150.00")]
    assert "Not caused by the outage" in note.lines[0].working
    assert "6 hours, not 8" in note.lines[1].working
    assert payments.outstanding(invoice) == D("674.61")
    pay(invoice, "674.61")
    assert payments.outstanding(invoice) == D("0.00")
    for day in (TODAY, LONG_AFTER):
        assert payments.payment_state(invoice, day) is payments.PaymentState.SETTLED
    page = register.register(db.session, register.RegisterFilter([world.practice_a.id]), LONG_AFTER)
    assert page.totals.paid == D("674.61")
    assert page.totals.outstanding == D("0.00")
    assert page.totals.claimed == D("1124.61") and page.totals.credited == D("450.00")
    assert page.totals.approved == D("674.61")
    assert page.totals.total == D("674.61")  # the invoice less its credit note
    settled = register.RegisterFilter([world.practice_a.id], status="settled")
    assert [i.id for i in register.register(db.session, settled, LONG_AFTER).invoices] == [
        invoice.id
    ]
    overdue = register.RegisterFilter([world.practice_a.id], status="overdue")
    assert register.register(db.session, overdue, LONG_AFTER).invoices == []


def test_crediting_the_disallowed_amount_twice_finds_nothing_left(world: World) -> None:
    invoice = scenario(world)
    crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    with pytest.raises(Conflict, match="Nothing the ICB did not approve is left"):
        crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.rollback()
    assert invoice.amount_credited == D("450.00")


def test_the_disallowed_amount_counts_what_was_credited_from_its_lines_already(
    world: World,
) -> None:
    invoice = scenario(world)
    credit(invoice, {invoice.lines[0].id: "100.00"})
    assert crediting.disallowed_total(db.session, invoice) == D("350.00")
    assert crediting.disallowed(db.session, invoice_of(world, "10.00")) == []  # not decided


# --- partial credit notes -----------------------------------------------------------------


def test_partial_credit_notes_any_number_of_times_up_to_the_total(world: World) -> None:
    invoice = invoice_of(world, "100.00", "50.00")
    first, second = invoice.lines
    one = credit(invoice, {first.id: "30.00"})
    two = credit(invoice, {first.id: "20.00", second.id: "50.00"})
    assert one.number != two.number and one.number.startswith(world.practice_a.ods_code + "CN")
    assert invoice.amount_credited == D("100.00")
    assert payments.payment_state(invoice, TODAY) is payments.PaymentState.UNPAID
    with pytest.raises(Invalid, match=r"Only £50\.00 of this line is left") as error:
        credit(invoice, {first.id: "50.01"})
    assert error.value.field == f"amount_{first.id}"
    db.session.rollback()
    credit(invoice, {first.id: "50.00"})
    assert invoice.status == InvoiceStatus.CANCELLED
    assert payments.payment_state(invoice, LONG_AFTER) is payments.PaymentState.CANCELLED
    assert payments.outstanding(invoice) == D("0.00")
    # credited in full: the cost lines are free for a corrected invoice
    assert all(line.cost_line_id for line in invoice.lines)
    freed = db.session.scalars(
        select(InvoiceLine.cost_line_id).where(InvoiceLine.invoice_id == invoice.id)
    ).all()
    from tracker.models import CostLine

    assert all(db.session.get(CostLine, i).invoice_id is None for i in freed)


def test_credit_after_a_part_payment_is_up_to_what_is_unpaid(world: World) -> None:
    invoice = invoice_of(world, "100.00")
    pay(invoice, "60.00")
    line = invoice.lines[0]
    with pytest.raises(Invalid, match=r"record a refund of £10\.00 first") as error:
        credit(invoice, {line.id: "50.00"})
    assert error.value.field == "lines"
    db.session.rollback()
    credit(invoice, {line.id: "40.00"})
    assert payments.outstanding(invoice) == D("0.00")
    assert payments.payment_state(invoice, LONG_AFTER) is payments.PaymentState.SETTLED
    with pytest.raises(Conflict, match=r"Record a refund of £60\.00"):
        crediting.credit_invoice(db.session, invoice, user_id=None, today=TODAY, reason="x")


def test_bad_amounts_are_refused_with_the_field_named(world: World) -> None:
    invoice = invoice_of(world, "100.00")
    line_id = invoice.lines[0].id
    for amount, message in (
        ("-1.00", "greater than £0.00"),
        ("1.005", "pounds and pence"),
        ("100.01", "Only £100.00 of this line"),
    ):
        with pytest.raises(Invalid, match=message):
            credit(invoice, {line_id: amount})
        db.session.rollback()
    with pytest.raises(Invalid, match="reason"):
        credit(invoice, {line_id: "1.00"}, reason="  ")
    db.session.rollback()
    assert invoice.amount_credited == D("0.00")
    assert crediting.credit_notes_of(db.session, invoice) == []


def test_a_part_of_a_vat_line_credits_net_and_vat_in_proportion(world: World) -> None:
    invoice = vat_invoice(world, "100.00", "20.00")
    line = invoice.lines[0]
    assert (line.net_amount, line.vat_amount) == (D("100.00"), D("20.00"))
    notes = [credit(invoice, {line.id: amount}) for amount in ("0.01", "0.01", "33.33")]
    taken = [(-n.lines[0].net_amount, -n.lines[0].vat_amount) for n in notes]
    # VAT on the running total: 20/120 of 0.01 and of 0.02 round to 0.00; of 33.35 to 5.56
    assert taken == [(D("0.01"), D("0.00")), (D("0.01"), D("0.00")), (D("27.77"), D("5.56"))]
    assert sum(net + vat for net, vat in taken) == D("33.35")
    last = credit(invoice, {line.id: "86.65"})
    assert sum(-n.lines[0].vat_amount for n in [*notes, last]) == D("20.00")
    assert sum(-n.lines[0].net_amount for n in [*notes, last]) == D("100.00")
    for note in [*notes, last]:
        assert note.vat_total + note.net_total == note.total
        assert -note.lines[0].net_amount >= 0 and -note.lines[0].vat_amount >= 0


def test_a_partial_credit_note_reads_right_as_pdf_and_excel(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = scenario(world)
    note = crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    pdf = as_finance.get(f"/invoices/{note.id}.pdf")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.data)).pages)
    text = " ".join(text.split())
    assert "Credit note" in text and note.number in text
    assert f"Credits invoice {invoice.number}" in text
    assert "in full" not in text and f"Credits part of invoice {invoice.number}" in text
    assert "-£450.00" in text
    assert "Not caused by the outage" in text
    sheet = load_workbook(io.BytesIO(as_finance.get(f"/invoices/{note.id}.xlsx").data))
    cells = [c for row in sheet.worksheets[0].iter_rows(values_only=True) for c in row if c]
    assert invoice.number in cells


# --- one balance: Python and SQL agree ----------------------------------------------------


def test_register_filters_agree_with_each_invoices_state(world: World) -> None:
    """An invoice in every state; each status filter lists exactly those whose
    payment_state is that status, on days before and after they fall due."""
    invoice_of(world, "10.00")  # unpaid
    part_paid = invoice_of(world, "10.00")
    pay(part_paid, "4.00")
    paid = invoice_of(world, "10.00")
    pay(paid, "10.00")
    settled = invoice_of(world, "10.00")
    pay(settled, "6.00")
    credit(settled, {settled.lines[0].id: "4.00"})
    part_credited = invoice_of(world, "10.00")
    credit(part_credited, {part_credited.lines[0].id: "4.00"})
    cancelled = invoice_of(world, "10.00")
    crediting.credit_invoice(db.session, cancelled, user_id=None, today=TODAY, reason="x")
    refunded = invoice_of(world, "10.00")
    pay(refunded, "10.00")
    pay(refunded, "-3.00")
    db.session.commit()
    scope = [world.practice_a.id]
    everything = register.register(db.session, register.RegisterFilter(scope), TODAY).invoices
    assert len(everything) == 10  # 7 invoices and 3 credit notes
    for today in (TODAY, LONG_AFTER):
        states = {i.id: payments.payment_state(i, today) for i in everything}
        for state in payments.PaymentState:
            listed = register.register(
                db.session, register.RegisterFilter(scope, status=state.value), today
            )
            assert {i.id for i in listed.invoices} == {
                i for i, s in states.items() if s is state
            }, (state, today)
            rows = [i for i in everything if states[i.id] is state]
            assert listed.totals.outstanding == sum(
                (payments.outstanding(i) for i in rows), D("0.00")
            )
    assert payments.payment_state(refunded, TODAY) is payments.PaymentState.PART_PAID
    assert payments.outstanding(refunded) == D("3.00")
    totals = register.register(db.session, register.RegisterFilter(scope), TODAY).totals
    assert totals.outstanding == totals.claimed - totals.credited - totals.paid
    assert totals.total == sum((i.total for i in everything), D("0.00"))


# --- through the Flask client ---------------------------------------------------------------


def test_credit_page_lists_lines_and_issues_a_partial_credit_note(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = invoice_of(world, "100.00", "50.00")
    first = invoice.lines[0]
    page = as_finance.get(f"/invoices/{invoice.id}/credit")
    assert page.status_code == 200 and "Up to £100.00" in page.data.decode()
    response = as_finance.post(
        f"/invoices/{invoice.id}/credit/lines",
        data={f"part-amount_{first.id}": "25.50", "part-reason": "Hours agreed"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert invoice.amount_credited == D("25.50")
    detail = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert "£124.50" in detail and "Credit note " in detail


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("abc", "Enter the amount as a number"),
        ("-5", "Enter an amount greater than £0"),
        ("1.234", "in pounds and pence"),
        ("100.01", "Only £100.00 of this line is left to credit"),
    ],
)
def test_a_bad_amount_is_shown_next_to_its_field_and_kept(
    as_finance: FlaskClient, world: World, typed: str, message: str
) -> None:
    invoice = invoice_of(world, "100.00")
    line_id = invoice.lines[0].id
    response = as_finance.post(
        f"/invoices/{invoice.id}/credit/lines",
        data={f"part-amount_{line_id}": typed, "part-reason": "Hours agreed"},
    )
    page = response.data.decode()
    assert response.status_code == 422
    assert message in page
    assert f'id="part-amount_{line_id}-error"' in page or "nhsuk-error-message" in page
    assert f'value="{typed}"' in page and "Hours agreed" in page
    db.session.expire_all()
    assert invoice.amount_credited == D("0.00")


def test_crediting_more_than_is_unpaid_says_to_refund_first(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = invoice_of(world, "100.00")
    pay(invoice, "80.00")
    response = as_finance.post(
        f"/invoices/{invoice.id}/credit/lines",
        data={f"part-amount_{invoice.lines[0].id}": "30.00", "part-reason": "x"},
    )
    assert response.status_code == 422
    assert "record a refund of £10.00 first" in response.data.decode()


def test_one_step_credit_from_the_invoice_page_then_settled(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = scenario(world)
    page = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert "Credit £450.00 not approved by the ICB" in page
    assert as_finance.post(f"/invoices/{invoice.id}/credit/disallowed").status_code == 302
    again = as_finance.post(f"/invoices/{invoice.id}/credit/disallowed", follow_redirects=True)
    assert "Nothing the ICB did not approve is left to credit" in again.data.decode()
    as_finance.post(
        f"/invoices/{invoice.id}/payments",
        data={"amount": "674.61", "paid_on": TODAY.isoformat(), "reference": "REM 1"},
    )
    db.session.expire_all()
    assert len(crediting.credit_notes_of(db.session, invoice)) == 1
    page = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert "Settled" in page and "Credit £" not in page
    register_page = as_finance.get("/invoices?status=settled").data.decode()
    assert invoice.number in register_page and "£674.61" in register_page
    workbook = load_workbook(io.BytesIO(as_finance.get("/invoices/register.xlsx").data))
    sheet = workbook["Register"]
    headings = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if r[0] == invoice.number)
    figures = dict(zip(headings, row, strict=True))
    assert D(str(figures["Credited"])) == D("450.00")
    assert D(str(figures["Approved"])) == D("674.61")
    assert D(str(figures["Paid"])) == D("674.61") and D(str(figures["Outstanding"])) == 0
    assert figures["Status"] == "Settled"


def test_another_practices_invoice_cannot_be_credited(client: FlaskClient, world: World) -> None:
    invoice = invoice_of(world, "100.00", practice=world.practice_b)
    login(client, world.finance)
    for url in (
        f"/invoices/{invoice.id}/credit",
        f"/invoices/{invoice.id}/credit/lines",
        f"/invoices/{invoice.id}/credit/disallowed",
    ):
        assert client.post(url, data={"reason": "x", "part-reason": "x"}).status_code == 404
    db.session.expire_all()
    assert invoice.amount_credited == D("0.00")


def test_a_practice_manager_cannot_credit(as_manager: FlaskClient, world: World) -> None:
    invoice = scenario(world)
    assert as_manager.post(f"/invoices/{invoice.id}/credit/disallowed").status_code == 403
    assert "not approved by the ICB" not in as_manager.get(f"/invoices/{invoice.id}").data.decode()


def test_the_credit_forms_need_a_csrf_token(app: Flask, world: World, tmp_path) -> None:
    from tests.conftest import build_app

    strict = build_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, WTF_CSRF_ENABLED=True)
    invoice = scenario(world)
    client = strict.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = world.finance.get_id()
        session["_fresh"] = True
    for url in ("credit/lines", "credit/disallowed", "credit"):
        assert client.post(f"/invoices/{invoice.id}/{url}", data={}).status_code == 400
    db.session.expire_all()
    assert invoice.amount_credited == D("0.00")


# --- races ----------------------------------------------------------------------------------

ROUNDS = 6


def test_two_credit_notes_at_once_never_exceed_the_invoice(app: Flask, world: World) -> None:
    first, second = signed_in(app, world.finance), signed_in(app, world.finance)
    for _ in range(ROUNDS):
        invoice = invoice_of(world, "100.00")
        line_id = invoice.lines[0].id
        url = f"/invoices/{invoice.id}/credit/lines"
        data = {f"part-amount_{line_id}": "60.00", "part-reason": "Agreed"}
        outcomes = race(
            [
                (client, lambda c, url=url, data=data: c.post(url, data=data))
                for client in (first, second)
            ]
        )
        assert all(o.error is None for o in outcomes), outcomes
        assert sorted(o.status for o in outcomes) == [302, 422]
        db.session.expire_all()
        assert invoice.amount_credited == D("60.00")
        notes = crediting.credit_notes_of(db.session, invoice)
        assert sum(-n.total for n in notes) == D("60.00")


def test_a_payment_racing_a_credit_never_makes_outstanding_negative(
    app: Flask, world: World
) -> None:
    crediter, payer = signed_in(app, world.finance), signed_in(app, world.finance)
    for _ in range(ROUNDS):
        invoice = invoice_of(world, "100.00")
        line_id = invoice.lines[0].id
        outcomes = race(
            [
                (
                    crediter,
                    lambda c, i=invoice.id, line_id=line_id: c.post(
                        f"/invoices/{i}/credit/lines",
                        data={f"part-amount_{line_id}": "60.00", "part-reason": "Agreed"},
                    ),
                ),
                (
                    payer,
                    lambda c, i=invoice.id: c.post(
                        f"/invoices/{i}/payments",
                        data={"amount": "60.00", "paid_on": ISSUED_ON.isoformat()},
                    ),
                ),
            ]
        )
        assert all(o.error is None for o in outcomes), outcomes
        db.session.expire_all()
        assert invoice.balance >= 0
        assert invoice.amount_credited + invoice.amount_paid == D("60.00")
        assert sorted(o.status for o in outcomes) in ([302, 409], [302, 422])


def test_double_click_on_credit_disallowed_issues_one_credit_note(app: Flask, world: World) -> None:
    first, second = signed_in(app, world.finance), signed_in(app, world.finance)
    for _ in range(ROUNDS // 2):
        invoice = scenario(world)
        url = f"/invoices/{invoice.id}/credit/disallowed"
        outcomes = race([(client, lambda c, url=url: c.post(url)) for client in (first, second)])
        assert all(o.error is None and o.status == 302 for o in outcomes), outcomes
        db.session.expire_all()
        assert len(crediting.credit_notes_of(db.session, invoice)) == 1
        assert invoice.amount_credited == D("450.00")


def test_decisions_keep_their_lines(world: World) -> None:
    """The disallowed credit reads the reviewer's decisions, which it never changes."""
    invoice = scenario(world)
    crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    decisions = db.session.scalars(select(LineDecision)).all()
    assert {d.invoice_line_id for d in decisions} == {line.id for line in invoice.lines}


# --- the balance where it is shown --------------------------------------------------------


def test_the_icb_decisions_page_offers_the_one_step_credit_to_finance(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = scenario(world)
    page = as_finance.get(f"/claims/{invoice.id}/feedback").data.decode()
    assert "Credit £450.00 not approved by the ICB" in page


def test_dashboard_shows_claimed_approved_credited_paid_and_outstanding(
    as_manager: FlaskClient, world: World
) -> None:
    from tracker.services import dashboard

    invoice = scenario(world)
    crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    pay(invoice, "600.00")
    invoice_of(world, "100.00")
    claims = dashboard.practice_summary(db.session, world.practice_a.id).claims
    assert (claims.claimed, claims.approved, claims.credited, claims.paid) == (
        D("1224.61"),
        D("674.61"),
        D("450.00"),
        D("600.00"),
    )
    assert claims.outstanding == D("174.61")
    page = as_manager.get("/").data.decode()
    for figure in ("£1,224.61", "£674.61", "£450.00", "£600.00", "£174.61"):
        assert figure in page
