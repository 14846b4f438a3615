"""Outage reports: totals equal the invoice lines to the penny, on the page, in Excel and in
the PDF; a reviewer sees only their ICB; the query count does not grow with the data."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import login
from tests.factories import World, make_claim, make_event, make_practice
from tests.queries import count_statements
from tracker.extensions import db
from tracker.models import CostKind, Invoice, InvoiceLine
from tracker.services import crediting, reports, review


@pytest.fixture
def setup(world: World):
    event = make_event(db.session)
    claim_a = make_claim(db.session, world.practice_a, event, user=world.manager)
    claim_a2 = make_claim(db.session, world.practice_a2, event, user=world.finance, scale=3)
    claim_b = make_claim(db.session, world.practice_b, event, user=world.manager_b, scale=2)
    withdrawn = make_claim(db.session, world.practice_a, event, user=world.manager, scale=5)
    crediting.credit_invoice(
        db.session,
        withdrawn,
        user_id=world.manager.id,
        today=withdrawn.issue_date,
        reason="Duplicate",
    )
    mixed = make_claim(db.session, world.practice_a, None, user=world.manager)
    uid = world.reviewer.id
    lines = claim_a.lines
    review.decide_line(
        db.session, claim_a, lines[0], review.LineDecisionInput("approved"), user_id=uid
    )
    review.decide_line(
        db.session,
        claim_a,
        lines[1],
        review.LineDecisionInput("part_approved", Decimal("99.99"), "One session"),
        user_id=uid,
    )
    review.decide_line(
        db.session,
        claim_a,
        lines[2],
        review.LineDecisionInput("queried", reason="Which clinics?"),
        user_id=uid,
    )
    review.decide_line(
        db.session,
        claim_a,
        lines[3],
        review.LineDecisionInput("rejected", reason="Not outage-related"),
        user_id=uid,
    )
    review.approve_remaining(db.session, claim_a2, user_id=uid)
    db.session.commit()
    return event, claim_a, claim_a2, claim_b, withdrawn, mixed


def _expected(claims: list[Invoice]) -> dict[str, Decimal]:
    """Straight from the invoice lines, in Python: what every report must say."""
    lines = [line for claim in claims for line in claim.lines]
    final = [ln for ln in lines if ln.decision and ln.decision.decision != "queried"]
    return {
        "claimed": sum((ln.total_amount for ln in lines), Decimal("0")),
        "approved": sum((ln.decision.approved_amount for ln in final), Decimal("0")),
        "awaiting": sum((ln.total_amount for ln in lines if ln not in final), Decimal("0")),
        "staff_hours": sum((ln.hours for ln in lines if ln.kind == CostKind.STAFF), Decimal("0")),
        "locum_hours": sum((ln.hours for ln in lines if ln.kind == CostKind.LOCUM), Decimal("0")),
        "appointments": sum(ln.appointments or 0 for ln in lines),
    }


def test_icb_report_totals_equal_the_lines(world: World, setup) -> None:
    event, claim_a, claim_a2, _, withdrawn, _ = setup
    report = reports.icb_report(db.session, event, world.icb_x, today=claim_a.issue_date)
    expected = _expected([claim_a, claim_a2])
    t = report.totals
    assert t.claimed == expected["claimed"] == claim_a.total + claim_a2.total
    assert t.approved == expected["approved"]
    assert t.awaiting == expected["awaiting"]
    assert (t.staff_hours, t.locum_hours, t.appointments) == (
        expected["staff_hours"],
        expected["locum_hours"],
        expected["appointments"],
    )
    assert t.claims == 2 and report.practices_claiming == 2
    assert [p.ods_code for p in report.by_practice] == ["A81001", "A81002"]  # by name
    by_practice = {p.ods_code: p.figures for p in report.by_practice}
    assert by_practice["A81001"].claimed == claim_a.total
    assert by_practice["A81001"].approved == claim_a.lines[0].total_amount + Decimal("99.99")
    assert sum((k.figures.claimed for k in report.by_kind), Decimal(0)) == t.claimed
    assert report.excluded.withdrawn_claims == 1
    assert report.excluded.withdrawn_total == withdrawn.total
    assert report.excluded.credit_notes == 1 and report.excluded.mixed_claims == 1
    assert report.status_counts == {"in_review": 1, "decided": 1}


def test_a_part_credit_leaves_the_claim_in_and_is_not_left_out(world: World, setup) -> None:
    """Crediting what the ICB did not approve does not withdraw the claim: it stays claimed
    and approved as before, and its credit note is not among those left out (which are the
    ones that cancel a claim with it)."""
    event, claim_a, *_ = setup
    before = reports.icb_report(db.session, event, world.icb_x, today=claim_a.issue_date)
    line = claim_a.lines[0]
    crediting.credit_lines(
        db.session,
        claim_a,
        {line.id: Decimal("10.00")},
        reason="Agreed with the ICB",
        user_id=None,
        today=claim_a.issue_date,
    )
    db.session.commit()
    after = reports.icb_report(db.session, event, world.icb_x, today=claim_a.issue_date)
    assert after.totals == before.totals
    assert after.excluded.credit_notes == before.excluded.credit_notes == 1


def test_national_report_groups_by_icb(world: World, setup) -> None:
    event, claim_a, claim_a2, claim_b, _, _ = setup
    report = reports.national_report(
        db.session, event, today=claim_a.issue_date, with_practices=True
    )
    by_icb = {i.ods_code: i for i in report.by_icb}
    assert by_icb["QXA"].figures.claimed == claim_a.total + claim_a2.total
    assert by_icb["QXA"].practices == 2
    assert by_icb["QYB"].figures.claimed == claim_b.total
    assert report.totals.claimed == _expected([claim_a, claim_a2, claim_b])["claimed"]
    assert report.practices_claiming == 3 and len(report.by_practice) == 3


def test_reviewer_page_shows_only_own_icb(as_reviewer: FlaskClient, world: World, setup):
    event, claim_a, claim_a2, _, _, _ = setup
    index = as_reviewer.get("/reports/").get_data(as_text=True)
    assert event.name in index
    url = f"/reports/events/{event.id}/icbs/{world.icb_x.id}"
    page = as_reviewer.get(url).get_data(as_text=True)
    assert "Alpha Surgery" in page and "Alpha Two Practice" in page
    assert "Beta Medical Centre" not in page and "B82001" not in page
    assert f"£{claim_a.total + claim_a2.total:,.2f}" in page
    assert "<svg" in page and 'role="img"' in page


def test_reviewer_cannot_reach_another_icb(client: FlaskClient, world: World, setup) -> None:
    event = setup[0]
    login(client, world.reviewer)
    other = f"/reports/events/{event.id}/icbs/{world.icb_y.id}"
    for suffix in ("", ".xlsx", ".pdf"):
        assert client.get(other + suffix).status_code == 404
    assert client.get(f"/reports/events/{event.id}/national").status_code == 403
    assert client.get(f"/reports/events/{event.id}/national.xlsx").status_code == 403
    assert client.get(f"/reports/events/999999/icbs/{world.icb_x.id}").status_code == 404
    client.post("/logout")
    login(client, world.manager)
    assert client.get("/reports/").status_code == 403
    assert client.get(f"/reports/events/{event.id}/icbs/{world.icb_x.id}").status_code == 403


def _sheet_rows(workbook, name: str) -> list[tuple]:
    return [row for row in workbook[name].iter_rows(values_only=True)]


def test_excel_report_reads_back_with_the_same_figures(
    as_reviewer: FlaskClient, world: World, setup
) -> None:
    event, claim_a, claim_a2, _, _, _ = setup
    response = as_reviewer.get(f"/reports/events/{event.id}/icbs/{world.icb_x.id}.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "Summary",
        "By practice",
        "By cost kind",
        "Peers per 1,000 patients",
    ]
    rows = _sheet_rows(workbook, "By practice")
    header = rows[0]
    assert header[:2] == ("ODS code", "Practice")
    claimed = header.index("Claimed")
    practice_rows = {row[0]: row for row in rows[1:] if row and row[0] and row[0] != "Total"}
    assert set(practice_rows) == {"A81001", "A81002"}
    assert Decimal(str(practice_rows["A81001"][claimed])) == claim_a.total
    assert isinstance(practice_rows["A81001"][claimed], float | int)  # a number, not text
    total_row = next(row for row in rows if row and row[0] == "Total")
    expected = _expected([claim_a, claim_a2])
    for heading in ("claimed", "approved"):
        value = total_row[header.index(heading.capitalize())]
        assert Decimal(str(value)).quantize(Decimal("0.01")) == expected[heading]
    sheet = workbook["By practice"]
    assert sheet.cell(row=2, column=claimed + 1).number_format == '"£"#,##0.00'
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    kinds = _sheet_rows(workbook, "By cost kind")
    kind_total = next(row for row in kinds if row and row[0] == "Total")
    assert Decimal(str(kind_total[kinds[0].index("Claimed")])) == expected["claimed"]
    assert "Beta" not in str(_sheet_rows(workbook, "Summary"))


def test_excel_text_never_becomes_a_formula(world: World, setup) -> None:
    from tracker.documents.report_xlsx import build_report_xlsx

    event, claim_a, *_ = setup
    world.practice_a.name = '=HYPERLINK("http://evil")'
    report = reports.icb_report(db.session, event, world.icb_x, today=claim_a.issue_date)
    workbook = load_workbook(io.BytesIO(build_report_xlsx(report)))
    cells = [c for row in workbook["By practice"].iter_rows() for c in row]
    evil = next(c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value)
    assert evil.data_type == "s"
    db.session.rollback()


def test_pdf_report_reads_back(as_reviewer: FlaskClient, world: World, setup) -> None:
    event, claim_a, claim_a2, _, _, _ = setup
    world.practice_a.name = "Siân's Surgery <b>Zoë & Łukasz</b>"
    db.session.commit()
    response = as_reviewer.get(f"/reports/events/{event.id}/icbs/{world.icb_x.id}.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(response.data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Siân's Surgery <b>Zoë & Łukasz</b>" in text
    assert f"£{claim_a.total + claim_a2.total:,.2f}" in text
    assert f"Page 1 of {len(reader.pages)}" in text
    assert "Beta Medical Centre" not in text


def test_admin_national_page_and_workbook(as_admin: FlaskClient, world: World, setup) -> None:
    event, claim_a, claim_a2, claim_b, _, _ = setup
    page = as_admin.get(f"/reports/events/{event.id}/national").get_data(as_text=True)
    assert world.icb_x.name in page and world.icb_y.name in page
    response = as_admin.get(f"/reports/events/{event.id}/national.xlsx")
    workbook = load_workbook(io.BytesIO(response.data))
    assert workbook.sheetnames == [
        "Summary",
        "By ICB",
        "By practice",
        "By cost kind",
        "Peer statistics by ICB",
    ]
    rows = _sheet_rows(workbook, "By ICB")
    claimed = rows[0].index("Claimed")
    by_code = {row[0]: row for row in rows[1:] if row and row[0]}
    assert Decimal(str(by_code["QYB"][claimed])) == claim_b.total
    total = claim_a.total + claim_a2.total + claim_b.total
    assert Decimal(str(by_code["Total"][claimed])).quantize(Decimal("0.01")) == total
    # admins may open any ICB's report too
    assert as_admin.get(f"/reports/events/{event.id}/icbs/{world.icb_y.id}").status_code == 200
    pdf = PdfReader(io.BytesIO(as_admin.get(f"/reports/events/{event.id}/national.pdf").data))
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert world.icb_x.ods_code in text and world.icb_y.ods_code in text
    assert f"£{total:,.2f}" in text


def _count_queries(client: FlaskClient, url: str) -> int:
    def read() -> None:
        assert client.get(url).status_code == 200

    return count_statements(read)


def test_query_count_does_not_grow_with_practices(client: FlaskClient, world: World, setup):
    event = setup[0]
    login(client, world.admin)
    urls = [
        f"/reports/events/{event.id}/icbs/{world.icb_x.id}",
        f"/reports/events/{event.id}/icbs/{world.icb_x.id}.xlsx",
        f"/reports/events/{event.id}/icbs/{world.icb_x.id}.pdf",
        f"/reports/events/{event.id}/national",
        f"/reports/events/{event.id}/national.xlsx",
        f"/reports/events/{event.id}/national.pdf",
        "/review",
    ]
    before = [_count_queries(client, url) for url in urls]
    for n in range(4):
        practice = make_practice(db.session, world.icb_x if n % 2 else world.icb_y)
        make_claim(db.session, practice, event, scale=n + 1)
    db.session.commit()
    after = [_count_queries(client, url) for url in urls]
    assert before == after
    assert db.session.scalar(select(InvoiceLine.id).limit(1))


def test_report_file_names_cut_the_event_at_a_word(
    as_reviewer: FlaskClient, world: World, setup
) -> None:
    from tracker.reports.views import slug

    event = setup[0]
    event.name = "CrowdStrike global IT outage, 19 July 2024, every practice in the country hit"
    db.session.commit()
    for suffix in (".xlsx", ".pdf"):
        response = as_reviewer.get(f"/reports/events/{event.id}/icbs/{world.icb_x.id}{suffix}")
        disposition = response.headers["Content-Disposition"]
        name = disposition.split("filename=", 1)[1].strip('"')
        assert name.startswith("outage-report-QXA-CrowdStrike-global-IT-outage-19-July-2024-"), name
        event_part = name.removeprefix("outage-report-QXA-").rsplit("-", 3)[0]
        assert event_part in slug(event.name, 1000) and slug(event.name, 1000).startswith(
            event_part + "-"
        ), f"{event_part!r} is not cut at a word"
    assert slug("CrowdStrike global IT outage, 19 July 2024", 40) == (
        "CrowdStrike-global-IT-outage-19-July"
    )
    assert slug("Short name", 40) == "Short-name"
    assert slug("Supercalifragilistic" * 3, 10) == "Supercalifragilistic" * 3  # never mid-word


def _xlsx_parts(data: bytes) -> dict[str, str]:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {
            name: archive.read(name).decode()
            for name in archive.namelist()
            if name.startswith(("xl/charts/", "xl/drawings/", "xl/worksheets/"))
        }


def test_excel_report_has_native_charts_of_its_cells(
    as_reviewer: FlaskClient, world: World, setup
) -> None:
    event = setup[0]
    response = as_reviewer.get(f"/reports/events/{event.id}/icbs/{world.icb_x.id}.xlsx")
    parts = _xlsx_parts(response.data)
    charts = sorted(name for name in parts if name.startswith("xl/charts/chart"))
    assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
    xml = "".join(parts[name] for name in charts)
    assert "<barChart>" in xml
    # by practice: names in B, claimed and approved in E:F of the two practice rows
    assert "'By practice'!$B$2:$B$3" in xml and "'By practice'!$E$2:$E$3" in xml
    assert "'By practice'!$F$2:$F$3" in xml
    # the rows less the header, the blank, the total and the two sections' subtotals
    kinds = len(load_workbook(io.BytesIO(response.data))["By cost kind"]["A"]) - 5
    assert f"'By cost kind'!$A$2:$A${kinds + 1}" in xml
    assert f"'By cost kind'!$D$2:$D${kinds + 1}" in xml
    # still a sound workbook
    assert load_workbook(io.BytesIO(response.data)).sheetnames == [
        "Summary",
        "By practice",
        "By cost kind",
        "Peers per 1,000 patients",
    ]


def test_national_workbook_charts_icbs_and_kinds(as_admin: FlaskClient, setup) -> None:
    event = setup[0]
    parts = _xlsx_parts(as_admin.get(f"/reports/events/{event.id}/national.xlsx").data)
    xml = "".join(text for name, text in parts.items() if name.startswith("xl/charts/"))
    assert "xl/charts/chart1.xml" in parts
    assert "'By ICB'!$B$2:$B$3" in xml and "'By cost kind'!$A$2" in xml
    assert "'By practice'!" not in xml
