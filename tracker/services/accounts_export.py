"""What the CSV exports for the practice's accounts are made from: each issued invoice or
credit note as its printed document (the frozen snapshot, so the figures are the PDF's) with
the ICB's decisions on its lines. The layouts are documents.accounts_csv."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from tracker.documents.accounts_csv import ExportDocument, LineDecision
from tracker.models import DocumentKind, Invoice, InvoiceStatus
from tracker.services import invoice_documents
from tracker.services.errors import Conflict
from tracker.services.review import decision_for_practice, decision_label

DRAFT_REFUSED = (
    "A draft cannot be exported for your accounts: it has no number yet and may still change. "
    "Issue it first, then download it for Xero, QuickBooks or as a CSV of its lines."
)


def export_document(invoice: Invoice, today: date) -> ExportDocument:
    """An issued invoice or credit note for export; a draft is refused (Conflict, 409): the
    accounts must hold only what was sent to the ICB, under the number it was sent with."""
    if invoice.status == InvoiceStatus.DRAFT or invoice.number is None:
        raise Conflict(DRAFT_REFUSED)
    return ExportDocument(
        document=invoice_documents.invoice_document(invoice, today),
        decisions={
            line.position: LineDecision(
                label=decision_label(decision.decision),
                approved=decision.approved_amount,
                reason=decision.reason or "",
            )
            for line in invoice.lines
            if (decision := decision_for_practice(invoice, line)) is not None
        },
    )


def export_documents(
    invoices: Iterable[Invoice], today: date, *, kind: DocumentKind | None = None
) -> list[ExportDocument]:
    """The issued invoices and credit notes among `invoices` (drafts left out), of one
    `kind` if given, in the order given."""
    return [
        export_document(invoice, today)
        for invoice in invoices
        if invoice.status != InvoiceStatus.DRAFT and (kind is None or invoice.kind == kind)
    ]
