"""Issue 9 through the web: numbers in figures only, hours as h:mm, and line dates (the supply
period, the invoice-date rule and the warning for a cost dated far from its incident)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select, text

from tests.conftest import build_app, create_schema, wipe
from tests.factories import (
    World,
    make_incident,
    make_issued_invoice,
    make_staff_line,
)
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tests.integration.test_incidents import input_value, staff_form
from tracker.extensions import db
from tracker.models import CostLine, Invoice, InvoiceLine, RateCardItem
from tracker.services import invoicing

# --- numbers in figures only --------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1e3", "1E3", "Infinity", "NaN"])
def test_exponent_hours_are_refused_beside_the_field_and_kept(
    as_manager: FlaskClient, world: World, typed: str
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff", data=staff_form(quantity=typed)
    )
    page = response.data.decode()
    assert response.status_code == 200
    assert f"Enter hours in figures, like 6.5 or 6:30 (not {typed})" in page
    assert 'id="quantity-error"' in page
    assert input_value(page, "quantity") == typed
    assert db.session.scalar(select(CostLine)) is None


def test_an_exponent_amount_is_refused_on_an_expense(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/expense",
        data={
            "supplier": "Ryman",
            "description": "Paper",
            "line_date": "2024-07-19",
            "net_amount": "4.25E1",
        },
    )
    page = response.data.decode()
    assert "Enter the net amount as an amount, like 18.66 (not 4.25E1)" in page
    assert input_value(page, "net_amount") == "4.25E1"
    assert db.session.scalar(select(CostLine)) is None


def test_an_exponent_payment_is_refused(as_finance: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    invoice = make_issued_invoice(
        db.session, world.practice_a, [make_staff_line(db.session, incident)]
    )
    response = as_finance.post(
        f"/invoices/{invoice.id}/payments",
        data={"amount": "1e2", "paid_on": "2024-07-30", "reference": ""},
    )
    page = response.data.decode()
    assert "Enter the amount as a number, like 1250.00 (not 1e2)" in page
    assert 'value="1e2"' in page
    db.session.expire_all()
    assert db.session.get(Invoice, invoice.id).amount_paid == 0


def test_an_exponent_rate_card_figure_is_refused(as_manager: FlaskClient, world: World) -> None:
    from tracker.services.rates import seed_rate_card

    seed_rate_card(db.session, world.practice_a)
    db.session.commit()
    item = db.session.scalars(
        select(RateCardItem).where(RateCardItem.practice_id == world.practice_a.id)
    ).first()
    before = item.value
    response = as_manager.post(
        "/practice/rate-card", data={f"value-{item.id}": "1e3", f"source-{item.id}": "x"}
    )
    page = response.data.decode()
    assert "as a number, like" in page
    assert 'value="1e3"' in page
    db.session.expire_all()
    assert db.session.get(RateCardItem, item.id).value == before


# --- hours as h:mm ------------------------------------------------------------------------


def test_hours_typed_as_h_mm_are_saved_to_the_minute_and_shown_back(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff",
        data=staff_form(quantity="4:10", overtime_pct="0", pension_pct="0", ni_pct="0"),
    )
    assert response.status_code == 302, response.data.decode()
    line = db.session.scalars(select(CostLine)).one()
    assert line.quantity == Decimal("4.1667")
    assert "4 h 10 min" in as_manager.get(f"/incidents/{incident.id}").data.decode()
    edit = as_manager.get(f"/incidents/{incident.id}/costs/{line.id}/edit").data.decode()
    assert input_value(edit, "quantity") == "4:10"
    assert "For example, 6.5 or 6:30" in edit
    # on the invoice: the screen and the PDF say 4 h 10 min; the reports' hours are 4.17
    invoice = make_issued_invoice(db.session, world.practice_a, [line])
    assert invoice.lines[0].quantity == Decimal("4.1667")
    assert invoice.lines[0].hours == Decimal("4.17")
    assert "4 h 10 min" in as_manager.get(f"/invoices/{invoice.id}").data.decode()
    pdf = as_manager.get(f"/invoices/{invoice.id}.pdf").data
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "4 h 10 min" in words


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("4:75", "Minutes must be 00 to 59"),
        ("4:1", "Enter the minutes as 2 figures, like 4:01"),
        (":30", "Enter the hours before the colon, like 0:30"),
        ("4.1667", "Hours must have no more than 2 decimal places, or be typed as h:mm"),
    ],
)
def test_bad_h_mm_is_refused_and_kept(
    as_manager: FlaskClient, world: World, typed: str, message: str
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff", data=staff_form(quantity=typed)
    )
    page = response.data.decode()
    assert message in page
    assert input_value(page, "quantity") == typed
    assert db.session.scalar(select(CostLine)) is None


def locum_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "locum_name": "Dr A Khan",
        "description": "Locum GP cover",
        "line_date": "2024-07-19",
        "unit": "hour",
        "quantity": "4:10",
        "unit_rate": "90",
        "locum_pension": "none",
        "locum_invoice_ref": "",
        "vat_rate": "",
    }
    data.update(overrides)
    return data


def test_locum_hours_take_h_mm_but_sessions_do_not(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    url = f"/incidents/{incident.id}/costs/new/locum"
    refused = as_manager.post(url, data=locum_form(unit="session")).data.decode()
    assert "Enter sessions as a number, like 2: h:mm is for hours" in refused
    assert db.session.scalar(select(CostLine)) is None
    assert as_manager.post(url, data=locum_form()).status_code == 302
    assert db.session.scalars(select(CostLine)).one().quantity == Decimal("4.1667")


def test_rebooking_admin_hours_take_h_mm(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/appointments",
        data={
            "appointment_type": "gp",
            "description": "GP appointments cancelled",
            "line_date": "2024-07-19",
            "quantity": "10",
            "unit_rate": "45",
            "vat_rate": "",
            "rebook_hours": "1:20",
            "rebook_rate": "12",
            "rebook_basis": "overtime",
            "overtime_pct": "0",
        },
    )
    assert response.status_code == 302, response.data.decode()
    rebook = db.session.scalars(select(CostLine).where(CostLine.kind == "staff")).one()
    assert rebook.quantity == Decimal("1.3333")


# --- line dates ---------------------------------------------------------------------------


def test_supply_period_and_invoice_date_follow_the_line_dates(world: World) -> None:
    incident = make_incident(db.session, world.practice_a)  # 19 July 2024
    on_the_day = make_staff_line(db.session, incident)
    catch_up = make_staff_line(
        db.session, incident, line_date=date(2024, 7, 24), description="Catch-up overtime"
    )
    db.session.commit()
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[on_the_day.id, catch_up.id],
        user_id=None,
        po_reference="PO-1",
    )
    db.session.flush()
    with pytest.raises(invoicing.Invalid, match="cannot be before 24 July 2024"):
        invoicing.check_issue_date(db.session, draft, date(2024, 7, 23), date(2024, 7, 26))
    invoice = invoicing.issue_invoice(db.session, draft, user_id=None, today=date(2024, 7, 26))
    assert (invoice.supply_from, invoice.supply_to) == (date(2024, 7, 19), date(2024, 7, 24))


def test_a_cost_dated_far_from_its_incident_is_flagged_everywhere(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff",
        data=staff_form(line_date="2021-07-19"),
        follow_redirects=True,
    )
    page = response.data.decode()
    warning = "Dated 3 years before the incident started (19 July 2024): check the date"
    assert "app-flash--warning" in page and warning in page  # after saving
    assert 'data-testid="date-warning"' in as_manager.get(f"/incidents/{incident.id}").data.decode()
    line = db.session.scalars(select(CostLine)).one()
    as_manager.post("/invoices/new", data={"cost_line_ids": [line.id]})
    draft = db.session.scalars(select(Invoice)).one()
    draft_page = as_manager.get(f"/invoices/{draft.id}").data.decode()
    assert f"Line 1, Phoning patients to rebook: {warning}." in draft_page


def test_a_cost_within_28_days_is_not_flagged(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    page = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff",
        data=staff_form(line_date="2024-08-16"),
        follow_redirects=True,
    ).data.decode()
    assert "app-flash--success" in page
    assert "check the date" not in page


# --- migration 0003 and old backups -------------------------------------------------------


def test_migration_0003_scales_quantities_and_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Up, 6.5 hours stay 6.5 hours (65000 ten-thousandths); down again, 4:10 becomes
    4.17 (416.67 rounded half up) and credit-note quantities round away from zero."""
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    create_schema(app)
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        quantities = {line.id: line.quantity for line in db.session.scalars(select(CostLine))}
        printed = {line.id: line.quantity for line in db.session.scalars(select(InvoiceLine))}
        minute_line = db.session.scalars(
            select(CostLine).where(CostLine.invoice_id.is_(None))
        ).first()
        minute_line.quantity = Decimal("4.1665")
        negative = db.session.scalars(select(InvoiceLine)).first()
        negative.quantity = Decimal("-4.1650")
        db.session.commit()
        ids = (minute_line.id, negative.id)
        db.session.remove()
        downgrade(revision="0002")
        with db.engine.connect() as conn:
            raw = conn.execute(text("SELECT id, quantity FROM cost_line")).all()
            assert (
                conn.scalar(
                    text("SELECT quantity FROM invoice_line WHERE id = :id"), {"id": ids[1]}
                )
                == -417
            )
        assert dict(raw)[ids[0]] == 417
        assert all(dict(raw)[i] == int(q * 100) for i, q in quantities.items() if i != ids[0])
        upgrade()
        after = {line.id: line.quantity for line in db.session.scalars(select(CostLine))}
        assert after[ids[0]] == Decimal("4.17")
        assert {i: q for i, q in after.items() if i != ids[0]} == {
            i: q for i, q in quantities.items() if i != ids[0]
        }
        again = {line.id: line.quantity for line in db.session.scalars(select(InvoiceLine))}
        assert again[ids[1]] == Decimal("-4.17")
        assert {i: q for i, q in again.items() if i != ids[1]} == {
            i: q for i, q in printed.items() if i != ids[1]
        }
        db.session.remove()
        db.engine.dispose()


def test_a_backup_from_before_0003_restores_its_quantities(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    """Backups hold quantities as decimal text ("6.50"), not scaled integers, so one written
    with 2-place quantities restores to the same hours."""
    incident = make_incident(db.session, world.practice_a)
    make_issued_invoice(db.session, world.practice_a, [make_staff_line(db.session, incident)])
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    with zipfile.ZipFile(target) as archive:
        payload = json.loads(archive.read("database.json"))
    for table in ("cost_line", "invoice_line"):
        for row in payload["tables"][table]:
            row["quantity"] = f"{Decimal(row['quantity']):.2f}"  # as written before 0003
    del payload["schema"], payload["files"]  # nor did backups then list their schema and files
    legacy = tmp_path / "legacy.zip"
    with zipfile.ZipFile(legacy, "w") as archive:
        archive.writestr("database.json", json.dumps(payload))
    db.session.remove()
    wipe(app_ctx)
    result = runner.invoke(args=["restore", str(legacy)])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(CostLine)).quantity == Decimal("6.5")
    assert db.session.scalar(select(InvoiceLine)).quantity == Decimal("6.5")
