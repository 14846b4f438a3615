"""Paper forms for an outage: A4 sheets of empty boxes to fill in by hand while the systems
are down, and type in afterwards.

Each form is a table whose column headings are the `Column.name`s of tracker.columns in
order, with each column's `hint` under its heading, so a form's boxes are the import
template's columns and the app's fields, in the same order and with the same names (the
outage log's are the incident form's). An example row, printed in grey from the columns'
`example`, shows how a box is written. The practice's name and ODS code are in the header,
and, when printed for an incident, its title and dates.

Plain data in, bytes out: this module knows nothing of the database or the web. The sheets
are drawn in black and grey only, on white, so they photocopy and print in black and white;
a form with many columns is landscape. Output is byte-for-byte the same for the same input
(the shared canvas, documents.pdf.document_canvas, is invariant).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from tracker.columns import DATETIME, TIME, Column, columns, incident_columns
from tracker.cost_kinds import APPOINTMENT_TYPES, CostKind, FieldType
from tracker.documents import fonts
from tracker.documents.fonts import BOLD, REGULAR, register_fonts
from tracker.documents.pdf import GREY, INK, clean, document_canvas, fit, wrap

MARGIN = 12 * mm
GRID = HexColor("#4c6272")  # the boxes: dark enough to photocopy
EXAMPLE_INK = GREY
LINE = 1.25  # line height, as a multiple of the font size

#: Printed after each form's own instructions: where what is written goes afterwards.
IMPORT_NOTE = (
    "Fill in during the outage; type it in afterwards with Import on the incident page: "
    "same columns in the same order."
)
LOG_NOTE = (
    "Fill in during the outage; afterwards, enter the start, end, systems, what happened and "
    "the supplier's reference on the incident (Log an incident, or Edit incident): the same "
    "boxes in the same order."
)


@dataclass(frozen=True)
class PaperForm:
    """One paper form: what it is called and for, its columns (tracker.columns), how many
    rows it has room for and whether it is printed landscape."""

    key: str
    title: str
    purpose: str
    note: str
    columns: tuple[Column, ...]
    landscape: bool
    row_height: float
    #: words printed in a column of each row, in turn (the tally's appointment types)
    preprinted: tuple[str, tuple[str, ...]] | None = None

    @property
    def filename(self) -> str:
        return f"{self.key}.pdf"


@dataclass(frozen=True)
class Header:
    """Who a form is for: the practice, and the incident when printed for one."""

    practice_name: str
    ods_code: str
    incident_title: str | None = None
    #: when the incident ran, as the app shows it ("19 July 2024 07:10 to 20 July 2024 13:00")
    incident_dates: str | None = None


FORMS: tuple[PaperForm, ...] = (
    PaperForm(
        key="outage-log",
        title="Outage log",
        purpose=(
            "A line for each system that goes down, and again when it comes back: when, which "
            "systems, what happened and the supplier's incident number. Write the supplier's "
            "number as soon as you have it: the ICB asks for it."
        ),
        note=LOG_NOTE,
        columns=incident_columns(),
        landscape=False,
        row_height=15 * mm,
    ),
    PaperForm(
        key="staff-timesheet",
        title="Staff timesheet",
        purpose=(
            "Extra hours staff work because of the outage: a row for each person and shift. "
            "Write the start and finish times, or the hours (the hours are what is paid, "
            "less any break)."
        ),
        note=IMPORT_NOTE + " Or type it on the incident's Enter a timesheet page.",
        columns=columns(CostKind.STAFF),
        landscape=True,
        row_height=7.5 * mm,
    ),
    PaperForm(
        key="locum-sessions",
        title="Locum sessions",
        purpose=(
            "Locum cover booked because of the outage: a row for each locum and day, with "
            "the number on the locum's invoice. Keep the locum's invoice with this sheet."
        ),
        note=IMPORT_NOTE,
        columns=columns(CostKind.LOCUM),
        landscape=True,
        row_height=7.5 * mm,
    ),
    PaperForm(
        key="cancelled-appointments",
        title="Cancelled appointments tally",
        purpose=(
            "Appointments lost or cancelled because of the outage, by type of appointment and "
            "day: keep a tally in the Number of appointments box as you cancel, and write "
            "the total at the end of the day."
        ),
        note=IMPORT_NOTE,
        columns=columns(CostKind.APPOINTMENTS),
        landscape=True,
        row_height=8.5 * mm,
        preprinted=("appointment_type", tuple(APPOINTMENT_TYPES.values())),
    ),
    PaperForm(
        key="expenses",
        title="Expenses sheet",
        purpose=(
            "Anything bought because of the outage (paper, toner, a taxi for prescriptions, "
            "a phone top-up): a row for each receipt. Keep every receipt with this sheet."
        ),
        note=IMPORT_NOTE,
        columns=columns(CostKind.EXPENSE),
        landscape=False,
        row_height=9 * mm,
    ),
)
FORMS_BY_KEY = {form.key: form for form in FORMS}

#: How wide a column is, relative to the others, by the kind of value written in it.
_WEIGHTS = {
    FieldType.TEXT.value: 2.2,
    FieldType.CHOICE.value: 1.9,
    FieldType.MONEY.value: 1.25,
    FieldType.QUANTITY.value: 1.15,
    FieldType.PERCENT.value: 1.0,
    FieldType.DATE.value: 1.35,
    TIME: 0.95,
    DATETIME: 1.9,
}
#: Columns that need more room than their kind: sentences, and a day's tally marks.
_WIDER = {"description": 3.0, "cause": 4.2, "systems": 2.4, "supplier_reference": 1.6}
_TALLY = ("appointments", "quantity")

HEADING = 7.5
HINT = 6.0
EXAMPLE = 6.5
TITLE = 16.0
TEXT = 8.0


def _widths(form: PaperForm, width: float) -> list[float]:
    """Each column's width: its share of the page by the kind of value written in it, and
    never narrower than the longest word of its heading (a heading is not cut mid-word)."""
    weights = []
    for column in form.columns:
        weight = _WIDER.get(column.key, _WEIGHTS.get(column.type, 1.5))
        if form.preprinted is not None and column.key == _TALLY[1]:
            weight = 3.2  # room for tally marks
        weights.append(weight)
    floors = [
        max(fonts.width(word, BOLD, HEADING) for word in column.name.split()) + 8
        for column in form.columns
    ]
    widths = [width * weight / sum(weights) for weight in weights]
    short = [index for index, value in enumerate(widths) if value < floors[index]]
    if short:
        fixed = sum(floors[index] for index in short)
        rest = [index for index in range(len(widths)) if index not in short]
        share = sum(weights[index] for index in rest)
        for index in short:
            widths[index] = floors[index]
        for index in rest:
            widths[index] = (width - fixed) * weights[index] / share
    return widths


class _Sheet:
    """Draws one form on the canvas's current page (y measured from the top)."""

    def __init__(self, canvas: Canvas, form: PaperForm, header: Header) -> None:
        self.canvas = canvas
        self.form = form
        self.header = header
        self.page_width, self.page_height = landscape(A4) if form.landscape else A4
        self.left = MARGIN
        self.right = self.page_width - MARGIN
        self.width = self.right - self.left

    def text(
        self,
        x: float,
        top: float,
        text: str,
        font: str = REGULAR,
        size: float = TEXT,
        colour: Color = INK,
        align: str = "l",
    ) -> None:
        self.canvas.setFont(font, size)
        self.canvas.setFillColor(colour)
        fonts.draw(self.canvas, x, self.page_height - top - size * 0.93, text, font, size, align)

    def lines(
        self,
        x: float,
        top: float,
        width: float,
        text: str,
        font: str = REGULAR,
        size: float = TEXT,
        colour: Color = INK,
    ) -> float:
        """Text wrapped to `width` from `top`; returns where it ends."""
        y = top
        for part in wrap(text, font, size, width):
            self.text(x, y, part, font, size, colour)
            y += size * LINE
        return y

    def rule(self, x1: float, x2: float, top: float, width: float = 0.6) -> None:
        self.canvas.setStrokeColor(GRID)
        self.canvas.setLineWidth(width)
        y = self.page_height - top
        self.canvas.line(x1, y, x2, y)

    def upright(self, x: float, top: float, bottom: float, width: float = 0.6) -> None:
        self.canvas.setStrokeColor(GRID)
        self.canvas.setLineWidth(width)
        self.canvas.line(x, self.page_height - top, x, self.page_height - bottom)

    # -- the sheet ------------------------------------------------------------------------
    def draw(self) -> None:
        top = self._header(MARGIN)
        self._table(top + 8)
        self._footer()

    def _header(self, top: float) -> float:
        header, form = self.header, self.form
        right_width = self.width * 0.4
        left_width = self.width - right_width - 12
        self.text(self.left, top, form.title, BOLD, TITLE)
        y_right = top
        for part in wrap(header.practice_name, BOLD, 10, right_width):
            self.text(self.right, y_right, part, BOLD, 10, INK, "r")
            y_right += 10 * LINE
        self.text(self.right, y_right, f"ODS code {clean(header.ods_code)}", BOLD, 10, INK, "r")
        y_right += 10 * LINE + 3
        for blank in ("Sheet ____ of ____", "Filled in by ____________________"):
            self.text(self.right, y_right, blank, REGULAR, TEXT, INK, "r")
            y_right += TEXT * LINE + 2
        y = top + TITLE * LINE + 2
        if header.incident_title:
            incident = f"Incident: {clean(header.incident_title)}"
            if header.incident_dates:
                incident += f" · {clean(header.incident_dates)}"
            y = self.lines(self.left, y, left_width, incident, BOLD, 9) + 2
        else:
            self.text(self.left, y, "Incident: " + "_" * 40, BOLD, 9)
            y += 9 * LINE + 3
        y = self.lines(self.left, y, left_width, form.purpose, REGULAR, TEXT)
        y = self.lines(self.left, y + 1, left_width, form.note, BOLD, TEXT)
        return max(y, y_right)

    def _table(self, top: float) -> None:
        form = self.form
        widths = _widths(form, self.width)
        xs = [self.left]
        for width in widths:
            xs.append(xs[-1] + width)
        inner = [width - 6 for width in widths]
        heading_ends = []
        for column, x, width in zip(form.columns, xs, inner, strict=False):
            y = self.lines(x + 3, top + 3, width, column.name, BOLD, HEADING)
            heading_ends.append((x, width, y))
        hint_top = max(end for _, _, end in heading_ends) + 1
        hint_end = hint_top
        for column, (x, width, _) in zip(form.columns, heading_ends, strict=True):
            hint = column.hint + ("" if column.required else " (optional)")
            hint_end = max(hint_end, self.lines(x + 3, hint_top, width, hint, REGULAR, HINT, GREY))
        head_bottom = hint_end + 3
        self.rule(self.left, self.right, top, 1.0)
        self.rule(self.left, self.right, head_bottom, 1.0)

        # the example row, in grey, marked as an example
        example_bottom = head_bottom + EXAMPLE * LINE * 2 + 4
        self.text(self.left - 2, head_bottom + 3, "e.g.", REGULAR, HINT, GREY, "r")
        for column, x, width in zip(form.columns, xs, inner, strict=False):
            example = fit(column.example, REGULAR, EXAMPLE, width * 2)
            lines = wrap(example, REGULAR, EXAMPLE, width)[:2]
            for index, part in enumerate(lines):
                self.text(
                    x + 3,
                    head_bottom + 3 + index * EXAMPLE * LINE,
                    part,
                    REGULAR,
                    EXAMPLE,
                    EXAMPLE_INK,
                )
        self.rule(self.left, self.right, example_bottom, 1.0)

        bottom_limit = self.page_height - MARGIN - 16
        count = int((bottom_limit - example_bottom) // form.row_height)
        words = form.preprinted
        if words is not None:  # whole rounds of the printed words: a day's tally each
            count -= count % len(words[1])
        y = example_bottom
        for number in range(1, count + 1):
            self.text(self.left - 2, y + 3, str(number), REGULAR, HINT, GREY, "r")
            if words is not None:
                key, values = words
                index = [c.key for c in form.columns].index(key)
                value = values[(number - 1) % len(values)]
                self.text(xs[index] + 3, y + 3, value, BOLD, TEXT, INK)
            y += form.row_height
            self.rule(self.left, self.right, y, 0.6)
        for x in xs:
            self.upright(x, top, y, 1.0 if x in (xs[0], xs[-1]) else 0.6)

    def _footer(self) -> None:
        header = self.header
        practice = f"{header.practice_name} ({header.ods_code})"
        left = f"Outage Claims · {self.form.title} · "
        room = self.width * 0.75 - fonts.width(left, REGULAR, HINT)
        self.text(
            self.left,
            self.page_height - MARGIN - 6,
            left + fit(practice, REGULAR, HINT, room),
            REGULAR,
            HINT,
            GREY,
        )
        self.text(
            self.right,
            self.page_height - MARGIN - 6,
            "Print as many as you need",
            REGULAR,
            HINT,
            GREY,
            "r",
        )


def _title(forms: Sequence[PaperForm]) -> str:
    return forms[0].title if len(forms) == 1 else "Paper forms for an outage"


def build_paper_forms(forms: Sequence[PaperForm], header: Header) -> bytes:
    """The forms, a page each, as one PDF; the same input always gives the same bytes."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = document_canvas(
        buffer,
        title=f"{_title(forms)}: {header.practice_name} ({header.ods_code})",
        author=f"{header.practice_name} ({header.ods_code})",
        font_size=TEXT,
    )
    canvas.setSubject("Paper forms to fill in during an IT outage and type in afterwards")
    for form in forms:
        canvas.setPageSize(landscape(A4) if form.landscape else A4)
        _Sheet(canvas, form, header).draw()
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def build_paper_form(form: PaperForm, header: Header) -> bytes:
    """One form as a PDF of one page."""
    return build_paper_forms([form], header)
