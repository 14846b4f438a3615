"""The e-invoice builder (tracker.documents.ubl): its codes and amounts, the Peppol BIS 3.0
rules that apply to our documents (checked here by id, as OpenPeppol's own Schematron is
not installable), and validation against the official CEN EN 16931 UBL rules and the OASIS
UBL 2.1 schemas (tests/ubl_rules.py) with zero fatal errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from tests.documents_fixtures import (
    CUSTOMER,
    SUPPLIER,
    make_credit_note,
    make_document,
    make_lines,
)
from tests.ubl_rules import validate
from tracker.documents.data import DocumentLine, InvoiceDocument
from tracker.documents.ubl import (
    CUSTOMIZATION_ID,
    PROFILE_ID,
    build_ubl,
    line_price,
    missing_endpoints,
    vat_identifier,
)
from tracker.services.costing import sum_amounts
from tracker.services.peppol import SCHEME_CODES, is_valid_gln

D = Decimal
NS = {
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
PRACTICE_GLN = "5099999000011"
ICB_GLN = "5099999000103"
#: Codes the Peppol BIS 3.0 code lists allow for what we write (docs.peppol.eu/poacc/
#: billing/3.0/codelist): UNCL1001 subset for invoices and credit notes, UNCL5305 VAT
#: categories, UNCL4461 payment means, ISO 4217 currency, UN/ECE Rec 20 units.
INVOICE_TYPES = {"380", "381"}
VAT_CATEGORIES = {"S", "Z", "E", "AE", "K", "G", "O", "L", "M"}
UNITS = {"HUR", "DAY", "C62"}


def with_endpoints(document: InvoiceDocument) -> InvoiceDocument:
    return replace(
        document,
        supplier=replace(document.supplier, endpoint_scheme="0088", endpoint_id=PRACTICE_GLN),
        customer=replace(document.customer, endpoint_scheme="0088", endpoint_id=ICB_GLN),
    )


def with_lines(document: InvoiceDocument, lines: tuple[DocumentLine, ...]) -> InvoiceDocument:
    net = sum_amounts(line.net for line in lines)
    vat = sum_amounts(line.vat for line in lines)
    return replace(document, lines=lines, net_total=net, vat_total=vat, total=net + vat)


def no_vat_invoice(count: int = 12) -> InvoiceDocument:
    """A practice without a VAT number: every line gross, no VAT (services.invoicing)."""
    lines = tuple(
        replace(line, net=line.total, vat=D("0.00"), vat_rate=None) for line in make_lines(count)
    )
    document = make_document(lines=lines, supplier=replace(SUPPLIER, vat_number=None))
    return with_endpoints(with_lines(document, lines))


def vat_invoice(count: int = 12) -> InvoiceDocument:
    """A VAT-registered practice: expenses at 20%, the other lines without VAT (exempt)."""
    document = make_document(count, supplier=replace(SUPPLIER, vat_number="GB 123 4567 89"))
    return with_endpoints(document)


def vat_credit_note(count: int = 12) -> InvoiceDocument:
    return with_endpoints(
        replace(make_credit_note(count), supplier=replace(SUPPLIER, vat_number="GB123456789"))
    )


def parsed(document: InvoiceDocument) -> etree._Element:
    return etree.fromstring(build_ubl(document))


def texts(root: etree._Element, path: str) -> list[str]:
    return [str(node.text) for node in root.findall(path, NS)]


def one(root: etree._Element, path: str) -> str:
    found = texts(root, path)
    assert len(found) == 1, (path, found)
    return found[0]


# --- validation against the official rules --------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(no_vat_invoice(), id="no-VAT practice invoice"),
        pytest.param(vat_invoice(), id="VAT-registered practice, 20% and exempt lines"),
        pytest.param(vat_credit_note(), id="credit note"),
        pytest.param(with_endpoints(make_credit_note(3)), id="credit note, three lines"),
        pytest.param(no_vat_invoice(300), id="300-line invoice"),
        pytest.param(vat_invoice(1), id="one line"),
    ],
)
def test_the_ubl_passes_the_ubl_schema_and_en16931_rules_with_no_fatal_error(
    document: InvoiceDocument,
) -> None:
    report = validate(build_ubl(document))
    assert report.schema_errors == ()
    assert report.errors == (), [f"{e.rule}: {e.text}" for e in report.errors]
    assert report.warnings == ()


def test_the_validator_reports_what_breaks_the_rules() -> None:
    """The check above can fail: totals that do not add up, a line without its VAT category
    and an element out of schema order are each reported."""
    data = build_ubl(vat_invoice())
    root = etree.fromstring(data)
    root.find("cac:LegalMonetaryTotal/cbc:PayableAmount", NS).text = "1.00"
    report = validate(etree.tostring(root))
    assert {"BR-CO-16"} <= {e.rule for e in report.errors}
    item = root.find("cac:InvoiceLine/cac:Item", NS)
    item.remove(item.find("cac:ClassifiedTaxCategory", NS))
    report = validate(etree.tostring(root))
    assert "BR-CO-04" in {e.rule for e in report.errors}
    assert report.schema_errors == ()
    root.insert(0, root.find("cbc:DocumentCurrencyCode", NS))
    assert validate(etree.tostring(root)).schema_errors != ()


# --- Peppol BIS 3.0 rules, by id ----------------------------------------------------------


@pytest.mark.parametrize("document", [no_vat_invoice(), vat_invoice(), vat_credit_note()])
def test_peppol_document_rules(document: InvoiceDocument) -> None:
    root = parsed(document)
    # R001, R007: business process; R004: specification identifier
    assert one(root, "cbc:ProfileID") == PROFILE_ID
    assert one(root, "cbc:CustomizationID") == CUSTOMIZATION_ID
    # R002: no more than one note on document level
    assert len(texts(root, "cbc:Note")) <= 1
    # R003: a buyer reference or an order reference
    assert texts(root, "cbc:BuyerReference") or texts(root, "cac:OrderReference/cbc:ID")
    # R010, R020: electronic addresses, schemes from the EAS list; COMMON-R040: GLN digits
    for party in ("cac:AccountingSupplierParty", "cac:AccountingCustomerParty"):
        endpoint = root.find(f"{party}/cac:Party/cbc:EndpointID", NS)
        assert endpoint is not None and endpoint.get("schemeID") in SCHEME_CODES
        assert is_valid_gln(str(endpoint.text))
    # R053: exactly one tax total with subtotals; R054: none without (no tax currency)
    totals = root.findall("cac:TaxTotal", NS)
    assert len(totals) == 1 and totals[0].findall("cac:TaxSubtotal", NS)
    # R051: every amount in the document currency, GBP (ISO 4217)
    assert one(root, "cbc:DocumentCurrencyCode") == "GBP"
    assert {node.get("currencyID") for node in root.iter() if node.get("currencyID")} == {"GBP"}
    # R008: no empty element
    assert all(len(node) or (node.text or "").strip() for node in root.iter())
    # code lists: UNCL1001, UNCL5305, Rec 20
    type_code = texts(root, "cbc:InvoiceTypeCode") + texts(root, "cbc:CreditNoteTypeCode")
    assert type_code and set(type_code) <= INVOICE_TYPES
    assert set(texts(root, ".//cac:ClassifiedTaxCategory/cbc:ID")) <= VAT_CATEGORIES
    quantities = root.findall("*/cbc:InvoicedQuantity", NS) + root.findall(
        "*/cbc:CreditedQuantity", NS
    )
    assert {node.get("unitCode") for node in quantities} <= UNITS


@pytest.mark.parametrize("document", [vat_invoice(40), vat_credit_note(40)])
def test_peppol_line_rules_r120_r121_r130(document: InvoiceDocument) -> None:
    """Line net = quantity x price / base quantity exactly (R120 allows 0.02), base quantity
    positive (R121) in the quantity's unit (R130), and the lines as numbered on the PDF."""
    root = parsed(document)
    lines = root.findall("cac:InvoiceLine", NS) + root.findall("cac:CreditNoteLine", NS)
    assert [line.findtext("cbc:ID", namespaces=NS) for line in lines] == [
        str(line.number) for line in document.lines
    ]
    for line in lines:
        quantity = line.find("cbc:InvoicedQuantity", NS)
        if quantity is None:
            quantity = line.find("cbc:CreditedQuantity", NS)
        price = D(line.findtext("cac:Price/cbc:PriceAmount", namespaces=NS))
        base = line.find("cac:Price/cbc:BaseQuantity", NS)
        base_quantity = D(base.text) if base is not None else D(1)
        assert base_quantity > 0
        if base is not None:
            assert base.get("unitCode") == quantity.get("unitCode")
        net = D(line.findtext("cbc:LineExtensionAmount", namespaces=NS))
        assert abs(D(quantity.text) * price / base_quantity - net) < D("0.005")


# --- codes and amounts ----------------------------------------------------------------------


def test_a_no_vat_practice_invoices_outside_the_scope_of_vat() -> None:
    """EN 16931 BR-O-*: category O on every line and the one breakdown, no rate, the
    exemption reason, and no seller VAT identifier."""
    root = parsed(no_vat_invoice())
    assert set(texts(root, ".//cac:ClassifiedTaxCategory/cbc:ID")) == {"O"}
    assert root.findall(".//cac:ClassifiedTaxCategory/cbc:Percent", NS) == []
    assert one(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "O"
    assert one(root, ".//cac:TaxCategory/cbc:TaxExemptionReasonCode") == "VATEX-EU-O"
    assert one(root, ".//cac:TaxCategory/cbc:TaxExemptionReason") == "Not subject to VAT"
    assert one(root, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert root.find(".//cac:PartyTaxScheme", NS) is None


def test_a_vat_registered_practice_charges_20_percent_and_exempts_the_rest() -> None:
    document = vat_invoice()
    root = parsed(document)
    assert one(root, ".//cac:AccountingSupplierParty//cac:PartyTaxScheme/cbc:CompanyID") == (
        "GB123456789"
    )
    subtotals = root.findall("cac:TaxTotal/cac:TaxSubtotal", NS)
    by_category = {
        (
            s.findtext("cac:TaxCategory/cbc:ID", namespaces=NS),
            s.findtext("cac:TaxCategory/cbc:Percent", namespaces=NS),
        ): (
            D(s.findtext("cbc:TaxableAmount", namespaces=NS)),
            D(s.findtext("cbc:TaxAmount", namespaces=NS)),
        )
        for s in subtotals
    }
    taxed = [line for line in document.lines if line.vat]
    untaxed = [line for line in document.lines if not line.vat]
    assert by_category == {
        ("S", "20"): (sum_amounts(x.net for x in taxed), sum_amounts(x.vat for x in taxed)),
        ("E", "0"): (sum_amounts(x.net for x in untaxed), D("0.00")),
    }
    assert "exempt" in one(root, ".//cac:TaxCategory[cbc:ID='E']/cbc:TaxExemptionReason")


def test_the_totals_are_the_documents_to_the_penny() -> None:
    for document in (no_vat_invoice(300), vat_invoice(300)):
        root = parsed(document)
        totals = "cac:LegalMonetaryTotal/cbc:"
        assert D(one(root, totals + "LineExtensionAmount")) == document.net_total
        assert D(one(root, totals + "TaxExclusiveAmount")) == document.net_total
        assert D(one(root, totals + "TaxInclusiveAmount")) == document.total
        assert D(one(root, totals + "PayableAmount")) == document.total
        assert D(one(root, "cac:TaxTotal/cbc:TaxAmount")) == document.vat_total
        assert root.find(totals + "PrepaidAmount", NS) is None
        line_nets = [D(x) for x in texts(root, "cac:InvoiceLine/cbc:LineExtensionAmount")]
        assert line_nets == [line.net for line in document.lines]


def test_a_credit_note_is_a_ubl_credit_note_with_positive_amounts_and_its_invoice() -> None:
    document = vat_credit_note()
    root = parsed(document)
    assert etree.QName(root).localname == "CreditNote"
    assert one(root, "cbc:CreditNoteTypeCode") == "381"
    assert one(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == (
        "A8100120240007"
    )
    assert one(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == (
        "2024-08-01"
    )
    assert D(one(root, "cac:LegalMonetaryTotal/cbc:PayableAmount")) == -document.total > 0
    assert all(D(x) > 0 for x in texts(root, "cac:CreditNoteLine/cbc:CreditedQuantity"))
    assert all(D(x) > 0 for x in texts(root, "cac:CreditNoteLine/cbc:LineExtensionAmount"))
    assert root.find("cac:PaymentMeans", NS) is None
    assert "No payment due" in one(root, "cac:PaymentTerms/cbc:Note")


def test_payment_by_credit_transfer_to_the_sort_code_and_account() -> None:
    root = parsed(vat_invoice())
    assert one(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "30"
    assert one(root, "cac:PaymentMeans/cbc:PaymentID") == "A8100120240007"
    assert one(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == "20000012345678"
    branch = "cac:PaymentMeans/cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID"
    assert one(root, branch) == "200000"
    assert one(root, "cbc:DueDate") == "2024-08-31"
    no_bank = replace(vat_invoice(), payment=replace(vat_invoice().payment, sort_code=None))
    assert parsed(no_bank).find("cac:PaymentMeans", NS) is None
    assert validate(build_ubl(no_bank)).ok


def test_units_and_prices() -> None:
    """Hours are HUR, counted things C62; a line with on-costs is priced for its whole
    quantity, a plain one at its unit rate."""
    lines = {line.kind: line for line in make_lines(8)}
    assert line_price(lines["appointments"]) == (lines["appointments"].unit_rate, None)
    staff = lines["staff"]
    assert line_price(staff) == (staff.net, staff.quantity)
    root = parsed(vat_invoice(8))
    assert {
        q.get("unitCode") for q in root.findall("cac:InvoiceLine/cbc:InvoicedQuantity", NS)
    } == {"HUR", "C62"}


def test_the_buyer_reference_is_the_po_else_the_practice_code() -> None:
    assert one(parsed(vat_invoice()), "cbc:BuyerReference") == "PO-QHM-55821"
    without = replace(vat_invoice(), po_reference=None)
    root = parsed(without)
    assert one(root, "cbc:BuyerReference") == "A81001"
    assert root.find("cac:OrderReference", NS) is None


def test_parties_addresses_and_supporting_documents() -> None:
    root = parsed(vat_invoice())
    seller = "cac:AccountingSupplierParty/cac:Party/"
    assert one(root, seller + "cac:PartyIdentification/cbc:ID") == "A81001"
    assert one(root, seller + "cac:PostalAddress/cbc:PostalZone") == "NE46 1AA"
    assert one(root, seller + "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "GB"
    buyer = "cac:AccountingCustomerParty/cac:Party/"
    assert one(root, buyer + "cac:PartyLegalEntity/cbc:RegistrationName") == CUSTOMER.name
    assert one(root, buyer + "cac:PostalAddress/cbc:CityName") == "Sunderland"
    assert one(root, buyer + "cac:PostalAddress/cac:AddressLine/cbc:Line") == "Colima Avenue"
    assert texts(root, "cac:AdditionalDocumentReference/cbc:DocumentDescription") == list(
        vat_invoice().evidence
    )


def test_output_is_deterministic_and_drafts_are_refused() -> None:
    assert build_ubl(vat_invoice()) == build_ubl(vat_invoice())
    with pytest.raises(ValueError, match="draft"):
        build_ubl(make_document(draft=True))


def test_missing_endpoints_and_vat_identifiers() -> None:
    assert missing_endpoints(vat_invoice()) == []
    assert missing_endpoints(make_document()) == ["practice", "ICB"]
    root = parsed(make_document(supply_from=date(2024, 7, 19)))
    assert root.find(".//cbc:EndpointID", NS) is None  # left out, never empty (R008)
    assert vat_identifier("123 4567 89") == "GB123456789"
    assert vat_identifier("gb123456789") == "GB123456789"
    assert vat_identifier(None) is None
