"""The invoice / credit note PDF: A4, drawn on the reportlab canvas with its own pagination.

Why not platypus Tables: their layout of a long table costs more than linear time, and an
invoice of 10,000 lines must still build in seconds. Here every row is measured once, placed
once, and the whole document is laid out before anything is drawn, so the footer can say
"Page N of M" without a second rendering pass.

Everything a user typed is drawn as a plain string (never a Paragraph), so "<b>" and "&" print
as typed. Text is measured and drawn through tracker.documents.fonts: DejaVu Sans covers names
such as Zoë, Łukasz, Siân, דוד כהן and محمد, a fallback font Chinese, Japanese and Korean,
and right-to-left lines are drawn in reading order. The output is byte-for-byte the same for
the same document (reportlab's invariant mode).
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Literal

from reportlab.lib.colors import Color, HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from tracker.documents import fonts
from tracker.documents.data import DocumentLine, IncidentGroup, InvoiceDocument, Party
from tracker.documents.fonts import BOLD, REGULAR, register_fonts
from tracker.presentation import (
    format_money,
    format_rate,
    long_date,
    quantity_figure,
)

PAGE_WIDTH, PAGE_HEIGHT = A4
LEFT = 16 * mm
RIGHT = PAGE_WIDTH - 16 * mm
WIDTH = RIGHT - LEFT
TOP = 14 * mm
BOTTOM = PAGE_HEIGHT - 16 * mm  # content stops here (distances are measured from the top)
FOOTER_BASELINE = 10 * mm  # from the bottom edge

INK = HexColor("#212b32")  # NHS text colour
GREY = HexColor("#4c6272")  # NHS secondary text
RULE = HexColor("#d8dde0")
BAND = HexColor("#e8edee")  # table header and totals
GROUP_BAND = HexColor("#f0f4f5")
BLUE = HexColor("#005eb8")  # NHS blue
WATERMARK = Color(0.83, 0.0, 0.0, alpha=0.13)

BODY = 8.0  # table text
SMALL = 7.0  # working, labels
PAD = 3.0  # vertical padding inside a table row
GAP = 4.0  # horizontal padding between columns

#: The largest amount (in pounds, either sign) the VAT and net columns are sized for: above
#: any line the forms accept. The largest are 10,000 hours at £10,000 an hour with overtime,
#: employer NI and VAT at their limits (200%, 200%, 100%), under £2bn, and 100,000
#: appointments at £10,000, £1bn (tracker.cost_kinds MAX_QUANTITY, MAX_RATE and the VAT
#: rate's maximum; services.rates.RATE_LIMITS). So every line amount, and every subtotal of
#: lines up to £10bn, is drawn whole, in bold too, inside its column: £1,000,000 used to wrap
#: and a bold £100,000 ran into the next column. A sum beyond it (many such lines) is drawn
#: smaller to fit (amount_size), never wrapped or overlapping.
LARGEST_AMOUNT = Decimal("9999999999.99")
#: Bold "-£9,999,999,999.99" at BODY size is 87.8 pt wide; the column adds GAP.
AMOUNT_WIDTH = 92.0

# Table columns: (heading, width, align, indent). The description column takes the rest.
# The VAT column is printed only for a VAT-registered practice: an invoice from a practice
# without a VAT number says nothing about VAT line by line.
_FIXED = (
    ("Date", 60.0, "l", 0.0),
    ("Description and working", 0.0, "l", 0.0),
    ("Qty", 34.0, "r", 0.0),
    ("Unit", 66.0, "l", 5.0),
    ("Rate", 52.0, "r", 0.0),
    ("VAT", AMOUNT_WIDTH, "r", 0.0),
    ("Net amount", AMOUNT_WIDTH, "r", 0.0),
)
VAT_COLUMN = 5

Column = tuple[str, float, float, str]
SUBTOTAL_HEIGHT = BODY * 1.3 + 2 * PAD  # a subtotal row, without the space after it


def _columns(with_vat: bool = True) -> tuple[Column, ...]:
    """(heading, x of the cell's left edge, inner width, align) for each column."""
    fixed = [column for index, column in enumerate(_FIXED) if with_vat or index != VAT_COLUMN]
    rest = WIDTH - sum(width for _, width, _, _ in fixed)
    x = LEFT
    columns = []
    for heading, width, align, indent in fixed:
        width = width or rest
        columns.append((heading, x + indent, width - GAP - indent, align))
        x += width
    return tuple(columns)


COLUMNS = _columns()
COLUMNS_WITHOUT_VAT = _columns(with_vat=False)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]")


def clean(text: object) -> str:
    """Plain printable text: tabs become spaces, other control characters go."""
    value = str(text).replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    return _CONTROL.sub("", value)


def wrap(text: object, font: str, size: float, width: float) -> list[str]:
    """Split text into lines no wider than width: at spaces, or inside a word too long.
    Lines are wrapped in logical order, then each is put in visual (drawing) order: draw
    them with fonts.draw, and never wrap a line twice."""
    lines: list[str] = []
    for paragraph in clean(text).split("\n"):
        shaped = fonts.shape(paragraph)
        lines.extend(fonts.visual_lines(_wrap_paragraph(shaped, font, size, width), shaped))
    return lines


def _wrap_paragraph(text: str, font: str, size: float, width: float) -> list[str]:
    measure = fonts.width
    if measure(text, font, size) <= width:
        return [text]
    space = measure(" ", font, size)
    lines: list[str] = []
    current, current_width = "", 0.0
    for word in text.split(" "):
        word_width = measure(word, font, size)
        if current and current_width + space + word_width <= width:
            current, current_width = f"{current} {word}", current_width + space + word_width
            continue
        if current:
            lines.append(current)
        if word_width <= width:
            current, current_width = word, word_width
            continue
        pieces = _break_word(word, font, size, width)
        lines.extend(pieces[:-1])
        current = pieces[-1]
        current_width = measure(current, font, size)
    lines.append(current)
    return lines


def fit(text: object, font: str, size: float, width: float) -> str:
    """Text for one line that cannot wrap (the running header, the footer): whole when it
    fits, else cut to fit with an ellipsis. The first page prints the name in full."""
    value = fonts.shape(" ".join(clean(text).split()))
    base = fonts.base_direction(value)
    measure = fonts.width
    if measure(value, font, size) <= width:
        return fonts.visual(value, base)
    while value and measure(value + "…", font, size) > width:
        value = value[:-1]
    return fonts.visual(value.rstrip() + "…", base)


def _break_word(word: str, font: str, size: float, width: float) -> list[str]:
    pieces, current = [], ""
    for char in word:
        if current and fonts.width(current + char, font, size) > width:
            pieces.append(current)
            current = ""
        current += char
    pieces.append(current)
    return pieces


Cell = tuple[str, str, float, Color]  # one printed line: text, font, size, colour
Part = tuple[float, list[Cell]]  # lines drawn a gap (points) below what comes before


def text_cell(text: str, width: float, size: float = BODY, colour: Color = INK) -> list[Cell]:
    """A table cell's printed lines; empty text prints nothing."""
    if not text:
        return []
    return [(part, REGULAR, size, colour) for part in wrap(text, REGULAR, size, width)]


def amount_size(text: str, font: str, width: float, size: float = BODY) -> float:
    """The size an amount is drawn at: `size`, or smaller when the amount (a sum beyond
    LARGEST_AMOUNT) would not fit its column. An amount is never wrapped: a figure cut
    across two lines is misread."""
    natural = fonts.width(text, font, size)
    return size if natural <= width else size * width / natural


def money_cell(value: Decimal, width: float) -> list[Cell]:
    """An amount on one line, whole, inside its column."""
    text = format_money(value)
    return [(text, REGULAR, amount_size(text, REGULAR, width), INK)]


def _vat_cell(line: DocumentLine, width: float) -> list[Cell]:
    """The VAT and its rate, which a VAT invoice shows per item ("No VAT" when none)."""
    if not line.vat:
        return [(line.vat_rate_text, REGULAR, BODY, GREY)]
    return [*money_cell(line.vat, width), (line.vat_rate_text, REGULAR, SMALL, GREY)]


# A drawing operation: ("t", align, font, size, colour, x, baseline from top, text),
# ("f", x, top, width, height, colour) for a filled box, ("h", x1, x2, y, colour, width) rule.
TextOp = tuple[Literal["t"], str, str, float, Color, float, float, str]
FillOp = tuple[Literal["f"], float, float, float, float, Color]
RuleOp = tuple[Literal["h"], float, float, float, Color, float]
Op = TextOp | FillOp | RuleOp


class PageLayout:
    """Lays a document out into A4 pages of drawing operations (y measured from the top),
    each page started by `page_started` (a running header, a table's header again). The
    invoice and the statement of account (documents.statement_pdf) are both laid out on it,
    so they share the page, its type and its furniture."""

    def __init__(self) -> None:
        self.pages: list[list[Op]] = []
        self.ops: list[Op] = []
        self.y = TOP

    # -- primitives -------------------------------------------------------------------------
    def text(
        self,
        x: float,
        top: float,
        text: str,
        font: str = REGULAR,
        size: float = BODY,
        colour: Color = INK,
        align: str = "l",
    ) -> None:
        self.ops.append(("t", align, font, size, colour, x, top + size * 0.93, text))

    def fill(self, x: float, top: float, width: float, height: float, colour: Color) -> None:
        self.ops.append(("f", x, top, width, height, colour))

    def rule(
        self,
        top: float,
        colour: Color = RULE,
        width: float = 0.5,
        x1: float = LEFT,
        x2: float = RIGHT,
    ) -> None:
        self.ops.append(("h", x1, x2, top, colour, width))

    def new_page(self) -> None:
        self.ops = []
        self.pages.append(self.ops)
        self.y = TOP
        self.page_started()

    def page_started(self) -> None:
        """What each page begins with; nothing here."""

    def need(self, height: float) -> None:
        """Start a new page unless height still fits on this one."""
        if self.y + height > BOTTOM:
            self.new_page()

    def block(
        self,
        x: float,
        width: float,
        lines: Iterable[tuple[str, str, float, Color]],
        top: float,
        align: str = "l",
    ) -> float:
        """Draw (text, font, size, colour) lines wrapped to width from top; return the end."""
        y = top
        for text, font, size, colour in lines:
            for part in wrap(text, font, size, width):
                self.text(x if align == "l" else x + width, y, part, font, size, colour, align)
                y += size * 1.3
        return y

    def move_fills_back(self, count: int) -> None:
        """Fills were added after the text they sit behind; draw them first on this page."""
        fills = self.ops[-count:]
        del self.ops[-count:]
        self.ops[:0] = fills

    def key_values(
        self, x: float, width: float, rows: Sequence[tuple[str, str]], top: float
    ) -> float:
        """Label (grey) and value (bold, right-aligned) rows from `top`; returns the end."""
        label_width = 100.0
        y = top
        for label, value in rows:
            self.text(x, y, label, REGULAR, BODY, GREY)
            end = self.block(
                x + label_width, width - label_width, [(value, BOLD, BODY, INK)], y, "r"
            )
            y = end + 2
        return y

    def section(self, title: str, lines: list[Cell], x: float = LEFT, width: float = WIDTH) -> None:
        """A heading and wrapped lines; the heading stays with the first line."""
        wrapped = wrapped_lines(lines, width)
        first = wrapped[0][2] * 1.3 if wrapped else 0
        self.need(12 + 6 + first)
        self.text(x, self.y, title, BOLD, 10, BLUE)
        self.y += 15
        for text, font, size, colour in wrapped:
            self.need(size * 1.3)
            self.text(x, self.y, text, font, size, colour)
            self.y += size * 1.3
        self.y += 8

    def side_by_side(self, left: tuple[str, list[Cell]], right: tuple[str, list[Cell]]) -> None:
        """Two sections in two columns when both fit on one page; else one after the other."""
        width = WIDTH / 2 - 10
        height = (
            15
            + 10
            + max(
                sum(size * 1.3 for _, _, size, _ in wrapped_lines(lines, width))
                for _, lines in (left, right)
            )
        )
        if height > (BOTTOM - TOP) / 2:
            self.section(*left)
            self.section(*right)
            return
        self.need(height)
        top = self.y
        self.section(*left, x=LEFT, width=width)
        self.y = top
        self.section(*right, x=LEFT + WIDTH / 2 + 10, width=width)
        self.y = top + height

    def letterhead(
        self, supplier: Party, title: str, size: float, rows: Sequence[tuple[str, str]]
    ) -> None:
        """The first page's top: the supplier's name and details at the left; the
        document's title (NHS blue, `size` pt) and its particulars at the right."""
        half = WIDTH / 2 - 10
        right_x = LEFT + WIDTH / 2 + 10
        left_end = self.block(LEFT, half, [(supplier.name, BOLD, 13, INK)], self.y)
        left_end = self.block(LEFT, half, party_lines(supplier), left_end + 2)
        self.text(RIGHT, self.y - 2, clean(title), BOLD, size, BLUE, "r")
        right_end = self.key_values(right_x, RIGHT - right_x, rows, self.y + 32)
        self.y = max(left_end, right_end) + 10

    def boxes(self, left: Sequence[Part], right: Sequence[Part]) -> None:
        """Two shaded boxes side by side, as tall as the longer: who the document is to at
        the left, the amount at the right. Each part is drawn `gap` points below the last."""
        half = WIDTH / 2 - 10
        right_x = LEFT + WIDTH / 2 + 10
        top = self.y
        left_end = self._parts(LEFT + 8, half - 16, left, top)
        right_end = self._parts(right_x + 8, RIGHT - right_x - 16, right, top)
        bottom = max(left_end, right_end) + 6
        self.fill(LEFT, top, half, bottom - top, GROUP_BAND)
        self.fill(right_x, top, RIGHT - right_x, bottom - top, GROUP_BAND)
        self.move_fills_back(2)
        self.y = bottom + 12

    def _parts(self, x: float, width: float, parts: Sequence[Part], top: float) -> float:
        y = top
        for gap, lines in parts:
            y = self.block(x, width, lines, y + gap)
        return y

    def running_header(self, title: str, name: str, suffix: str = "") -> None:
        """A page after the first: the document's title in bold and, at the right, whose it
        is (`name` cut to fit, then `suffix` whole); a rule under both."""
        title = clean(title)
        self.text(LEFT, self.y, title, BOLD, 9)
        room = RIGHT - LEFT - 12 - fonts.width(title + suffix, BOLD, 9)
        owner = fit(name, REGULAR, SMALL, room)
        self.text(RIGHT, self.y, clean(owner + suffix), REGULAR, SMALL, GREY, "r")
        self.y += 14
        self.rule(self.y, INK, 0.6)
        self.y += 8


class _Layout(PageLayout):
    """The invoice or credit note, laid out into pages."""

    def __init__(self, doc: InvoiceDocument) -> None:
        super().__init__()
        self.doc = doc
        self.in_table = False
        self.group: tuple[str, str] | None = None  # (incident, kind label) being printed
        self.with_vat = doc.shows_vat
        self.columns = COLUMNS if self.with_vat else COLUMNS_WITHOUT_VAT

    def page_started(self) -> None:
        """The running header after the first page; within the table, its header again and
        the group being printed, "(continued)"."""
        if len(self.pages) > 1:
            self._running_header()
        if self.in_table:
            self._table_header()
            if self.group:
                incident, kind = self.group
                self._group_row(f"{incident}: {kind} (continued)", BOLD, BODY, GROUP_BAND)

    # -- page furniture ---------------------------------------------------------------------
    def _running_header(self) -> None:
        doc = self.doc
        title = f"{doc.title} {doc.number or '(draft)'}"
        self.running_header(title, doc.supplier.name, f" ({doc.supplier.ods_code})")

    # -- first page header ------------------------------------------------------------------
    def header(self) -> None:
        doc = self.doc
        self.letterhead(doc.supplier, doc.title, 22, self._meta())
        po = doc.po_reference or "Not given"
        bill_to: list[Part] = [
            (8, [("Bill to", BOLD, SMALL, GREY), (doc.customer.name, BOLD, 10, INK)]),
            (1, party_lines(doc.customer)),
            (3, [(f"Purchase order / reference: {po}", BOLD, BODY, INK)]),
        ]
        self.boxes(bill_to, [(8, self._due_lines())])

    def _due_lines(self) -> list[Cell]:
        """The amount due (or credited) box: the total, by when, or what it credits."""
        doc = self.doc
        due_label = "Total credited" if doc.credited_number else "Total due"
        due_lines = [(due_label, BOLD, SMALL, GREY), (format_money(doc.total), BOLD, 18, INK)]
        if doc.due_date and not doc.credited_number:
            due_lines.append((f"by {long_date(doc.due_date)}", REGULAR, 9, INK))
        if doc.credited_number:
            of = f" of {long_date(doc.credited_issue_date)}" if doc.credited_issue_date else ""
            reverses = (
                f"Reverses invoice {doc.credited_number}{of} in full"
                if doc.credits_in_full
                else f"Credits part of invoice {doc.credited_number}{of}"
            )
            due_lines.append((reverses, REGULAR, 9, INK))
        elif doc.number:
            due_lines.append((f"Please quote {doc.number} with your payment", REGULAR, SMALL, GREY))
        return due_lines

    def _meta(self) -> list[tuple[str, str]]:
        doc = self.doc
        noun = "Credit note" if doc.credited_number else "Invoice"
        rows = [(f"{noun} number", doc.number or "DRAFT (not yet issued)")]
        if doc.credited_number:
            rows.append(("Credits invoice", doc.credited_number))
            if doc.credited_issue_date:  # the date of the invoice reversed (HMRC, see data)
                rows.append(("Invoice dated", long_date(doc.credited_issue_date)))
        rows.append(("Issue date", long_date(doc.issue_date)))
        if doc.supply_from or doc.supply_to:
            start, end = doc.supply_from or doc.supply_to, doc.supply_to or doc.supply_from
            supply = long_date(start) if start == end else f"{long_date(start)} to {long_date(end)}"
            rows.append(("Supply dates", supply))
        if doc.due_date and not doc.credited_number:
            rows.append(("Due date", long_date(doc.due_date)))
        return rows

    # -- the itemised table -----------------------------------------------------------------
    def _table_header(self) -> None:
        height = 16.0
        self.fill(LEFT, self.y, WIDTH, height, BAND)
        for heading, x, width, align in self.columns:
            self.text(
                x if align == "l" else x + width, self.y + 4.5, heading, BOLD, SMALL, INK, align
            )
        self.y += height

    def _group_row(self, text: str, font: str, size: float, band: Color | None) -> None:
        lines = wrap(text, font, size, WIDTH - 8)
        height = len(lines) * size * 1.3 + 2 * PAD + 1
        if band is not None:
            self.fill(LEFT, self.y, WIDTH, height, band)
        y = self.y + PAD + 0.5
        for part in lines:
            self.text(LEFT + 4, y, part, font, size)
            y += size * 1.3
        self.y += height

    def _measure_line(self, line: DocumentLine) -> tuple[list[list[Cell]], float]:
        widths = [width for _, _, width, _ in self.columns]
        cells = [
            text_cell(long_date(line.line_date), widths[0]),
            text_cell(line.description, widths[1])
            + (text_cell(line.details_text, widths[1], SMALL, GREY) if line.details else [])
            + text_cell(line.working, widths[1], SMALL, GREY)
            + text_cell(line.evidence_text, widths[1], SMALL, GREY),
            text_cell(quantity_figure(line.quantity, line.unit), widths[2]),
            text_cell(line.unit_text, widths[3]),
            text_cell(format_rate(line.unit_rate), widths[4]),
            *([_vat_cell(line, widths[VAT_COLUMN])] if self.with_vat else []),
            money_cell(line.net, widths[-1]),
        ]
        height = max(sum(size * 1.3 for _, _, size, _ in cell) for cell in cells) + 2 * PAD
        return cells, height

    def _line_row(self, line: DocumentLine, keep: float = 0.0) -> None:
        """One line; `keep` is the height of what must stay on its page with it."""
        cells, height = self._measure_line(line)
        self.need(height + keep)
        top = self.y + PAD
        for (_, x, width, align), cell in zip(self.columns, cells, strict=True):
            y = top
            anchor = x if align == "l" else x + width
            for text, font, size, colour in cell:
                self.text(anchor, y, text, font, size, colour, align)
                y += size * 1.3
        self.y += height
        self.rule(self.y, RULE, 0.4)

    def _subtotal_row(
        self, label: str, vat: Decimal, net: Decimal, font: str = BOLD, weight: float = 0.6
    ) -> None:
        height = SUBTOTAL_HEIGHT
        self.need(height)
        _, amount_x, amount_w, _ = self.columns[-1]
        _, label_x, _, _ = self.columns[1]
        # the label ends before the VAT column (or the net amount's, with no VAT column)
        _, first_x, _, _ = self.columns[VAT_COLUMN] if self.with_vat else self.columns[-1]
        self.rule(self.y, INK, weight, label_x, RIGHT)
        self.text(first_x - GAP - 2, self.y + PAD, label, font, BODY, INK, "r")
        if self.with_vat:
            _, vat_x, vat_w, _ = self.columns[VAT_COLUMN]
            self._amount(vat_x + vat_w, vat_w, vat, font)
        self._amount(amount_x + amount_w, amount_w, net, font)
        self.y += height + 4

    def _amount(self, right: float, width: float, value: Decimal, font: str) -> None:
        """A subtotal's amount, right-aligned at `right`, whole and inside `width`."""
        text = format_money(value)
        self.text(right, self.y + PAD, text, font, amount_size(text, font, width), INK, "r")

    def _section_row(self, title: str) -> None:
        """A section's heading: white on NHS blue, across the table."""
        height = 9 * 1.3 + 2 * PAD + 1
        self.fill(LEFT, self.y, WIDTH, height, BLUE)
        self.text(LEFT + 4, self.y + PAD + 0.5, clean(title), BOLD, 9, white)
        self.y += height

    def table(self) -> None:
        doc = self.doc
        self.need(16 + 60)
        self.in_table = True
        self._table_header()
        several = len({incident.title for incident in doc.incidents}) > 1
        for section in doc.sections:
            if doc.has_notional:
                first = section.incidents[0].kinds[0].lines[0]
                self.need(2 * 16 + 40 + self._measure_line(first)[1])
                self.group = None
                self._section_row(section.title)
            for incident in section.incidents:
                self._incident(incident, several)
            if doc.has_notional:
                self.group = None
                self._subtotal_row(section.subtotal_label, section.vat, section.net, weight=1.2)
        if not doc.lines:
            self._group_row("No lines.", REGULAR, BODY, None)
        self.in_table = False
        self.group = None

    def _incident(self, incident: IncidentGroup, several: bool) -> None:
        first_cells = self._measure_line(incident.kinds[0].lines[0])[1]
        self.need(40 + first_cells)
        self.group = None
        self._group_row(f"Incident: {incident.title}", BOLD, 9, GROUP_BAND)
        for group in incident.kinds:
            self.need(BODY * 1.3 + 2 * PAD + self._measure_line(group.lines[0])[1])
            self.group = (incident.title, group.kind_label)
            self._group_row(group.kind_label, BOLD, BODY, None)
            # the last line keeps its subtotal company: a subtotal alone atop a page would
            # follow a "(continued)" heading naming a kind with no line on that page
            for line in group.lines[:-1]:
                self._line_row(line)
            self._line_row(group.lines[-1], keep=SUBTOTAL_HEIGHT)
            self._subtotal_row(f"Subtotal, {group.kind_label.lower()}", group.vat, group.net)
            self.group = None  # finished: a page break from here on continues no group
        if several:
            self._subtotal_row("Incident total", incident.vat, incident.net)

    # -- totals and the sections after the table ----------------------------------------------
    def totals(self) -> None:
        doc = self.doc
        rows = [("Net total", doc.net_total, REGULAR), ("VAT total", doc.vat_total, REGULAR)]
        if doc.mixed_vat:
            rows.append(("Lines with no VAT (included)", doc.no_vat_lines_total, REGULAR))
        due = "Total credited" if doc.credited_number else "Total due"
        height = (len(rows) + 1) * 16 + 12
        self.need(height)
        x = RIGHT - 220
        self.y += 4
        for label, value, font in rows:
            self.text(x + 8, self.y + 4, label, font, 9)
            self.text(RIGHT - 4, self.y + 4, format_money(value), font, 9, INK, "r")
            self.y += 16
        self.fill(x, self.y, RIGHT - x, 20, BLUE)
        self.text(x + 8, self.y + 5, due, BOLD, 10, white)
        self.text(RIGHT - 4, self.y + 5, format_money(doc.total), BOLD, 10, white, "r")
        self.y += 24

    def after_table(self) -> None:
        doc = self.doc
        self.totals()
        if doc.vat_statement:
            self.section("VAT", [(doc.vat_statement, REGULAR, 9, INK)])
        evidence: list[Cell] = [(f"• {item}", REGULAR, 9, INK) for item in doc.evidence]
        if doc.credited_number:  # nothing is to be paid on a credit note
            self.section(
                "Reason for the credit note", [(doc.notes or "Not given", REGULAR, 9, INK)]
            )
            return
        payment = doc.payment
        missing = "Not given"
        terms = f"{payment.terms_days} days from the issue date"
        if doc.due_date:
            terms += f" (due {long_date(doc.due_date)})"
        details = [
            f"Account name: {payment.account_name or missing}",
            f"Sort code: {payment.sort_code or missing}",
            f"Account number: {payment.account_number or missing}",
            f"Remittance advice to: {payment.remittance_email or missing}",
            f"Terms: {terms}",
        ]
        self.side_by_side(
            ("Payment details", [(text, REGULAR, 9, INK) for text in details]),
            ("Evidence attached", evidence or [("None.", REGULAR, 9, GREY)]),
        )
        if doc.notes.strip():
            self.section("Notes", [(doc.notes, REGULAR, 9, INK)])


def wrapped_lines(lines: list[Cell], width: float) -> list[Cell]:
    return [
        (part, font, size, colour)
        for text, font, size, colour in lines
        for part in wrap(text, font, size, width)
    ]


def party_lines(party: Party) -> list[Cell]:
    lines: list[Cell] = [(line, REGULAR, 9, INK) for line in party.address_lines if line.strip()]
    lines.append((f"ODS code: {party.ods_code}", REGULAR, 9, INK))
    if party.email:
        lines.append((f"Email: {party.email}", REGULAR, 9, INK))
    if party.phone:
        lines.append((f"Phone: {party.phone}", REGULAR, 9, INK))
    if party.vat_number:
        lines.append((f"VAT number: {party.vat_number}", REGULAR, 9, INK))
    return lines


def _draw_page(canvas: Canvas, ops: list[Op]) -> None:
    """A page's boxes and rules, then all its text in one text object over them (text is
    never meant to be under a box: the boxes are the table's header and total bands)."""
    page_text = fonts.PageText(canvas)
    font_state = None
    colour_state = None
    for op in ops:
        if op[0] == "t":
            _, align, font, size, colour, x, baseline, text = op
            if font_state != (font, size):
                page_text.setFont(font, size)
                font_state = (font, size)
            if colour_state is not colour:
                page_text.setFillColor(colour)
                colour_state = colour
            fonts.draw_in(page_text, (x, PAGE_HEIGHT - baseline), text, font, size, align)
        elif op[0] == "f":
            _, x, top, width, height, colour = op
            canvas.setFillColor(colour)
            canvas.rect(x, PAGE_HEIGHT - top - height, width, height, stroke=0, fill=1)
        else:
            _, x1, x2, top, colour, width = op
            canvas.setStrokeColor(colour)
            canvas.setLineWidth(width)
            canvas.line(x1, PAGE_HEIGHT - top, x2, PAGE_HEIGHT - top)
    canvas.drawText(page_text)


def draw_pages(
    canvas: Canvas, pages: list[list[Op]], *, owner: str, document: str, draft: bool = False
) -> None:
    """Draw laid-out pages, each with its footer: `owner` (cut to fit) and `document` at the
    left, "Page N of M" at the right; `draft` marks every page DRAFT."""
    total = len(pages)
    document = clean(f" · {document}")
    room = RIGHT - LEFT - 12 - fonts.width(f"Page {total} of {total}", BOLD, SMALL)
    room -= fonts.width(document, REGULAR, SMALL)
    footer = fit(owner, REGULAR, SMALL, room) + document
    for number, ops in enumerate(pages, start=1):
        _draw_page(canvas, ops)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(LEFT, FOOTER_BASELINE + 10, RIGHT, FOOTER_BASELINE + 10)
        canvas.setFont(REGULAR, SMALL)
        canvas.setFillColor(GREY)
        fonts.draw(canvas, LEFT, FOOTER_BASELINE, clean(footer), REGULAR, SMALL)
        canvas.setFont(BOLD, SMALL)
        canvas.drawRightString(RIGHT, FOOTER_BASELINE, f"Page {number} of {total}")
        if draft:
            canvas.saveState()
            canvas.setFillColor(WATERMARK)
            canvas.setFont(BOLD, 120)
            canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
            canvas.rotate(50)
            canvas.drawCentredString(0, -40, "DRAFT")
            canvas.restoreState()
        canvas.showPage()


def document_canvas(buffer: io.BytesIO, *, title: str, author: str, font_size: float) -> Canvas:
    """An A4 canvas for one of our documents: invariant (the same document gives the same
    bytes, so a download can be compared or sent again unchanged), compressed, in the
    embedded font, with its title and author in the PDF's properties."""
    canvas = Canvas(
        buffer,
        pagesize=A4,
        invariant=1,
        pageCompression=1,
        # otherwise every page also references Helvetica; the stubs type this font name as
        # a float (reportlab takes a name: `initialFontName if initialFontName else ...`)
        initialFontName=REGULAR,  # type: ignore[arg-type]
        initialFontSize=font_size,
    )
    canvas.setTitle(clean(title))
    canvas.setAuthor(clean(author))
    canvas.setCreator("Outage Claims")
    return canvas


def build_invoice_pdf(doc: InvoiceDocument) -> bytes:
    """The invoice or credit note as PDF bytes; the same document always gives the same bytes."""
    register_fonts()
    layout = _Layout(doc)
    layout.new_page()
    layout.header()
    layout.table()
    layout.after_table()

    name = f"{doc.title} {doc.number or 'DRAFT'}"
    return pages_pdf(
        layout.pages, name=name, supplier=doc.supplier, customer=doc.customer, draft=doc.draft
    )


def pages_pdf(
    pages: list[list[Op]], *, name: str, supplier: Party, customer: Party, draft: bool = False
) -> bytes:
    """Laid-out pages as PDF bytes: `name` (the document, as its properties and every
    footer give it) from `supplier` to `customer`."""
    buffer = io.BytesIO()
    canvas = document_canvas(
        buffer,
        title=name,
        author=f"{supplier.name} ({supplier.ods_code})",
        font_size=BODY,
    )
    canvas.setSubject(clean(f"{name} to {customer.name}"))
    draw_pages(canvas, pages, owner=supplier.name, document=name, draft=draft)
    canvas.save()
    return buffer.getvalue()
