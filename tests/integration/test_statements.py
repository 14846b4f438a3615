"""The statement of account per practice and ICB (issue 11): every invoice, credit note,
payment and refund in date order with a running balance, and what is overdue aged by days
past the due date; its totals equal the documents' and the register's to the penny, as a
page, a PDF read back with pypdf and an Excel file read back with openpyxl."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import login
from tests.factories import World, make_expense_line, make_incident, make_issued_invoice
from tests.integration.test_settlement import TODAY, decide, invoice_of
from tracker.documents.statement_data import AGE_BANDS, age_band
from tracker.extensions import db
from tracker.models import Invoice, Practice
from tracker.services import crediting, payments, register, remittances, statements
from tracker.services.review import Decision

D = Decimal
AS_AT = date(2024, 12, 1)


def issued(world: World, total: str, on: date, practice: Practice | None = None) -> Invoice:
    """An invoice of one expense line issued on `on` (due 30 days later)."""
    practice = practice or world.practice_a
    incident = make_incident(db.session, practice, title="Telephony outage")
    line = make_expense_line(db.session, incident, net=total, vat="0.00")
    return make_issued_invoice(db.session, practice, [line], today=on)


def paid(invoice: Invoice, amount: str, on: date) -> None:
    payments.record_payment(
        db.session, invoice, amount=D(amount), paid_on=on, reference="BACS", user_id=None, today=on
    )
    db.session.commit()


@dataclass
class Account:
    """Practice A's invoices to ICB X in every state, and the others' that must not show."""

    settled: Invoice  # part-approved, the rest credited, paid by a remittance
    part_paid: Invoice  # 98 days past due on AS_AT
    refunded: Invoice  # paid, part refunded: 98 days past due
    late: Invoice  # 73 days past due
    later: Invoice  # 42 days past due
    recent: Invoice  # 7 days past due
    not_due: Invoice  # due after AS_AT

    @property
    def invoices(self) -> list[Invoice]:
        return [
            self.settled,
            self.part_paid,
            self.refunded,
            self.late,
            self.later,
            self.recent,
            self.not_due,
        ]


def account(world: World) -> Account:
    settled = invoice_of(world, "300.00", "824.61")
    decide(
        world,
        settled,
        (Decision.REJECTED, None, "Not caused by the outage"),
        (Decision.PART_APPROVED, "674.61", "Overtime agreed at 6 hours, not 8"),
    )
    crediting.credit_disallowed(db.session, settled, user_id=None, today=TODAY)
    db.session.commit()
    part_paid = invoice_of(world, "300.00")
    paid(part_paid, "100.00", TODAY)
    refunded = invoice_of(world, "80.00")
    paid(refunded, "80.00", TODAY)
    paid(refunded, "-30.00", TODAY + timedelta(days=2))
    remittances.record_remittance(
        db.session,
        remittances.RemittanceEntry(
            practice_id=world.practice_a.id,
            icb_id=world.icb_x.id,
            received_on=date(2024, 8, 15),
            reference="NCL ICB BACS 90555",
            amount=D("674.61"),
            allocations={settled.id: D("674.61")},
        ),
        user_id=None,
        today=date(2024, 8, 15),
    )
    db.session.commit()
    found = Account(
        settled=settled,
        part_paid=part_paid,
        refunded=refunded,
        late=issued(world, "70.00", date(2024, 8, 20)),
        later=issued(world, "45.50", date(2024, 9, 20)),
        recent=issued(world, "12.34", date(2024, 10, 25)),
        not_due=issued(world, "99.99", date(2024, 11, 20)),
    )
    issued(world, "500.00", date(2024, 9, 1), practice=world.practice_a2)  # another practice
    issued(world, "600.00", date(2024, 9, 1), practice=world.practice_b)  # another ICB
    return found


def statement_of(world: World, as_at: date = AS_AT):  # type: ignore[no-untyped-def]
    return statements.statement(db.session, world.practice_a, world.icb_x, as_at)


def test_every_document_in_date_order_with_a_running_balance(world: World) -> None:
    books = account(world)
    doc = statement_of(world)
    kinds = [(entry.on, entry.kind, entry.reference) for entry in doc.entries]
    assert kinds == sorted(
        kinds, key=lambda k: (k[0], ["Invoice", "Credit note", "Payment", "Refund"].index(k[1]))
    )
    assert [k for _, k, _ in kinds].count("Invoice") == 7
    assert [k for _, k, _ in kinds].count("Credit note") == 1
    assert [k for _, k, _ in kinds].count("Refund") == 1
    balance = D("0.00")
    for entry in doc.entries:
        balance += entry.debit - entry.credit
        assert entry.balance == balance
    remitted = next(e for e in doc.entries if e.reference == "NCL ICB BACS 90555")
    assert remitted.credit == D("674.61") and "(remittance)" in remitted.details
    assert books.settled.number in remitted.details
    # the closing balance is each invoice's outstanding amount, summed: the register's too
    db.session.expire_all()
    owed = sum((payments.outstanding(invoice) for invoice in books.invoices), D("0.00"))
    assert doc.balance == owed == D("457.83")
    assert doc.entries[-1].balance == doc.balance
    assert doc.open_total == doc.balance
    scope = register.RegisterFilter(
        [world.practice_a.id], practice_id=world.practice_a.id, icb_id=world.icb_x.id
    )
    assert register.register(db.session, scope, AS_AT).totals.outstanding == doc.balance
    assert doc.total_of("Invoice") == sum((i.total for i in books.invoices), D(0))
    assert doc.total_of("Credit note") == D("450.00")
    assert doc.total_of("Payment") == D("854.61") and doc.total_of("Refund") == D("30.00")


def test_what_is_overdue_is_aged_by_days_past_the_due_date(world: World) -> None:
    books = account(world)
    doc = statement_of(world)
    by_number = {item.number: item for item in doc.open_invoices}
    assert books.settled.number not in by_number  # settled: nothing outstanding
    assert by_number[books.part_paid.number].days_overdue == 98
    assert by_number[books.part_paid.number].outstanding == D("200.00")
    assert by_number[books.refunded.number].outstanding == D("30.00")
    assert by_number[books.not_due.number].band is None
    assert doc.aged == (D("12.34"), D("45.50"), D("70.00"), D("230.00"))
    overdue = sum((i.outstanding for i in doc.open_invoices if i.due_date < AS_AT), D("0.00"))
    assert doc.overdue == overdue == sum(doc.aged, D("0.00"))
    assert doc.not_yet_due == D("99.99")
    assert doc.overdue + doc.not_yet_due == doc.balance
    assert [i.number for i in doc.overdue_invoices] == [
        books.part_paid.number,
        books.refunded.number,
        books.late.number,
        books.later.number,
        books.recent.number,
    ]


def test_a_statement_as_at_an_earlier_date_leaves_out_what_came_after(world: World) -> None:
    books = account(world)
    doc = statement_of(world, date(2024, 8, 10))
    references = {entry.reference for entry in doc.entries}
    assert books.settled.number in references and books.late.number not in references
    assert "NCL ICB BACS 90555" not in references  # received on 15 August
    # on 10 August: the claim less its credit note, the part-paid one, and the £30 refunded
    assert doc.balance == D("674.61") + D("200.00") + D("30.00")
    assert doc.overdue == D("0.00")  # nothing was due before 25 August


@pytest.mark.parametrize(
    ("days", "band"),
    [(-3, None), (0, None), (1, 0), (30, 0), (31, 1), (60, 1), (61, 2), (90, 2), (91, 3)],
)
def test_the_bands_edges(days: int, band: int | None) -> None:
    assert age_band(days) == band


# --- page, PDF, Excel, and who may see them -----------------------------------------------


def query(world: World, as_at: date = AS_AT) -> str:
    return f"practice={world.practice_a.id}&icb={world.icb_x.id}&as_at={as_at.isoformat()}"


def test_the_statement_page_shows_the_figures(as_finance: FlaskClient, world: World) -> None:
    books = account(world)
    page = as_finance.get(f"/invoices/statement?{query(world)}").get_data(as_text=True)
    assert "Statement of account" in page and world.icb_x.name in page
    for invoice in books.invoices:
        assert invoice.number in page
    assert "£457.83" in page and "NCL ICB BACS 90555" in page
    assert "Over 90 days" in page and "£230.00" in page
    other = world.practice_b.name
    assert other not in page


def test_the_pdf_reads_back_with_every_figure(as_finance: FlaskClient, world: World) -> None:
    books = account(world)
    response = as_finance.get(f"/invoices/statement.pdf?{query(world)}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    reader = PdfReader(io.BytesIO(response.data))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for expected in (
        "Statement of account",
        world.practice_a.name,
        f"ODS code: {world.practice_a.ods_code}",
        world.icb_x.name,
        "Statement date 1 December 2024",
        "Balance due £457.83",
        "Overdue: £357.84",
        "NCL ICB BACS 90555",
        "Over 90 days",
        "£230.00",
        f"Sort code: {world.practice_a.bank_sort_code}",
        f"Account number: {world.practice_a.bank_account_number}",
        world.practice_a.remittance_email,
        "Page 1 of",
    ):
        assert expected in text, expected
    for invoice in books.invoices:
        assert invoice.number in text


def test_the_excel_file_holds_the_same_figures_as_numbers(
    as_finance: FlaskClient, world: World
) -> None:
    account(world)
    doc = statement_of(world)
    response = as_finance.get(f"/invoices/statement.xlsx?{query(world)}")
    workbook = load_workbook(io.BytesIO(response.data))
    sheet = workbook["Statement"]
    rows = list(sheet.iter_rows(values_only=True))
    header = next(i for i, row in enumerate(rows) if row[:3] == ("Date", "Type", "Reference"))
    entries = rows[header + 1 : header + 1 + len(doc.entries)]
    assert [row[2] for row in entries] == [entry.reference for entry in doc.entries]
    balances = [row[6] for row in entries]
    assert all(isinstance(value, int | float) for value in balances)
    assert D(str(balances[-1])).quantize(D("0.01")) == doc.balance
    totals = rows[header + 1 + len(doc.entries)]
    assert totals[0] == "Totals"
    assert D(str(totals[6])).quantize(D("0.01")) == doc.balance
    debit = sum(D(str(row[4])) for row in entries if row[4] is not None)
    assert debit.quantize(D("0.01")) == doc.debits
    aged = list(workbook["Aged"].iter_rows(values_only=True))
    headings = list(aged[0])
    assert headings[4:9] == ["Not yet due", *(label for label, _ in AGE_BANDS)]
    total = aged[-1]
    assert total[0] == "Total"
    assert [D(str(v)).quantize(D("0.01")) for v in total[4:10]] == [
        doc.not_yet_due,
        *doc.aged,
        doc.balance,
    ]


def test_a_future_statement_date_is_refused_beside_its_field(
    as_finance: FlaskClient, world: World
) -> None:
    page = as_finance.get(f"/invoices/statement?as_at={date.today() + timedelta(days=400)}")
    assert page.status_code == 200
    assert "The statement date cannot be in the future" in page.get_data(as_text=True)


def test_only_finance_reads_statements_and_only_of_their_practices(
    client: FlaskClient, world: World
) -> None:
    account(world)
    issued(world, "600.00", date(2024, 9, 1), practice=world.practice_b)
    login(client, world.finance)
    theirs = f"practice={world.practice_b.id}&icb={world.icb_y.id}"
    page = client.get(f"/invoices/statement?{theirs}").get_data(as_text=True)
    assert world.practice_b.name not in page and world.icb_y.name not in page
    pdf = client.get(f"/invoices/statement.pdf?{theirs}")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert world.practice_b.name not in text
    client.post("/logout")
    for user in (world.manager, world.manager_b, world.reviewer):
        login(client, user)
        for url in ("/invoices/statement", "/invoices/statement.pdf", "/invoices/statement.xlsx"):
            assert client.get(f"{url}?{query(world)}").status_code == 403, (user, url)
        client.post("/logout")
