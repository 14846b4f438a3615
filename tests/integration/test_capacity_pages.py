"""Lost capacity apart from costs incurred, the double-counting warning, VAT per line and
evidence named per line, through the pages and the issued documents (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from decimal import Decimal

from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader

from tests import factories
from tests.factories import (
    World,
    make_appointments_line,
    make_expense_line,
    make_incident,
    make_staff_line,
)
from tracker.cost_kinds import CAPACITY_LOST
from tracker.extensions import db
from tracker.models import CostLine, Evidence, Invoice
from tracker.services import invoice_documents, invoicing

TODAY = date(2024, 7, 26)
WARNING = (
    "19 July 2024 has both lost appointments (£1,710.00) and locum or staff time: if that "
    "time was spent catching up the same appointments, claim one or the other, not both."
)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&#39;", "'")


def attach(line: CostLine, name: str) -> None:
    db.session.add(
        Evidence(
            practice_id=line.incident.practice_id,
            cost_line_id=line.id,
            original_filename=name,
            stored_name=f"{line.id}-{name}",
            content_type="application/pdf",
            size_bytes=1000,
            sha256="0" * 64,
        )
    )


def claimed_lines(world: World) -> list[CostLine]:
    """Staff overtime and 38 GP appointments lost (£1,710.00) on 19 July 2024."""
    incident = make_incident(db.session, world.practice_a)
    staff = make_staff_line(db.session, incident)
    appointments = make_appointments_line(db.session, incident)
    attach(staff, "Rota July.pdf")
    attach(appointments, "Cancelled clinics.pdf")
    attach(appointments, "Appointment book.pdf")
    db.session.commit()
    return [staff, appointments]


def test_incident_page_totals_capacity_lost_apart_and_warns_of_double_counting(
    as_manager: FlaskClient, world: World
) -> None:
    staff, _appointments = claimed_lines(world)
    page = text_of(as_manager.get(f"/incidents/{staff.incident_id}").data.decode())
    assert WARNING in page
    assert "Capacity lost (notional) £1,710.00" in page
    assert f"Costs incurred {f'£{staff.total_amount:,.2f}'}" in page
    assert f"Costs incurred subtotal {f'£{staff.total_amount:,.2f}'}" in page
    assert f"{CAPACITY_LOST} subtotal £1,710.00" in page
    assert page.index("Costs incurred subtotal") < page.index(f"{CAPACITY_LOST} subtotal")


def test_no_warning_when_the_time_was_on_another_day(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    make_staff_line(db.session, incident, line_date=date(2024, 7, 22))
    make_appointments_line(db.session, incident)
    db.session.commit()
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "double-counting" not in page and "Check for double counting" not in page


def test_draft_warns_and_the_issued_invoice_shows_sections_types_and_evidence(
    as_manager: FlaskClient, world: World
) -> None:
    lines = claimed_lines(world)
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[line.id for line in lines],
        user_id=world.manager.id,
    )
    db.session.commit()
    page = text_of(as_manager.get(f"/invoices/{draft.id}").data.decode())
    assert WARNING in page
    assert "38 GP appointments" in page
    assert "Evidence: Cancelled clinics.pdf, Appointment book.pdf" in page

    invoice = invoicing.issue_invoice(db.session, draft, user_id=world.manager.id, today=TODAY)
    db.session.commit()
    frozen = json.loads(invoice.evidence_snapshot or "")
    assert frozen["by_line"] == {
        "1": ["Rota July.pdf"],
        "2": ["Cancelled clinics.pdf", "Appointment book.pdf"],
    }
    page = text_of(as_manager.get(f"/invoices/{invoice.id}").data.decode())
    assert WARNING not in page  # an issued invoice cannot change: the warning was the draft's
    assert f"{CAPACITY_LOST} subtotal £1,710.00" in page
    doc = invoice_documents.invoice_document(invoice, TODAY)
    assert sum((section.total for section in doc.sections), Decimal(0)) == invoice.total
    pdf = " ".join(
        p.extract_text()
        for p in PdfReader(io.BytesIO(as_manager.get(f"/invoices/{invoice.id}.pdf").data)).pages
    )
    pdf = re.sub(r"\s+", " ", pdf)
    assert "38 GP appointments" in pdf
    assert "Evidence: Rota July.pdf" in pdf
    assert f"{CAPACITY_LOST} subtotal £1,710.00" in pdf
    xlsx = load_workbook(io.BytesIO(as_manager.get(f"/invoices/{invoice.id}.xlsx").data))
    row = next(r for r in xlsx["Lines"].iter_rows() if r[2].value == "Lost appointments")
    assert (row[6].value, row[7].value) == (38, "GP appointments")
    assert row[14].value == "Cancelled clinics.pdf, Appointment book.pdf"


def test_an_invoice_issued_before_evidence_was_named_per_line_still_reads(world: World) -> None:
    invoice = factories.make_issued_invoice(db.session, world.practice_a, claimed_lines(world))
    invoice.evidence_snapshot = json.dumps(["Rota July.pdf: Practice nurse overtime"])
    db.session.commit()
    doc = invoice_documents.invoice_document(db.session.get(Invoice, invoice.id), TODAY)
    assert doc.evidence == ("Rota July.pdf: Practice nurse overtime",)
    assert all(line.evidence == () for line in doc.lines)


def test_vat_rate_per_line_for_a_registered_practice_and_none_for_an_unregistered_one(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    lines = [make_staff_line(db.session, incident), make_expense_line(db.session, incident)]
    db.session.commit()
    unregistered = factories.make_issued_invoice(db.session, world.practice_a, lines)
    page = as_manager.get(f"/invoices/{unregistered.id}").data.decode()
    assert 'data-testid="line-vat"' not in page
    assert invoice_documents.VAT_STATEMENT in page

    world.practice_a.vat_number = "GB123456789"
    incident = make_incident(db.session, world.practice_a, title="Telephony")
    lines = [
        make_staff_line(db.session, incident),
        make_expense_line(db.session, incident, vat_registered=True),
    ]
    db.session.commit()
    registered = factories.make_issued_invoice(db.session, world.practice_a, lines)
    page = text_of(as_manager.get(f"/invoices/{registered.id}").data.decode())
    staff_total = f"£{lines[0].total_amount:,.2f}"
    assert "£8.50 20%" in page and "No VAT" in page
    assert f"Lines with no VAT (included above) {staff_total}" in page
    statement = invoice_documents.invoice_document(registered, TODAY).vat_statement
    assert statement == invoice_documents.MIXED_VAT_STATEMENT.format(total=staff_total)


def test_reports_show_capacity_lost_apart_from_costs_incurred(world: World) -> None:
    from tracker.documents.report_pdf import build_report_pdf
    from tracker.documents.report_xlsx import build_report_xlsx
    from tracker.services import reports

    event = factories.make_event(db.session)
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    staff = make_staff_line(db.session, incident)
    appointments = make_appointments_line(db.session, incident)
    db.session.commit()
    factories.make_issued_invoice(db.session, world.practice_a, [staff, appointments])
    report = reports.icb_report(db.session, event, world.icb_x, today=TODAY)
    assert [row.kind for row in report.by_kind][-1] == "appointments"
    assert report.capacity_lost.claimed == Decimal("1710.00")
    assert report.costs_incurred.claimed == staff.total_amount
    assert report.costs_incurred.claimed + report.capacity_lost.claimed == report.totals.claimed
    pdf = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(build_report_pdf(report))).pages)
    assert f"{CAPACITY_LOST} subtotal" in re.sub(r"\s+", " ", pdf)
    wb = load_workbook(io.BytesIO(build_report_xlsx(report)))
    labels = [row[0].value for row in wb["By cost kind"].iter_rows()]
    assert labels.index("Lost appointments") < labels.index(f"{CAPACITY_LOST} subtotal")
