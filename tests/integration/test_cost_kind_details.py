"""The kind-specific details (staff role, locum's name and invoice number, appointment type,
supplier) travel from the cost-line forms to the issued invoice: its page, PDF and Excel."""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import create_engine, make_url, select, text

from tests.conftest import build_app, create_schema, missing
from tests.factories import World, make_incident, make_issued_invoice, make_staff_line
from tracker.extensions import db
from tracker.models import CostLine, Invoice, InvoiceLine

EXPECTED = (
    "Staff: Receptionist (Band 2) · Paid as: Overtime",
    "Locum: Dr Łukasz Nowak · Pension: Not pensionable · Locum invoice: LOC-1234",
    "Appointment type: GP",
    "Supplier: Ryman",
)


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


def _add_one_line_of_each_kind(client: FlaskClient, incident_id: int) -> None:
    base = f"/incidents/{incident_id}/costs/new"
    common = {"line_date": "2024-07-19", "description": "Outage work"}
    forms = {
        "staff": {
            "staff_role": "Receptionist (Band 2)",
            "quantity": "6.5",
            "unit_rate": "12.45",
            "pay_basis": "overtime",
            "overtime_pct": "0",
        },
        "locum": {
            "locum_name": "Dr Łukasz Nowak",
            "unit": "session",
            "quantity": "2",
            "unit_rate": "357",
            "locum_pension": "none",
            "locum_invoice_ref": "LOC-1234",
        },
        "appointments": {"appointment_type": "gp", "quantity": "38", "unit_rate": "45"},
        "expense": {"supplier": "Ryman", "net_amount": "42.50", "vat_paid": "8.50"},
    }
    for kind, values in forms.items():
        response = client.post(f"{base}/{kind}", data={**common, **values})
        assert response.status_code == 302, response.data.decode()


def _issue(client: FlaskClient, incident_id: int) -> Invoice:
    response = client.post("/invoices/new", data={"incident_ids": [incident_id]})
    assert response.status_code == 302
    draft = db.session.scalar(select(Invoice))
    client.post(f"/invoices/{draft.id}/details", data={"po_reference": "PO 1"})
    assert client.post(f"/invoices/{draft.id}/issue").status_code == 302
    db.session.expire_all()
    return db.session.get(Invoice, draft.id)


def test_details_reach_the_issued_invoice_page_pdf_and_excel(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    _add_one_line_of_each_kind(as_manager, incident.id)
    invoice = _issue(as_manager, incident.id)
    assert invoice.number
    # frozen on the invoice lines at issue
    frozen = {line.kind: line.details for line in invoice.lines}
    assert frozen["locum"] == [
        {"name": "locum_name", "label": "Locum", "value": "Dr Łukasz Nowak"},
        {"name": "locum_pension", "label": "Pension", "value": "Not pensionable"},
        {"name": "locum_invoice_ref", "label": "Locum invoice", "value": "LOC-1234"},
    ]
    page = as_manager.get(f"/invoices/{invoice.id}").data.decode()
    pdf = pdf_text(as_manager.get(f"/invoices/{invoice.id}.pdf").data)
    workbook = load_workbook(io.BytesIO(as_manager.get(f"/invoices/{invoice.id}.xlsx").data))
    cells = [str(cell.value) for sheet in workbook for row in sheet.iter_rows() for cell in row]
    for expected in EXPECTED:
        assert expected.replace("'", "&#39;") in page
        assert expected in pdf
        assert expected in cells


def test_the_reviewer_and_the_practice_feedback_see_the_details(
    client: FlaskClient, world: World
) -> None:
    from tests.conftest import login

    login(client, world.manager)
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    _add_one_line_of_each_kind(client, incident.id)
    invoice = _issue(client, incident.id)
    feedback = client.get(f"/claims/{invoice.id}/feedback").data.decode()
    client.post("/logout")
    login(client, world.reviewer)
    claim = client.get(f"/review/claims/{invoice.id}").data.decode()
    locum = next(line for line in invoice.lines if line.kind == "locum")
    decide = client.get(f"/review/claims/{invoice.id}/lines/{locum.id}").data.decode()
    for expected in EXPECTED:
        assert expected.replace("'", "&#39;") in claim
        assert expected.replace("'", "&#39;") in feedback
    assert "Locum: Dr Łukasz Nowak · Pension: Not pensionable · Locum invoice: LOC-1234" in decide


def test_the_incident_and_the_cost_show_their_details(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    _add_one_line_of_each_kind(as_manager, incident.id)
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "Dr Łukasz Nowak, invoice LOC-1234" in page
    assert "Receptionist (Band 2)" in page and "Ryman" in page
    locum = db.session.scalar(select(CostLine).where(CostLine.kind == "locum"))
    assert locum.details == {
        "locum_name": "Dr Łukasz Nowak",
        "locum_pension": "none",
        "locum_invoice_ref": "LOC-1234",
    }
    line_page = as_manager.get(f"/incidents/{incident.id}/costs/{locum.id}").data.decode()
    assert "Locum&#39;s invoice number" in line_page and "LOC-1234" in line_page
    edit = as_manager.get(f"/incidents/{incident.id}/costs/{locum.id}/edit").data.decode()
    assert 'value="LOC-1234"' in edit and 'value="Dr Łukasz Nowak"' in edit
    # a change of a detail reads in the history with its label and the choice's label
    appointments = db.session.scalar(select(CostLine).where(CostLine.kind == "appointments"))
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/{appointments.id}/edit",
        data={
            "appointment_type": "nurse",
            "description": "Outage work",
            "line_date": "2024-07-19",
            "quantity": "38",
            "unit_rate": "45",
        },
    )
    assert response.status_code == 302
    history = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert re.search(r"Appointment type:</span> GP <span[^>]*>→</span>.*? Nurse</li>", history)


def test_a_too_long_detail_is_refused_next_to_its_field(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/expense",
        data={
            "supplier": "R" * 121,
            "description": "Paper",
            "line_date": "2024-07-19",
            "net_amount": "10",
        },
    )
    page = response.data.decode()
    assert response.status_code == 200
    assert "Supplier must be 120 characters or fewer (you entered 121)" in page
    assert 'id="supplier-error"' in page
    assert db.session.scalar(select(CostLine)) is None


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of its own (the migration test goes down and up again)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrate.db'}"
        return
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        missing("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"tracker_migrate_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migration_0002_moves_details_and_back(empty_database: str, tmp_path: Path) -> None:
    """Down to 0001 the details return to their own columns; up again they move into the
    JSON column, and lines of invoices issued before 0002 get their printed details."""
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    create_schema(app)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        before = {line.id: line.details for line in db.session.scalars(select(CostLine))}
        # lines copied from a cost line (a credit note's lines are not: 0002 rebuilds details
        # from the cost line, and 0001 had nowhere to keep a credit note's own)
        copied = select(InvoiceLine).where(InvoiceLine.cost_line_id.isnot(None))
        printed = {line.id: line.details for line in db.session.scalars(copied)}
        db.session.remove()
        assert any(details.get("locum_name") for details in before.values())
        assert any(printed.values())
        downgrade(revision="0001")
        with db.engine.connect() as conn:
            names = conn.execute(
                text("SELECT locum_name, locum_invoice_ref FROM cost_line WHERE kind = 'locum'")
            ).all()
        assert ("Dr Łukasz Nowak", "LN-2407-20") in names
        upgrade()
        assert {line.id: line.details for line in db.session.scalars(select(CostLine))} == before
        after = {line.id: line.details for line in db.session.scalars(copied)}
        # 0001 has no column for how staff hours were paid or a locum's pension (0004's
        # details), so an issued line's printed details keep the rest of what they were
        added_in_0004 = {"pay_basis", "locum_pension"}
        assert after == {
            line_id: [item for item in details if item["name"] not in added_in_0004]
            for line_id, details in printed.items()
        }
        db.session.remove()
        db.engine.dispose()


def test_an_invoiced_cost_cannot_be_edited_or_deleted(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_staff_line(db.session, incident)
    make_issued_invoice(db.session, world.practice_a, [line])
    url = f"/incidents/{incident.id}/costs/{line.id}"
    edit = as_manager.get(f"{url}/edit", follow_redirects=True).data.decode()
    assert "on an issued invoice and can no longer be changed" in edit
    delete = as_manager.post(f"{url}/delete", follow_redirects=True).data.decode()
    assert "on an issued invoice and can no longer be deleted" in delete
    assert db.session.get(CostLine, line.id) is not None
