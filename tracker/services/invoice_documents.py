"""The printable invoice: the frozen snapshot of an issued invoice (or a draft's current
details) as the plain data the PDF and Excel builders and the invoice page all show."""

from __future__ import annotations

import json
from datetime import date, timedelta

from tracker.documents.data import DocumentLine, InvoiceDocument, Party, PaymentDetails
from tracker.models import COST_KIND_LABELS, CostKind, DocumentKind, Invoice, InvoiceStatus
from tracker.services import invoicing
from tracker.services.money import ZERO

VAT_STATEMENT = (
    "No VAT is charged. NHS payments to GP practices for medical services are exempt from "
    "VAT, and compensation for costs incurred is outside the scope of VAT."
)


def _party(snapshot: dict[str, object]) -> Party:
    address = str(snapshot.get("address") or "")
    return Party(
        name=str(snapshot["name"]),
        address_lines=tuple(line.strip() for line in address.splitlines() if line.strip()),
        ods_code=str(snapshot["ods_code"]),
        email=snapshot.get("email") or None,  # type: ignore[arg-type]
        phone=snapshot.get("phone") or None,  # type: ignore[arg-type]
        vat_number=snapshot.get("vat_number") or None,  # type: ignore[arg-type]
    )


def invoice_document(
    invoice: Invoice, today: date, evidence: list[str] | None = None
) -> InvoiceDocument:
    """The printable document: the frozen snapshot for an issued invoice, the practice's
    current details for a draft (marked DRAFT)."""
    is_draft = invoice.status == InvoiceStatus.DRAFT
    if is_draft:
        supplier = invoicing.supplier_snapshot(invoice.practice)
        customer = invoicing.customer_snapshot(invoice.practice.icb)
        evidence_names = evidence or []
    else:
        supplier = json.loads(invoice.supplier_snapshot or "{}")
        customer = json.loads(invoice.customer_snapshot or "{}")
        evidence_names = json.loads(invoice.evidence_snapshot or "[]")
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
        )
        for line in invoice.lines
    )
    issue_date = invoice.issue_date or today
    terms = int(supplier.get("payment_terms_days") or 30)  # type: ignore[call-overload]
    credited = invoice.credited_invoice.number if invoice.credited_invoice else None
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
        supplier=_party(supplier),
        customer=_party(customer),
        lines=lines,
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        total=invoice.total,
        payment=PaymentDetails(
            account_name=supplier.get("bank_account_name"),  # type: ignore[arg-type]
            sort_code=supplier.get("bank_sort_code"),  # type: ignore[arg-type]
            account_number=supplier.get("bank_account_number"),  # type: ignore[arg-type]
            remittance_email=supplier.get("remittance_email"),  # type: ignore[arg-type]
            terms_days=terms,
        ),
        vat_statement=VAT_STATEMENT if invoice.vat_total == ZERO else None,
        evidence=tuple(evidence_names),
        notes=invoice.notes or "",
        credited_number=credited,
        draft=is_draft,
    )
