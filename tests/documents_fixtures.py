"""Plain InvoiceDocuments for the document builders' tests and the benchmark: no database.

Lines are costed with the real costing rules (so the working reads as on screen) and come in
print order: costs incurred, then capacity lost (lost appointments, a notional value), each
grouped by incident, then by cost kind. Totals are sums of the rounded lines.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from tracker.documents.data import (
    DocumentLine,
    InvoiceDocument,
    Party,
    PaymentDetails,
    RegisterRow,
)
from tracker.services import costing
from tracker.services.costing import sum_amounts

D = Decimal
OUTAGE = "CrowdStrike / EMIS outage 19–20 July 2024"
TELEPHONY = "Telephony failure 2 August 2024"
KINDS = (
    ("staff", "Staff time"),
    ("locum", "Locum cover"),
    ("appointments", "Lost appointments"),
    ("expense", "Other expenses"),
)
STAFF = ("Zoë Hughes, receptionist", "Łukasz Nowak, practice nurse", "Siân O'Brien, HCA")
EXPENSES = ("Printer toner and paper", "Courier for prescriptions", "Mobile data top-up")

SUPPLIER = Party(
    name="Riverside Medical Centre",
    address_lines=("12 Mill Lane", "Hexham", "Northumberland", "NE46 1AA"),
    ods_code="A81001",
    email="finance.riverside@nhs.net",
    phone="01434 600 600",
    vat_number=None,
)
CUSTOMER = Party(
    name="NHS North East and North Cumbria Integrated Care Board",
    address_lines=("Accounts Payable", "Pemberton House", "Colima Avenue", "Sunderland", "SR5 3XB"),
    ods_code="QHM",
)
PAYMENT = PaymentDetails(
    account_name="Riverside Medical Centre",
    sort_code="20-00-00",
    account_number="12345678",
    remittance_email="finance.riverside@nhs.net",
    terms_days=30,
)


def make_line(index: int, incident: str, kind: str, kind_label: str) -> DocumentLine:
    """The index-th line of a kind: varied figures, names outside ASCII, some VAT."""
    day = date(2024, 7, 19) + timedelta(days=index % 4)
    if kind == "staff":
        hours = D("6.5") + D(index % 5) / 2
        amounts = costing.staff_time(hours, D("18.66"), overtime_pct=D("50"), ni_pct=D("13.8"))
        description, quantity, unit, rate, vat_rate = (
            f"Extra hours: {STAFF[index % 3]}",
            hours,
            "hour",
            D("18.66"),
            None,
        )
    elif kind == "locum":
        sessions = D(1 + index % 3)
        amounts = costing.locum_cover(
            sessions, D("95.50"), "session", pays_into_scheme=True, pension_pct=D("20.6")
        )
        description = f"Locum GP Dr Nuala Ní Bhriain, invoice LOC-{index:05d}"
        quantity, unit, rate, vat_rate = sessions, "session", D("95.50"), None
    elif kind == "appointments":
        count = D(5 + index % 20)
        amounts = costing.lost_appointments(count, D("42.00"))
        description = "GP appointments cancelled and rebooked"
        quantity, unit, rate, vat_rate = count, "appointment", D("42.00"), None
    else:
        net = D("12.40") + D(index % 17) * D("3.15")
        vat_rate = D("20")
        amounts = costing.other_expense(
            net, costing.to_pence(net * vat_rate / 100), vat_registered=True
        )
        description = EXPENSES[index % 3]
        quantity, unit, rate = D(1), "item", net
    return DocumentLine(
        incident_title=incident,
        kind=kind,
        kind_label=kind_label,
        line_date=day,
        description=description,
        working=amounts.working,
        quantity=quantity,
        unit=unit,
        unit_rate=rate,
        vat_rate=vat_rate,
        net=amounts.net,
        vat=amounts.vat,
        total=amounts.total,
    )


def make_lines(count: int) -> tuple[DocumentLine, ...]:
    """count lines over two incidents (the outage takes about three quarters), four kinds."""
    if count <= 0:
        return ()
    incidents = [(OUTAGE, count - count // 4), (TELEPHONY, count // 4)]
    lines: list[DocumentLine] = []
    index = 0
    for incident, share in incidents:
        per_kind = [share // 4 + (1 if k < share % 4 else 0) for k in range(4)]
        for (kind, label), n in zip(KINDS, per_kind, strict=True):
            for _ in range(n):
                lines.append(make_line(index, incident, kind, label))
                index += 1
    in_order = sorted(lines, key=lambda line: line.notional)
    return tuple(replace(line, number=n) for n, line in enumerate(in_order, start=1))


def make_document(
    count: int = 12,
    *,
    lines: tuple[DocumentLine, ...] | None = None,
    draft: bool = False,
    **changes: object,
) -> InvoiceDocument:
    """An issued invoice (or a draft) with count lines and totals summed from them."""
    lines = make_lines(count) if lines is None else lines
    net = sum_amounts(line.net for line in lines)
    vat = sum_amounts(line.vat for line in lines)
    document = InvoiceDocument(
        title="Invoice",
        number=None if draft else "A8100120240007",
        issue_date=date(2024, 8, 1),
        due_date=date(2024, 8, 31),
        supply_from=date(2024, 7, 19),
        supply_to=date(2024, 8, 2),
        po_reference="PO-QHM-55821",
        supplier=SUPPLIER,
        customer=CUSTOMER,
        lines=lines,
        net_total=net,
        vat_total=vat,
        total=net + vat,
        payment=PAYMENT,
        vat_statement=None
        if vat
        else "No VAT is charged: these costs are outside the scope of VAT (NHS GP services).",
        evidence=(
            "Rota 19 July.pdf (line 1)",
            "Locum invoice LOC-00004.pdf (line 5)",
            "Toner receipt.jpg (line 11)",
        ),
        notes="Costs of the CrowdStrike / EMIS Web outage, claimed as the BMA GPC advised.\n"
        "Please quote the invoice number on your remittance.",
        draft=draft,
    )
    return replace(document, **changes) if changes else document


def make_credit_note(count: int = 12) -> InvoiceDocument:
    """A credit note reversing make_document(count) in full: every amount negated."""
    original = make_document(count)
    lines = tuple(
        replace(line, net=-line.net, vat=-line.vat, total=-line.total, quantity=-line.quantity)
        for line in original.lines
    )
    return replace(
        original,
        title="Credit note",
        number="A81001CN20240001",
        credited_number=original.number,
        credited_issue_date=original.issue_date,
        issue_date=date(2024, 8, 20),
        due_date=None,
        lines=lines,
        net_total=-original.net_total,
        vat_total=-original.vat_total,
        total=-original.total,
    )


def make_register_rows(count: int = 5) -> tuple[RegisterRow, ...]:
    rows = []
    for i in range(count):
        document = make_document(4 + i)
        paid = document.total if i % 3 == 0 else (document.total / 2).quantize(D("0.01"))
        paid = paid if i % 3 != 2 else D("0.00")
        rows.append(
            RegisterRow(
                number=f"A810012024{i + 1:04d}",
                kind="Invoice",
                practice_name=SUPPLIER.name,
                practice_ods_code=SUPPLIER.ods_code,
                icb_name=CUSTOMER.name,
                issue_date=date(2024, 8, 1) + timedelta(days=i),
                due_date=date(2024, 8, 31) + timedelta(days=i),
                po_reference=f"PO-{i:03d}" if i % 2 else None,
                net=document.net_total,
                vat=document.vat_total,
                total=document.total,
                approved=document.total if i % 2 else None,
                credited=D("0.00"),
                paid=paid,
                outstanding=document.total - paid,
                status={0: "Paid", 1: "Part-paid", 2: "Issued"}[i % 3],
            )
        )
    return tuple(rows)
