"""The floor: reportlab's bare canvas drawing the same strings as the invoice's line table, at
fixed positions, with the same embedded font, and nothing else (no wrapping, no grouping, no
header, no totals). The strings are formatted before the clock starts, so this is the pure
cost of putting that text on PDF pages."""

from __future__ import annotations

import io
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from tracker.documents.data import InvoiceDocument
from tracker.documents.fonts import REGULAR, register_fonts
from tracker.presentation import format_money, format_number, long_date

X = (45, 105, 300, 335, 420, 470, 550)
ROWS_PER_PAGE = 36


def line_strings(doc: InvoiceDocument) -> list[tuple[str, ...]]:
    """Each line's printed strings: date, description, working, quantity, unit, rate, VAT,
    amount."""
    register_fonts()
    return [
        (
            long_date(line.line_date),
            line.description,
            line.working,
            format_number(line.quantity),
            line.unit,
            format_money(line.unit_rate),
            format_money(line.vat),
            format_money(line.net),
        )
        for line in doc.lines
    ]


def build_floor_pdf(rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, initialFontName=REGULAR, initialFontSize=8)
    y = 800.0
    for index, (day, description, working, quantity, unit, rate, vat, net) in enumerate(rows):
        if index and index % ROWS_PER_PAGE == 0:
            canvas.showPage()
            y = 800.0
        canvas.setFont(REGULAR, 8)
        canvas.drawString(X[0], y, day)
        canvas.drawString(X[1], y, description)
        canvas.drawString(X[1], y - 9, working)
        canvas.drawRightString(X[2], y, quantity)
        canvas.drawString(X[3], y, unit)
        canvas.drawRightString(X[4], y, rate)
        canvas.drawRightString(X[5], y, vat)
        canvas.drawRightString(X[6], y, net)
        y -= 21
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


#: One string as the invoice prints it: font, size, x, y, text.
Run = tuple[str, float, float, float, str]


def document_runs(doc: InvoiceDocument) -> list[list[Run]]:
    """Every string the invoice PDF prints, page by page, in its font and size at its place:
    read back from the built PDF with pypdf before the clock starts. The floor drawn from
    them is the bare canvas putting the whole document's text on the same pages in the
    same fonts: the letterhead, addresses, headings, subtotals, totals and payment details
    as well as the lines (line_strings above has the lines' strings alone, which at 10
    lines is a third of the text on one page instead of three)."""
    from pypdf import PdfReader

    from tracker.documents.fonts import BOLD
    from tracker.documents.pdf import build_invoice_pdf

    reader = PdfReader(io.BytesIO(build_invoice_pdf(doc)))
    pages: list[list[Run]] = []
    for page in reader.pages:
        runs: list[Run] = []

        def keep(
            text: str, cm: Any, tm: Any, font: Any, size: float, runs: list[Run] = runs
        ) -> None:
            if text.strip():
                bold = font is not None and str(font.get("/BaseFont", "")).endswith("-Bold")
                runs.append((BOLD if bold else REGULAR, size, tm[4], tm[5], text.strip("\n")))

        page.extract_text(visitor_text=keep)
        pages.append(runs)
    return pages


def build_document_floor_pdf(pages: list[list[Run]]) -> bytes:
    """The strings drawn as cheaply as reportlab's canvas draws them: one text object a page,
    the font set only when it changes, each string moved to its place."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, initialFontName=REGULAR, initialFontSize=8)
    for runs in pages:
        text = canvas.beginText()
        current: tuple[str, float] | None = None
        for font, size, x, y, string in runs:
            if (font, size) != current:
                text.setFont(font, size)
                current = (font, size)
            text.setTextOrigin(x, y)
            text.textOut(string)
        canvas.drawText(text)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
