"""Outage reports: a page with charts and tables, an Excel workbook and a PDF, for one outage
event across an ICB's practices; administrators also get the national view by ICB."""

from __future__ import annotations

import re

from flask import Blueprint, abort, render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import select
from werkzeug.wrappers import Response

from tracker.access import admin_required, claim_icb_ids, event_or_404, roles_required
from tracker.charts import Bar, bar_chart
from tracker.documents.report_data import COUNTING_NOTE
from tracker.documents.report_pdf import build_report_pdf
from tracker.documents.report_xlsx import build_report_xlsx
from tracker.documents.xlsx_cells import gc_paused
from tracker.extensions import db_session
from tracker.models import ICB_ROLES, Icb, OutageEvent
from tracker.presentation import format_number
from tracker.services import peers, reports
from tracker.services.dates import today_in_london as today_london
from tracker.view_helpers import send_download

bp = Blueprint("reports", __name__, url_prefix="/reports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHART_PRACTICES = 15


@bp.before_request
@roles_required(*ICB_ROLES, admin=True)
def only_reviewers() -> None:
    """Reports are for ICB reviewers, ICB finance approvers and administrators."""


def _event_or_404(event_id: int) -> OutageEvent:
    """An event the user may see (access.event_or_404): another ICB's practice's proposal
    is not even named in a report."""
    return event_or_404(event_id)


def _icb_or_404(icb_id: int) -> Icb:
    if icb_id not in claim_icb_ids():
        abort(404)
    icb = db_session().get(Icb, icb_id)
    if icb is None:
        abort(404)
    return icb


def slug(text: str, limit: int = 60) -> str:
    """`text` as ASCII letters and digits joined by hyphens, at most `limit` characters cut
    at a word boundary (a single word longer than that is kept whole, never cut)."""
    words = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")
    if len(words) <= limit:
        return words
    cut = words[: limit + 1].rsplit("-", 1)[0]
    return cut if "-" in words[: limit + 1] else words.split("-", 1)[0]


def _filename(report: reports.OutageReport, extension: str) -> str:
    scope = "national" if report.national else report.scope.rsplit("(", 1)[-1].rstrip(")")
    event = slug(report.event_name)
    return f"outage-report-{scope}-{event}-{report.generated_on.isoformat()}.{extension}"


def _icb_report(event: OutageEvent, icb: Icb) -> reports.OutageReport:
    """The ICB's report with its comparison of peers, as the page, workbook and PDF show it."""
    return peers.with_peers(reports.icb_report(db_session(), event, icb, today=today_london()))


def _download(data: bytes, mimetype: str, filename: str) -> Response:
    return send_download(data, mimetype=mimetype, filename=filename)


@bp.route("/")
def index() -> str:
    icb_ids = claim_icb_ids()
    national = current_user.is_admin
    events = reports.events_with_claims(db_session(), None if national else icb_ids)
    icbs = (
        []
        if national
        else list(db_session().scalars(select(Icb).where(Icb.id.in_(icb_ids)).order_by(Icb.name)))
    )
    return render_template("reports/index.html", events=events, icbs=icbs, national=national)


def _charts(report: reports.OutageReport) -> dict[str, Markup]:
    legend = ("Claimed", "Approved")
    charts = {
        "kind": bar_chart(
            "Claimed and approved by cost kind",
            [Bar(k.label, k.figures.claimed, k.figures.approved) for k in report.by_kind],
            legend=legend,
            chart_id="chart-kind",
        )
    }
    if report.by_practice and not report.national:
        top = sorted(report.by_practice, key=lambda p: (-p.figures.claimed, p.name))
        charts["practice"] = bar_chart(
            "Claimed and approved by practice",
            [Bar(p.name, p.figures.claimed, p.figures.approved) for p in top[:CHART_PRACTICES]],
            legend=legend,
            chart_id="chart-practice",
            label_width=230,
        )
    if report.by_icb:
        charts["icb"] = bar_chart(
            "Claimed and approved by ICB",
            [
                Bar(
                    i.name.removeprefix("NHS ").removesuffix(" Integrated Care Board"),
                    i.figures.claimed,
                    i.figures.approved,
                )
                for i in report.by_icb
            ],
            legend=legend,
            chart_id="chart-icb",
            label_width=260,
            row_height=30,
        )
    charts["hours"] = bar_chart(
        "Hours of staff and locum time",
        [
            Bar("Staff time", report.totals.staff_hours),
            Bar("Locum cover", report.totals.locum_hours),
        ],
        value_text=lambda v: f"{format_number(v)} h",
        chart_id="chart-hours",
    )
    return charts


@bp.route("/events/<int:event_id>/icbs/<int:icb_id>")
def icb_report(event_id: int, icb_id: int) -> str:
    event, icb = _event_or_404(event_id), _icb_or_404(icb_id)
    report = _icb_report(event, icb)
    return render_template(
        "reports/report.html",
        report=report,
        charts=_charts(report),
        chart_practices=CHART_PRACTICES,
        counting_note=COUNTING_NOTE,
        icb=icb,
    )


@bp.route("/events/<int:event_id>/icbs/<int:icb_id>.xlsx")
def icb_report_xlsx(event_id: int, icb_id: int) -> Response:
    event, icb = _event_or_404(event_id), _icb_or_404(icb_id)
    report = _icb_report(event, icb)
    return _download(build_report_xlsx(report), XLSX, _filename(report, "xlsx"))


@bp.route("/events/<int:event_id>/icbs/<int:icb_id>.pdf")
def icb_report_pdf(event_id: int, icb_id: int) -> Response:
    event, icb = _event_or_404(event_id), _icb_or_404(icb_id)
    report = _icb_report(event, icb)
    return _download(build_report_pdf(report), "application/pdf", _filename(report, "pdf"))


@bp.route("/events/<int:event_id>/national")
@admin_required
def national(event_id: int) -> str:
    event = _event_or_404(event_id)
    report = reports.national_report(db_session(), event, today=today_london())
    return render_template(
        "reports/report.html",
        report=report,
        charts=_charts(report),
        counting_note=COUNTING_NOTE,
        icb=None,
    )


@bp.route("/events/<int:event_id>/national.xlsx")
@admin_required
def national_xlsx(event_id: int) -> Response:
    """The national workbook: every practice's row. The request makes a few hundred thousand
    objects that all die with it (rows, figures, openpyxl's cells); the cycle collector's
    passes over them cost about 8% of its time (issue 13), so it waits until the end."""
    event = _event_or_404(event_id)
    with gc_paused():
        report = peers.with_peers(
            reports.national_report(db_session(), event, today=today_london(), with_practices=True)
        )
        data = build_report_xlsx(report)
    return _download(data, XLSX, _filename(report, "xlsx"))


@bp.route("/events/<int:event_id>/national.pdf")
@admin_required
def national_pdf(event_id: int) -> Response:
    """The national report by ICB as PDF (practice-level rows are in the workbook)."""
    event = _event_or_404(event_id)
    report = reports.national_report(db_session(), event, today=today_london())
    return _download(build_report_pdf(report), "application/pdf", _filename(report, "pdf"))
