"""The claim pack: one PDF holding the invoice, a contents page, a covering statement and
every backing document, as NHS Shared Business Services asks of an emailed invoice ("Only
PDF email attachments", "One invoice per PDF", "Backing documents must be included in the
same PDF as the relevant invoice", "Emails must not exceed 10Mb": NHS SBS, "How should I
submit my invoices to NHS SBS?", https://sbs.nhs.uk/faq-fa-sub-inv-how-to-nhs-sbs).

Order: the invoice first (SBS reads the first pages as the invoice), then the contents, the
covering statement and the documents in the order of the lines they support. PDF receipts are
merged page for page; PNG and JPEG receipts are each placed upright (by their EXIF
orientation) on an A4 page turned to suit them, under a caption naming the line they support.

The pack must fit `max_bytes`. Photos are the part that can shrink: all of them together
take the first of IMAGE_STEPS (as uploaded, then ever smaller and more compressed) at which
the pack fits. If even the smallest step is too big, `PackTooLarge` names the documents to drop or
send separately, and no pack is made: a pack is never cut short without a word.

Plain data in, bytes out: no Flask, no database (import-linter contract "documents").
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageOps
from pypdf import PageObject, PdfReader, PdfWriter, Transformation
from pypdf.errors import PdfReadError
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from tracker.documents import fonts
from tracker.documents.fonts import BOLD, REGULAR, register_fonts
from tracker.documents.pdf import (
    BAND,
    BLUE,
    GREY,
    INK,
    RULE,
    clean,
    document_canvas,
    fit,
    wrap,
)

PDF = "application/pdf"
#: (longest side in pixels, JPEG quality) for each step photos are shrunk by; None: as
#: uploaded (upright, and no larger than 300 dpi across a full A4 page). 150 dpi (1754 px on
#: A4's long side) still reads a till receipt; the last steps are for packs of many photos.
IMAGE_STEPS: tuple[tuple[int, int] | None, ...] = (
    None,
    (2480, 80),
    (2000, 72),
    (1754, 65),
    (1400, 58),
    (1150, 50),
    (900, 45),
)
AS_UPLOADED_SIDE = 3508  # A4's long side at 300 dpi
#: room kept for the PDF's own structure when the parts are merged
MERGE_MARGIN = 64 * 1024

MARGIN = 16 * mm
FOOTER = 10 * mm
TITLE = 16.0
HEADING = 11.0
TEXT = 9.0
SMALL = 7.5
LEADING = 1.35
#: the foot of a PDF receipt's page kept for its caption and the pack's page number
STAMP_BAND = FOOTER + 2 * SMALL * LEADING + 4


class PackError(Exception):
    """The pack cannot be made; `message` says why and what to do, `documents` which."""

    def __init__(self, message: str, documents: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.documents = tuple(documents)


class PackTooLarge(PackError):
    """Even with every photo at its smallest, the pack is over the limit."""


@dataclass(frozen=True)
class PackFile:
    """One backing document: its name, the line it supports and its checked content."""

    name: str
    #: "Line 4 · 12 June 2024 · Locum · Dr A Khan, morning session"
    supports: str
    content_type: str  # application/pdf, image/png or image/jpeg (checked at upload)
    data: bytes


@dataclass(frozen=True)
class StatementIncident:
    title: str
    when: str  # "10 June 2024 08:00 to 11 June 2024 14:30 (30 hours 30 minutes)"
    systems: str
    cause: str
    supplier_reference: str
    impact: str


@dataclass(frozen=True)
class CoveringStatement:
    """The letter a practice would otherwise write to go with its claim, as plain text."""

    document_title: str  # "Invoice" or "Credit note"
    number: str
    issue_date: str
    practice: str  # "Riverside Surgery (Y09901)"
    practice_address: tuple[str, ...]
    icb: str
    icb_address: tuple[str, ...]
    total: str
    po_reference: str
    event_name: str
    event_started: str
    event_description: str
    summary: str
    incidents: tuple[StatementIncident, ...]
    #: (cost kind, number of lines, amount) and the total row
    by_kind: tuple[tuple[str, str, str], ...]
    contacts: tuple[str, ...]
    notes: str = ""
    draft: bool = False


@dataclass
class _Part:
    """A run of pages of the pack, for the contents: its name, what it supports, its pages."""

    name: str
    supports: str
    pages: int
    first: int = 0


# --- photos --------------------------------------------------------------------------------


Step = tuple[int, int] | None


@dataclass
class _Photo:
    """A PNG or JPEG receipt. It is decoded afresh for each size asked for and never kept
    decoded: thirty 12-megapixel photos held at once would take a gigabyte of memory."""

    file: PackFile
    _sizes: dict[Step, tuple[bytes, tuple[int, int]]] = field(default_factory=dict, init=False)

    def encoded(self, step: Step) -> tuple[bytes, tuple[int, int]]:
        """(image bytes, upright size in pixels) at a shrink step; PackError naming the
        file when it cannot be decoded."""
        if step not in self._sizes:
            try:
                self._sizes[step] = self._encode(step)
            except (OSError, ValueError, Image.DecompressionBombError) as error:
                raise PackError(
                    f"{self.file.name} cannot be read as an image. Replace it with a clear "
                    "photo or scan (PDF, PNG or JPEG).",
                    [self.file.name],
                ) from error
        return self._sizes[step]

    def _encode(self, step: Step) -> tuple[bytes, tuple[int, int]]:
        side, quality = step or (AS_UPLOADED_SIDE, 90)
        with Image.open(io.BytesIO(self.file.data)) as raw:
            turned = raw.getexif().get(0x0112, 1) != 1
            width, height = raw.size
            if step is None and raw.format == "JPEG" and not turned and max(width, height) <= side:
                return self.file.data, (width, height)  # as uploaded: no loss at all
            if raw.format == "JPEG":  # decode at 1/2, 1/4 or 1/8 scale if still big enough
                scale = side / max(width, height)
                raw.draft("RGB", (math.ceil(width * scale), math.ceil(height * scale)))
            image = ImageOps.exif_transpose(raw)
        if max(image.size) > side:
            image.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        if step is None and self.file.content_type == "image/png":
            image.save(out, format="PNG", optimize=True)
        else:
            _flat_rgb(image).save(out, format="JPEG", quality=quality, optimize=True)
        return out.getvalue(), image.size


def _flat_rgb(image: Image.Image) -> Image.Image:
    """The image as RGB for JPEG, with any transparency laid on white (not black)."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        base = Image.new("RGB", rgba.size, "white")
        base.paste(rgba, mask=rgba.getchannel("A"))
        return base
    return image.convert("RGB") if image.mode != "RGB" else image


# --- PDF receipts --------------------------------------------------------------------------


def _read_pdf(file: PackFile) -> PdfReader:
    """A PDF receipt opened for merging; a damaged or password-protected one is refused
    with its name (merging it would fail, or print blank pages)."""
    try:
        reader = PdfReader(io.BytesIO(file.data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise PdfReadError("encrypted")
        if not reader.pages:
            raise PdfReadError("no pages")
    except (PdfReadError, OSError, ValueError) as error:
        raise PackError(
            f"{file.name} cannot be opened (it is damaged or protected by a password). "
            "Replace it with an unprotected copy.",
            [file.name],
        ) from error
    return reader


# --- our own pages: contents, statement, photo pages ---------------------------------------

Op = Callable[[Canvas], None]


class _Flow:
    """Lays text out down A4 portrait pages, as drawing operations, so the number of pages
    is known before anything is drawn (the footer says "page N of M" for the whole pack)."""

    def __init__(self) -> None:
        self.pages: list[list[Op]] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.y = A4[1] - MARGIN

    def room(self, height: float) -> None:
        if self.y - height < MARGIN + FOOTER:
            self.new_page()

    def text(
        self,
        text: str,
        *,
        size: float = TEXT,
        font: str = REGULAR,
        colour: Color = INK,
        x: float = MARGIN,
        width: float | None = None,
        after: float = 2.0,
    ) -> None:
        width = width if width is not None else A4[0] - MARGIN - x
        for line in wrap(text, font, size, width) if text else []:
            self.room(size * LEADING)
            self.y -= size * LEADING
            self.pages[-1].append(_text_op(x, self.y, line, font, size, colour))
        self.y -= after

    def heading(self, text: str, size: float = HEADING) -> None:
        self.room(size * LEADING * 3)
        self.y -= size * 0.6
        self.text(text, size=size, font=BOLD, colour=BLUE, after=3.0)

    def field(self, label: str, value: str) -> None:
        """A "label: value" row: the label wrapped in its column, the value beside it."""
        if not value:
            return
        label_width = 38 * mm
        labels = wrap(label, BOLD, TEXT, label_width - 6)
        values = wrap(value, REGULAR, TEXT, A4[0] - 2 * MARGIN - label_width)
        self.room(TEXT * LEADING * min(max(len(labels), len(values)), 4))
        top = self.y
        for index, line in enumerate(labels):
            baseline = top - (index + 1) * TEXT * LEADING
            self.pages[-1].append(_text_op(MARGIN, baseline, line, BOLD, TEXT, GREY))
        self.text(value, x=MARGIN + label_width, after=0.0)
        if self.pages[-1] and self.y > top - len(labels) * TEXT * LEADING:
            self.y = top - len(labels) * TEXT * LEADING
        self.y -= 2.0

    def row(
        self,
        cells: Sequence[tuple[str, float, float, str]],
        *,
        bold: bool = False,
        header: Sequence[tuple[str, float, float, str]] = (),
    ) -> None:
        """A table row: (text, x, width, align) per cell, each wrapped within its width; a
        row that starts a new page repeats the table's `header` above it."""
        font = BOLD if bold else REGULAR
        wrapped = [wrap(text, font, TEXT, width) for text, _, width, _ in cells]
        height = max(len(lines) for lines in wrapped) * TEXT * LEADING + 3
        pages = len(self.pages)
        self.room(height)
        if header and len(self.pages) > pages:
            self.row(header, bold=True)
        top = self.y
        page = self.pages[-1]
        if bold:
            page.append(_fill_op(MARGIN, top - height, A4[0] - 2 * MARGIN, height, BAND))
        for (_, x, width, align), lines in zip(cells, wrapped, strict=True):
            for index, line in enumerate(lines):
                baseline = top - (index + 1) * TEXT * LEADING
                left = x + width - fonts.width(line, font, TEXT) if align == "r" else x
                page.append(_text_op(left, baseline, line, font, TEXT, INK))
        page.append(_rule_op(MARGIN, A4[0] - MARGIN, top - height))
        self.y = top - height


def _text_op(x: float, y: float, text: str, font: str, size: float, colour: Color) -> Op:
    def draw(canvas: Canvas) -> None:
        canvas.setFont(font, size)
        canvas.setFillColor(colour)
        fonts.draw(canvas, x, y, text, font, size)

    return draw


def _fill_op(x: float, y: float, width: float, height: float, colour: Color) -> Op:
    def draw(canvas: Canvas) -> None:
        canvas.setFillColor(colour)
        canvas.rect(x, y, width, height, stroke=0, fill=1)

    return draw


def _rule_op(x1: float, x2: float, y: float) -> Op:
    def draw(canvas: Canvas) -> None:
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(x1, y, x2, y)

    return draw


def _statement_pages(doc: CoveringStatement) -> list[list[Op]]:
    """The covering statement: the letter that goes with the claim."""
    flow = _Flow()
    flow.text(
        f"Covering statement for {doc.document_title.lower()} {doc.number}",
        size=TITLE,
        font=BOLD,
        after=6,
    )
    flow.field("From", "\n".join([doc.practice, *doc.practice_address]))
    flow.field("To", "\n".join([doc.icb, *doc.icb_address]))
    flow.field("Date", doc.issue_date)
    flow.field(doc.document_title, f"{doc.number}, {doc.total}")
    flow.field("PO or reference", doc.po_reference)
    flow.y -= 4
    flow.text(doc.summary, after=4)
    if doc.notes:
        flow.text(doc.notes, after=4)
    flow.heading("The outage")
    flow.field("Outage event", doc.event_name)
    flow.field("Started", doc.event_started)
    flow.text(doc.event_description, after=4)
    for number, incident in enumerate(doc.incidents, start=1):
        flow.heading(f"Incident {number}: {incident.title}", size=TEXT + 1)
        flow.field("When", incident.when)
        flow.field("Systems affected", incident.systems)
        flow.field("Cause", incident.cause)
        flow.field("Supplier reference", incident.supplier_reference)
        flow.field("Impact on patients and staff", incident.impact)
    flow.heading("What is claimed")
    table_width = A4[0] - 2 * MARGIN
    columns = (
        (MARGIN, table_width - 70 * mm),
        (A4[0] - MARGIN - 70 * mm, 25 * mm),
        (A4[0] - MARGIN - 42 * mm, 40 * mm),
    )
    flow.row(
        [
            ("Cost kind", *columns[0], "l"),
            ("Lines", *columns[1], "r"),
            ("Amount", *columns[2], "r"),
        ],
        bold=True,
    )
    for index, (kind, lines, amount) in enumerate(doc.by_kind):
        last = index == len(doc.by_kind) - 1
        flow.row(
            [(kind, *columns[0], "l"), (lines, *columns[1], "r"), (amount, *columns[2], "r")],
            bold=last,
        )
    flow.heading("Who to contact")
    for contact in doc.contacts:
        flow.text(contact)
    return flow.pages


def _contents_pages(doc: CoveringStatement, parts: Sequence[_Part]) -> list[list[Op]]:
    """The contents: each part of the pack, the line it supports and where it starts."""
    flow = _Flow()
    flow.text(
        f"Claim pack for {doc.document_title.lower()} {doc.number}", size=TITLE, font=BOLD, after=4
    )
    flow.text(
        f"{doc.practice} to {doc.icb}. This one PDF holds the {doc.document_title.lower()}, a "
        "covering statement and every backing document, each listed below against the line "
        "of the invoice it supports.",
        colour=GREY,
        after=8,
    )
    width = A4[0] - 2 * MARGIN
    number_x, name_x, supports_x = MARGIN, MARGIN + 10 * mm, MARGIN + 80 * mm
    pages_x = A4[0] - MARGIN - 22 * mm
    cells = (
        (number_x, 9 * mm, "r"),
        (name_x, 68 * mm, "l"),
        (supports_x, pages_x - supports_x - 4, "l"),
        (pages_x, 22 * mm, "r"),
    )
    assert cells[-1][0] + cells[-1][1] <= MARGIN + width + 0.01
    header = [
        (text, *cell)
        for text, cell in zip(("No.", "Document", "Supports", "Pages"), cells, strict=True)
    ]
    flow.row(header, bold=True)
    for index, part in enumerate(parts, start=1):
        last = part.first + part.pages - 1
        pages = str(part.first) if part.pages == 1 else f"{part.first}–{last}"
        flow.row(
            [
                (text, *cell)
                for text, cell in zip(
                    (str(index), part.name, part.supports, pages), cells, strict=True
                )
            ],
            header=header,
        )
    return flow.pages


def _photo_page(canvas: Canvas, data: bytes, size: tuple[int, int], caption: str) -> None:
    """One photo on an A4 page turned to suit it, fitted under its caption."""
    width, height = size
    page_width, page_height = landscape(A4) if width > height else A4
    canvas.setPageSize((page_width, page_height))
    top = page_height - MARGIN
    lines = wrap(caption, BOLD, SMALL + 1, page_width - 2 * MARGIN)[:3]
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, SMALL + 1)
    for line in lines:
        top -= (SMALL + 1) * LEADING
        fonts.draw(canvas, MARGIN, top, line, BOLD, SMALL + 1)
    top -= 4
    box_width = page_width - 2 * MARGIN
    box_height = top - MARGIN - FOOTER
    scale = min(box_width / width, box_height / height)
    drawn_width, drawn_height = width * scale, height * scale
    x = (page_width - drawn_width) / 2
    canvas.drawImage(
        ImageReader(io.BytesIO(data)), x, top - drawn_height, drawn_width, drawn_height
    )


def _receipt_size(page: PageObject) -> tuple[float, float]:
    """The size a PDF receipt's page is seen at: its crop box, turned by its /Rotate."""
    box = page.cropbox
    width, height = float(box.width), float(box.height)
    return (height, width) if page.rotation % 180 else (width, height)


def _stamp_page(canvas: Canvas, size: tuple[float, float], caption: str) -> None:
    """What is laid over a page of a PDF receipt: the caption a photo page has (which document,
    which line), in a band at the foot kept clear by shrinking the receipt (_framed)."""
    canvas.setPageSize(size)
    line = fit(caption, BOLD, SMALL, size[0] - 2 * MARGIN)
    canvas.setFillColor(INK)
    canvas.setFont(BOLD, SMALL)
    fonts.draw(canvas, MARGIN, FOOTER + SMALL * LEADING + 1, line, BOLD, SMALL)


def _framed(receipt: PageObject, stamp: PageObject) -> PageObject:
    """A receipt's page upright on a page of the size it is seen at, shrunk just enough to
    leave the foot band to `stamp`: nothing of the receipt is covered or cut."""
    width, height = _receipt_size(receipt)
    box = receipt.cropbox
    turn = receipt.rotation % 360
    # move the crop box to the origin, then undo /Rotate (clockwise) and bring it back in view
    upright = Transformation().translate(-float(box.left), -float(box.bottom)).rotate(-turn)
    upright = upright.translate(
        *{0: (0, 0), 90: (0, width), 180: (width, height)}.get(turn, (height, 0))
    )
    scale = (height - STAMP_BAND) / height
    placed = upright.scale(scale).translate(width * (1 - scale) / 2, STAMP_BAND)
    page = PageObject.create_blank_page(width=width, height=height)
    page.merge_transformed_page(receipt, placed)
    page.merge_page(stamp)
    return page


def _footer(canvas: Canvas, text: str, number: int, total: int) -> None:
    page_width, _ = canvas._pagesize  # type: ignore[attr-defined]
    canvas.setFont(REGULAR, SMALL)
    canvas.setFillColor(GREY)
    label = f"Page {number} of {total}"
    room = page_width - 2 * MARGIN - fonts.width(label, REGULAR, SMALL) - 12
    fonts.draw(canvas, MARGIN, FOOTER, fit(text, REGULAR, SMALL, room), REGULAR, SMALL)
    canvas.drawRightString(page_width - MARGIN, FOOTER, label)


# --- assembling ----------------------------------------------------------------------------


@dataclass
class _Plan:
    """Where every page of the pack comes from, decided before anything is drawn."""

    statement: CoveringStatement
    invoice: PdfReader
    files: Sequence[PackFile]
    readers: dict[int, PdfReader]
    photos: dict[int, _Photo]

    def parts(self, contents_pages: int, statement_pages: int) -> list[_Part]:
        parts = [
            _Part(self.statement.document_title, "The claim itself", len(self.invoice.pages)),
            _Part("Contents", "This list", contents_pages),
            _Part("Covering statement", "The claim as a whole", statement_pages),
        ]
        for index, file in enumerate(self.files):
            pages = len(self.readers[index].pages) if index in self.readers else 1
            parts.append(_Part(file.name, file.supports, pages))
        first = 1
        for part in parts:
            part.first = first
            first += part.pages
        return parts


def _own_pages(plan: _Plan, step: Step) -> tuple[bytes, list[_Part]]:
    """Our own pages as one PDF (one embedded font for all): the contents, the statement
    and every photo page, in that order, with the pack's page numbers in their footers."""
    statement = _statement_pages(plan.statement)
    contents_count = 1
    for _ in range(5):  # the contents' own length moves the page numbers it prints
        parts = plan.parts(contents_count, len(statement))
        contents = _contents_pages(plan.statement, parts)
        if len(contents) == contents_count:
            break
        contents_count = len(contents)
    total = parts[-1].first + parts[-1].pages - 1
    footer = f"Claim pack · {plan.statement.document_title} {plan.statement.number} · " + (
        plan.statement.practice
    )
    buffer = io.BytesIO()
    canvas = document_canvas(
        buffer,
        title=f"Claim pack {plan.statement.number}",
        author=plan.statement.practice,
        font_size=TEXT,
    )
    number = parts[1].first
    for ops in [*contents, *statement]:
        canvas.setPageSize(A4)
        for op in ops:
            op(canvas)
        _footer(canvas, footer, number, total)
        if plan.statement.draft:
            _draft_mark(canvas)
        canvas.showPage()
        number += 1
    for index, part in enumerate(parts[3:]):
        photo = plan.photos.get(index)
        if photo is not None:
            data, size = photo.encoded(step)
            caption = f"Document {index + 4} · {part.name} · supports {part.supports}"
            _photo_page(canvas, data, size, clean(caption))
            _footer(canvas, footer, part.first, total)
            canvas.showPage()
    for index, part in enumerate(parts[3:]):
        reader = plan.readers.get(index)
        for offset, page in enumerate(reader.pages if reader is not None else ()):
            caption = f"Document {index + 4} · {part.name} · supports {part.supports}"
            _stamp_page(canvas, _receipt_size(page), clean(caption))
            _footer(canvas, footer, part.first + offset, total)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue(), parts


def _draft_mark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColorRGB(0.83, 0.0, 0.0, alpha=0.13)
    canvas.setFont(BOLD, 120)
    canvas.translate(A4[0] / 2, A4[1] / 2)
    canvas.rotate(50)
    canvas.drawCentredString(0, -40, "DRAFT")
    canvas.restoreState()


def _merge(plan: _Plan, own: bytes, parts: Sequence[_Part]) -> bytes:
    """The pack: the invoice's pages, our pages and the PDF receipts' pages in order, with a
    bookmark for each part so a reader's side panel lists them too."""
    writer = PdfWriter()
    ours = PdfReader(io.BytesIO(own))
    for page in plan.invoice.pages:
        writer.add_page(page)
    own_count = parts[1].pages + parts[2].pages
    for page in ours.pages[:own_count]:
        writer.add_page(page)
    photo_pages = iter(ours.pages[own_count : own_count + len(plan.photos)])
    stamps = iter(ours.pages[own_count + len(plan.photos) :])
    for index in range(len(plan.files)):
        if index in plan.readers:
            for page in plan.readers[index].pages:
                writer.add_page(_framed(page, next(stamps)))
        else:
            writer.add_page(next(photo_pages))
    bookmarks = [parts[0], parts[1], parts[2], *parts[3:]]
    for part in bookmarks:
        writer.add_outline_item(title=clean(part.name), page_number=part.first - 1)
    writer.add_metadata(
        {"/Title": clean(f"Claim pack {plan.statement.number}"), "/Creator": "Outage Claims"}
    )
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def build_claim_pack(
    invoice_pdf: bytes,
    statement: CoveringStatement,
    files: Sequence[PackFile],
    max_bytes: int,
) -> bytes:
    """The pack as PDF bytes, no larger than `max_bytes`; PackTooLarge (naming the documents
    to drop or split) when even the smallest photos cannot bring it under, PackError for a
    document that cannot be read. Never a pack with anything left out."""
    register_fonts()
    readers = {i: _read_pdf(f) for i, f in enumerate(files) if f.content_type == PDF}
    photos = {i: _Photo(f) for i, f in enumerate(files) if f.content_type != PDF}
    plan = _Plan(statement, PdfReader(io.BytesIO(invoice_pdf)), files, readers, photos)
    steps = IMAGE_STEPS if photos else IMAGE_STEPS[:1]
    fixed = len(invoice_pdf) + sum(len(files[i].data) for i in readers) + MERGE_MARGIN

    def fits(step: Step) -> bool:
        """Whether the documents alone, at `step`, leave room for our pages."""
        return fixed + sum(len(photo.encoded(step)[0]) for photo in photos.values()) <= max_bytes

    # the largest photos that can fit: the steps only shrink, so halve the range each time
    low, high = 0, len(steps)
    while low < high:
        middle = (low + high) // 2
        if fits(steps[middle]):
            high = middle
        else:
            low = middle + 1
    for step in steps[low:]:
        own, parts = _own_pages(plan, step)
        pack = _merge(plan, own, parts)
        if len(pack) <= max_bytes:
            return pack
    raise _too_large(plan, max_bytes, len(invoice_pdf))


def _too_large(plan: _Plan, max_bytes: int, invoice_size: int) -> PackTooLarge:
    """What to drop: the largest documents (at their smallest) until the rest would fit."""
    smallest = IMAGE_STEPS[-1]
    sizes = []
    for index, file in enumerate(plan.files):
        if index in plan.photos:
            size = len(plan.photos[index].encoded(smallest)[0])
        else:
            size = len(file.data)
        sizes.append((size, file.name))
    budget = max_bytes - invoice_size - MERGE_MARGIN - 16 * 1024 * max(len(plan.files), 1)
    kept = sum(size for size, _ in sizes)
    drop: list[str] = []
    for size, name in sorted(sizes, reverse=True):
        if kept <= budget:
            break
        drop.append(name)
        kept -= size
    limit = f"{max_bytes / 1_000_000:.1f} MB"
    message = (
        f"The claim pack would be larger than {limit} (the most that fits in one 10 MB email "
        "to NHS SBS) even with every photo made smaller, so no pack was made. Documents to "
        f"drop from it or split: {', '.join(drop) or 'the largest ones'}. Send them to the "
        "ICB separately, or, on a draft, replace them with smaller scans."
    )
    return PackTooLarge(message, drop)
