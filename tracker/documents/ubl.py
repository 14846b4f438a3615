"""The e-invoice: an issued invoice or credit note as a Peppol BIS Billing 3.0 UBL 2.1 document.

Built from the same InvoiceDocument the PDF and the Excel file print, so its totals are the
PDF's to the penny. Sources of the rules followed here:

- OpenPeppol, "Peppol BIS Billing 3.0" (https://docs.peppol.eu/poacc/billing/3.0/): the
  customization and profile identifiers, one document-level note (PEPPOL-EN16931-R002), a
  buyer reference (R003), the electronic addresses (R010, R020), one tax total with subtotals
  (R053), line net = quantity x price / base quantity (R120, R121, R130), GLN check digits
  (PEPPOL-COMMON-R040), no empty elements (R008), one currency (R051).
- CEN EN 16931-1:2017 and its UBL binding (CEN/TS 16931-3-2): the business terms (BT-nn)
  cited below and the business rules: VAT breakdown per category and rate (BR-CO-17, BR-S-08,
  BR-S-09), exempt lines with a reason (BR-E-10), outside the scope of VAT with no seller
  VAT number and no other category on the invoice (BR-O-02, BR-O-11 to BR-O-14), a credit
  transfer with an account identifier (BR-61), a due date or payment terms when an amount
  is due (BR-CO-25).
- Code lists: UNCL1001 document type 380 (commercial invoice) and 381 (credit note);
  UNCL4461 payment means 30 "credit transfer" (58 is SEPA credit transfer, which a UK Bacs
  or Faster Payment is not); UNCL5305 VAT categories S, E, O; UN/ECE Recommendation 20
  units (see UNIT_CODES); ISO 4217 GBP; ISO 3166-1 GB; VATEX-EU-O for "not subject to VAT".

Decisions: a credit note is a UBL CreditNote (type 381) with positive amounts and a billing
reference to the invoice it credits (EN 16931 BG-3); the payable amount is the document's
total, with no prepaid amount (BT-113): the e-invoice is the original document, and
payments received later are not part of it. No VAT line on a VAT-registered practice's
invoice is "E" (exempt) with the reason the PDF prints, because EN 16931 allows no other
category beside "O" (BR-O-11); a practice without a VAT number charges none, and all its
lines are "O". Lines are never "Z" (zero rated): the app records no zero-rated supplies.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from tracker.documents.data import DocumentLine, InvoiceDocument, Party

CUSTOMIZATION_ID: Final = (
    "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
)
PROFILE_ID: Final = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
CURRENCY: Final = "GBP"
COUNTRY: Final = "GB"
INVOICE_TYPE: Final = "380"
CREDIT_NOTE_TYPE: Final = "381"
CREDIT_TRANSFER: Final = "30"

INVOICE_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS: Final = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC: Final = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
ET.register_namespace("cac", CAC)
ET.register_namespace("cbc", CBC)

#: Our units as UN/ECE Recommendation 20 codes: an hour is HUR and a day DAY; a session, an
#: appointment and an item are counted, "one" (C62), as Rec. 20 has no unit for them.
UNIT_CODES: Final = {"hour": "HUR", "day": "DAY", "session": "C62", "appointment": "C62"}
COUNTED: Final = "C62"

STANDARD: Final = "S"
EXEMPT: Final = "E"
OUTSIDE_SCOPE: Final = "O"
#: BT-120/BT-121 for category O (BR-O-10): the VATEX code and its text.
OUTSIDE_SCOPE_CODE: Final = "VATEX-EU-O"
OUTSIDE_SCOPE_REASON: Final = "Not subject to VAT"
#: BT-120 for the no-VAT lines of a VAT-registered practice (BR-E-10), as its PDF says it:
#: medical services by a registered practitioner are exempt (VAT Act 1994, Schedule 9,
#: Group 7, item 1; HMRC VAT Notice 701/57 "Health professionals and pharmaceutical
#: products", section 2), compensation for costs incurred is outside the scope of VAT.
EXEMPT_REASON: Final = (
    "NHS payments to GP practices for medical services are exempt from VAT; compensation "
    "for costs incurred is outside the scope of VAT"
)

_POSTCODE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$", re.IGNORECASE)


@dataclass(frozen=True)
class TaxKey:
    """One VAT breakdown (EN 16931 BG-23): a category and, for S, its rate."""

    category: str
    percent: Decimal | None


def ubl_file_name(document: InvoiceDocument) -> str:
    return f"{document.number}.xml"


def missing_endpoints(document: InvoiceDocument) -> list[str]:
    """Which Peppol electronic addresses (mandatory in Peppol, PEPPOL-EN16931-R020 and
    R010) are not set: "practice", "ICB"."""
    missing = []
    if not (document.supplier.endpoint_scheme and document.supplier.endpoint_id):
        missing.append("practice")
    if not (document.customer.endpoint_scheme and document.customer.endpoint_id):
        missing.append("ICB")
    return missing


def is_credit_note(document: InvoiceDocument) -> bool:
    return document.credited_number is not None or document.title == "Credit note"


def build_ubl(document: InvoiceDocument) -> bytes:
    """The UBL 2.1 XML (UTF-8) of an issued invoice or credit note. Deterministic: the same
    document gives the same bytes. A draft has no number (BT-1) and is refused."""
    if document.draft or not document.number:
        raise ValueError("A draft has no e-invoice: issue it first")
    credit = is_credit_note(document)
    # the document's own namespace as the default one, as Peppol's examples write it
    # (ElementTree's default_namespace refuses unqualified attributes such as currencyID)
    root = ET.Element(_root_name(credit), {"xmlns": CREDIT_NOTE_NS if credit else INVOICE_NS})
    _text(root, "CustomizationID", CUSTOMIZATION_ID)
    _text(root, "ProfileID", PROFILE_ID)
    _text(root, "ID", document.number)
    _text(root, "IssueDate", document.issue_date.isoformat())
    if not credit and document.due_date is not None:
        _text(root, "DueDate", document.due_date.isoformat())
    _text(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", _type_code(credit))
    note = " ".join(part for part in (document.vat_statement, document.notes.strip()) if part)
    _text(root, "Note", note)
    _text(root, "DocumentCurrencyCode", CURRENCY)
    _text(root, "BuyerReference", buyer_reference(document))
    _invoice_period(root, document)
    if document.po_reference:
        _text(_sub(root, "cac", "OrderReference"), "ID", document.po_reference)
    if credit and document.credited_number:
        reference = _sub(_sub(root, "cac", "BillingReference"), "cac", "InvoiceDocumentReference")
        _text(reference, "ID", document.credited_number)
        if document.credited_issue_date is not None:
            _text(reference, "IssueDate", document.credited_issue_date.isoformat())
    _supporting_documents(root, document.evidence)
    _party(_sub(root, "cac", "AccountingSupplierParty"), document.supplier, seller=True)
    _party(_sub(root, "cac", "AccountingCustomerParty"), document.customer, seller=False)
    if not credit:
        _payment_means(root, document)
    _payment_terms(root, document, credit)
    lines = document.lines
    breakdown = tax_breakdown(document)
    _tax_total(root, breakdown)
    _monetary_total(root, document)
    in_period = _lines_in_period(document)
    for line in lines:
        _line(root, line, document, credit, with_period=in_period)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return data


def _root_name(credit: bool) -> str:
    return "CreditNote" if credit else "Invoice"


def _type_code(credit: bool) -> str:
    return CREDIT_NOTE_TYPE if credit else INVOICE_TYPE


def buyer_reference(document: InvoiceDocument) -> str:
    """BT-10, which Peppol asks for when there is no order reference (R003) and NHS SBS
    routes an invoice by: the PO number when the ICB gave one; otherwise the practice's ODS
    code, the identifier the ICB's accounts-payable team file GP practices' invoices
    under (NHS SBS asks suppliers for a valid PO or, where there is none, "the name of the
    person who requested the goods or services" on the invoice; for a GP practice's claim
    that is the practice itself)."""
    return document.po_reference or document.supplier.ods_code


def _invoice_period(root: ET.Element, document: InvoiceDocument) -> None:
    """BG-14: the supply period the PDF prints, when it has one."""
    if document.supply_from is None and document.supply_to is None:
        return
    period = _sub(root, "cac", "InvoicePeriod")
    if document.supply_from is not None:
        _text(period, "StartDate", document.supply_from.isoformat())
    if document.supply_to is not None:
        _text(period, "EndDate", document.supply_to.isoformat())


def _lines_in_period(document: InvoiceDocument) -> bool:
    """Whether each line's date may be given as its period: Peppol wants a line period
    inside the invoice's (PEPPOL-EN16931-R110, R111)."""
    return all(
        (document.supply_from is None or line.line_date >= document.supply_from)
        and (document.supply_to is None or line.line_date <= document.supply_to)
        for line in document.lines
    )


def _supporting_documents(root: ET.Element, evidence: Iterable[str]) -> None:
    """BG-24: the backing documents by name ("Receipt.pdf (line 3)"); the files themselves
    travel in the claim pack PDF."""
    for index, name in enumerate(evidence, start=1):
        reference = _sub(root, "cac", "AdditionalDocumentReference")
        _text(reference, "ID", f"EVIDENCE-{index}")
        _text(reference, "DocumentDescription", name)


def _party(holder: ET.Element, party: Party, seller: bool) -> None:
    """BG-4 (seller: the practice) or BG-7 (buyer: the ICB)."""
    element = _sub(holder, "cac", "Party")
    if party.endpoint_scheme and party.endpoint_id:
        _text(element, "EndpointID", party.endpoint_id, schemeID=party.endpoint_scheme)
    _text(_sub(element, "cac", "PartyIdentification"), "ID", party.ods_code)
    _text(_sub(element, "cac", "PartyName"), "Name", party.name)
    _address(_sub(element, "cac", "PostalAddress"), party.address_lines)
    vat_id = vat_identifier(party.vat_number) if seller else None
    if vat_id:
        scheme = _sub(element, "cac", "PartyTaxScheme")
        _text(scheme, "CompanyID", vat_id)
        _text(_sub(scheme, "cac", "TaxScheme"), "ID", "VAT")
    _text(_sub(element, "cac", "PartyLegalEntity"), "RegistrationName", party.name)
    if party.phone or party.email:
        contact = _sub(element, "cac", "Contact")
        _text(contact, "Telephone", party.phone)
        _text(contact, "ElectronicMail", party.email)


def vat_identifier(vat_number: str | None) -> str | None:
    """BT-31 with its ISO 3166 country prefix (BR-CO-09): "GB 123 4567 89" -> GB123456789."""
    if not vat_number:
        return None
    compact = re.sub(r"\s", "", vat_number).upper()
    return compact if compact.startswith(COUNTRY) else COUNTRY + compact


def _address(element: ET.Element, lines: tuple[str, ...]) -> None:
    """BG-5/BG-8 from the address as typed, one line per row: a last line that is a UK
    postcode is the post code (BT-38), the line before it the town (BT-37), the first lines
    the street lines (BT-35, BT-36, BT-162, the third holding any further lines). The
    country (BT-40) is always GB: English practices and ICBs."""
    rest = list(lines)
    postcode = rest.pop() if rest and _POSTCODE.match(rest[-1]) else None
    city = rest.pop() if len(rest) > 1 else None
    if rest:
        _text(element, "StreetName", rest[0])
    if len(rest) > 1:
        _text(element, "AdditionalStreetName", rest[1])
    _text(element, "CityName", city)
    _text(element, "PostalZone", postcode)
    if len(rest) > 2:
        _text(_sub(element, "cac", "AddressLine"), "Line", ", ".join(rest[2:]))
    _text(_sub(element, "cac", "Country"), "IdentificationCode", COUNTRY)


def _payment_means(root: ET.Element, document: InvoiceDocument) -> None:
    """BG-16: credit transfer (UNCL4461 30) to the practice's account, the invoice number as
    the remittance information (BT-83). NHS SBS pays UK suppliers by Bacs to a sort code and
    account number: the account identifier (BT-84) is the two together, the sort code
    also as the branch (BT-86). Without bank details no payment means is given (BR-61 wants
    an account for a credit transfer); the PDF then lacks them too."""
    payment = document.payment
    if not (payment.sort_code and payment.account_number):
        return
    means = _sub(root, "cac", "PaymentMeans")
    _text(means, "PaymentMeansCode", CREDIT_TRANSFER, name="Credit transfer")
    _text(means, "PaymentID", document.number)
    account = _sub(means, "cac", "PayeeFinancialAccount")
    sort_code = re.sub(r"\D", "", payment.sort_code)
    _text(account, "ID", sort_code + payment.account_number)
    _text(account, "Name", payment.account_name)
    _text(_sub(account, "cac", "FinancialInstitutionBranch"), "ID", sort_code)


def _payment_terms(root: ET.Element, document: InvoiceDocument, credit: bool) -> None:
    """BT-20. A credit note's amount is positive, so EN 16931 still wants terms or a date
    (BR-CO-25): it says that nothing is to be paid."""
    if credit:
        text = (
            "No payment due: this credit note reduces the amount due on invoice "
            f"{document.credited_number}"
        )
    else:
        text = f"Payment within {document.payment.terms_days} days of the invoice date"
        if document.payment.remittance_email:
            text += f"; remittance advice to {document.payment.remittance_email}"
    _text(_sub(root, "cac", "PaymentTerms"), "Note", text)


def tax_key(line: DocumentLine, vat_registered: bool) -> TaxKey:
    """The line's VAT category (UNCL5305) and rate: S at its rate when VAT is charged; E
    on a VAT-registered practice's line without VAT; O for a practice not registered."""
    if line.vat:
        return TaxKey(STANDARD, line.vat_percent)
    return TaxKey(EXEMPT if vat_registered else OUTSIDE_SCOPE, None)


def tax_breakdown(document: InvoiceDocument) -> dict[TaxKey, tuple[Decimal, Decimal]]:
    """(taxable amount, tax amount) per category and rate (BG-23), from the lines: the tax
    amount is the sum of the lines' VAT as the PDF prints it, so the total VAT is the PDF's
    (EN 16931 allows the per-line rounding: BR-CO-17 within one unit)."""
    registered = bool(document.supplier.vat_number)
    result: dict[TaxKey, tuple[Decimal, Decimal]] = {}
    for line in document.lines:
        key = tax_key(line, registered)
        net, vat = result.get(key, (Decimal("0.00"), Decimal("0.00")))
        result[key] = (net + abs(line.net), vat + abs(line.vat))
    return dict(sorted(result.items(), key=lambda item: _key_order(item[0])))


def _key_order(key: TaxKey) -> tuple[int, Decimal]:
    return ("SEO".index(key.category), -(key.percent or Decimal(0)))


def _tax_category(parent: ET.Element, name: str, key: TaxKey, with_reason: bool) -> None:
    category = _sub(parent, "cac", name)
    _text(category, "ID", key.category)
    if key.category != OUTSIDE_SCOPE:  # exempt lines at 0% (BR-E-05); O has no rate (BR-O-05)
        _text(category, "Percent", _number(key.percent or Decimal(0)))
    if with_reason and key.category == OUTSIDE_SCOPE:
        _text(category, "TaxExemptionReasonCode", OUTSIDE_SCOPE_CODE)
        _text(category, "TaxExemptionReason", OUTSIDE_SCOPE_REASON)
    if with_reason and key.category == EXEMPT:
        _text(category, "TaxExemptionReason", EXEMPT_REASON)
    _text(_sub(category, "cac", "TaxScheme"), "ID", "VAT")


def _tax_total(root: ET.Element, breakdown: dict[TaxKey, tuple[Decimal, Decimal]]) -> None:
    total = _sub(root, "cac", "TaxTotal")
    _amount(total, "TaxAmount", sum((vat for _, vat in breakdown.values()), Decimal("0.00")))
    for key, (net, vat) in breakdown.items():
        subtotal = _sub(total, "cac", "TaxSubtotal")
        _amount(subtotal, "TaxableAmount", net)
        _amount(subtotal, "TaxAmount", vat)
        _tax_category(subtotal, "TaxCategory", key, with_reason=True)


def _monetary_total(root: ET.Element, document: InvoiceDocument) -> None:
    """BG-22: the PDF's net, VAT and total (positive on a credit note)."""
    net, total = abs(document.net_total), abs(document.total)
    totals = _sub(root, "cac", "LegalMonetaryTotal")
    _amount(totals, "LineExtensionAmount", net)
    _amount(totals, "TaxExclusiveAmount", net)
    _amount(totals, "TaxInclusiveAmount", total)
    _amount(totals, "PayableAmount", total)


def line_price(line: DocumentLine) -> tuple[Decimal, Decimal | None]:
    """(price BT-146, base quantity BT-149 or None). The unit rate when quantity x rate is
    the line's net to the penny (appointments, plain locum sessions, expenses). A line with
    on-costs (overtime, NI, pension) is more than quantity x rate: its price is then the net
    for the whole quantity, which keeps Peppol's R120 exact with no rounded unit price."""
    quantity, net = abs(line.quantity), abs(line.net)
    rate = abs(line.unit_rate)
    if quantity and (quantity * rate).quantize(Decimal("0.01")) == net:
        return rate, None
    if not quantity:
        return net, None
    return net, quantity


def unit_code(unit: str) -> str:
    return UNIT_CODES.get(unit, COUNTED)


def _line(
    root: ET.Element,
    line: DocumentLine,
    document: InvoiceDocument,
    credit: bool,
    *,
    with_period: bool,
) -> None:
    """BG-25: one line per invoice line, numbered as on the PDF."""
    element = _sub(root, "cac", "CreditNoteLine" if credit else "InvoiceLine")
    _text(element, "ID", str(line.number))
    _text(element, "Note", line.working)
    code = unit_code(line.unit)
    quantity = abs(line.quantity) if line.quantity else Decimal(1)
    _text(
        element,
        "CreditedQuantity" if credit else "InvoicedQuantity",
        _number(quantity),
        unitCode=code,
    )
    _amount(element, "LineExtensionAmount", abs(line.net))
    if with_period:
        period = _sub(element, "cac", "InvoicePeriod")
        _text(period, "StartDate", line.line_date.isoformat())
        _text(period, "EndDate", line.line_date.isoformat())
    item = _sub(element, "cac", "Item")
    _text(item, "Description", f"{line.kind_label}, {line.incident_title}")
    _text(item, "Name", line.description)
    key = tax_key(line, bool(document.supplier.vat_number))
    _tax_category(item, "ClassifiedTaxCategory", key, with_reason=False)
    for label, value in line.details:
        prop = _sub(item, "cac", "AdditionalItemProperty")
        _text(prop, "Name", label)
        _text(prop, "Value", value)
    price, base = line_price(line)
    price_element = _sub(element, "cac", "Price")
    _amount(price_element, "PriceAmount", price, places=None)
    if base is not None:
        _text(price_element, "BaseQuantity", _number(base), unitCode=code)


# --- XML helpers ------------------------------------------------------------------------


def _sub(parent: ET.Element, prefix: str, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{CAC if prefix == 'cac' else CBC}}}{name}")


def _text(parent: ET.Element, tag: str, value: str | None, **attributes: str) -> None:
    """A cbc element with its text; nothing when there is no text (Peppol refuses empty
    elements, PEPPOL-EN16931-R008)."""
    if value is None or not str(value).strip():
        return
    element = ET.SubElement(parent, f"{{{CBC}}}{tag}", attributes)
    element.text = str(value).strip()


def _amount(parent: ET.Element, name: str, value: Decimal, places: int | None = 2) -> None:
    """An amount in GBP: two decimals (EN 16931 BR-DEC rules), a price as many as it has."""
    exact = places == 2 or value == value.quantize(Decimal("0.01"))
    text = f"{value:.2f}" if exact else _number(value)
    element = ET.SubElement(parent, f"{{{CBC}}}{name}", {"currencyID": CURRENCY})
    element.text = text


def _number(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 6.5000 -> "6.5", 20.00 -> "20"."""
    text = format(value.normalize(), "f")
    return text if text != "-0" else "0"
