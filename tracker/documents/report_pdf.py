"""The outage report as a PDF: headline figures, a chart of claimed against approved by cost
kind and by practice (or ICB), and the same figures as tables. A4 landscape, DejaVu Sans
embedded (names like Zoë or Łukasz print), "Page N of M" on every page. Text is escaped
before it reaches reportlab's paragraph markup. Names in other scripts (Chinese, Hebrew,
Arabic) go through tracker.documents.fonts: the fallback font, and lines in reading order."""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from tracker.documents import fonts
from tracker.documents.fonts import BOLD, REGULAR, register_fonts
from tracker.documents.pdf import fit, wrap
from tracker.documents.report_data import (
    COUNTING_NOTE,
    PEER_MEASURES,
    PEER_NOTE,
    SPREAD_ROWS,
    Figures,
    OutageReport,
    PeerTable,
)
from tracker.presentation import format_money, format_number, long_date

PAGE = landscape(A4)
MARGIN = 14 * mm
WIDTH = PAGE[0] - 2 * MARGIN
INK = colors.HexColor("#212b32")
GREY = colors.HexColor("#4c6272")
BAND = colors.HexColor("#e8edee")
RULE = colors.HexColor("#d8dde0")
BLUE = colors.HexColor("#005eb8")
GREEN = colors.HexColor("#00a499")
CHART_ROWS = 15


def _styles() -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("body", fontName=REGULAR, fontSize=9, leading=12, textColor=INK)
    return {
        "body": base,
        "small": ParagraphStyle("small", parent=base, fontSize=7.5, leading=10, textColor=GREY),
        "title": ParagraphStyle("title", parent=base, fontName=BOLD, fontSize=18, leading=22),
        "h2": ParagraphStyle(
            "h2", parent=base, fontName=BOLD, fontSize=12, leading=16, spaceBefore=10, spaceAfter=4
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
    }


def _text(value: object) -> str:
    return escape(str(value))


def _para(value: object, style: ParagraphStyle, width: float = WIDTH) -> Paragraph:
    """Typed text as a paragraph, escaped (so "<b>" prints as typed). Text that DejaVu Sans
    alone draws left to right is left to reportlab; other text is wrapped here to `width`,
    each line in reading order with its runs in the font that draws them."""
    text = str(value)
    if fonts.simple(text, style.fontName):
        return Paragraph(_text(text), style)
    lines = wrap(text, style.fontName, style.fontSize, width)
    return Paragraph("<br/>".join(fonts.markup(line, style.fontName) for line in lines), style)


def _event_name(name: str, styles: dict[str, ParagraphStyle]) -> Paragraph:
    """The event's name in bold under the title."""
    if fonts.simple(name, BOLD):
        return Paragraph(f"<b>{_text(name)}</b>", styles["body"])
    return _para(name, ParagraphStyle("lead", parent=styles["body"], fontName=BOLD))


def _label(drawing: Drawing, right: float, y: float, text: str, size: float) -> None:
    """A chart label ending at `right`: one String, or one per run of another font."""
    if fonts.simple(text, REGULAR):
        drawing.add(
            String(right, y, text, fontName=REGULAR, fontSize=size, fillColor=INK, textAnchor="end")
        )
        return
    line = fit(text, REGULAR, size, 10_000)
    x = right - fonts.width(line, REGULAR, size)
    for run, name in fonts.runs(line, REGULAR):
        drawing.add(String(x, y, run, fontName=name, fontSize=size, fillColor=INK))
        x += fonts.width(run, name, size)


FIGURE_HEADINGS = (
    "Claims",
    "Lines",
    "Claimed",
    "Approved",
    "Disallowed",
    "Awaiting",
    "Staff h",
    "Locum h",
    "Appts",
)


def _figure_cells(f: Figures) -> list[str]:
    return [
        format_number(Decimal(f.claims)),
        format_number(Decimal(f.lines)),
        format_money(f.claimed),
        format_money(f.approved),
        format_money(f.disallowed),
        format_money(f.awaiting),
        format_number(f.staff_hours),
        format_number(f.locum_hours),
        format_number(Decimal(f.appointments)),
    ]


def _table(
    styles: dict[str, ParagraphStyle],
    labels: Sequence[str],
    label_widths: Sequence[float],
    rows: Sequence[tuple[Sequence[str], Figures]],
    total: tuple[Sequence[str], Figures],
) -> Table:
    figure_widths = [
        13 * mm,
        13 * mm,
        25 * mm,
        25 * mm,
        25 * mm,
        25 * mm,
        16 * mm,
        16 * mm,
        14 * mm,
    ]
    rest = WIDTH - sum(figure_widths) - sum(w for w in label_widths if w)
    widths = [w or rest for w in label_widths] + figure_widths
    data: list[list[Any]] = [[*labels, *FIGURE_HEADINGS]]  # text and Paragraphs
    for cells, figures in rows:
        data.append(
            [_para(c, styles["cell"], w - 12) for c, w in zip(cells, widths, strict=False)]
            + _figure_cells(figures)
        )
    data.append([*total[0], *_figure_cells(total[1])])
    return _grid(data, widths, len(labels), totals=True)


def _bar(x: float, y: float, width: float, height: float, colour: colors.Color) -> Rect:
    """A filled box with no outline. (The stubs type Rect's keyword arguments wrongly, as
    one TypedDict per argument, so the colours are set as the attributes they become.)"""
    rect = Rect(x, y, width, height)
    rect.fillColor = colour
    rect.strokeColor = None
    return rect


def _chart(title: str, bars: Sequence[tuple[str, Decimal, Decimal]]) -> Drawing:
    """Horizontal bars: claimed (blue) over approved (green), values at the bar ends."""
    label_width, value_width, row = 62 * mm, 34 * mm, 16.0
    width = WIDTH
    plot = width - label_width - value_width
    height = 22 + row * max(1, len(bars))
    drawing = Drawing(width, height)
    top = max([b[1] for b in bars] + [b[2] for b in bars] + [Decimal(0)])
    drawing.add(String(0, height - 10, title, fontName=BOLD, fontSize=9, fillColor=INK))
    legend_x = width - 150
    for offset, (name, colour) in enumerate((("Claimed", BLUE), ("Approved", GREEN))):
        x = legend_x + offset * 70
        drawing.add(_bar(x, height - 11, 8, 8, colour))
        drawing.add(String(x + 11, height - 10, name, fontName=REGULAR, fontSize=8, fillColor=INK))
    for index, (label, claimed, approved) in enumerate(bars):
        y = height - 22 - (index + 1) * row
        short = label if len(label) <= 40 else label[:39] + "…"
        _label(drawing, label_width - 4, y + 5, short, 7.5)
        for value, colour, dy in ((claimed, BLUE, 7.0), (approved, GREEN, 1.0)):
            length = float(value / top) * plot if top > 0 and value > 0 else 0.0
            drawing.add(_bar(label_width, y + dy, max(length, 0.5), 6, colour))
        end = label_width + (float(claimed / top) * plot if top > 0 else 0) + 4
        drawing.add(
            String(
                end,
                y + 5,
                f"{format_money(claimed)} / {format_money(approved)}",
                fontName=REGULAR,
                fontSize=7,
                fillColor=GREY,
            )
        )
    drawing.add(Line(label_width, 0, label_width, height - 18, strokeColor=GREY, strokeWidth=0.5))
    return drawing


def _grid(
    data: list[list[Any]], widths: Sequence[float], first_figure: int, *, totals: bool = False
) -> Table:
    """A table in the report's style: bold header on a band, figures right-aligned from
    `first_figure`; with `totals`, the last row bold on a band too."""
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), REGULAR, 8),
        ("FONT", (0, 0), (-1, 0), BOLD, 8),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("BACKGROUND", (0, 0), (-1, 0), BAND),
        ("ALIGN", (first_figure, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, -2 if totals else -1), 0.4, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if totals:
        style += [("FONT", (0, -1), (-1, -1), BOLD, 8), ("BACKGROUND", (0, -1), (-1, -1), BAND)]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(TableStyle(style))
    return table


def _peers(table: PeerTable, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The ICB's quartiles and fences per measure, then each practice per 1,000 patients with
    its outliers named (a practice without a list size listed, not compared)."""
    compared = f"{table.compared} practices compared" + (
        f"; {table.without_list_size} without a list size listed but left out of the statistics"
        if table.without_list_size
        else ""
    )
    story: list[Flowable] = [
        CondPageBreak(60 * mm),
        Paragraph("Comparison with peers per 1,000 patients", styles["h2"]),
        Paragraph(_text(compared + "."), styles["small"]),
        Spacer(1, 4),
    ]
    if table.spreads:
        spread: list[list[Any]] = [["Per 1,000 patients", *(label for label, _ in SPREAD_ROWS)]]
        for m in PEER_MEASURES:
            spread.append([f"{m.label}, {m.unit}", *m.spread_texts(table.spreads[m.key])])
        story += [_grid(spread, [90 * mm] + [(WIDTH - 90 * mm) / 5] * 5, 1), Spacer(1, 6)]
    else:
        story.append(Paragraph("Too few practices with a list size to compare.", styles["body"]))
    head = ParagraphStyle("head", parent=styles["cell"], fontName=BOLD)
    head_right = ParagraphStyle("head_right", parent=head, alignment=TA_RIGHT)
    headings = [Paragraph("ODS code", head), Paragraph("Practice", head)]
    headings += [
        Paragraph(_text(h), head_right)
        for h in ["List size", *(f"{m.label}, {m.unit}" for m in PEER_MEASURES)]
    ]
    practices: list[list[Any]] = [[*headings, Paragraph("Outliers", head)]]
    name_width = 60 * mm
    for row in table.rows:
        cells = [format_number(Decimal(row.list_size)) if row.list_size else "Not given"]
        cells += [m.format(row.rates[m.key]) if row.rates else "" for m in PEER_MEASURES]
        name = _para(row.name, styles["cell"], name_width - 12)
        # most practices have no outlier: a plain empty cell costs no paragraph layout
        outliers = _para(row.outlier_text, styles["cell"]) if row.outlier_text else ""
        practices.append([row.ods_code, name, *cells, outliers])
    rest = WIDTH - 20 * mm - name_width - 20 * mm
    widths = [20 * mm, name_width, 20 * mm, rest * 0.2, rest * 0.22, rest * 0.2, rest * 0.38]
    grid = _grid(practices, widths, 2)
    story += [grid, Spacer(1, 4), Paragraph(_text(PEER_NOTE), styles["small"])]
    return story


class _NumberedCanvas(Canvas):
    """Defers each page so the footer can say "Page N of M"."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        # reportlab's own showPage ends with this private call; its stubs leave it out
        self._startPage()  # type: ignore[attr-defined]

    def save(self) -> None:
        total = len(self._pages)
        for state in self._pages:
            self.__dict__.update(state)
            self.setFont(REGULAR, 7.5)
            self.setFillColor(GREY)
            fonts.draw(self, MARGIN, 8 * mm, self._footer, REGULAR, 7.5)
            self.drawRightString(
                PAGE[0] - MARGIN, 8 * mm, f"Page {self.getPageNumber()} of {total}"
            )
            super().showPage()
        super().save()


def build_report_pdf(report: OutageReport) -> bytes:
    register_fonts()
    styles = _styles()
    t = report.totals
    story: list[Flowable] = [
        Paragraph("Outage report", styles["title"]),
        _event_name(report.event_name, styles),
        _para(
            f"{report.scope} · generated {long_date(report.generated_on)}"
            + (
                f" · event started {long_date(report.event_started_on)}"
                if report.event_started_on
                else ""
            ),
            styles["small"],
        ),
        Spacer(1, 6),
    ]
    headline = [
        [
            "Practices claiming",
            "Claims",
            "Claimed",
            "Approved",
            "Disallowed",
            "Awaiting decision",
            "Staff hours",
            "Locum hours",
            "Appointments lost",
        ],
        [
            format_number(Decimal(report.practices_claiming)),
            format_number(Decimal(t.claims)),
            format_money(t.claimed),
            format_money(t.approved),
            format_money(t.disallowed),
            format_money(t.awaiting),
            format_number(t.staff_hours),
            format_number(t.locum_hours),
            format_number(Decimal(t.appointments)),
        ],
    ]
    box = Table(headline, colWidths=[WIDTH / 9] * 9)
    box.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), REGULAR, 7.5),
                ("TEXTCOLOR", (0, 0), (-1, 0), GREY),
                ("FONT", (0, 1), (-1, 1), BOLD, 11),
                ("TEXTCOLOR", (0, 1), (-1, 1), INK),
                ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (-1, -1), colors.white),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 1), (-1, 1), 6),
            ]
        )
    )
    counts = report.status_counts
    story += [
        box,
        Spacer(1, 4),
        Paragraph(
            _text(
                f"Claims: {counts.get('new', 0)} new, {counts.get('in_review', 0)} in review, "
                f"{counts.get('decided', 0)} decided."
            ),
            styles["small"],
        ),
        Spacer(1, 8),
        _chart(
            "Claimed and approved by cost kind",
            [(k.label, k.figures.claimed, k.figures.approved) for k in report.by_kind],
        ),
    ]
    if report.national:
        story.append(Spacer(1, 8))
        story.append(
            _chart(
                "Claimed and approved by ICB",
                [
                    (
                        i.name.removeprefix("NHS ").removesuffix(" Integrated Care Board"),
                        i.figures.claimed,
                        i.figures.approved,
                    )
                    for i in report.by_icb
                ],
            )
        )
    elif report.by_practice:
        top = sorted(report.by_practice, key=lambda p: (-p.figures.claimed, p.name))[:CHART_ROWS]
        title = "Claimed and approved by practice" + (
            f" (the {CHART_ROWS} largest claims; every practice is in the table)"
            if len(report.by_practice) > CHART_ROWS
            else ""
        )
        story.append(Spacer(1, 8))
        story.append(
            KeepTogether(
                _chart(title, [(p.name, p.figures.claimed, p.figures.approved) for p in top])
            )
        )

    story += [
        Paragraph("By cost kind", styles["h2"]),
        _table(
            styles,
            ["Cost kind"],
            [0],
            [([k.label], k.figures) for k in report.by_kind]
            + [([label], figures) for label, figures in report.section_rows],
            (["Total"], t),
        ),
    ]
    if report.national:
        story += [
            CondPageBreak(50 * mm),
            Paragraph("By ICB", styles["h2"]),
            _table(
                styles,
                ["ICB", "Name", "Practices"],
                [16 * mm, 0, 18 * mm],
                [
                    ([i.ods_code, i.name, format_number(Decimal(i.practices))], i.figures)
                    for i in report.by_icb
                ],
                (["Total", "", format_number(Decimal(report.practices_claiming))], t),
            ),
        ]
    if report.by_practice:
        story += [
            CondPageBreak(50 * mm),
            Paragraph("By practice", styles["h2"]),
            _table(
                styles,
                ["ODS code", "Practice"],
                [18 * mm, 0],
                [([p.ods_code, p.name], p.figures) for p in report.by_practice],
                (["Total", ""], t),
            ),
        ]
    if report.peers is not None:
        story += _peers(report.peers, styles)
    ex = report.excluded
    story += [
        Spacer(1, 8),
        Paragraph("How the figures are counted", styles["h2"]),
        Paragraph(_text(COUNTING_NOTE), styles["small"]),
        Paragraph(
            _text(
                f"Left out here: {ex.withdrawn_claims} withdrawn claims "
                f"({format_money(ex.withdrawn_total)}) and {ex.credit_notes} credit notes "
                f"({format_money(ex.credit_total)}); {ex.mixed_claims} claims mix incidents "
                "of several events and are in no event's report."
            ),
            styles["small"],
        ),
    ]
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=PAGE,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=16 * mm,
        title=f"Outage report: {report.event_name}",
        author="Outage Claims",
        subject=report.scope,
    )
    footer = fit(f"Outage report · {report.event_name} · {report.scope}", REGULAR, 7.5, WIDTH - 80)
    doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, footer=footer, **k))
    return out.getvalue()
