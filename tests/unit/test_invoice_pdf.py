"""The invoice PDF, read back with pypdf: every line, subtotal and total is printed, on pages
that say "Page N of M", with the table header on each page, names outside ASCII intact and
user text never read as markup. Pure: no database."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from decimal import Decimal

import pytest
from pypdf import PdfReader

from tests.documents_fixtures import make_credit_note, make_document, make_line, make_lines
from tracker.documents.pdf import build_invoice_pdf
from tracker.presentation import format_money, format_number, long_date


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def pages_text(data: bytes) -> list[str]:
    return [squash(page.extract_text()) for page in PdfReader(io.BytesIO(data)).pages]


def all_text(data: bytes) -> str:
    return " ".join(pages_text(data))


@pytest.fixture(scope="module")
def long_invoice():
    doc = make_document(300)
    data = build_invoice_pdf(doc)
    return doc, data, pages_text(data)


def test_it_is_an_a4_pdf_with_the_document_metadata():
    data = build_invoice_pdf(make_document(3))
    reader = PdfReader(io.BytesIO(data))
    assert data.startswith(b"%PDF-")
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert reader.metadata.title == "Invoice A8100120240007"


def test_every_line_is_printed_in_full(long_invoice):
    doc, _, pages = long_invoice
    text = " ".join(pages)
    for line in doc.lines:
        row = squash(
            f"{long_date(line.line_date)} {line.description} {line.working} "
            f"{format_number(line.quantity)}"
        )
        assert row in text, row
        assert f"{format_money(line.unit_rate)} " in text
        assert format_money(line.net) in text


def test_each_row_prints_its_figures_in_order():
    doc = make_document(8)
    text = all_text(build_invoice_pdf(doc))
    for line in doc.lines:
        vat = "No VAT" if line.vat_rate is None else f"{format_money(line.vat)} 20%"
        figures = f"{format_money(line.unit_rate)} {vat} {format_money(line.net)}"
        assert figures in text, figures


def test_subtotals_per_incident_and_kind_are_the_sums_of_their_lines(long_invoice):
    doc, _, pages = long_invoice
    text = " ".join(pages)
    groups: dict[tuple[str, str], list] = {}
    for line in doc.lines:
        groups.setdefault((line.incident_title, line.kind_label), []).append(line)
    assert len(groups) == 8
    for (_, label), lines in groups.items():
        vat = sum((line.vat for line in lines), Decimal(0))
        net = sum((line.net for line in lines), Decimal(0))
        expected = f"Subtotal, {label.lower()} {format_money(vat)} {format_money(net)}"
        assert expected in text, expected
    for incident in {line.incident_title for line in doc.lines}:
        assert f"Incident: {incident}" in text


def test_totals_and_the_amount_due(long_invoice):
    doc, _, pages = long_invoice
    last = pages[-1]
    assert f"Net total {format_money(doc.net_total)}" in last
    assert f"VAT total {format_money(doc.vat_total)}" in last
    assert f"Total due {format_money(doc.total)}" in last
    assert f"Total due {format_money(doc.total)} by {long_date(doc.due_date)}" in pages[0]
    assert doc.net_total == sum(line.net for line in doc.lines)


def test_header_parties_number_and_dates():
    doc = make_document(5)
    first = pages_text(build_invoice_pdf(doc))[0]
    assert first.startswith("Riverside Medical Centre")
    assert "Invoice number A8100120240007" in first
    assert "Issue date 1 August 2024" in first
    assert "Due date 31 August 2024" in first
    assert "Supply dates 19 July 2024 to 2 August 2024" in first
    assert "ODS code: A81001" in first
    assert "Email: finance.riverside@nhs.net" in first
    assert "Phone: 01434 600 600" in first
    assert "VAT number" not in first
    customer = squash(" ".join((doc.customer.name, *doc.customer.address_lines)))
    assert f"Bill to {customer} ODS code: QHM" in first
    assert "Purchase order / reference: PO-QHM-55821" in first


def test_vat_number_printed_when_the_practice_has_one():
    doc = make_document(2)
    doc = replace(doc, supplier=replace(doc.supplier, vat_number="GB 123 4567 89"))
    assert "VAT number: GB 123 4567 89" in all_text(build_invoice_pdf(doc))


def test_payment_details_evidence_notes_and_vat_statement():
    doc = make_document(3)  # staff, locum, appointments: no VAT
    assert doc.vat_total == 0
    text = all_text(build_invoice_pdf(doc))
    assert squash(doc.vat_statement) in text
    for expected in (
        "Account name: Riverside Medical Centre",
        "Sort code: 20-00-00",
        "Account number: 12345678",
        "Remittance advice to: finance.riverside@nhs.net",
        "Terms: 30 days from the issue date (due 31 August 2024)",
        "Evidence attached • Rota 19 July.pdf (line 1) • Locum invoice LOC-00004.pdf (line 5)",
        squash(doc.notes),
    ):
        assert expected in text, expected


def test_missing_payment_details_say_so():
    doc = make_document(2)
    doc = replace(doc, payment=replace(doc.payment, sort_code=None, account_number=None))
    text = all_text(build_invoice_pdf(doc))
    assert "Sort code: Not given" in text
    assert "Account number: Not given" in text


def test_page_n_of_m_and_the_table_header_on_every_page(long_invoice):
    _, _, pages = long_invoice
    assert len(pages) > 3
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Date Description and working Qty Unit Rate VAT Net amount" in text
        assert "DRAFT" not in text
    for text in pages[1:]:
        assert text.startswith("Invoice A8100120240007 Riverside Medical Centre (A81001)")


def test_a_group_cut_by_a_page_break_is_named_again(long_invoice):
    _, _, pages = long_invoice
    assert any("(continued)" in text for text in pages[1:])


def test_a_draft_is_marked_on_every_page():
    pages = pages_text(build_invoice_pdf(make_document(60, draft=True)))
    assert len(pages) >= 3
    for text in pages:
        assert "DRAFT" in text
    assert "Invoice number DRAFT (not yet issued)" in pages[0]


def test_a_credit_note_names_the_invoice_it_reverses():
    doc = make_credit_note(6)
    text = all_text(build_invoice_pdf(doc))
    assert text.startswith("Riverside Medical Centre")
    assert "Credit note" in text
    assert "Credit note number A81001CN20240001" in text
    assert "Credits invoice A8100120240007 Invoice dated 1 August 2024" in text
    assert "Issue date 20 August 2024" in text
    assert "Reverses invoice A8100120240007 of 1 August 2024 in full" in text
    assert "Due date" not in text and "Terms:" not in text
    assert f"Total credited {format_money(doc.total)}" in text
    assert doc.total < 0 and format_money(doc.total).startswith("-£")


def test_names_outside_ascii_print_with_the_embedded_font():
    text = all_text(build_invoice_pdf(make_document(12)))
    for name in ("Zoë Hughes", "Łukasz Nowak", "Siân O'Brien", "Nuala Ní Bhriain", "19–20"):
        assert name in text
    reader = PdfReader(io.BytesIO(build_invoice_pdf(make_document(2))))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    names = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert any("DejaVuSans" in name for name in names)
    for font in fonts.values():
        font = font.get_object()
        assert font["/Subtype"] == "/TrueType"
        assert "/FontFile2" in font["/FontDescriptor"]


def test_user_text_is_never_markup():
    hostile = "<b>x</b> & <font color=red>&amp; <para/>"
    line = replace(
        make_line(0, "<i>Outage</i> & co", "staff", "Staff time"),
        description=hostile,
        working="=SUM(A1) & <br/>",
    )
    doc = make_document(
        lines=(line,), notes="Notes with <u>tags</u> & ampersands", po_reference="<PO&1>"
    )
    text = all_text(build_invoice_pdf(doc))
    for literal in (
        hostile,
        "=SUM(A1) & <br/>",
        "Incident: <i>Outage</i> & co",
        "Notes with <u>tags</u> & ampersands",
        "<PO&1>",
    ):
        assert literal in text, literal


def test_long_words_and_control_characters_are_wrapped_not_lost():
    word = "X" * 400
    line = replace(
        make_line(0, "Outage", "staff", "Staff time"),
        description=f"Start {word}\tend\x00\x07 line\r\nnext line",
    )
    doc = make_document(lines=(line,))
    text = all_text(build_invoice_pdf(doc))
    assert word in text.replace(" ", "")
    assert "end line next line" in text


def test_an_invoice_with_no_lines_still_builds():
    doc = make_document(lines=())
    text = all_text(build_invoice_pdf(doc))
    assert "No lines." in text
    assert "Total due £0.00" in text


def test_one_line_fits_one_page():
    pages = pages_text(build_invoice_pdf(make_document(1)))
    assert len(pages) == 1
    assert "Page 1 of 1" in pages[0]


def test_the_same_document_gives_the_same_bytes():
    doc = make_document(40)
    assert build_invoice_pdf(doc) == build_invoice_pdf(make_document(40))
    assert build_invoice_pdf(doc) != build_invoice_pdf(replace(doc, po_reference="PO-OTHER"))


def test_lines_are_printed_once_each():
    lines = make_lines(50)
    text = all_text(build_invoice_pdf(make_document(lines=lines)))
    for line in lines:
        if line.kind == "locum":
            assert text.count(line.description.split(", ")[1]) == 1


def test_a_long_evidence_list_flows_over_pages():
    evidence = tuple(f"Receipt {number:03d}.pdf (line {number})" for number in range(1, 151))
    pages = pages_text(build_invoice_pdf(make_document(4, evidence=evidence)))
    text = " ".join(pages)
    assert len(pages) >= 2
    for item in evidence:
        assert f"• {item}" in text
    assert "Account number: 12345678" in text


def test_a_long_practice_name_is_cut_to_fit_the_running_header_and_footer():
    """The header and footer are single lines: a 200-character name, one word, would run
    across the page number and the invoice number (issue 12, defect 7)."""
    from tracker.documents.pdf import LEFT, RIGHT

    name = "W" * 200
    doc = make_document(60, supplier=replace(make_document(1).supplier, name=name))
    reader = PdfReader(io.BytesIO(build_invoice_pdf(doc)))
    assert len(reader.pages) > 1
    first, second = pages_text(build_invoice_pdf(doc))[:2]
    assert name in first.replace(" ", "")  # the first page prints it whole, wrapped
    assert "…" in second and f"Invoice {doc.number}" in second and "Page 2 of" in second
    runs: list[tuple[str, float, float]] = []

    def visit(text, _cm, tm, font_dict, font_size):
        if text.strip():
            runs.append((text, tm[4], tm[5]))

    reader.pages[1].extract_text(visitor_text=visit)
    assert all(LEFT - 1 <= x <= RIGHT for _text, x, _y in runs), "text starts off the page"


MONEY_TEXT = re.compile(r"^-?£[0-9,]+\.[0-9]{2}$")


def _table_amounts(data: bytes) -> list[tuple[str, float, float, bool]]:
    """(text, left x, right x, bold) of every amount drawn in the table's body size."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from tracker.documents.pdf import BODY, BOLD, REGULAR, register_fonts

    register_fonts()
    runs: list[tuple[str, float, float, bool]] = []

    def visit(text, _cm, tm, font_dict, font_size):
        if MONEY_TEXT.match(text.strip()) and font_dict and abs(font_size - BODY) < 0.01:
            bold = "Bold" in str(font_dict.get("/BaseFont"))
            width = stringWidth(text.strip(), BOLD if bold else REGULAR, BODY)
            runs.append((text.strip(), tm[4], tm[4] + width, bold))

    for page in PdfReader(io.BytesIO(data)).pages:
        page.extract_text(visitor_text=visit)
    return runs


def _huge_document(with_vat: bool):
    """Lines of £1,000,000 and more (up to the largest a line can reach, under £10bn), so
    that subtotals reach £100,000 and more in bold."""
    amounts = (
        ("staff", "Staff time", "1000000.00"),
        ("staff", "Staff time", "123456789.01"),
        ("staff", "Staff time", "150000.00"),
        ("locum", "Locum cover", "-9999999999.99"),
    )
    lines = []
    for n, (kind, label, amount) in enumerate(amounts, start=1):
        net = Decimal(amount)
        vat = net if with_vat else Decimal("0.00")
        lines.append(
            replace(
                make_line(n, "Outage", kind, label),
                net=net,
                vat=vat,
                total=net + vat,
                vat_rate=Decimal("100") if with_vat else None,
                number=n,
            )
        )
    net = sum((line.net for line in lines), Decimal("0"))
    vat = sum((line.vat for line in lines), Decimal("0"))
    return make_document(lines=tuple(lines), net_total=net, vat_total=vat, total=net + vat)


@pytest.mark.parametrize("with_vat", [False, True])
def test_large_amounts_neither_wrap_nor_run_into_the_next_column(with_vat):
    """Amounts of £1,000,000 or more used to wrap in the net column, and bold subtotals of
    £100,000 or more ran left into the VAT column: every line amount and subtotal (up to
    the largest a line can reach) is drawn whole, inside its own column."""
    from tracker.documents.pdf import COLUMNS, COLUMNS_WITHOUT_VAT

    doc = _huge_document(with_vat)
    columns = COLUMNS if with_vat else COLUMNS_WITHOUT_VAT
    runs = _table_amounts(build_invoice_pdf(doc))
    drawn = {text for text, *_ in runs}
    for line in doc.lines:
        assert format_money(line.net) in drawn, format_money(line.net)
    for subtotal in (
        format_money(sum((line.net for line in doc.lines[:3]), Decimal("0"))),
        format_money(doc.lines[3].net),
    ):
        assert any(text == subtotal and bold for text, _, _, bold in runs), subtotal
    for text, left, right, _bold in runs:
        column = next((c for c in columns if abs(c[1] + c[2] - right) < 1.5), None)
        assert column is not None, f"{text} is not aligned to a column"
        assert left >= column[1] - 0.01, f"{text} runs into the column left of {column[0]}"


def test_the_columns_fit_the_largest_amount_a_line_can_reach():
    """The widest amount the columns are sized for is above the largest line the forms
    accept: 10,000 hours at £10,000 with overtime, NI and pension at their limits, and
    100,000 appointments at £10,000."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    from tracker.cost_kinds import MAX_QUANTITY, MAX_RATE
    from tracker.documents.pdf import (
        BODY,
        BOLD,
        COLUMNS,
        COLUMNS_WITHOUT_VAT,
        LARGEST_AMOUNT,
        register_fonts,
    )
    from tracker.services import costing

    staff = [
        costing.staff_time(
            MAX_QUANTITY["hour"],
            MAX_RATE,
            basis=basis,
            overtime_pct=Decimal("200"),
            ni_pct=Decimal("200"),
            pension_pct=Decimal("200"),
            vat_rate=Decimal("100"),
        ).total
        for basis in ("overtime", "additional")
    ]
    appointments = costing.lost_appointments(MAX_QUANTITY["appointment"], MAX_RATE)
    assert max(*staff, appointments.total) <= LARGEST_AMOUNT
    register_fonts()
    widest = format_money(-LARGEST_AMOUNT)
    for columns in (COLUMNS, COLUMNS_WITHOUT_VAT):
        for heading, _x, width, _align in columns[-2 if columns is COLUMNS else -1 :]:
            assert stringWidth(widest, BOLD, BODY) <= width, heading


def test_a_continuation_heading_names_only_a_kind_with_lines_on_its_page():
    """Where a page break fell between a group's last line and its subtotal, the next page
    began "Outage: Staff time (continued)" above nothing but the subtotal."""
    markers = {
        "Staff time": ("Extra hours:",),
        "Locum cover": ("Locum GP Dr",),
        "Lost appointments": ("GP appointments cancelled",),
        "Other expenses": ("Printer toner", "Courier for", "Mobile data"),
    }
    heading = re.compile(
        r": (Staff time|Locum cover|Lost appointments|Other expenses) \(continued\)"
    )
    checked = 0
    for count in range(30, 90):
        pages = pages_text(build_invoice_pdf(make_document(count)))
        for text in pages[1:]:
            for kind in heading.findall(text):
                checked += 1
                after = text.split(f"{kind} (continued)", 1)[1]
                assert any(marker in after for marker in markers[kind]), (count, kind, text[:300])
    assert checked
