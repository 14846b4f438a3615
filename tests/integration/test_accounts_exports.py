"""The CSV exports for the practice's accounts through the app: per invoice and for the
register with its filters, read back as Xero and QuickBooks would; amounts equal to the
invoice to the penny, a credit note only in a credit-note import, drafts refused with why,
the PDF's access rules, and the account code from the settings (issue 10)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import (
    World,
    make_claim,
    make_expense_line,
    make_incident,
    make_issued_invoice,
    make_staff_line,
)
from tracker.config import load_config
from tracker.extensions import db
from tracker.models import Invoice
from tracker.services import crediting, invoicing

D = Decimal


def read(data: bytes) -> list[dict[str, str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def column_sum(rows: list[dict[str, str]], column: str) -> Decimal:
    return sum((D(row[column]) for row in rows), D("0.00"))


@pytest.fixture
def vat_invoice(world: World) -> Invoice:
    """An issued invoice of a VAT-registered practice: staff time (no VAT) and an expense
    with VAT, and a description a spreadsheet would run as a formula."""
    world.practice_a.vat_number = "GB123456789"
    incident = make_incident(db.session, world.practice_a, title="EMIS outage")
    lines = [
        make_staff_line(db.session, incident),
        make_expense_line(
            db.session,
            incident,
            net="99.99",
            vat="20.00",
            description='=HYPERLINK("http://x") toner',
            vat_registered=True,
        ),
    ]
    db.session.commit()
    return make_issued_invoice(db.session, world.practice_a, lines, po_reference="PO-77")


def test_each_export_of_an_invoice_equals_it_to_the_penny(
    as_manager: FlaskClient, vat_invoice: Invoice
) -> None:
    invoice = vat_invoice
    assert invoice.vat_total > 0 and invoice.net_total > 0
    xero = as_manager.get(f"/invoices/{invoice.id}/xero.csv")
    assert xero.status_code == 200 and xero.mimetype == "text/csv"
    assert f"{invoice.number}-xero.csv" in xero.headers["Content-Disposition"]
    rows = read(xero.data)
    assert len(rows) == len(invoice.lines) == 2
    assert column_sum(rows, "*UnitAmount") == invoice.net_total
    assert column_sum(rows, "TaxAmount") == invoice.vat_total
    assert column_sum(rows, "*UnitAmount") + column_sum(rows, "TaxAmount") == invoice.total
    assert [row["*TaxType"] for row in rows] == ["No VAT", "20% (VAT on Income)"]
    assert {row["*InvoiceNumber"] for row in rows} == {invoice.number}
    assert {row["*InvoiceDate"] for row in rows} == {invoice.issue_date.strftime("%d/%m/%Y")}
    assert {row["*DueDate"] for row in rows} == {invoice.due_date.strftime("%d/%m/%Y")}
    assert {row["Reference"] for row in rows} == {"PO-77"}
    assert {row["*AccountCode"] for row in rows} == {"200"}
    assert rows[1]["*Description"].startswith("2. Other expenses, ")

    books = read(as_manager.get(f"/invoices/{invoice.id}/quickbooks.csv").data)
    assert column_sum(books, "ItemAmount") == invoice.net_total
    assert column_sum(books, "ItemTaxAmount") == invoice.vat_total
    assert [row["ItemTaxCode"] for row in books] == ["No VAT", "20.0% S"]

    lines = read(as_manager.get(f"/invoices/{invoice.id}/lines.csv").data)
    assert column_sum(lines, "Total") == invoice.total
    assert [row["Description"] for row in lines][1] == '\'=HYPERLINK("http://x") toner'
    assert [row["Line"] for row in lines] == ["1", "2"]


def test_a_credit_note_exports_to_the_credit_note_imports(
    client: FlaskClient, world: World, vat_invoice: Invoice
) -> None:
    note = crediting.credit_invoice(
        db.session, vat_invoice, user_id=None, today=vat_invoice.issue_date, reason="Duplicate"
    )
    db.session.commit()
    login(client, world.finance)
    xero = read(client.get(f"/invoices/{note.id}/xero.csv").data)
    assert column_sum(xero, "*UnitAmount") == note.net_total < 0
    assert column_sum(xero, "*UnitAmount") + column_sum(xero, "TaxAmount") == note.total
    assert {row["Reference"] for row in xero} == {vat_invoice.number}
    books = read(client.get(f"/invoices/{note.id}/quickbooks.csv").data)
    assert "InvoiceNo" not in books[0] and {row["CreditNoteNo"] for row in books} == {note.number}
    assert column_sum(books, "ItemAmount") + column_sum(books, "ItemTaxAmount") == -note.total
    lines = read(client.get(f"/invoices/{note.id}/lines.csv").data)
    assert column_sum(lines, "Total") == note.total == -vat_invoice.total
    page = client.get(f"/invoices/{note.id}").get_data(as_text=True)
    assert "CSV for Xero (credit note import)" in page


def test_a_draft_is_refused_with_what_to_do(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_staff_line(db.session, incident)
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[line.id], user_id=None
    )
    db.session.commit()
    for layout in ("xero", "quickbooks", "lines"):
        response = as_manager.get(f"/invoices/{draft.id}/{layout}.csv")
        assert response.status_code == 409
        assert "Issue it first" in response.get_data(as_text=True)
    page = as_manager.get(f"/invoices/{draft.id}").get_data(as_text=True)
    assert "CSV for Xero" not in page


def test_the_pdfs_access_rules_hold(client: FlaskClient, world: World) -> None:
    claim = make_claim(db.session, world.practice_a, None, user=world.manager)
    db.session.commit()
    for user, status in (
        (world.manager, 200),
        (world.finance, 200),
        (world.reviewer, 200),  # ICB X reads its claims, as it reads their PDFs
        (world.manager_b, 404),
        (world.reviewer_y, 404),
    ):
        login(client, user)
        for layout in ("xero", "quickbooks", "lines"):
            response = client.get(f"/invoices/{claim.id}/{layout}.csv")
            assert response.status_code == status, (user.email, layout)
            assert client.get(f"/invoices/{claim.id}.pdf").status_code == status
        client.post("/logout")
    assert client.get(f"/invoices/{claim.id}/xero.csv").status_code in (302, 401)


def test_the_register_exports_follow_its_filters_and_split_credit_notes(
    client: FlaskClient, world: World
) -> None:
    first = make_claim(db.session, world.practice_a, None)
    second = make_claim(db.session, world.practice_a2, None, scale=2)
    cancelled = make_claim(db.session, world.practice_a, None, scale=3)
    note = crediting.credit_invoice(
        db.session, cancelled, user_id=None, today=cancelled.issue_date, reason="Wrong"
    )
    other = make_claim(db.session, world.practice_b, None)
    db.session.commit()
    login(client, world.finance)

    everything = read(client.get("/invoices/register-xero.csv").data)
    numbers = {row["*InvoiceNumber"] for row in everything}
    assert numbers == {first.number, second.number, cancelled.number}
    assert other.number not in numbers and note.number not in numbers
    for invoice in (first, second, cancelled):
        rows = [row for row in everything if row["*InvoiceNumber"] == invoice.number]
        assert len(rows) == len(invoice.lines)
        assert column_sum(rows, "*UnitAmount") + column_sum(rows, "TaxAmount") == invoice.total

    notes = read(client.get("/invoices/register-xero-credit-notes.csv").data)
    assert {row["*InvoiceNumber"] for row in notes} == {note.number}
    assert column_sum(notes, "*UnitAmount") == note.net_total < 0
    books_notes = read(client.get("/invoices/register-quickbooks-credit-notes.csv").data)
    assert column_sum(books_notes, "ItemAmount") == -note.net_total

    url = f"/invoices/register-quickbooks.csv?practice={world.practice_a2.id}"
    one = read(client.get(url).data)
    assert {row["InvoiceNo"] for row in one} == {second.number}
    assert column_sum(one, "ItemAmount") + column_sum(one, "ItemTaxAmount") == second.total

    lines = read(client.get(f"/invoices/register-lines.csv?practice={world.practice_a.id}").data)
    assert {row["Number"] for row in lines} == {first.number, cancelled.number, note.number}
    assert column_sum(lines, "Total") == first.total  # the cancelled one nets to nothing
    page = client.get("/invoices").get_data(as_text=True)
    assert "register-xero-credit-notes.csv" in page and "register-lines.csv" in page

    client.post("/logout")
    login(client, world.manager)  # not finance: no bulk exports, as for the workbook
    assert client.get("/invoices/register-lines.csv").status_code == 403
    assert "register-lines.csv" not in client.get("/invoices").get_data(as_text=True)


def test_icb_decisions_appear_in_the_lines(
    as_manager: FlaskClient, world: World, vat_invoice: Invoice
) -> None:
    from tracker.models import LineDecision

    first = vat_invoice.lines[0]
    db.session.add(
        LineDecision(
            invoice_line_id=first.id,
            decision="part_approved",
            approved_amount=D("10.00"),
            reason="Only one hour",
        )
    )
    db.session.commit()
    rows = read(as_manager.get(f"/invoices/{vat_invoice.id}/lines.csv").data)
    assert (rows[0]["ICB approved amount"], rows[0]["ICB reason"]) == ("10.00", "Only one hour")
    assert rows[0]["ICB decision"].lower().startswith("part")
    assert rows[1]["ICB decision"] == ""


def test_the_account_code_comes_from_the_settings(
    as_manager: FlaskClient, app: Flask, vat_invoice: Invoice
) -> None:
    app.config["ACCOUNTS_SALES_CODE"] = "4010"
    rows = read(as_manager.get(f"/invoices/{vat_invoice.id}/xero.csv").data)
    assert {row["*AccountCode"] for row in rows} == {"4010"}


def test_the_account_code_setting_is_kept_as_typed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bare = Flask("t", instance_path=str(tmp_path))
    load_config(bare)
    assert bare.config["ACCOUNTS_SALES_CODE"] == "200"
    monkeypatch.setenv("TRACKER_ACCOUNTS_SALES_CODE", "0200")
    load_config(bare)
    assert bare.config["ACCOUNTS_SALES_CODE"] == "0200"
