"""Invoices: drafting from cost lines, issuing with gap-free numbers, credit notes, payments.

The rules that make an invoice trustworthy live here:
- issuing freezes everything: lines, supplier and customer details, totals, evidence list;
- a cost line is on at most one issued invoice (a conditional UPDATE locks it);
- numbers come from a counter row incremented inside the issuing transaction, so two people
  issuing at the same moment get consecutive numbers and a failed issue leaves no gap;
- numbers are ones NHS SBS accepts: capital letters and digits only (format_number);
- an issued invoice is never edited or deleted: credit notes (services.crediting) take
  all or part of it off.

Payments live in services.payments and the printable document in services.invoice_documents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import and_, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from tracker.cost_kinds import invoice_details, is_notional
from tracker.models import (
    CostKind,
    CostLine,
    DocumentKind,
    Evidence,
    Icb,
    Incident,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    NumberSeries,
    Practice,
    rows_updated,
    table_of,
    utcnow,
)
from tracker.presentation import format_money, long_date, shortened
from tracker.services import audit, claim_totals, events, locks
from tracker.services.costing import SESSION_HOURS, sum_amounts
from tracker.services.errors import Conflict, Invalid
from tracker.services.money import ZERO, to_pence

KIND_ORDER = {kind.value: position for position, kind in enumerate(CostKind)}
MAX_DAYS_AHEAD = 14  # warn beyond this
LATEST_DAYS_AHEAD = 90  # refuse beyond this
EARLIEST_DAYS_BACK = 31  # refuse backdating beyond this
# --- choosing lines ----------------------------------------------------------------------


def uninvoiced_lines(session: Session, practice_id: int) -> list[CostLine]:
    """Cost lines of a practice that are on no issued invoice, in print order."""
    stmt = (
        select(CostLine)
        .join(Incident, CostLine.incident_id == Incident.id)
        .where(Incident.practice_id == practice_id, CostLine.invoice_id.is_(None))
        .options(selectinload(CostLine.incident))
    )
    return sort_for_print(session.scalars(stmt).all())


def sort_for_print(lines: Iterable[CostLine]) -> list[CostLine]:
    """Costs incurred before the value of capacity lost (notional), as the invoice prints
    them in two sections; within each, by incident (oldest first), cost kind, then date."""
    return sorted(
        lines,
        key=lambda line: (
            is_notional(line.kind),
            line.incident.starts_at,
            line.incident_id,
            KIND_ORDER.get(line.kind, 99),
            line.line_date,
            line.id,
        ),
    )


def lines_by_incident(lines: list[CostLine]) -> list[tuple[Incident, list[CostLine]]]:
    """Lines grouped under their incident, keeping their order, for choosing what to invoice."""
    groups: dict[int, tuple[Incident, list[CostLine]]] = {}
    for line in lines:
        groups.setdefault(line.incident_id, (line.incident, []))[1].append(line)
    return list(groups.values())


def _practice_lines(session: Session, practice_id: int, ids: Sequence[int]) -> list[CostLine]:
    stmt = (
        select(CostLine)
        .join(Incident, CostLine.incident_id == Incident.id)
        .where(CostLine.id.in_(ids), Incident.practice_id == practice_id)
        .options(selectinload(CostLine.incident), selectinload(CostLine.evidence))
        # lines locked by an UPDATE in this transaction must show their new invoice_id
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(stmt).all())


def _line_hours(line: CostLine) -> Decimal | None:
    """Hours for the reports, in a 2-place column: a quantity typed as h:mm (4:10 is 4.1667
    hours) is rounded as money is (4.17); the line's own quantity keeps its 4 places."""
    if line.kind == CostKind.STAFF or (line.kind == CostKind.LOCUM and line.unit == "hour"):
        return to_pence(line.quantity)
    if line.kind == CostKind.LOCUM and line.unit == "session":
        return to_pence(line.quantity * SESSION_HOURS)
    return None


def _snapshot_line(line: CostLine, position: int, vat_registered: bool) -> InvoiceLine:
    """Copy a cost line. A practice that is not VAT-registered cannot charge VAT: the VAT it
    paid on an expense is part of its cost, so the line is invoiced gross with no VAT."""
    net, vat, vat_rate = line.net_amount, line.vat_amount, line.vat_rate
    if not vat_registered:
        net, vat, vat_rate = line.total_amount, ZERO, None
    return InvoiceLine(
        cost_line_id=line.id,
        position=position,
        incident_id=line.incident_id,
        incident_title=line.incident.title,
        kind=line.kind,
        line_date=line.line_date,
        description=line.description,
        working=line.working,
        quantity=line.quantity,
        unit=line.unit,
        unit_rate=line.unit_rate,
        vat_rate=vat_rate,
        net_amount=net,
        vat_amount=vat,
        total_amount=line.total_amount,
        hours=_line_hours(line),
        appointments=int(line.quantity) if line.kind == CostKind.APPOINTMENTS else None,
        details=invoice_details(line.kind, line.details or {}),
        base_amount=line.base_amount,
        premium_amount=line.premium_amount,
        ni_amount=line.ni_amount,
        pension_amount=line.pension_amount,
        rates_used=line.rates_used,
    )


#: The parts of a line's net amount (services.costing.LineAmounts), copied at issue.
LINE_PARTS = ("base_amount", "premium_amount", "ni_amount", "pension_amount")


def negated(value: Decimal | None) -> Decimal | None:
    return None if value is None else -value


def _set_lines(invoice: Invoice, practice: Practice, lines: Sequence[CostLine]) -> None:
    invoice.lines.clear()
    vat_registered = bool(practice.vat_number)
    for position, line in enumerate(sort_for_print(lines), start=1):
        invoice.lines.append(_snapshot_line(line, position, vat_registered))
    invoice.net_total = sum_amounts(line.net_amount for line in invoice.lines)
    invoice.vat_total = sum_amounts(line.vat_amount for line in invoice.lines)
    invoice.total = invoice.net_total + invoice.vat_total


# --- drafts ------------------------------------------------------------------------------


def create_draft(
    session: Session,
    *,
    practice: Practice,
    cost_line_ids: Iterable[int],
    user_id: int | None,
    po_reference: str | None = None,
    notes: str = "",
    issue_date: date | None = None,
) -> Invoice:
    """A draft invoice to the practice's ICB for these uninvoiced cost lines."""
    ids = sorted(set(cost_line_ids))
    if not ids:
        raise Invalid("Choose at least one cost line to invoice", "cost_line_ids")
    lines = _practice_lines(session, practice.id, ids)
    if len(lines) != len(ids):
        raise Invalid("Some of the chosen lines do not belong to this practice", "cost_line_ids")
    if any(line.invoice_id is not None for line in lines):
        raise Conflict("Some of the chosen lines are already on an issued invoice", "cost_line_ids")
    invoice = Invoice(
        practice_id=practice.id,
        icb_id=practice.icb_id,
        kind=DocumentKind.INVOICE,
        status=InvoiceStatus.DRAFT,
        po_reference=po_reference or None,
        notes=notes or "",
        issue_date=issue_date,
        created_by_id=user_id,
    )
    _set_lines(invoice, practice, lines)
    session.add(invoice)
    audit.record(
        session,
        user_id=user_id,
        entity=invoice,
        action="create",
        practice_id=practice.id,
        summary=f"Draft invoice for {format_money(invoice.total)} ({len(lines)} lines)",
    )
    return invoice


def refresh_draft(session: Session, invoice: Invoice) -> list[str]:
    """Bring a draft's lines up to date with its cost lines, practice and ICB (the explicit
    "Refresh" button). Returns what changed, for the user to read. Never called on a page
    view: a GET shows `draft_changes` instead, so looking at a draft writes nothing."""
    _require_draft(invoice)
    if not _hold_draft(session, invoice):
        raise Conflict("This invoice was issued a moment ago, so its lines can no longer change.")
    notes = draft_changes(session, invoice)
    _rebuild_lines(session, invoice)
    return notes


def _hold_draft(session: Session, invoice: Invoice) -> bool:
    """Hold the invoice row if, and only if, it is still a draft (services.locks), and read
    it again as committed; False when it is not a draft any more.

    Issuing claims the same row, so a change to a draft (its lines rebuilt, its details
    edited, the draft deleted) and an issue queue behind each other instead of
    interleaving: a change that comes second finds no draft and leaves the issued invoice
    alone; an issue that comes second copies the draft as changed."""
    invoices = table_of(Invoice)
    where = (invoices.c.id == invoice.id, invoices.c.status == InvoiceStatus.DRAFT)
    if not locks.hold(session, Invoice, *where):
        return False
    session.expire(invoice)  # loaded before the hold: its lines may have been rebuilt since
    return True


def drafts_holding(session: Session, cost_line_ids: Iterable[int]) -> list[Invoice]:
    """The draft invoices with a line copied from any of these cost lines."""
    ids = set(cost_line_ids)
    if not ids:
        return []
    stmt = (
        select(Invoice)
        .join(InvoiceLine, InvoiceLine.invoice_id == Invoice.id)
        .where(Invoice.status == InvoiceStatus.DRAFT, InvoiceLine.cost_line_id.in_(ids))
        .distinct()
        .order_by(Invoice.id)
    )
    return list(session.scalars(stmt))


def refresh_drafts_holding(
    session: Session, cost_line_ids: Iterable[int], *, removing: bool = False
) -> None:
    """After cost lines change (edited, or about to be deleted with `removing`), rebuild every
    draft that copies them, in the same transaction, so a draft always shows its lines as
    they are."""
    ids = set(cost_line_ids)
    for draft in drafts_holding(session, ids):
        if _hold_draft(session, draft):
            _rebuild_lines(session, draft, without=ids if removing else frozenset())
    session.flush()


def refresh_practice_drafts(session: Session, practice_id: int) -> None:
    """After a practice's details change (VAT registration, ICB), rebuild its drafts."""
    stmt = select(Invoice).where(
        Invoice.practice_id == practice_id, Invoice.status == InvoiceStatus.DRAFT
    )
    for draft in session.scalars(stmt).all():
        if _hold_draft(session, draft):
            _rebuild_lines(session, draft)
    session.flush()


def _rebuild_lines(
    session: Session, invoice: Invoice, *, without: Iterable[int] = frozenset()
) -> None:
    _set_lines(invoice, invoice.practice, _current_lines(session, invoice, without))
    invoice.icb_id = invoice.practice.icb_id


def _current_lines(
    session: Session, invoice: Invoice, without: Iterable[int] = frozenset()
) -> list[CostLine]:
    """The cost lines a draft copies that still exist and are on no issued invoice."""
    skip = set(without)
    ids = [
        line.cost_line_id
        for line in invoice.lines
        if line.cost_line_id is not None and line.cost_line_id not in skip
    ]
    current = _practice_lines(session, invoice.practice_id, ids)
    return [line for line in current if line.invoice_id is None]


#: Invoice-line columns that are not copied from the cost line.
_NOT_COPIED = frozenset({"id", "invoice_id", "position"})


def _copy_of(line: InvoiceLine) -> dict[str, object]:
    return {
        column.key: getattr(line, column.key)
        for column in table_of(InvoiceLine).columns
        if column.key not in _NOT_COPIED
    }


def draft_changes(session: Session, invoice: Invoice) -> list[str]:
    """What a refresh would change on this draft, without changing anything: lines whose cost
    line was deleted or invoiced elsewhere, lines edited since, or a new ICB."""
    if invoice.status != InvoiceStatus.DRAFT:
        return []
    current = _current_lines(session, invoice)
    vat_registered = bool(invoice.practice.vat_number)
    fresh = {line.id: _copy_of(_snapshot_line(line, 0, vat_registered)) for line in current}
    gone = sum(1 for line in invoice.lines if line.cost_line_id not in fresh)
    edited = sum(
        1
        for line in invoice.lines
        if line.cost_line_id in fresh and _copy_of(line) != fresh[line.cost_line_id]
    )
    notes = []
    if gone:
        notes.append(
            f"{_lines(gone)} on this draft {'were' if gone > 1 else 'was'} deleted or put on "
            "an issued invoice since it was made."
        )
    if edited:
        notes.append(f"{_lines(edited)} changed since this draft was made.")
    if invoice.icb_id != invoice.practice.icb_id:
        notes.append(f"The practice now invoices {invoice.practice.icb.name}.")
    return notes


def _lines(count: int) -> str:
    return f"{count} line{'s' if count > 1 else ''}"


def check_issue_date(session: Session, invoice: Invoice, issue_date: date, today: date) -> None:
    """An invoice is dated on or after the last day it claims for, not backdated by more
    than a month (numbers run in date order within a year) and not far in the future."""
    _supply_from, supply_to = supply_period(invoice)
    if supply_to and issue_date < supply_to:
        raise Invalid(
            f"The invoice date cannot be before {long_date(supply_to)}, the date of the "
            "latest cost it claims for",
            "issue_date",
        )
    if issue_date < today - timedelta(days=EARLIEST_DAYS_BACK):
        raise Invalid(
            f"The invoice date cannot be more than {EARLIEST_DAYS_BACK} days before today",
            "issue_date",
        )
    if issue_date > today + timedelta(days=LATEST_DAYS_AHEAD):
        raise Invalid(
            f"The invoice date cannot be more than {LATEST_DAYS_AHEAD} days ahead", "issue_date"
        )


def update_draft(
    session: Session,
    invoice: Invoice,
    *,
    po_reference: str | None,
    notes: str,
    issue_date: date | None,
    user_id: int | None,
    today: date,
) -> None:
    """Change a draft's reference, notes and date, unless it was issued a moment ago."""
    _require_draft(invoice)
    _hold_or_refuse(session, invoice)
    if issue_date is not None:
        check_issue_date(session, invoice, issue_date, today)
    before = audit.snapshot(invoice, ["po_reference", "notes", "issue_date"])
    invoice.po_reference = po_reference or None
    invoice.notes = notes or ""
    invoice.issue_date = issue_date
    audit.record(
        session,
        user_id=user_id,
        entity=invoice,
        action="update",
        practice_id=invoice.practice_id,
        summary="Draft invoice details changed",
        changes=audit.diff(
            before, audit.snapshot(invoice, ["po_reference", "notes", "issue_date"])
        ),
    )


def delete_draft(session: Session, invoice: Invoice, *, user_id: int | None) -> None:
    """Delete a draft (its lines go with it), unless it was issued a moment ago."""
    _require_draft(invoice)
    _hold_or_refuse(session, invoice)
    audit.record(
        session,
        user_id=user_id,
        entity=invoice,
        action="delete",
        practice_id=invoice.practice_id,
        summary=f"Draft invoice for {format_money(invoice.total)} deleted",
    )
    session.delete(invoice)


ISSUED_MEANWHILE = "This invoice was issued a moment ago, so it can no longer be changed."


def _hold_or_refuse(session: Session, invoice: Invoice) -> None:
    """Hold a draft before changing it; refuse when it was issued since it was loaded."""
    if not _hold_draft(session, invoice):
        raise Conflict(ISSUED_MEANWHILE)


def _require_draft(invoice: Invoice) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise Conflict("An issued invoice cannot be changed. Cancel it with a credit note.")


# --- issuing -----------------------------------------------------------------------------


def issue_warnings(invoice: Invoice, today: date) -> list[str]:
    """What to check before issuing; issuing is still allowed."""
    warnings = []
    practice = invoice.practice
    icb = practice.icb
    if not icb.payables_address:
        warnings.append(
            f"{icb.name} has no invoice address: ask the ICB for its payables code and record "
            "it in the ICB directory, or the invoice may not reach accounts payable."
        )
    if not invoice.po_reference:
        warnings.append(
            "There is no purchase-order or reference number. Many NHS bodies do not "
            'pay an invoice without one ("No PO, no pay").'
        )
    if not practice.has_bank_details:
        warnings.append(
            "The practice has no bank details, so the ICB will not know where to "
            "pay. Add them in practice settings."
        )
    issue_date = invoice.issue_date or today
    if issue_date > today + timedelta(days=MAX_DAYS_AHEAD):
        warnings.append(f"The invoice date is more than {MAX_DAYS_AHEAD} days ahead.")
    return warnings


def next_number(session: Session, practice: Practice, kind: str, year: int) -> str:
    """Take the next number of the practice's series inside the current transaction.

    The UPDATE takes a row lock (PostgreSQL) or the write lock (SQLite) until commit, so
    concurrent issuers queue; a rollback gives the number back, so there are no gaps.
    """
    table = table_of(NumberSeries)
    where = and_(table.c.practice_id == practice.id, table.c.kind == kind, table.c.year == year)
    bump = update(table).where(where).values(last_value=table.c.last_value + 1)
    value = session.execute(bump.returning(table.c.last_value)).scalar()
    if value is None:
        try:
            with session.begin_nested():
                session.execute(
                    insert(table).values(
                        practice_id=practice.id, kind=kind, year=year, last_value=1
                    )
                )
            value = 1
        except IntegrityError:  # another transaction created the series first
            value = session.execute(bump.returning(table.c.last_value)).scalar_one()
    return format_number(practice.ods_code, kind, year, value)


#: NHS Shared Business Services (SBS), which pays most ICBs' invoices, refuses any invoice or
#: credit-note number with characters other than upper-case letters and digits, or longer than
#: 30 characters, and cannot process a credit note numbered like an invoice (its Tradeshift
#: validation rules: "What are the validation rules?", NHS SBS Tradeshift knowledge base,
#: https://nhssbs.support.tradeshift.com/knowledgebase/article/360011318820).
SBS_NUMBER = re.compile(r"^[A-Z0-9]{1,30}$")
#: Marks a credit note's number, after the ODS code, so it can never equal an invoice's.
CREDIT_NOTE_MARK = "CN"


def format_number(ods_code: str, kind: str, year: int, value: int) -> str:
    """Y0990120260007 for invoices, Y09901CN20260001 for credit notes: ODS code, CN for a
    credit note, year, counter (at least four digits), no separators, as SBS requires
    (SBS_NUMBER). A practice's ODS code is one letter and five digits, so the two letters
    after it tell a credit note ("CN") from an invoice (the year's digits).

    Numbers issued before this pattern (Y09901-2026-0001, Y09901-CN-2026-0001) keep theirs;
    the counter is the same (practice, kind, year) row, so the series goes on with no gap.
    Raises Invalid when the ODS code would make the number one SBS refuses: the caller
    rolls back, so no number is taken."""
    mark = CREDIT_NOTE_MARK if kind == DocumentKind.CREDIT_NOTE else ""
    number = f"{ods_code}{mark}{year:04d}{value:04d}"
    if not SBS_NUMBER.fullmatch(number):
        raise Invalid(
            f"The practice's ODS code {ods_code!r} would give the number {number!r}, which "
            "NHS Shared Business Services refuses: invoice numbers may hold only capital "
            "letters and digits, 30 at most. Ask an administrator to correct the practice's "
            "ODS code, then issue again."
        )
    return number


def supplier_snapshot(practice: Practice) -> dict[str, object]:
    return {
        "name": practice.name,
        "address": practice.address,
        "ods_code": practice.ods_code,
        "email": practice.contact_email,
        "phone": practice.contact_phone,
        "vat_number": practice.vat_number,
        "bank_account_name": practice.bank_account_name,
        "bank_sort_code": practice.bank_sort_code,
        "bank_account_number": practice.bank_account_number,
        "remittance_email": practice.remittance_email,
        "payment_terms_days": practice.payment_terms_days,
    }


def customer_snapshot(icb: Icb) -> dict[str, object]:
    return {
        "name": icb.name,
        "address": icb.payables_address or "",
        "ods_code": icb.ods_code,
        "email": icb.invoice_email,
    }


def _evidence_files(session: Session, invoice: Invoice) -> list[tuple[InvoiceLine, Evidence]]:
    """(invoice line, evidence file) for every file of the invoice's cost lines, in print
    order then upload order."""
    ids = [line.cost_line_id for line in invoice.lines if line.cost_line_id]
    if not ids:
        return []
    lines = {line.cost_line_id: line for line in invoice.lines}
    files = session.scalars(
        select(Evidence).where(Evidence.cost_line_id.in_(ids)).order_by(Evidence.id)
    ).all()
    pairs = [(lines[e.cost_line_id], e) for e in files]
    return sorted(pairs, key=lambda pair: (pair[0].position, pair[1].id))


def evidence_files(session: Session, invoice: Invoice) -> list[tuple[InvoiceLine, Evidence]]:
    """(invoice line, evidence file) of every file on the invoice's cost lines, in print
    order: what a draft's claim pack carries (services.claim_pack)."""
    return _evidence_files(session, invoice)


def _evidence_names(session: Session, invoice: Invoice) -> list[str]:
    return [
        f"{e.original_filename}: {shortened(line.description)}"
        for line, e in _evidence_files(session, invoice)
    ]


def evidence_snapshot(session: Session, invoice: Invoice) -> dict[str, object]:
    """The evidence as frozen at issue: the list printed after the lines ("files") and the
    file names under each line, by line position ("by_line"). An invoice issued before
    evidence was named per line froze only the list (a JSON list): see
    invoice_documents.read_evidence_snapshot."""
    by_line: dict[str, list[str]] = {}
    for line, e in _evidence_files(session, invoice):
        by_line.setdefault(str(line.position), []).append(e.original_filename)
    return {"files": _evidence_names(session, invoice), "by_line": by_line}


def supply_period(invoice: Invoice) -> tuple[date | None, date | None]:
    """The period the invoice supplies: its earliest and latest line dates. Costs are often
    dated after the outage (catch-up overtime, a locum clearing the backlog), so the
    incidents' own start and end would leave them outside it."""
    dates = [line.line_date for line in invoice.lines if line.line_date is not None]
    if not dates:
        return None, None
    return min(dates), max(dates)


def _shared_event(session: Session, invoice: Invoice) -> int | None:
    ids = {line.incident_id for line in invoice.lines if line.incident_id}
    events = set(session.scalars(select(Incident.outage_event_id).where(Incident.id.in_(ids))))
    return events.pop() if len(events) == 1 else None


def _hold_copied_lines(session: Session, invoice: Invoice) -> None:
    """Hold every cost line the draft copies, as it stands in the database (not as the
    caller loaded it), before the invoice row: cost lines before invoices is the lock order
    every writer keeps (services.locks). A draft's lines are only ever dropped, never added,
    so holding them before the claim holds at least every line the issue will copy."""
    copied = select(InvoiceLine.cost_line_id).where(InvoiceLine.invoice_id == invoice.id)
    locks.hold(session, CostLine, table_of(CostLine).c.id.in_(copied))


def issue_invoice(
    session: Session, invoice: Invoice, *, user_id: int | None, today: date
) -> Invoice:
    """Number and freeze a draft. The caller commits; on any error it must roll back.

    The draft's cost lines are held first (services.locks), then the invoice row is
    claimed, and only then are the lines copied: an edit or delete of a line either
    committed before the hold (and the copy shows it) or waits and then finds the line
    frozen. Copying first and locking after would freeze figures that a concurrent edit
    was changing, or copy a line a concurrent delete was removing."""
    _hold_copied_lines(session, invoice)
    invoices = table_of(Invoice)
    claimed = rows_updated(
        session,
        update(invoices)
        .where(invoices.c.id == invoice.id, invoices.c.status == InvoiceStatus.DRAFT)
        .values(status=InvoiceStatus.ISSUED),
    )
    if claimed != 1:
        raise Conflict("This invoice has already been issued.")
    session.refresh(invoice)
    session.refresh(invoice.practice)  # its VAT registration decides how lines are copied
    _rebuild_lines(session, invoice)
    if not invoice.lines:
        raise Conflict("An invoice needs at least one line: add cost lines first.")
    session.flush()
    cost_line_ids = [line.cost_line_id for line in invoice.lines]
    cost_lines = table_of(CostLine)
    locked = rows_updated(
        session,
        update(cost_lines)
        .where(cost_lines.c.id.in_(cost_line_ids), cost_lines.c.invoice_id.is_(None))
        .values(invoice_id=invoice.id),
    )
    if locked != len(cost_line_ids):
        raise Conflict(
            "Some lines were invoiced by someone else a moment ago. Reload the draft and try again."
        )
    # other drafts that copied these lines must not offer them again
    refresh_drafts_holding(session, [i for i in cost_line_ids if i is not None])
    practice = invoice.practice
    issue_date = invoice.issue_date or today
    check_issue_date(session, invoice, issue_date, today)
    invoice.number = next_number(session, practice, DocumentKind.INVOICE, issue_date.year)
    invoice.status = InvoiceStatus.ISSUED
    invoice.issue_date = issue_date
    invoice.due_date = issue_date + timedelta(days=practice.payment_terms_days)
    invoice.supply_from, invoice.supply_to = supply_period(invoice)
    invoice.icb_id = practice.icb_id
    # the claim is signed off as its ICB does it now, whatever the ICB later decides
    invoice.two_step_sign_off = practice.icb.two_step_sign_off
    # a proposal merged while this waited for its row is followed to its target (events)
    invoice.outage_event_id = events.follow_merge(session, _shared_event(session, invoice))
    invoice.supplier_snapshot = json.dumps(supplier_snapshot(practice), ensure_ascii=False)
    invoice.customer_snapshot = json.dumps(customer_snapshot(practice.icb), ensure_ascii=False)
    invoice.evidence_snapshot = json.dumps(evidence_snapshot(session, invoice), ensure_ascii=False)
    invoice.issued_at = utcnow()
    invoice.issued_by_id = user_id
    audit.record(
        session,
        user_id=user_id,
        entity=invoice,
        action="issue",
        practice_id=practice.id,
        summary=f"Invoice {invoice.number} issued for {format_money(invoice.total)}",
        changes={"number": [None, invoice.number], "total": [None, str(invoice.total)]},
    )
    # the reports' kept totals of the claim, in the transaction that freezes its lines
    claim_totals.refresh(session, [invoice.id])
    return invoice


# --- credit notes: services.crediting ----------------------------------------------------


def draft_evidence(session: Session, invoice: Invoice) -> dict[str, object]:
    """A draft's evidence as it would be frozen if it were issued now."""
    return evidence_snapshot(session, invoice)
