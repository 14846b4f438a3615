"""E-invoices through the app: the UBL download of issued invoices and credit notes (checked
against the official CEN EN 16931 rules and the UBL 2.1 schemas), who may download it, the
draft refusal, the endpoint settings, and migration 0007 down and up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from lxml import etree
from sqlalchemy import inspect, select, text

from tests.conftest import demo_schema_app, login
from tests.factories import (
    World,
    make_appointments_line,
    make_expense_line,
    make_incident,
    make_issued_invoice,
    make_staff_line,
)
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tests.integration.test_get_never_writes import dump
from tests.integration.test_invoice_routes import pdf_text
from tests.ubl_rules import validate
from tracker.extensions import db
from tracker.models import Icb, Invoice, Practice
from tracker.presentation import format_money
from tracker.services import crediting, invoicing

NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
PRACTICE_GLN = "5099999000011"
ICB_GLN = "5099999000103"


def set_endpoints(world: World) -> None:
    world.practice_a.endpoint_scheme, world.practice_a.endpoint_id = "0088", PRACTICE_GLN
    world.icb_x.endpoint_scheme, world.icb_x.endpoint_id = "0088", ICB_GLN
    db.session.commit()


def issue(world: World, *, vat_registered: bool = False, po: str = "PO-1234") -> Invoice:
    """An issued invoice of practice A: staff time, lost appointments and an expense."""
    if vat_registered:
        world.practice_a.vat_number = "GB 123 4567 89"
    incident = make_incident(db.session, world.practice_a, title="EMIS down all day")
    lines = [
        make_staff_line(db.session, incident),
        make_appointments_line(db.session, incident),
        make_expense_line(db.session, incident, vat_registered=vat_registered),
    ]
    db.session.commit()
    return make_issued_invoice(db.session, world.practice_a, lines, po_reference=po)


def ubl(client: FlaskClient, invoice: Invoice) -> etree._Element:
    response = client.get(f"/invoices/{invoice.id}.xml")
    assert response.status_code == 200
    assert response.mimetype == "application/xml"
    assert f"filename={invoice.number}.xml" in response.headers["Content-Disposition"]
    report = validate(response.data)
    assert report.ok, (report.schema_errors, [f"{e.rule}: {e.text}" for e in report.errors])
    return etree.fromstring(response.data)


def amount(root: etree._Element, path: str) -> Decimal:
    return Decimal(root.findtext(path, namespaces=NS))


def test_a_no_vat_practices_invoice_downloads_as_valid_ubl_with_the_pdfs_totals(
    as_manager: FlaskClient, world: World
) -> None:
    set_endpoints(world)
    invoice = issue(world)
    root = ubl(as_manager, invoice)
    assert amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == invoice.total
    assert amount(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == invoice.net_total
    assert amount(root, "cac:TaxTotal/cbc:TaxAmount") == invoice.vat_total == Decimal("0.00")
    assert {n.text for n in root.findall(".//cac:ClassifiedTaxCategory/cbc:ID", NS)} == {"O"}
    assert root.findtext(".//cac:AccountingSupplierParty//cbc:EndpointID", namespaces=NS) == (
        PRACTICE_GLN
    )
    assert root.findtext(".//cac:AccountingCustomerParty//cbc:EndpointID", namespaces=NS) == (
        ICB_GLN
    )
    pdf = pdf_text(as_manager.get(f"/invoices/{invoice.id}.pdf").data)
    assert format_money(invoice.total) in pdf


def test_a_vat_registered_practices_invoice_has_standard_and_exempt_lines(
    as_manager: FlaskClient, world: World
) -> None:
    set_endpoints(world)
    invoice = issue(world, vat_registered=True)
    assert invoice.vat_total == Decimal("8.50")
    root = ubl(as_manager, invoice)
    categories = {
        (s.findtext("cac:TaxCategory/cbc:ID", namespaces=NS), amount(s, "cbc:TaxAmount"))
        for s in root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    }
    assert categories == {("S", Decimal("8.50")), ("E", Decimal("0.00"))}
    assert amount(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == invoice.total
    vat_id = root.findtext(".//cac:PartyTaxScheme/cbc:CompanyID", namespaces=NS)
    assert vat_id == "GB123456789"
    pdf = pdf_text(as_manager.get(f"/invoices/{invoice.id}.pdf").data)
    assert format_money(invoice.total) in pdf and format_money(invoice.vat_total) in pdf


def test_a_credit_note_downloads_as_a_valid_ubl_credit_note(
    as_finance: FlaskClient, world: World
) -> None:
    set_endpoints(world)
    invoice = issue(world, vat_registered=True)
    credit = crediting.credit_invoice(
        db.session, invoice, user_id=world.finance.id, today=date(2024, 8, 1), reason="Duplicate"
    )
    db.session.commit()
    root = ubl(as_finance, credit)
    assert etree.QName(root).localname == "CreditNote"
    reference = "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID"
    assert root.findtext(reference, namespaces=NS) == invoice.number
    assert amount(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == -credit.total > 0


def test_who_may_download_the_e_invoice(
    client: FlaskClient, as_manager: FlaskClient, world: World
) -> None:
    """As the PDF: the practice's own staff and the ICB's reviewers; no one else."""
    invoice = issue(world)
    assert as_manager.get(f"/invoices/{invoice.id}.xml").status_code == 200
    for user, status in ((world.manager_b, 404), (world.reviewer_y, 404), (world.reviewer, 200)):
        client.post("/logout")
        login(client, user)
        assert client.get(f"/invoices/{invoice.id}.xml").status_code == status
    client.post("/logout")
    assert client.get(f"/invoices/{invoice.id}.xml").status_code == 302  # to sign in


def test_a_draft_has_no_e_invoice(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident)
    db.session.commit()
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[line.id], user_id=None
    )
    db.session.commit()
    response = as_manager.get(f"/invoices/{draft.id}.xml", follow_redirects=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "A draft has no e-invoice: issue it first" in response.data.decode()


def test_downloading_the_e_invoice_writes_nothing(as_manager: FlaskClient, world: World) -> None:
    invoice = issue(world)
    app = as_manager.application
    before = dump(app)
    assert as_manager.get(f"/invoices/{invoice.id}.xml").status_code == 200
    assert dump(app) == before


def test_the_invoice_page_links_the_e_invoice_and_says_which_address_is_missing(
    as_manager: FlaskClient, world: World
) -> None:
    invoice = issue(world)
    page = as_manager.get(f"/invoices/{invoice.id}").data.decode()
    assert f'href="/invoices/{invoice.id}.xml"' in page and "E-invoice (Peppol UBL)" in page
    assert 'data-testid="ubl-warning"' in page
    assert "Your practice has no Peppol electronic address" in page
    assert "The ICB has no Peppol electronic address yet" in page
    set_endpoints(world)
    page = as_manager.get(f"/invoices/{invoice.id}").data.decode()
    assert 'data-testid="ubl-warning"' not in page


def practice_settings(**changes: str) -> dict[str, str]:
    data = {"address": "2 New Road\nLondon\nN1 1AA", "payment_terms_days": "30"}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    ("scheme", "identifier", "field", "message"),
    [
        ("0088", "5099999000012", "endpoint_id", "13 digits ending in the GS1 check digit"),
        ("9932", "123456789", "endpoint_id", "Enter a UK VAT number"),
        ("", "5099999000011", "endpoint_id", "Choose the scheme this identifier belongs to"),
        ("0192", "123456785", "endpoint_scheme", "Choose one of the schemes listed"),
    ],
)
def test_a_wrong_endpoint_is_refused_beside_its_field_and_nothing_is_saved(
    as_manager: FlaskClient, world: World, scheme: str, identifier: str, field: str, message: str
) -> None:
    response = as_manager.post(
        "/practice/settings",
        data=practice_settings(endpoint_scheme=scheme, endpoint_id=identifier),
    )
    page = response.data.decode()
    assert response.status_code == 200 and f'id="{field}-error"' in page and message in page
    assert page.count('class="nhsuk-error-message"') == 1  # beside that field only
    assert f'value="{identifier}"' in page
    db.session.expire_all()
    practice = db.session.get(Practice, world.practice_a.id)
    assert practice.address != "2 New Road\nLondon\nN1 1AA" and practice.endpoint_id is None


def test_practice_settings_keep_a_valid_endpoint(as_manager: FlaskClient, world: World) -> None:
    response = as_manager.post(
        "/practice/settings",
        data=practice_settings(endpoint_scheme="0088", endpoint_id="5099 9990 0001 1"),
    )
    assert response.status_code == 302
    db.session.expire_all()
    practice = db.session.get(Practice, world.practice_a.id)
    assert (practice.endpoint_scheme, practice.endpoint_id) == ("0088", PRACTICE_GLN)
    response = as_manager.post(
        "/practice/settings", data=practice_settings(endpoint_scheme="", endpoint_id="")
    )
    assert response.status_code == 302
    db.session.expire_all()
    practice = db.session.get(Practice, world.practice_a.id)
    assert (practice.endpoint_scheme, practice.endpoint_id) == (None, None)


def test_an_administrator_sets_the_icbs_endpoint(as_admin: FlaskClient, world: World) -> None:
    data = {"ods_code": "QYB", "name": "NHS Otherton ICB", "endpoint_id": ICB_GLN}
    response = as_admin.post(f"/admin/icbs/{world.icb_y.id}/edit", data=data)
    assert "Choose the scheme this identifier belongs to" in response.data.decode()
    response = as_admin.post(
        f"/admin/icbs/{world.icb_y.id}/edit", data={**data, "endpoint_scheme": "0088"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    icb = db.session.get(Icb, world.icb_y.id)
    assert (icb.endpoint_scheme, icb.endpoint_id) == ("0088", ICB_GLN)


def test_migration_0007_adds_the_endpoints_and_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Down, the four columns go and every practice and ICB is as it was; up again, they
    are back, empty."""
    from flask_migrate import downgrade, upgrade

    app = demo_schema_app(empty_database, tmp_path)
    with app.app_context():
        practices = {p.ods_code: p.name for p in db.session.scalars(select(Practice))}
        icbs = {i.ods_code: i.name for i in db.session.scalars(select(Icb))}
        assert {p.endpoint_id for p in db.session.scalars(select(Practice))} > {None}
        db.session.remove()
        downgrade(revision="0006")
        with db.engine.connect() as conn:
            schema = inspect(conn)
            for table in ("practice", "icb"):
                columns = {c["name"] for c in schema.get_columns(table)}
                assert not {"endpoint_scheme", "endpoint_id"} & columns
            assert dict(conn.execute(text("SELECT ods_code, name FROM practice")).all()) == (
                practices
            )
            assert dict(conn.execute(text("SELECT ods_code, name FROM icb")).all()) == icbs
        upgrade()
        with db.engine.connect() as conn:
            schema = inspect(conn)
            for table in ("practice", "icb"):
                columns = {c["name"] for c in schema.get_columns(table)}
                assert {"endpoint_scheme", "endpoint_id"} <= columns
        assert {p.endpoint_id for p in db.session.scalars(select(Practice))} == {None}
        assert {i.endpoint_scheme for i in db.session.scalars(select(Icb))} == {None}
        db.session.remove()
        db.engine.dispose()
