"""The outage report as an Excel workbook: a Summary sheet and a sheet per view (by practice,
by cost kind and, nationally, by ICB). Figures are numbers with £ and hour formats; every
table has a frozen header row and filters; text never becomes a formula. Each view has a
native bar chart of claimed against approved beside its table, drawn from the table's cells.

Written in openpyxl's write-only mode so the national workbook (thousands of practices)
streams rather than building every cell object in memory.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tracker.documents.report_data import (
    COUNTING_NOTE,
    PEER_MEASURES,
    PEER_NOTE,
    SPREAD_ROWS,
    Figures,
    OutageReport,
    PeerMeasure,
    PeerRow,
    PeerTable,
)
from tracker.documents.xlsx_cells import (
    BOLD,
    DATE,
    HEADER_FILL,
    MONEY,
    TITLE,
    WRAP,
    XmlRows,
    fill_cell,
    gc_paused,
    write_only_cell,
)

HOURS = "#,##0.00"
COUNT = "#,##0"
PER_THOUSAND = "#,##0.00"

#: (heading, width, number format, value) for the figure columns every view shares.
FIGURE_COLUMNS: tuple[tuple[str, int, str, Callable[[Figures], Any]], ...] = (
    ("Claims", 9, COUNT, lambda f: f.claims),
    ("Lines", 9, COUNT, lambda f: f.lines),
    ("Claimed", 15, MONEY, lambda f: f.claimed),
    ("Approved", 15, MONEY, lambda f: f.approved),
    ("Disallowed", 15, MONEY, lambda f: f.disallowed),
    ("Awaiting decision", 15, MONEY, lambda f: f.awaiting),
    ("Staff hours", 12, HOURS, lambda f: f.staff_hours),
    ("Locum hours", 12, HOURS, lambda f: f.locum_hours),
    ("Appointments lost", 13, COUNT, lambda f: f.appointments),
)


def _cell(
    ws: WriteOnlyWorksheet,
    value: Any,
    number_format: str | None = None,
    font: Font | None = None,
    fill: PatternFill | None = None,
) -> Cell:
    """One cell (openpyxl's WriteOnlyCell makes a Cell). Strings are always text, never
    formulas; Decimals stay numbers."""
    return fill_cell(WriteOnlyCell(ws), value, number_format, font, fill)


def _table(
    wb: Workbook,
    title: str,
    label_columns: Sequence[tuple[str, int]],
    rows: Iterable[tuple[Sequence[Any], Figures]],
    total: tuple[Sequence[Any], Figures] | None,
    count: int,
    chart: tuple[str, int] | None = None,
) -> None:
    """A sheet: header row (frozen, filtered), one row per item, then a totals row below the
    filtered range so sorting never moves it. `chart` (title, column of the row names) adds
    a bar chart of claimed against approved beside the table, drawn from its cells."""
    ws = wb.create_sheet(title)
    widths = [w for _, w in label_columns] + [w for _, w, _, _ in FIGURE_COLUMNS]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    last_column = get_column_letter(len(widths))
    ws.auto_filter.ref = f"A1:{last_column}{count + 1}"
    headings = [h for h, _ in label_columns] + [h for h, _, _, _ in FIGURE_COLUMNS]
    ws.append([_cell(ws, h, font=BOLD, fill=HEADER_FILL) for h in headings])
    formats = [fmt for _, _, fmt, _ in FIGURE_COLUMNS]
    getters = [get for _, _, _, get in FIGURE_COLUMNS]
    # the rows as XML strings: openpyxl's per-cell cost was most of a national workbook's
    # time, 75,000 practice cells (xlsx_cells.XmlRows, issue 13)
    plain = XmlRows(ws, [*[None] * len(label_columns), *formats])
    for labels, figures in rows:
        plain.append([*labels, *(get(figures) for get in getters)])
    if total is not None:
        ws.append([])
        ws.append(
            [write_only_cell(ws, label, font=BOLD) for label in total[0]]
            + [
                _cell(ws, get(total[1]), fmt, BOLD)
                for get, fmt in zip(getters, formats, strict=True)
            ]
        )
    if chart is not None and count:
        _add_chart(ws, chart[0], chart[1], len(label_columns), count)


CLAIMED_AT = next(i for i, column in enumerate(FIGURE_COLUMNS) if column[0] == "Claimed")
APPROVED_AT = next(i for i, column in enumerate(FIGURE_COLUMNS) if column[0] == "Approved")
assert APPROVED_AT == CLAIMED_AT + 1, "the chart reads Claimed and Approved as one range"


def _add_chart(
    ws: WriteOnlyWorksheet, title: str, name_column: int, label_count: int, count: int
) -> None:
    """A native Excel bar chart of the Claimed and Approved columns of rows 2..count+1,
    one bar pair per row named from `name_column`: it follows the cells if they change."""
    claimed_column = label_count + CLAIMED_AT + 1
    chart = BarChart()
    chart.type = "bar"  # horizontal bars: long practice names stay readable
    chart.style = 10
    chart.title = title
    chart.y_axis.title = "£"
    chart.y_axis.numFmt = '"£"#,##0'
    chart.x_axis.scaling.orientation = "maxMin"  # first row at the top, as in the table
    chart.add_data(
        Reference(
            ws, min_col=claimed_column, max_col=claimed_column + 1, min_row=1, max_row=count + 1
        ),
        titles_from_data=True,
    )
    chart.set_categories(Reference(ws, min_col=name_column, min_row=2, max_row=count + 1))
    chart.width = 22
    chart.height = min(60, max(7.5, 3 + 0.6 * count))
    width = label_count + len(FIGURE_COLUMNS)
    # the stubs copy Worksheet.add_chart's `self: Worksheet` onto WriteOnlyWorksheet; at runtime
    # openpyxl assigns that same function to WriteOnlyWorksheet, where it works as a method
    ws.add_chart(chart, f"{get_column_letter(width + 2)}2")  # type: ignore[misc]


def _summary(wb: Workbook, report: OutageReport) -> None:
    ws = wb.create_sheet("Summary")
    ws.column_dimensions["A"].width = 34
    ws.column_dimensions["B"].width = 60
    t = report.totals

    def pair(label: str, value: Any, fmt: str | None = None) -> None:
        ws.append([_cell(ws, label, font=BOLD), _cell(ws, value, fmt)])

    ws.append([_cell(ws, "Outage report", font=TITLE)])
    pair("Outage event", report.event_name)
    if report.event_started_on:
        pair("Event started", report.event_started_on, DATE)
    pair("Scope", report.scope)
    pair("Generated", report.generated_on, DATE)
    ws.append([])
    pair("Practices claiming", report.practices_claiming, COUNT)
    if report.national:
        pair("ICBs with claims", len(report.by_icb), COUNT)
    for heading, _, fmt, get in FIGURE_COLUMNS:
        pair(heading, get(t), fmt)
    ws.append([])
    pair("Claims new", report.status_counts.get("new", 0), COUNT)
    pair("Claims in review", report.status_counts.get("in_review", 0), COUNT)
    pair("Claims decided", report.status_counts.get("decided", 0), COUNT)
    ws.append([])
    ex = report.excluded
    pair("Left out: withdrawn claims", ex.withdrawn_claims, COUNT)
    pair("Left out: their total", ex.withdrawn_total, MONEY)
    pair("Left out: credit notes", ex.credit_notes, COUNT)
    pair("Left out: credit notes' total", ex.credit_total, MONEY)
    pair("Claims mixing several events", ex.mixed_claims, COUNT)
    ws.append([])
    note = _cell(ws, COUNTING_NOTE)
    note.alignment = WRAP
    ws.append([_cell(ws, "How figures are counted", font=BOLD), note])


# --- comparison with peers -------------------------------------------------------------------


def _total_format(measure: PeerMeasure) -> str:
    return MONEY if measure.money else COUNT if measure.key == "appointments" else HOURS


def _rate_format(measure: PeerMeasure) -> str:
    return MONEY if measure.money else PER_THOUSAND


def _peer_cells(ws: WriteOnlyWorksheet, row: PeerRow) -> list[Cell]:
    cells = [_cell(ws, row.ods_code), _cell(ws, row.name), _cell(ws, row.list_size, COUNT)]
    for m in PEER_MEASURES:
        rate = row.rates[m.key] if row.rates is not None else None
        cells += [_cell(ws, row.totals[m.key], _total_format(m)), _cell(ws, rate, _rate_format(m))]
    return [*cells, _cell(ws, row.outlier_text)]


def _peers_sheet(wb: Workbook, table: PeerTable) -> None:
    """The ICB's practices: totals and figures per 1,000 patients, outliers named, then the
    ICB's quartiles and fences in the per-1,000 columns below them (outside the filter)."""
    ws = wb.create_sheet("Peers per 1,000 patients")
    columns: list[tuple[str, int]] = [("ODS code", 11), ("Practice", 40), ("List size", 11)]
    for m in PEER_MEASURES:
        columns += [(m.label, 14), (f"{m.label}, {m.unit}", 18)]
    columns.append(("Outliers against the ICB's peers", 40))
    for index, (_, width) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(table.rows) + 1}"
    ws.append([_cell(ws, heading, font=BOLD, fill=HEADER_FILL) for heading, _ in columns])
    for row in table.rows:
        ws.append(_peer_cells(ws, row))
    ws.append([])
    _spread_rows(ws, table, 3)
    note = _cell(ws, PEER_NOTE)
    note.alignment = WRAP
    ws.append([_cell(ws, "How the figures are worked out", font=BOLD), note])


def _spread_rows(ws: WriteOnlyWorksheet, table: PeerTable, offset: int) -> None:
    """The ICB's statistics in the per-1,000 columns, one row each."""
    if not table.spreads:
        ws.append([_cell(ws, "Too few practices with a list size to compare", font=BOLD)])
        return
    for label, attribute in SPREAD_ROWS:
        cells = [_cell(ws, label, font=BOLD)] + [_cell(ws, None)] * (offset - 1)
        for m in PEER_MEASURES:
            value = getattr(table.spreads[m.key], attribute)
            cells += [_cell(ws, None), _cell(ws, value, _rate_format(m), BOLD)]
        ws.append(cells)
    ws.append([])


def _peer_statistics_sheet(wb: Workbook, report: OutageReport) -> None:
    """Nationally: each ICB's quartiles and fences, one row per ICB."""
    ws = wb.create_sheet("Peer statistics by ICB")
    columns: list[tuple[str, int, str | None]] = [
        ("ICB ODS code", 13, None),
        ("ICB", 44, None),
        ("Practices compared", 12, COUNT),
        ("Without a list size", 12, COUNT),
        ("Practices with an outlier", 12, COUNT),
    ]
    for m in PEER_MEASURES:
        columns += [
            (f"{m.label}: {label.lower()}", 14, _rate_format(m)) for label, _ in SPREAD_ROWS
        ]
    for index, (_, width, _) in enumerate(columns, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(report.by_icb) + 1}"
    ws.append([_cell(ws, heading, font=BOLD, fill=HEADER_FILL) for heading, _, _ in columns])
    for icb in report.by_icb:
        table = report.peers_by_icb[icb.ods_code]
        values: list[Any] = [
            icb.ods_code,
            icb.name,
            table.compared,
            table.without_list_size,
            len(table.outlier_rows),
        ]
        for m in PEER_MEASURES:
            s = table.spreads.get(m.key)
            values += [getattr(s, a) if s else None for _, a in SPREAD_ROWS]
        ws.append(
            [_cell(ws, value, fmt) for value, (_, _, fmt) in zip(values, columns, strict=True)]
        )


def build_report_xlsx(report: OutageReport) -> bytes:
    """The workbook, with the cycle collector paused as for every workbook (xlsx_cells)."""
    with gc_paused():
        return _build(report)


def _build(report: OutageReport) -> bytes:
    wb = Workbook(write_only=True)
    _summary(wb, report)
    total_label = "Total"
    if report.national:
        _table(
            wb,
            "By ICB",
            (("ICB ODS code", 13), ("ICB", 52), ("Practices claiming", 12)),
            (((i.ods_code, i.name, i.practices), i.figures) for i in report.by_icb),
            ((total_label, "", report.practices_claiming), report.totals),
            len(report.by_icb),
            chart=("Claimed and approved by ICB", 2),
        )
    if report.by_practice:
        labels: tuple[tuple[str, int], ...] = (("ODS code", 11), ("Practice", 40))
        if report.national:
            labels = (("ICB ODS code", 13), *labels)
        _table(
            wb,
            "By practice",
            labels,
            (
                (((p.icb_code,) if report.national else ()) + (p.ods_code, p.name), p.figures)
                for p in report.by_practice
            ),
            ((total_label, *[""] * (len(labels) - 1)), report.totals),
            len(report.by_practice),
            # nationally thousands of practices: the ICB chart stands in for them
            chart=None if report.national else ("Claimed and approved by practice", len(labels)),
        )
    _table(
        wb,
        "By cost kind",
        (("Cost kind", 22),),
        # the kinds (filtered and charted), then the sections' subtotals below them
        [((k.label,), k.figures) for k in report.by_kind]
        + [((label,), figures) for label, figures in report.section_rows],
        ((total_label,), report.totals),
        len(report.by_kind),
        chart=("Claimed and approved by cost kind", 1),
    )
    if report.peers is not None:
        _peers_sheet(wb, report.peers)
    elif report.peers_by_icb:
        # nationally each ICB's statistics only: its practices are in the ICB's own report,
        # and 6,300 more rows would double the national workbook's time
        _peer_statistics_sheet(wb, report)
    wb.properties.title = f"Outage report: {ILLEGAL_CHARACTERS_RE.sub('', report.event_name)}"
    wb.properties.creator = "Outage Claims"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
