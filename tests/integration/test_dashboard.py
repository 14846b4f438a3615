"""What the dashboards tell each role about claims under review."""

import re
from decimal import Decimal

from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import World, make_claim, make_event, make_expense_line, make_incident
from tests.integration.test_settlement import TODAY
from tracker.extensions import db
from tracker.models import ClaimMessage
from tracker.presentation import format_money
from tracker.services import dashboard, register, review

D = Decimal

STAT = re.compile(
    r'<span class="app-stat__label">([^<]*)</span>'
    r'<span class="app-stat__value"[^>]*>([^<]*)</span>'
)


def figures(page: str) -> dict[str, str]:
    """Each figure on the dashboard by the label the user reads beside it."""
    return dict(STAT.findall(page))


def query_a_line(world: World):
    claim = make_claim(db.session, world.practice_a, make_event(db.session))
    line = claim.lines[0]
    review.decide_line(
        db.session,
        claim,
        line,
        review.LineDecisionInput(review.Decision.QUERIED, None, "Send the rota"),
        user_id=world.reviewer.id,
    )
    db.session.commit()
    return claim, line


def test_practice_dashboard_lists_queried_claims_until_answered(
    client: FlaskClient, world: World
) -> None:
    claim, line = query_a_line(world)
    login(client, world.manager)
    page = client.get("/").data.decode()
    assert "The ICB has questions about your claims" in page
    assert f"Invoice {claim.number}" in page and "1 waiting for your answer" in page
    db.session.add(
        ClaimMessage(
            invoice_id=claim.id,
            invoice_line_id=line.id,
            author_id=world.manager.id,
            body="Rota attached",
        )
    )
    db.session.commit()
    assert "all answered" in client.get("/").data.decode()
    client.post("/logout")
    login(client, world.manager_b)
    assert "questions about your claims" not in client.get("/").data.decode()


def test_reviewer_dashboard_counts_claims_and_answered_queries(
    client: FlaskClient, world: World
) -> None:
    claim, line = query_a_line(world)
    other = make_claim(db.session, world.practice_a2, None)
    db.session.add(
        ClaimMessage(
            invoice_id=claim.id,
            invoice_line_id=line.id,
            author_id=world.manager.id,
            body="Rota attached",
        )
    )
    db.session.commit()
    login(client, world.reviewer)
    page = client.get("/").data.decode()
    # the queried claim is in review, the other one is new; the query has been answered
    assert figures(page) == {
        "Practices": "2",
        "Claims received": "2",
        "Total claimed": format_money(claim.total + other.total),
        "New claims": "1",
        "In review": "1",
        "Decided": "0",
        "Queries answered by practices": "1",
    }
    assert 'data-testid="answered-queries">1<' in page
    client.post("/logout")
    login(client, world.reviewer_y)
    other_icb = client.get("/").data.decode()
    assert figures(other_icb) == {
        "Practices": "1",
        "Claims received": "0",
        "Total claimed": format_money(Decimal(0)),
        "New claims": "0",
        "In review": "0",
        "Decided": "0",
        "Queries answered by practices": "0",
    }


# --- the practice's claims: claimed, approved, credited, paid, outstanding ----------------


def claims_in_every_state(world: World) -> None:
    """Practice A's claims: settled (part-approved, the rest credited, the approved paid),
    part-paid with a refund, cancelled in full, a draft; then the practice moves to ICB Y
    and its next claim, paid, goes there. Practice A2 claims too (never A's figures)."""
    from tests.integration.test_settlement import invoice_of, pay, scenario
    from tracker.services import crediting, invoicing

    settled = scenario(world)
    crediting.credit_disallowed(db.session, settled, user_id=None, today=TODAY)
    db.session.commit()
    pay(settled, "674.61")
    refunded = invoice_of(world, "99.99", "0.01")
    pay(refunded, "60.00")
    pay(refunded, "-10.00")
    cancelled = invoice_of(world, "12.34")
    crediting.credit_invoice(db.session, cancelled, user_id=None, today=TODAY, reason="Wrong PO")
    db.session.commit()
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident, net="5.00", vat="0.00")
    invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[line.id], user_id=None
    )
    world.practice_a.icb_id = world.icb_y.id
    db.session.commit()
    pay(invoice_of(world, "250.00"), "250.00")
    invoice_of(world, "1000.00", practice=world.practice_a2)


def register_totals(world: World, icb_id: int | None) -> register.RegisterTotals:
    filters = register.RegisterFilter(
        practice_ids=[world.practice_a.id], practice_id=world.practice_a.id, icb_id=icb_id
    )
    return register.register(db.session, filters, TODAY).totals


FIGURES = ("claimed", "approved", "credited", "paid", "outstanding")


def test_claims_by_icb_are_the_registers_totals_to_the_penny(world: World) -> None:
    claims_in_every_state(world)
    summary = dashboard.practice_summary(db.session, world.practice_a.id)
    assert [row.icb_id for row in summary.claims_by_icb] == [world.icb_x.id, world.icb_y.id]
    for row in [*summary.claims_by_icb, summary.claims]:
        totals = register_totals(world, row.icb_id)
        assert [getattr(row, name) for name in FIGURES] == [
            getattr(totals, name) for name in FIGURES
        ], row.icb_name
        assert row.outstanding == row.claimed - row.credited - row.paid
    x, y = summary.claims_by_icb
    assert (x.claims, x.claimed, x.approved, x.credited, x.paid, x.outstanding) == (
        3,
        D("1236.95"),  # 1,124.61 settled + 100.00 part-paid + 12.34 cancelled
        D("674.61"),
        D("462.34"),  # 450.00 not approved + 12.34 cancelled
        D("724.61"),  # 674.61 + 60.00 - 10.00 refunded
        D("50.00"),
    )
    assert (y.claims, y.claimed, y.paid, y.outstanding) == (1, D("250.00"), D("250.00"), D(0))


def test_the_dashboard_table_reads_as_the_register_page_it_links_to(
    as_manager: FlaskClient, world: World
) -> None:
    claims_in_every_state(world)
    page = as_manager.get("/").data.decode()
    for icb in (world.icb_x, world.icb_y):
        row = re.search(rf'data-testid="claims-{icb.id}">(.*?)</tr>', page, re.S)
        assert row, icb.name
        cells = dict(re.findall(r'data-testid="(\w+)">([^<]*)<', row.group(1)))
        link = re.search(r'href="([^"]*)"', row.group(1)).group(1).replace("&amp;", "&")
        listed = as_manager.get(link).data.decode()
        for name, shown in (
            ("claimed", "claimed"),
            ("approved", "approved"),
            ("credited", "credited"),
            ("paid", "paid"),
            ("owed", "outstanding"),
        ):
            assert f'data-testid="register-{shown}">{cells[name]}<' in listed, (icb.name, name)
    total = re.search(r'data-testid="claims-all">(.*?)</tr>', page, re.S).group(1)
    assert 'data-testid="claimed">£1,486.95<' in total and 'data-testid="owed">£50.00<' in total
    assert "£1,000.00" not in page  # practice A2's claim is not A's


def test_a_practice_without_claims_shows_no_claims_table(as_manager: FlaskClient) -> None:
    page = as_manager.get("/").data.decode()
    assert 'data-testid="claims-by-icb"' not in page
    assert figures(page)["Claimed from the ICB"] == "£0.00"
