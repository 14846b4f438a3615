"""The claim pack of an invoice: the plain data (covering statement, backing documents) that
tracker.documents.claim_pack renders into one PDF, and the refusals when it cannot.

Which documents: for an issued (or since cancelled) invoice, exactly the files frozen in its
evidence snapshot ({"files", "by_line"}, services.invoicing.evidence_snapshot), found on the
cost lines the invoice copied; a file named there but no longer held refuses the pack with its
name rather than leaving it out. A draft takes its lines' files as they are now. A credit note
carries no documents: they went with the invoice it cancels.

Reading only: building a pack never writes to the database.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.documents.claim_pack import (
    CoveringStatement,
    PackError,
    PackFile,
    StatementIncident,
    build_claim_pack,
)
from tracker.documents.data import InvoiceDocument
from tracker.documents.pdf import build_invoice_pdf
from tracker.models import (
    COST_KIND_LABELS,
    CostKind,
    DocumentKind,
    Evidence,
    Incident,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    OutageEvent,
)
from tracker.presentation import duration_text, format_money, london_datetime, long_date
from tracker.services import evidence, invoice_documents, invoicing
from tracker.services.errors import Conflict, Unavailable

#: An emailed invoice, with its backing documents, must not exceed 10 MB (NHS SBS, "How should
#: I submit my invoices to NHS SBS?", https://sbs.nhs.uk/faq-fa-sub-inv-how-to-nhs-sbs). The
#: limit is on the email: base64 makes an attachment 4/3 larger, and its line ends 78/76 more
#: (RFC 2045 section 6.8), so a 7,000,000-byte PDF is a 9.58 MB email, with room for the rest.
DEFAULT_MAX_BYTES = 7_000_000


def _stored_files(session: Session, invoice: Invoice) -> list[tuple[InvoiceLine, Evidence]]:
    """(line, file) the pack carries, in the order of the lines they support; Conflict when
    an issued invoice's frozen list names a file that is no longer held."""
    if invoice.kind == DocumentKind.CREDIT_NOTE:
        return []
    pairs = invoicing.evidence_files(session, invoice)
    if invoice.status == InvoiceStatus.DRAFT:
        return pairs
    names, by_line = invoice_documents.read_evidence_snapshot(invoice.evidence_snapshot)
    if not by_line:  # issued before files were named per line: every file of its lines
        return pairs if names else []
    kept: list[tuple[InvoiceLine, Evidence]] = []
    missing: list[str] = []
    for line in sorted(invoice.lines, key=lambda item: item.position):
        held = [e for owner, e in pairs if owner.id == line.id]
        for name in by_line.get(line.position, []):
            match = next((e for e in held if e.original_filename == name), None)
            if match is None:
                missing.append(name)
                continue
            held.remove(match)
            kept.append((line, match))
    if missing:
        raise Conflict(
            "The claim pack cannot be made: these backing documents listed on the invoice are "
            f"no longer held: {', '.join(missing)}. Download the invoice PDF instead."
        )
    return kept


def line_label(line: InvoiceLine) -> str:
    """How the contents names the line a document supports."""
    description = line.description if len(line.description) <= 80 else line.description[:79]
    kind = COST_KIND_LABELS.get(CostKind(line.kind), line.kind)
    return f"Line {line.position} · {long_date(line.line_date)} · {kind} · {description}"


def pack_files(
    pairs: tuple[tuple[InvoiceLine, Evidence], ...], folder: str | os.PathLike[str]
) -> list[PackFile]:
    """The backing documents with their content; Unavailable naming any file whose stored
    copy cannot be read (never a pack without it)."""
    files = []
    for line, item in pairs:
        try:
            content_type, _ = evidence.checked_type(item.stored_name)
            data = evidence.path_of(folder, item.stored_name).read_bytes()
        except (ValueError, OSError) as error:
            raise Unavailable(
                f"The claim pack cannot be made: the stored copy of {item.original_filename} "
                "cannot be read. Ask your administrator to restore it."
            ) from error
        files.append(PackFile(item.original_filename, line_label(line), content_type, data))
    return files


def _incidents(session: Session, invoice: Invoice) -> list[Incident]:
    ids = {line.incident_id for line in invoice.lines if line.incident_id}
    if not ids:
        return []
    return list(
        session.scalars(
            select(Incident).where(Incident.id.in_(ids)).order_by(Incident.starts_at, Incident.id)
        )
    )


def _incident(incident: Incident) -> StatementIncident:
    when = london_datetime(incident.starts_at)
    if incident.ends_at is not None:
        lasted = duration_text(incident.ends_at - incident.starts_at)
        when = f"{when} to {london_datetime(incident.ends_at)} ({lasted})"
    else:
        when = f"From {when}, not yet over when this was written"
    systems = ", ".join(incident.system_labels)
    if incident.systems_other:
        systems = f"{systems} ({incident.systems_other})" if systems else incident.systems_other
    return StatementIncident(
        title=incident.title,
        when=when,
        systems=systems or "Not recorded",
        cause=incident.cause or "Not recorded",
        supplier_reference=incident.supplier_reference or "None given",
        impact=incident.impact or "Not recorded",
    )


def _by_kind(document: InvoiceDocument) -> tuple[tuple[str, str, str], ...]:
    """What is claimed by kind of cost, in the invoice's kind order, and the total."""
    counts: dict[str, int] = defaultdict(int)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for line in document.lines:
        counts[line.kind_label] += 1
        amounts[line.kind_label] += line.total
    rows = [(kind, str(counts[kind]), format_money(amounts[kind])) for kind in counts]
    rows.append(("Total", str(len(document.lines)), format_money(document.total)))
    return tuple(rows)


def _event(session: Session, invoice: Invoice, incidents: list[Incident]) -> OutageEvent | None:
    ids = {invoice.outage_event_id} if invoice.outage_event_id else set()
    ids |= {i.outage_event_id for i in incidents if i.outage_event_id}
    if len(ids) != 1:
        return None
    return session.get(OutageEvent, ids.pop())


def _contacts(document: InvoiceDocument) -> tuple[str, ...]:
    supplier = document.supplier
    contacts = [f"{supplier.name} ({supplier.ods_code})"]
    if supplier.email:
        contacts.append(f"Email: {supplier.email}")
    if supplier.phone:
        contacts.append(f"Phone: {supplier.phone}")
    if document.payment.remittance_email:
        contacts.append(f"Remittance advice to: {document.payment.remittance_email}")
    if len(contacts) == 1:
        contacts.append("Use the address above.")
    return tuple(contacts)


def covering_statement(
    session: Session, invoice: Invoice, document: InvoiceDocument
) -> CoveringStatement:
    """The letter that goes with the claim, from the invoice as printed and its incidents."""
    incidents = _incidents(session, invoice)
    event = _event(session, invoice, incidents)
    title = document.title
    number = document.number or "DRAFT"
    event_name = event.name if event else "Not linked to one outage event"
    if document.credited_number:
        what = "cancels" if document.credits_in_full else "credits part of"
        extent = " in full" if document.credits_in_full else ""
        summary = (
            f"This credit note {what} invoice {document.credited_number}{extent} "
            f"({format_money(-document.total)}). The backing documents went with that invoice."
        )
    else:
        summary = (
            f"{document.supplier.name} claims {format_money(document.total)} from "
            f"{document.customer.name} for the costs it incurred and the capacity it lost "
            f"because of the outage below. {title} {number} itemises each cost; every backing "
            "document follows in this PDF, listed on the contents page against the line it "
            "supports."
        )
    return CoveringStatement(
        document_title=title,
        number=number,
        issue_date=long_date(document.issue_date),
        practice=f"{document.supplier.name} ({document.supplier.ods_code})",
        practice_address=document.supplier.address_lines,
        icb=document.customer.name,
        icb_address=document.customer.address_lines,
        total=format_money(document.total),
        po_reference=document.po_reference or "",
        event_name=event_name,
        event_started=long_date(event.started_on) if event else "",
        event_description=event.description if event else "",
        summary=summary,
        incidents=tuple(_incident(incident) for incident in incidents),
        by_kind=_by_kind(document),
        contacts=_contacts(document),
        notes=document.notes,
        draft=document.draft,
    )


@dataclass(frozen=True)
class PackSource:
    """What a claim pack is made of, before any file is read: the invoice as printed, the
    covering statement and the stored files it carries."""

    document: InvoiceDocument
    statement: CoveringStatement
    files: tuple[tuple[InvoiceLine, Evidence], ...]
    frozen: bool

    def tag(self, max_bytes: int) -> str | None:
        """The pack's entity tag when its invoice is frozen (None for a draft): from the
        document and statement as built and each file's line, name and stored name (a
        stored file is never rewritten: a new upload gets a new name), and the size limit
        the photos are shrunk to."""
        if not self.frozen:
            return None
        files = [(line_label(line), e.original_filename, e.stored_name) for line, e in self.files]
        return invoice_documents.document_tag(
            "claim-pack", self.document, self.statement, files, max_bytes
        )


def source(session: Session, invoice: Invoice, *, today: date) -> PackSource:
    """Everything the pack is made from; Conflict when a frozen file is no longer held."""
    draft_evidence = None
    if invoice.status == InvoiceStatus.DRAFT:
        draft_evidence = invoicing.draft_evidence(session, invoice)
    document = invoice_documents.invoice_document(invoice, today, draft_evidence)
    return PackSource(
        document=document,
        statement=covering_statement(session, invoice, document),
        files=tuple(_stored_files(session, invoice)),
        frozen=invoice_documents.is_frozen(invoice),
    )


def build(
    pack: PackSource,
    *,
    folder: str | os.PathLike[str],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bytes:
    """The claim pack PDF; Conflict with what to drop or replace when it cannot be made."""
    try:
        return build_claim_pack(
            build_invoice_pdf(pack.document),
            pack.statement,
            pack_files(pack.files, folder),
            max_bytes,
        )
    except PackError as error:
        raise Conflict(error.message) from error


def file_name(invoice: Invoice) -> str:
    """The pack's download name: the invoice number, or the draft's id."""
    stem = invoice.number or f"draft-invoice-{invoice.id}"
    return f"{stem}-claim-pack.pdf"
