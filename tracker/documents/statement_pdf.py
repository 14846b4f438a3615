"""The statement of account as a PDF: A4, on the invoice's page (documents.pdf: its fonts,
colours, letterhead, running header and "Page N of M" footer), so a statement sent with the
invoices it chases looks like them.

First the practice's letterhead and the ICB's payables address, with the balance due and
what of it is overdue; then every invoice, credit note, payment and refund in date order
with the running balance; then the overdue invoices aged by days past their due date, and
how to pay (the practice's bank details and remittance email, as on its invoices).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from reportlab.lib.colors import Color, white

from tracker.documents import fonts
from tracker.documents.data import PaymentDetails
from tracker.documents.fonts import BOLD, REGULAR, register_fonts
from tracker.documents.pdf import (
    BAND,
    BLUE,
    BODY,
    GAP,
    GREY,
    GROUP_BAND,
    INK,
    LEFT,
    PAD,
    RULE,
    SMALL,
    WIDTH,
    Cell,
    PageLayout,
    Part,
    amount_size,
    money_cell,
    pages_pdf,
    party_lines,
    text_cell,
)
from tracker.documents.statement_data import AGE_BANDS, StatementDocument
from tracker.presentation import format_money, long_date, short_date

#: (heading, width, align); a width of 0 takes what the others leave.
Spec = tuple[tuple[str, float, str], ...]
MONEY_WIDTH = 66.0
ACTIVITY: Spec = (
    ("Date", 58.0, "l"),
    ("Type", 54.0, "l"),
    ("Reference", 92.0, "l"),
    ("Details", 0.0, "l"),
    ("Debit", MONEY_WIDTH, "r"),
    ("Credit", MONEY_WIDTH, "r"),
    ("Balance", MONEY_WIDTH, "r"),
)
AGED: Spec = (
    ("Invoice", 0.0, "l"),
    ("Due", 58.0, "l"),
    ("Days past due", 44.0, "r"),
    *((label, MONEY_WIDTH, "r") for label, _ in AGE_BANDS),
)
#: (heading, x, inner width, align) of each column
Columns = tuple[tuple[str, float, float, str], ...]


def _columns(spec: Spec) -> Columns:
    rest = WIDTH - sum(width for _, width, _ in spec)
    x = LEFT
    columns = []
    for heading, width, align in spec:
        width = width or rest
        columns.append((heading, x, width - GAP, align))
        x += width
    return tuple(columns)


class _StatementLayout(PageLayout):
    def __init__(self, doc: StatementDocument) -> None:
        super().__init__()
        self.doc = doc
        self.table: Columns | None = None  # the table being printed, repeated on a new page
        self.table_title = ""

    def page_started(self) -> None:
        if len(self.pages) > 1:
            title = f"{self.doc.title} as at {long_date(self.doc.as_at)}"
            owner = self.doc.supplier
            self.running_header(title, owner.name, f" ({owner.ods_code})")
        if self.table is not None:
            self._heading_row(self.table, f"{self.table_title} (continued)")

    # -- first page -------------------------------------------------------------------------
    def header(self) -> None:
        doc = self.doc
        rows = [
            ("Statement date", long_date(doc.as_at)),
            ("ICB ODS code", doc.customer.ods_code),
            ("Payment terms", f"{doc.payment.terms_days} days from the invoice date"),
        ]
        self.letterhead(doc.supplier, doc.title, _title_size(doc.title, WIDTH / 2 - 10), rows)
        to: list[Part] = [
            (8, [("To", BOLD, SMALL, GREY), (doc.customer.name, BOLD, 10, INK)]),
            (1, party_lines(doc.customer)),
        ]
        due: list[Cell] = [
            ("Balance due", BOLD, SMALL, GREY),
            (format_money(doc.balance), BOLD, 18, INK),
            (f"Overdue: {format_money(doc.overdue)}", BOLD, 9, INK),
            (f"Not yet due: {format_money(doc.not_yet_due)}", REGULAR, 9, INK),
            ("Please quote the invoice numbers with your payment", REGULAR, SMALL, GREY),
        ]
        self.boxes(to, [(8, due)])
        self.y += 2

    # -- tables ------------------------------------------------------------------------------
    def _heading_row(self, columns: Columns, title: str) -> None:
        """The table's title (white on NHS blue) and its column headings."""
        self.fill(LEFT, self.y, WIDTH, 9 * 1.3 + 2 * PAD + 1, BLUE)
        self.text(LEFT + 4, self.y + PAD + 0.5, title, BOLD, 9, white)
        self.y += 9 * 1.3 + 2 * PAD + 1
        heights = [len(_heading_lines(h, w)) for h, _, w, _ in columns]
        height = max(heights) * SMALL * 1.3 + 2 * PAD + 2
        self.fill(LEFT, self.y, WIDTH, height, BAND)
        for heading, x, width, align in columns:
            anchor = x if align == "l" else x + width
            y = self.y + PAD + 1
            for part in _heading_lines(heading, width):
                self.text(anchor, y, part, BOLD, SMALL, INK, align)
                y += SMALL * 1.3
        self.y += height

    def _start_table(self, columns: Columns, title: str, first_row: float) -> None:
        self.need(60 + first_row)
        self.table, self.table_title = columns, title
        self._heading_row(columns, title)

    def _end_table(self) -> None:
        self.table = None
        self.y += 14

    def _row(
        self, columns: Columns, cells: Sequence[list[Cell]], band: Color | None = None
    ) -> None:
        height = _height(cells)
        self.need(height)
        if band is not None:
            self.fill(LEFT, self.y, WIDTH, height, band)
        for (_, x, width, align), cell in zip(columns, cells, strict=True):
            y = self.y + PAD
            anchor = x if align == "l" else x + width
            for text, font, size, colour in cell:
                self.text(anchor, y, text, font, size, colour, align)
                y += size * 1.3
        self.y += height
        self.rule(self.y, RULE, 0.4)

    def _totals_row(self, columns: Columns, label: str, amounts: Sequence[Decimal | None]) -> None:
        """A bold row: `label` in the first column, `amounts` in the last ones."""
        cells: list[list[Cell]] = [[] for _ in columns]
        cells[0] = [(label, BOLD, BODY, INK)]
        first = len(columns) - len(amounts)
        for index, amount in enumerate(amounts, start=first):
            if amount is not None:
                text = format_money(amount)
                width = columns[index][2]
                cells[index] = [(text, BOLD, amount_size(text, BOLD, width), INK)]
        self.need(_height(cells) + 2)
        self.rule(self.y, INK, 0.8)
        self._row(columns, cells, GROUP_BAND)

    def activity(self) -> None:
        doc = self.doc
        columns = _columns(ACTIVITY)
        title = f"Account activity to {long_date(doc.as_at)}"
        widths = [width for _, _, width, _ in columns]
        rows = [
            [
                text_cell(short_date(entry.on), widths[0]),
                text_cell(entry.kind, widths[1]),
                text_cell(entry.reference, widths[2]),
                text_cell(entry.details, widths[3], SMALL, GREY),
                _amount(entry.debit, widths[4]),
                _amount(entry.credit, widths[5]),
                money_cell(entry.balance, widths[6]),
            ]
            for entry in doc.entries
        ]
        self._start_table(columns, title, _height(rows[0]) if rows else 20)
        for cells in rows:
            self._row(columns, cells)
        if not rows:
            self._row(columns, [text_cell("No invoices up to this date.", WIDTH), *[[]] * 6])
        self._totals_row(columns, "Totals", [doc.debits, doc.credits, doc.balance])
        self._end_table()

    def aged(self) -> None:
        doc = self.doc
        columns = _columns(AGED)
        widths = [width for _, _, width, _ in columns]
        overdue = doc.overdue_invoices
        title = "Overdue invoices, by days past the due date"
        if not overdue:
            self.section(
                title, [(f"Nothing is overdue on {long_date(doc.as_at)}.", REGULAR, 9, INK)]
            )
            return
        rows = []
        for invoice in overdue:
            bands: list[list[Cell]] = [[] for _ in AGE_BANDS]
            assert invoice.band is not None
            bands[invoice.band] = money_cell(invoice.outstanding, widths[3 + invoice.band])
            rows.append(
                [
                    text_cell(invoice.number, widths[0])
                    + text_cell(f"Issued {short_date(invoice.issue_date)}", widths[0], SMALL, GREY),
                    text_cell(short_date(invoice.due_date), widths[1]),
                    text_cell(str(invoice.days_overdue), widths[2]),
                    *bands,
                ]
            )
        self._start_table(columns, title, _height(rows[0]))
        for cells in rows:
            self._row(columns, cells)
        self._totals_row(columns, f"Overdue: {format_money(doc.overdue)}", list(doc.aged))
        self._end_table()

    def how_to_pay(self) -> None:
        payment = self.doc.payment
        self.side_by_side(
            ("How to pay", _bank_lines(payment)),
            (
                "Remittance advice",
                [
                    (
                        "Please send the remittance advice to "
                        f"{payment.remittance_email or self.doc.supplier.email or 'us'}, "
                        "listing each invoice number paid and the amount paid against it.",
                        REGULAR,
                        9,
                        INK,
                    ),
                    (
                        "Credit notes and payments already received are shown above and "
                        "taken off the balance due.",
                        REGULAR,
                        9,
                        GREY,
                    ),
                ],
            ),
        )


def _title_size(title: str, width: float) -> float:
    """The title's size: 20 pt, or smaller to fit beside the letterhead."""
    natural = fonts.width(title, BOLD, 20)
    return 20 if natural <= width else 20 * width / natural


def _heading_lines(heading: str, width: float) -> list[str]:
    return [heading] if fonts.width(heading, BOLD, SMALL) <= width else heading.split(" ", 1)


def _height(cells: Sequence[list[Cell]]) -> float:
    return max((sum(size * 1.3 for _, _, size, _ in cell) for cell in cells), default=0) + 2 * PAD


def _amount(value: Decimal, width: float) -> list[Cell]:
    """An amount, or nothing for £0.00 (a debit column of an entry that is a credit)."""
    return money_cell(value, width) if value else []


def _bank_lines(payment: PaymentDetails) -> list[Cell]:
    missing = "Not given"
    return [
        (f"Account name: {payment.account_name or missing}", REGULAR, 9, INK),
        (f"Sort code: {payment.sort_code or missing}", REGULAR, 9, INK),
        (f"Account number: {payment.account_number or missing}", REGULAR, 9, INK),
        (f"Terms: {payment.terms_days} days from the invoice date", REGULAR, 9, INK),
    ]


def build_statement_pdf(doc: StatementDocument) -> bytes:
    """The statement as PDF bytes; the same statement always gives the same bytes."""
    register_fonts()
    layout = _StatementLayout(doc)
    layout.new_page()
    layout.header()
    layout.activity()
    layout.aged()
    layout.how_to_pay()
    name = f"{doc.title} as at {long_date(doc.as_at)}"
    return pages_pdf(layout.pages, name=name, supplier=doc.supplier, customer=doc.customer)
