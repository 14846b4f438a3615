"""Journeys 4 to 6 through the Flask test client: build, issue, download, credit, pay."""

from __future__ import annotations

import io
import re
import zipfile
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import (
    World,
    make_expense_line,
    make_incident,
    make_issued_invoice,
    make_staff_line,
)
from tracker.extensions import db
from tracker.models import Invoice, InvoiceStatus


def costed(world: World, practice=None):
    incident = make_incident(db.session, practice or world.practice_a, title="EMIS down all day")
    lines = [make_staff_line(db.session, incident), make_expense_line(db.session, incident)]
    db.session.commit()
    return incident, lines


def pdf_text(data: bytes) -> str:
    """The PDF's text with all white space folded to single spaces (lines wrap in cells)."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def invoice_count() -> int:
    return db.session.scalar(select(func.count(Invoice.id)))


def test_invoice_the_icb_from_an_incident_opens_with_that_incident_chosen(
    as_manager: FlaskClient, world: World
) -> None:
    """The incident page's "Invoice the ICB" link opens the new-invoice page with that incident
    ticked and no other; an id that is not one of the practice's uninvoiced incidents ticks
    nothing."""
    incident, _lines = costed(world)
    other = make_incident(db.session, world.practice_a, title="Docman down")
    make_expense_line(db.session, other)
    foreign, _ = costed(world, world.practice_b)
    db.session.commit()
    link = f'href="/invoices/new?incident={incident.id}"'
    assert link in as_manager.get(f"/incidents/{incident.id}").data.decode()
    page = as_manager.get(f"/invoices/new?incident={incident.id}").data.decode()
    ticked = re.findall(r'name="incident_ids" type="checkbox" value="(\d+)" checked', page)
    assert ticked == [str(incident.id)]
    for asked in (str(foreign.id), "99999999999", "x"):
        page = as_manager.get(f"/invoices/new?incident={asked}").data.decode()
        assert "Docman down" in page and " checked" not in page


def test_build_preview_and_issue_an_invoice(as_manager: FlaskClient, world: World) -> None:
    incident, lines = costed(world)
    page = as_manager.get("/invoices/new").data.decode()
    assert "EMIS down all day" in page and "Practice nurse overtime" in page
    response = as_manager.post("/invoices/new", data={"incident_ids": [incident.id]})
    assert response.status_code == 302
    draft = db.session.scalar(select(Invoice))
    preview = as_manager.get(response.location).data.decode()
    total = sum(line.total_amount for line in lines)
    assert "Draft invoice" in preview and f"£{total:,}" in preview
    assert "purchase-order" in preview  # the missing-reference warning
    as_manager.post(f"/invoices/{draft.id}/details", data={"po_reference": "PO 4471/24"})
    response = as_manager.post(f"/invoices/{draft.id}/issue")
    assert response.status_code == 302
    db.session.expire_all()
    invoice = db.session.get(Invoice, draft.id)
    assert invoice.number == f"A81001{invoice.issue_date.year}0001"
    assert invoice.po_reference == "PO 4471/24"
    page = as_manager.get(f"/invoices/{invoice.id}").data.decode()
    assert invoice.number in page and "Download PDF" in page


def test_single_lines_can_be_invoiced_and_the_rest_stay_free(
    as_manager: FlaskClient, world: World
) -> None:
    _incident, lines = costed(world)
    as_manager.post("/invoices/new", data={"cost_line_ids": [lines[0].id]})
    draft = db.session.scalar(select(Invoice))
    as_manager.post(f"/invoices/{draft.id}/issue")
    page = as_manager.get("/invoices/new").data.decode()
    assert f'id="line-{lines[1].id}"' in page
    assert f'id="line-{lines[0].id}"' not in page


def test_choosing_nothing_is_refused(as_manager: FlaskClient, world: World) -> None:
    costed(world)
    response = as_manager.post("/invoices/new", data={})
    assert b"Choose at least one incident or cost line" in response.data
    assert invoice_count() == 0


def test_no_route_changes_an_issued_invoice(as_finance: FlaskClient, world: World) -> None:
    _incident, lines = costed(world)
    invoice = make_issued_invoice(db.session, world.practice_a, lines)
    before = (
        invoice.number,
        invoice.total,
        invoice.po_reference,
        invoice.status,
        [line.total_amount for line in invoice.lines],
    )
    as_finance.post(f"/invoices/{invoice.id}/details", data={"po_reference": "CHANGED"})
    as_finance.post(f"/invoices/{invoice.id}/issue")
    as_finance.post(f"/invoices/{invoice.id}/delete")
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice.id)
    assert (
        invoice.number,
        invoice.total,
        invoice.po_reference,
        invoice.status,
        [line.total_amount for line in invoice.lines],
    ) == before


def test_downloads_are_the_same_every_time(as_manager: FlaskClient, world: World) -> None:
    invoice = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    first = as_manager.get(f"/invoices/{invoice.id}.pdf")
    assert first.mimetype == "application/pdf"
    assert f"filename={invoice.number}.pdf" in first.headers["Content-Disposition"]
    assert as_manager.get(f"/invoices/{invoice.id}.pdf").data == first.data
    text = pdf_text(first.data)
    assert invoice.number in text
    assert "A81001" in text and "NHS Exampleshire Integrated Care Board" in text
    assert "QXA Payables AB12" in text and "LS11 1HP" in text  # the ICB's invoice address
    for line in invoice.lines:  # every line, to the penny as in the database
        assert line.description in text and f"£{line.net_amount:,}" in text
    assert f"£{invoice.total:,}" in text
    workbook = load_workbook(io.BytesIO(as_manager.get(f"/invoices/{invoice.id}.xlsx").data))
    values = [c.value for row in workbook["Invoice"].iter_rows() for c in row]
    assert invoice.number in values
    sheet = workbook["Lines"]
    header = next(r for r in sheet.iter_rows() if any(c.value == "Description" for c in r))
    columns = {c.value: c.column for c in header}
    rows = [
        r
        for r in sheet.iter_rows(min_row=header[0].row + 1)
        if r[columns["Description"] - 1].value in {x.description for x in invoice.lines}
    ]
    totals = [Decimal(str(r[columns["Total"] - 1].value)).quantize(Decimal("0.01")) for r in rows]
    assert len(totals) == len(invoice.lines)
    assert sum(totals) == invoice.total


def test_draft_pdf_is_marked_draft(as_manager: FlaskClient, world: World) -> None:
    _incident, lines = costed(world)
    as_manager.post("/invoices/new", data={"cost_line_ids": [line.id for line in lines]})
    draft = db.session.scalar(select(Invoice))
    assert "DRAFT" in pdf_text(as_manager.get(f"/invoices/{draft.id}.pdf").data)


def test_other_practices_and_icbs_get_404(client: FlaskClient, world: World) -> None:
    invoice = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    costed(world, world.practice_b)
    db.session.commit()
    urls = [
        f"/invoices/{invoice.id}",
        f"/invoices/{invoice.id}.pdf",
        f"/invoices/{invoice.id}.xlsx",
    ]
    posts = [
        f"/invoices/{invoice.id}/{action}"
        for action in ("details", "issue", "delete", "credit", "payments", "refunds")
    ]
    for user in (world.manager_b, world.reviewer_y):
        login(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user.email, url)
        for url in posts:
            assert client.post(url, data={}).status_code == 404, (user.email, url)
        client.post("/logout")
    login(client, world.reviewer)  # the reviewer of ICB X may read the claim
    assert client.get(f"/invoices/{invoice.id}.pdf").status_code == 200
    assert client.post(f"/invoices/{invoice.id}/payments", data={}).status_code == 404
    client.post("/logout")
    login(client, world.manager)
    assert client.get("/invoices").data.count(invoice.number.encode()) == 1
    assert b"B82001" not in client.get("/invoices").data


def test_reviewers_never_see_drafts(client: FlaskClient, world: World) -> None:
    _incident, lines = costed(world)
    login(client, world.manager)
    client.post("/invoices/new", data={"cost_line_ids": [line.id for line in lines]})
    draft = db.session.scalar(select(Invoice))
    client.post("/logout")
    login(client, world.reviewer)
    assert client.get(f"/invoices/{draft.id}.pdf").status_code == 404


def test_only_finance_records_payments_and_credit_notes(
    as_manager: FlaskClient, world: World
) -> None:
    invoice = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    assert as_manager.post(f"/invoices/{invoice.id}/payments", data={}).status_code == 403
    assert as_manager.get(f"/invoices/{invoice.id}/credit").status_code == 403


def payment(amount: str, paid_on: str = "2024-08-01", reference: str = "BACS 991") -> dict:
    return {"amount": amount, "paid_on": paid_on, "reference": reference}


def test_part_payment_then_full_payment(as_finance: FlaskClient, world: World) -> None:
    invoice = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    response = as_finance.post(f"/invoices/{invoice.id}/payments", data=payment("100.00"))
    assert response.status_code == 302
    page = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert re.search(r'data-testid="invoice-state">(Part-paid|Overdue)<', page)
    rest = invoice.total - Decimal("100.00")
    as_finance.post(f"/invoices/{invoice.id}/payments", data=payment(str(rest)))
    page = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert 'data-testid="invoice-state">Paid<' in page


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "Enter the amount as a number"),
        ("-5", "Enter an amount greater than £0"),
        ("1.234", "pounds and pence"),
        ("999999.00", "still owed"),
    ],
)
def test_bad_payments_are_refused_next_to_the_field(
    as_finance: FlaskClient, world: World, amount: str, message: str
) -> None:
    invoice = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    response = as_finance.post(f"/invoices/{invoice.id}/payments", data=payment(amount))
    page = response.data.decode()
    assert response.status_code == 422
    assert message in page
    assert f'value="{amount}"' in page
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).amount_paid == 0


def test_a_bad_refund_is_shown_on_the_refund_form_not_the_payment_form(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    # part-paid, so the page offers both a payment and a refund form
    as_finance.post(f"/invoices/{invoice.id}/payments", data=payment("100.00"))
    response = as_finance.post(
        f"/invoices/{invoice.id}/refunds", data=payment("abc", reference="RF 77")
    )
    page = response.data.decode()
    assert response.status_code == 422
    refund_section = page.index("Money received can be credited only after")
    assert 'value="abc"' in page[refund_section:]
    assert 'value="RF 77"' in page[refund_section:]
    assert 'value="abc"' not in page[:refund_section]
    assert "Enter the amount as a number" in page[refund_section:]


def test_credit_note_from_the_browser_flow(as_finance: FlaskClient, world: World) -> None:
    _incident, lines = costed(world)
    invoice = make_issued_invoice(db.session, world.practice_a, lines)
    response = as_finance.post(f"/invoices/{invoice.id}/credit", data={"reason": ""})
    assert b"Enter the reason for the credit note" in response.data
    response = as_finance.post(
        f"/invoices/{invoice.id}/credit", data={"reason": "Hours were wrong"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    note = db.session.scalar(select(Invoice).where(Invoice.kind == "credit_note"))
    assert note.total == -invoice.total
    assert db.session.get(Invoice, invoice.id).status == InvoiceStatus.CANCELLED
    text = pdf_text(as_finance.get(f"/invoices/{note.id}.pdf").data)
    assert "Credit note" in text and invoice.number in text


def test_register_filters_totals_and_exports(as_finance: FlaskClient, world: World) -> None:
    first = make_issued_invoice(db.session, world.practice_a, costed(world)[1])
    second = make_issued_invoice(db.session, world.practice_a2, costed(world, world.practice_a2)[1])
    as_finance.post(f"/invoices/{first.id}/payments", data=payment(str(first.total)))
    page = as_finance.get("/invoices").data.decode()
    assert first.number in page and second.number in page
    paid_only = as_finance.get("/invoices?status=paid").data.decode()
    assert first.number in paid_only and second.number not in paid_only
    one_practice = as_finance.get(f"/invoices?practice={world.practice_a2.id}").data.decode()
    assert first.number not in one_practice
    workbook = load_workbook(io.BytesIO(as_finance.get("/invoices/register.xlsx").data))
    sheet = workbook.worksheets[0]
    numbers = [c.value for c in sheet["A"]]
    assert first.number in numbers and second.number in numbers
    archive = zipfile.ZipFile(io.BytesIO(as_finance.get("/invoices/invoices.zip").data))
    assert sorted(archive.namelist()) == sorted([f"{first.number}.pdf", f"{second.number}.pdf"])
    assert archive.read(f"{first.number}.pdf").startswith(b"%PDF")
