"""Comparison with peers per 1,000 patients, through the service and the pages, on SQLite and
PostgreSQL: the figures equal a hand computation, agree with the ICB report to the penny, and a
reviewer of one ICB never sees another ICB's peers.

The data set is the worked example of tests/unit/test_peers.py, built from real claims whose
amounts are round (staff hours at £20.00 an hour with no on-costs, appointments at a round
unit cost), so every figure below is worked by hand:

| practice | list size | claimed | hours | appointments | per 1,000: £, hours, appts |
|---|---:|---:|---:|---:|---|
| A81001 | 5,000 | £1,000.00 | 10 | 20 | 200.00, 2.00, 4.00 |
| A81002 | 8,000 | £2,400.00 | 24 | 40 | 300.00, 3.00, 5.00 |
| A81003 | 10,000 | £2,500.00 | 20 | 30 | 250.00, 2.00, 3.00 |
| A81004 | 4,000 | £4,000.00 | 30 | 10 | 1,000.00, 7.50, 2.50 |
| A81005 | 12,000 | £3,000.00 | 30 | 48 | 250.00, 2.50, 4.00 |
| A81006 | none | £600.00 | 10 | 5 | not compared |

Claimed per 1,000 sorted: 200, 250, 250, 300, 1000: Q1 250, median 250, Q3 300 (cut points
at 1, 2 and 3 of 0..4), IQR 50, fences 175 and 375: A81004 is a high outlier. Hours 2, 2,
2.5, 3, 7.5: Q1 2, median 2.5, Q3 3, fences 0.5 and 4.5: A81004 high. Appointments 2.5, 3,
4, 4, 5: Q1 3, median 4, Q3 4, fences 1.5 and 5.5: none.
"""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select

from tests.conftest import demo_schema_app, login
from tests.factories import (
    World,
    make_appointments_line,
    make_claim,
    make_event,
    make_incident,
    make_practice,
    make_staff_line,
)
from tests.integration.test_reports import _count_queries
from tracker import demo
from tracker.extensions import db
from tracker.models import Invoice, OutageEvent, Practice, User
from tracker.services import crediting, invoicing, peers, reports

D = Decimal

#: (ODS code, list size, staff hours, appointments, unit cost of an appointment)
PRACTICES = (
    ("A81001", 5_000, 10, 20, "40.00"),
    ("A81002", 8_000, 24, 40, "48.00"),
    ("A81003", 10_000, 20, 30, "70.00"),
    ("A81004", 4_000, 30, 10, "340.00"),
    ("A81005", 12_000, 30, 48, "50.00"),
    ("A81006", None, 10, 5, "80.00"),
)
CLAIMED = {
    "A81001": D("1000.00"),
    "A81002": D("2400.00"),
    "A81003": D("2500.00"),
    "A81004": D("4000.00"),
    "A81005": D("3000.00"),
    "A81006": D("600.00"),
}


def _round_claim(practice: Practice, event: OutageEvent, hours: int, count: int, cost: str):
    """An issued claim of staff time at £20.00 an hour without on-costs and lost appointments."""
    incident = make_incident(db.session, practice, outage_event_id=event.id)
    lines = [
        make_staff_line(db.session, incident, hours=str(hours), rate="20.00", overtime="0", ni="0"),
        make_appointments_line(db.session, incident, count=count, cost=cost),
    ]
    draft = invoicing.create_draft(
        db.session, practice=practice, cost_line_ids=[ln.id for ln in lines], user_id=None
    )
    db.session.flush()
    return invoicing.issue_invoice(db.session, draft, user_id=None, today=date(2024, 7, 26))


@pytest.fixture
def peer_set(world: World):
    """ICB X: the six practices of the table (A81001 and A81002 are the world's); ICB Y:
    practice B with a huge claim on a small list, which must never move ICB X's figures.
    A81001 also has a withdrawn claim and a draft, neither of which counts."""
    event = make_event(db.session)
    practices = {"A81001": world.practice_a, "A81002": world.practice_a2}
    claims = {}
    for code, size, hours, count, cost in PRACTICES:
        practice = practices.get(code) or make_practice(
            db.session, world.icb_x, code, name=f"Surgery {code}"
        )
        practice.list_size = size
        claims[code] = _round_claim(practice, event, hours, count, cost)
    world.practice_b.list_size = 1_000
    claims["B82001"] = make_claim(db.session, world.practice_b, event, scale=9)
    withdrawn = make_claim(db.session, world.practice_a, event, scale=5)
    crediting.credit_invoice(
        db.session, withdrawn, user_id=None, today=date(2024, 7, 27), reason="Sent twice"
    )
    incident = make_incident(db.session, world.practice_a, outage_event_id=event.id)
    line = make_staff_line(db.session, incident, hours="99")
    invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[line.id], user_id=None
    )
    db.session.commit()
    return event, claims


def test_peer_figures_equal_the_hand_computation(world: World, peer_set) -> None:
    event, claims = peer_set
    assert {code: claims[code].total for code in CLAIMED} == CLAIMED
    report = peers.with_peers(
        reports.icb_report(db.session, event, world.icb_x, today=date.today())
    )
    table = report.peers
    assert table is not None
    rates = {row.ods_code: row.rates for row in table.rows}
    assert rates["A81001"] == {
        "claimed": D("200.00"),
        "hours": D("2.00"),
        "appointments": D("4.00"),
    }
    assert rates["A81004"] == {
        "claimed": D("1000.00"),
        "hours": D("7.50"),
        "appointments": D("2.50"),
    }
    assert rates["A81006"] is None and "B82001" not in rates
    spreads = table.spreads
    assert (spreads["claimed"].q1, spreads["claimed"].median, spreads["claimed"].q3) == (
        D("250.00"),
        D("250.00"),
        D("300.00"),
    )
    assert (spreads["claimed"].low_fence, spreads["claimed"].high_fence) == (
        D("175.00"),
        D("375.00"),
    )
    assert (spreads["hours"].median, spreads["hours"].high_fence) == (D("2.50"), D("4.50"))
    assert (spreads["appointments"].median, spreads["appointments"].q1) == (D("4.00"), D("3.00"))
    assert {row.ods_code: row.outliers for row in table.outlier_rows} == {
        "A81004": {"claimed": "high", "hours": "high"}
    }
    assert (table.compared, table.without_list_size) == (5, 1)
    # the same claimed figures as the report's own by-practice rows, to the penny
    by_practice = {p.ods_code: p.figures.claimed for p in report.by_practice}
    assert {row.ods_code: row.totals["claimed"] for row in table.rows} == by_practice == CLAIMED


def test_another_icbs_practices_never_move_the_figures(world: World, peer_set) -> None:
    """ICB Y's practice (a huge claim on a list of 1,000) is in ICB Y's comparison alone."""
    _, claims = peer_set
    x = peers.for_claim(db.session, claims["A81004"])
    y = peers.for_claim(db.session, claims["B82001"])
    assert x is not None and y is not None
    assert x.icb.id == world.icb_x.id and x.table.compared == 5
    assert x.table.spreads["claimed"].median == D("250.00")
    assert x.row is not None and x.row.outliers == {"claimed": "high", "hours": "high"}
    assert [row.ods_code for row in y.table.rows] == ["B82001"]
    assert y.table.spreads == {}  # one practice: nothing to compare with


def test_the_icb_report_shows_the_peer_table(
    as_reviewer: FlaskClient, world: World, peer_set
) -> None:
    event, _ = peer_set
    page = as_reviewer.get(f"/reports/events/{event.id}/icbs/{world.icb_x.id}").get_data(
        as_text=True
    )
    assert "Comparison with peers per 1,000 patients" in page
    assert "5 practices compared; 1 without a list size" in page
    assert "Outliers: Surgery A81004." in page
    assert 'data-testid="median-claimed">£250.00<' in page
    assert 'data-testid="high_fence-hours">4.50<' in page
    row = page.split('data-testid="peer-A81004"')[1].split("</tr>")[0]
    assert "£1,000.00" in row and row.count("High outlier") == 2
    missing = page.split('data-testid="peer-A81006"')[1].split("</tr>")[0]
    assert "no list size" in missing
    assert "Beta Medical Centre" not in page and "B82001" not in page


def test_the_workbook_and_pdf_carry_the_same_figures(
    as_reviewer: FlaskClient, world: World, peer_set
) -> None:
    event, _ = peer_set
    url = f"/reports/events/{event.id}/icbs/{world.icb_x.id}"
    workbook = load_workbook(io.BytesIO(as_reviewer.get(url + ".xlsx").data))
    rows = list(workbook["Peers per 1,000 patients"].iter_rows(values_only=True))
    header = rows[0]
    claimed_rate = header.index("Claimed, £ per 1,000 patients")
    by_code = {row[0]: row for row in rows[1:] if row and row[0]}
    assert D(str(by_code["A81004"][claimed_rate])) == D("1000.00")
    assert by_code["A81004"][-1] == "Claimed high; Staff and locum hours high"
    assert by_code["A81006"][claimed_rate] is None
    assert by_code["A81006"][-1] == "No list size: not compared"
    assert D(str(by_code["Median"][claimed_rate])) == D("250.00")
    assert D(str(by_code["Outlier if over"][claimed_rate])) == D("375.00")
    assert "B82001" not in by_code
    sheet = workbook["Peers per 1,000 patients"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:J7"
    pdf = PdfReader(io.BytesIO(as_reviewer.get(url + ".pdf").data))
    text = " ".join(" ".join(page.extract_text() for page in pdf.pages).split())
    assert "Comparison with peers per 1,000 patients" in text
    assert "£1,000.00 7.50 2.50 Claimed high; Staff and locum hours high" in text
    assert "Claimed, £ per 1,000 patients £250.00 £250.00 £300.00 £175.00 £375.00" in text
    assert "Beta Medical Centre" not in text


def test_the_claim_page_compares_the_practice_with_its_icb(
    client: FlaskClient, world: World, peer_set
) -> None:
    _, claims = peer_set
    login(client, world.reviewer)
    page = client.get(f"/review/claims/{claims['A81004'].id}").get_data(as_text=True)
    assert "Compared with peers" in page and "(list size 4,000)" in page
    assert 'data-testid="own-claimed"><strong>£1,000.00</strong><br>' in page
    assert page.count("High outlier") == 2
    assert 'data-testid="median-claimed">£250.00<' in page
    unlisted = client.get(f"/review/claims/{claims['A81006'].id}").get_data(as_text=True)
    assert "has no list size yet" in unlisted and "High outlier" not in unlisted
    # ICB Y's claim is not this reviewer's: not found, its peers with it
    assert client.get(f"/review/claims/{claims['B82001'].id}").status_code == 404
    client.post("/logout")
    login(client, world.reviewer_y)
    other = client.get(f"/review/claims/{claims['B82001'].id}").get_data(as_text=True)
    assert "Too few practices with a list size to compare" in other
    assert "Surgery A81004" not in other and "£250.00" not in other


def test_a_claim_of_no_single_event_has_no_peers(as_reviewer: FlaskClient, world: World) -> None:
    claim = make_claim(db.session, world.practice_a, None)
    db.session.commit()
    page = as_reviewer.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    assert 'data-testid="peers-none"' in page


def test_the_claim_page_queries_do_not_grow_with_peers(
    client: FlaskClient, world: World, peer_set
) -> None:
    event, claims = peer_set
    login(client, world.reviewer)
    url = f"/review/claims/{claims['A81004'].id}"
    before = _count_queries(client, url)
    for n in range(7, 12):
        practice = make_practice(db.session, world.icb_x, f"C{n:05d}", list_size=3_000 * n)
        _round_claim(practice, event, n, n, "45.00")
    db.session.commit()
    assert _count_queries(client, url) == before


def test_the_demo_practices_have_list_sizes_and_an_outlier(tmp_path: Path) -> None:
    """The first start's data: every practice has a list size, and the reviewer sees Tufnell
    Park's claim stand out per 1,000 patients."""
    app = demo_schema_app(f"sqlite:///{tmp_path / 'demo.db'}", tmp_path)
    with app.app_context():
        sizes = dict(db.session.execute(select(Practice.ods_code, Practice.list_size)).all())
        assert sizes == demo.DEMO_LIST_SIZES
        claim = db.session.scalar(
            select(Invoice)
            .join(Practice, Practice.id == Invoice.practice_id)
            .where(Practice.ods_code == "Y09905", Invoice.status == "issued")
        )
        assert claim is not None
        client = app.test_client()
        reviewer = db.session.scalar(select(User).where(User.email == "reviewer@example.org"))
        login(client, reviewer)
        page = client.get(f"/review/claims/{claim.id}").get_data(as_text=True)
        assert "High outlier" in page and "5 practices compared" in page
        db.session.remove()
        db.engine.dispose()


def test_the_national_workbook_has_each_icbs_statistics(
    as_admin: FlaskClient, world: World, peer_set
) -> None:
    event, _ = peer_set
    response = as_admin.get(f"/reports/events/{event.id}/national.xlsx")
    rows = list(load_workbook(io.BytesIO(response.data))["Peer statistics by ICB"].values)
    header = rows[0]
    by_code = {row[0]: row for row in rows[1:]}
    x, y = by_code["QXA"], by_code["QYB"]
    assert x[header.index("Practices compared")] == 5
    assert x[header.index("Without a list size")] == 1
    assert x[header.index("Practices with an outlier")] == 1
    assert D(str(x[header.index("Claimed: median")])) == D("250.00")
    assert D(str(x[header.index("Staff and locum hours: outlier if over")])) == D("4.50")
    assert y[header.index("Practices compared")] == 1
    assert y[header.index("Claimed: median")] is None  # one practice: no statistics
