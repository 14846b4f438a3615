"""What the dashboards tell each role about claims under review."""

import re
from decimal import Decimal

from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import World, make_claim, make_event
from tracker.extensions import db
from tracker.models import ClaimMessage
from tracker.presentation import format_money
from tracker.services import review

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
