"""The printable invoice: the frozen snapshot of an issued invoice (or a draft's current
details) as the plain data the PDF and Excel builders and the invoice page all show."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import object_session

from tracker.documents.data import DocumentLine, InvoiceDocument, Party, PaymentDetails
from tracker.documents.version import builders_version
from tracker.models import (
    COST_KIND_LABELS,
    CostKind,
    DocumentKind,
    Icb,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Practice,
)
from tracker.presentation import format_money
from tracker.services import invoicing
from tracker.services.money import ZERO

VAT_STATEMENT = (
    "No VAT is charged. NHS payments to GP practices for medical services are exempt from "
    "VAT, and compensation for costs incurred is outside the scope of VAT."
)
#: A VAT invoice that includes items with no VAT must show clearly that no VAT is payable
#: on them and show their total separately, and must give the rate of VAT per item (HMRC,
#: VAT Notice 700/21 "Record keeping for VAT", section 16.3,
#: https://www.gov.uk/guidance/record-keeping-for-vat-notice-70021; per-line rate
#: indicators on mixed invoices: VAT Trader Records manual VATREC16027,
#: https://www.gov.uk/hmrc-internal-manuals/vat-trader-records/vatrec16027).
MIXED_VAT_STATEMENT = (
    'No VAT is payable on the lines marked "No VAT", {total} in total. NHS payments to GP '
    "practices for medical services are exempt from VAT, and compensation for costs "
    "incurred is outside the scope of VAT."
)


def is_frozen(invoice: Invoice) -> bool:
    """Whether the invoice's documents can no longer change: issued (or cancelled since), so
    its lines, addresses and totals are frozen. A draft changes with its cost lines."""
    return invoice.status != InvoiceStatus.DRAFT and invoice.number is not None


def document_tag(kind: str, *inputs: object) -> str:
    """A strong entity tag (RFC 9110 section 8.8.3) for a document of a frozen invoice: a
    digest of everything its builder is given (the plain data, whose repr is exact: text,
    Decimals, dates), the kind of file and the builders' version. Equal tags mean the
    builder would write the same bytes, so a repeat download can be answered "not modified"
    without building the file again; anything that changes what is written (a decision in
    a CSV, a corrected electronic address in the XML) changes the tag."""
    digest = hashlib.sha256(f"{builders_version()}\0{kind}\0".encode())
    digest.update(repr(inputs).encode())
    return digest.hexdigest()[:40]


def vat_statement(lines: list[InvoiceLine], vat_total: Decimal) -> str | None:
    """What the invoice says about VAT: that none is charged, or (a mixed invoice) which
    lines carry none and their total."""
    if vat_total == ZERO:
        return VAT_STATEMENT
    without = sum(
        (line.total_amount for line in lines if not line.vat_amount),
        ZERO,
    )
    if without == ZERO:
        return None
    return MIXED_VAT_STATEMENT.format(total=format_money(without))


def read_evidence_snapshot(raw: str | None) -> tuple[list[str], dict[int, list[str]]]:
    """(the list printed after the lines, the file names by line position) from a frozen
    evidence snapshot. Invoices issued before evidence was named per line froze a plain
    list of "file: description" entries: it is still printed, with no names per line."""
    data = json.loads(raw or "[]")
    if isinstance(data, list):
        return [str(item) for item in data], {}
    return _evidence_parts(data)


def _evidence_parts(data: Mapping[str, object]) -> tuple[list[str], dict[int, list[str]]]:
    files = data.get("files") or []
    by_line = data.get("by_line") or {}
    assert isinstance(files, list) and isinstance(by_line, dict)
    return [str(item) for item in files], {
        int(position): [str(name) for name in names] for position, names in by_line.items()
    }


def _appointment_type(line: InvoiceLine) -> str | None:
    if line.kind != CostKind.APPOINTMENTS:
        return None
    return next(
        (item["value"] for item in line.details or [] if item.get("name") == "appointment_type"),
        None,
    )


def party(snapshot: Mapping[str, object]) -> Party:
    """A supplier or customer as printed, from its snapshot (invoicing.supplier_snapshot,
    customer_snapshot, or the frozen copy on an issued invoice)."""
    address = str(snapshot.get("address") or "")
    return Party(
        name=str(snapshot["name"]),
        address_lines=tuple(line.strip() for line in address.splitlines() if line.strip()),
        ods_code=str(snapshot["ods_code"]),
        email=snapshot.get("email") or None,  # type: ignore[arg-type]
        phone=snapshot.get("phone") or None,  # type: ignore[arg-type]
        vat_number=snapshot.get("vat_number") or None,  # type: ignore[arg-type]
    )


def payment_details(supplier: Mapping[str, object]) -> PaymentDetails:
    """How to pay the practice, from its snapshot: the bank details and remittance email
    printed on its invoices (and statements), and its payment terms."""
    return PaymentDetails(
        account_name=supplier.get("bank_account_name"),  # type: ignore[arg-type]
        sort_code=supplier.get("bank_sort_code"),  # type: ignore[arg-type]
        account_number=supplier.get("bank_account_number"),  # type: ignore[arg-type]
        remittance_email=supplier.get("remittance_email"),  # type: ignore[arg-type]
        terms_days=terms_of(supplier),
    )


def terms_of(supplier: Mapping[str, object]) -> int:
    """The practice's payment terms in days (30 when none is set)."""
    days = supplier.get("payment_terms_days")
    return int(str(days)) if days else 30


def _with_endpoint(party: Party, holder: Practice | Icb | None) -> Party:
    """The party with its Peppol electronic address as currently set: an address to deliver
    to, so a corrected GLN applies to invoices issued before the correction too."""
    if holder is None:
        return party
    return replace(party, endpoint_scheme=holder.endpoint_scheme, endpoint_id=holder.endpoint_id)


def _invoice_icb(invoice: Invoice) -> Icb | None:
    """The ICB the invoice was addressed to (a practice may have moved ICB since)."""
    session = object_session(invoice)
    return session.get(Icb, invoice.icb_id) if session is not None else invoice.practice.icb


def invoice_document(
    invoice: Invoice, today: date, evidence: Mapping[str, object] | None = None
) -> InvoiceDocument:
    """The printable document: the frozen snapshot for an issued invoice, the practice's
    current details for a draft (marked DRAFT), with `evidence` as
    invoicing.draft_evidence gives it."""
    is_draft = invoice.status == InvoiceStatus.DRAFT
    if is_draft:
        supplier = invoicing.supplier_snapshot(invoice.practice)
        customer = invoicing.customer_snapshot(invoice.practice.icb)
        evidence_names, by_line = _evidence_parts(evidence or {})
    else:
        supplier = json.loads(invoice.supplier_snapshot or "{}")
        customer = json.loads(invoice.customer_snapshot or "{}")
        evidence_names, by_line = read_evidence_snapshot(invoice.evidence_snapshot)
    lines = tuple(
        DocumentLine(
            incident_title=line.incident_title,
            kind=line.kind,
            kind_label=COST_KIND_LABELS.get(CostKind(line.kind), line.kind),
            line_date=line.line_date,
            description=line.description,
            working=line.working,
            quantity=line.quantity,
            unit=line.unit,
            unit_rate=line.unit_rate,
            vat_rate=line.vat_rate,
            net=line.net_amount,
            vat=line.vat_amount,
            total=line.total_amount,
            details=tuple((item["label"], item["value"]) for item in line.details or []),
            evidence=tuple(by_line.get(line.position, ())),
            appointment_type=_appointment_type(line),
            number=line.position,
        )
        for line in invoice.lines
    )
    issue_date = invoice.issue_date or today
    terms = terms_of(supplier)
    original = invoice.credited_invoice
    return InvoiceDocument(
        title="Credit note" if invoice.kind == DocumentKind.CREDIT_NOTE else "Invoice",
        number=invoice.number,
        issue_date=issue_date,
        due_date=None
        if invoice.kind == DocumentKind.CREDIT_NOTE
        else invoice.due_date or (issue_date + timedelta(days=terms)),
        supply_from=invoice.supply_from,
        supply_to=invoice.supply_to,
        po_reference=invoice.po_reference,
        supplier=_with_endpoint(party(supplier), invoice.practice),
        customer=_with_endpoint(party(customer), _invoice_icb(invoice)),
        lines=lines,
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        total=invoice.total,
        payment=payment_details(supplier),
        vat_statement=vat_statement(invoice.lines, invoice.vat_total),
        evidence=tuple(evidence_names),
        notes=invoice.notes or "",
        credited_number=original.number if original else None,
        credited_issue_date=original.issue_date if original else None,
        credits_in_full=original is None or invoice.total == -original.total,
        draft=is_draft,
    )
