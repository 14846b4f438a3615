"""Pricing by the rules in force on a line's date, end to end: the demo is priced by them,
its invoices print every step and detail, and a later rate-card change never moves a priced
line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import PASSWORD, login, wipe
from tests.factories import World, make_incident
from tests.integration.test_cost_kind_details import pdf_text
from tracker import demo
from tracker.extensions import db
from tracker.models import CostLine, Invoice, InvoiceStatus, Practice, RateCardItem, User
from tracker.services import cost_lines
from tracker.services.cost_lines import LineInput
from tracker.services.rates import update_rate_card

D = Decimal


@pytest.fixture
def demo_app(app: Flask) -> Iterator[Flask]:
    wipe(app)
    with app.app_context():
        demo.seed_demo(db.session, PASSWORD, upload_folder=app.config["UPLOAD_FOLDER"])
        db.session.commit()
    yield app
    wipe(app)


def test_the_demo_is_priced_by_the_rules_of_july_2024(demo_app: Flask) -> None:
    with demo_app.app_context():
        riverside = db.session.scalar(select(Practice).where(Practice.ods_code == "Y09901"))
        lines = db.session.scalars(
            select(CostLine)
            .join(CostLine.incident)
            .where(CostLine.incident.has(practice_id=riverside.id))
        ).all()
        by_description = {line.description.split(" (")[0]: line for line in lines}
        nurse = by_description["Practice nurse"]
        # 6.5 h x £18.66 = £121.29; +50% = £181.94; NI 13.8% = £25.11; no pension on overtime
        assert nurse.total_amount == D("207.05")
        assert nurse.pension_pct == 0 and nurse.ni_pct == D("13.80")
        assert [rate["key"] for rate in nurse.rates_used] == ["ni_pct"]
        assert "HMRC" in nurse.rates_used[0]["source"]
        admin = by_description["Part-time administrator"]
        # 4 h x £14.89 = £59.56; NI 13.8% = £8.22; pension 14.38% = £8.56
        assert admin.total_amount == D("76.34")
        locum = next(line for line in lines if line.kind == "locum")
        # 2 sessions x £357 = £714; pension 14.38% of £642.60 = £92.41
        assert locum.total_amount == D("806.41")
        expense = next(line for line in lines if line.details.get("supplier") == "Ryman")
        assert expense.total_amount == D("51.00") and expense.vat_amount == 0


def test_the_demo_invoice_prints_each_step_and_detail(demo_app: Flask) -> None:
    client = demo_app.test_client()
    with demo_app.app_context():
        finance = db.session.scalar(select(User).where(User.email == "finance@example.org"))
        login(client, finance)
        invoice = db.session.scalar(
            select(Invoice)
            .join(Invoice.practice)
            .where(Practice.ods_code == "Y09901", Invoice.status == InvoiceStatus.ISSUED)
            .order_by(Invoice.id)
        )
        invoice_id = invoice.id
    pdf = pdf_text(client.get(f"/invoices/{invoice_id}.pdf").data)
    workbook = load_workbook(io.BytesIO(client.get(f"/invoices/{invoice_id}.xlsx").data))
    cells = " ".join(str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row)
    page = client.get(f"/invoices/{invoice_id}").data.decode()
    for expected in (
        "overtime +50% = £181.94",
        "employer NI 13.8% = £25.11",
        "employer pension 14.38% of 90% (£642.60) = £92.41",
        "Paid as: Overtime",
        "Paid as: Additional hours (pensionable)",
        "Pension: In the NHS Pension Scheme",
        "Locum: Dr Łukasz Nowak",
        "Staff: Practice nurse",
    ):
        assert expected in pdf, expected
        assert expected in cells, expected
        assert expected in page, expected


def test_a_later_rate_card_change_never_moves_a_priced_line(world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    inp = LineInput(
        kind="staff",
        line_date=date(2025, 7, 15),
        description="Overtime",
        quantity=D("6.5"),
        unit_rate=D("18.66"),
        overtime_pct=D("50"),
        details={"staff_role": "Nurse", "pay_basis": "overtime"},
    )
    (line,) = cost_lines.add_line(db.session, incident, None, inp, date(2025, 8, 1))
    db.session.commit()
    assert line.total_amount == D("209.23")
    ni_2025 = db.session.scalar(
        select(RateCardItem).where(
            RateCardItem.practice_id == world.practice_a.id,
            RateCardItem.key == "ni_pct",
            RateCardItem.valid_from == date(2025, 4, 6),
        )
    )
    assert (
        update_rate_card(
            db.session, world.practice_a.id, None, {str(ni_2025.id): (D("20"), "test")}
        )
        == {}
    )
    db.session.commit()
    db.session.refresh(line)
    assert line.total_amount == D("209.23")  # priced with 15%, kept
    (again,) = cost_lines.add_line(db.session, incident, None, inp, date(2025, 8, 1))
    # a new line takes the card as it is now: £181.94 + 20% NI £36.39
    assert again.total_amount == D("218.33")
    assert again.rates_used[0]["value"] == "20.00"
