"""The main pages run a fixed number of SQL statements, however much data they show (issue
13): the same count with 2 and with 20 incidents, cost lines, invoice lines and claims. A
page whose count grows with its rows has an N+1 (one query per line) that makes it slow
for the busy practice and the large ICB first.

EXPECTED is the one table of counts: a change that adds a query to a page changes its
number here, in the same commit, on purpose. The counts include signing in on every request
(the user with their memberships, practices and ICBs: one statement).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import g
from flask.testing import FlaskClient

from tests.conftest import PASSWORD
from tests.factories import (
    World,
    make_claim,
    make_event,
    make_expense_line,
    make_incident,
    make_issued_invoice,
    make_payment,
)
from tests.queries import count_statements
from tracker.extensions import db
from tracker.models import Evidence, Invoice
from tracker.services import review

#: SQL statements per page, whatever the size of the data.
EXPECTED = {
    "dashboard": 7,
    "incidents list": 5,
    "incident page": 9,  # + the claim policy and what its checks read
    "invoice page": 6,
    "invoice PDF": 3,
    "review list": 16,  # + the automatic checks of the listed claims, in bulk; + proposals waiting
    "claim page": 20,  # + the automatic checks (services.claim_policy.check_claims)
    "ICB report page": 6,
}


@dataclass
class Pages:
    """Each page by name: the email of who opens it and its address."""

    urls: dict[str, tuple[str, str]]


def _busy_incident(world: World, event_id: int, lines: int) -> Invoice:
    """An incident with `lines` expense lines, each with a receipt, issued on one invoice
    that has a payment and a decided, a queried and an answered line."""
    incident = make_incident(db.session, world.practice_a, outage_event_id=event_id)
    cost_lines = [
        make_expense_line(db.session, incident, description=f"Receipt {n}") for n in range(lines)
    ]
    for n, line in enumerate(cost_lines):
        db.session.add(
            Evidence(
                practice_id=world.practice_a.id,
                cost_line_id=line.id,
                original_filename=f"receipt-{n}.pdf",
                stored_name=f"{n:032x}.pdf",
                content_type="application/pdf",
                size_bytes=1000,
                sha256="0" * 64,
            )
        )
    db.session.flush()
    invoice = make_issued_invoice(db.session, world.practice_a, cost_lines)
    invoice.outage_event_id = event_id
    first, second = invoice.lines[0], invoice.lines[1]
    review.decide_line(
        db.session, invoice, first, review.LineDecisionInput("approved"), user_id=world.reviewer.id
    )
    review.decide_line(
        db.session,
        invoice,
        second,
        review.LineDecisionInput("queried", reason="Which printer?"),
        user_id=world.reviewer.id,
    )
    review.add_message(
        db.session, invoice, body="The one on the front desk", user_id=None, line=second
    )
    make_payment(db.session, invoice, world.finance)
    db.session.commit()
    return invoice


def _pages(world: World, size: int) -> Pages:
    """`size` claims of one outage event (each its own incident), and one incident with
    `size` lines on one invoice."""
    outage = make_event(db.session)
    for _ in range(size):
        make_claim(db.session, world.practice_a, outage, user=world.manager)
    db.session.commit()
    busy = _busy_incident(world, outage.id, size)
    incident_id = busy.lines[0].incident_id
    manager, reviewer = world.manager.email, world.reviewer.email
    return Pages(
        {
            "dashboard": (manager, "/"),
            "incidents list": (manager, "/incidents"),
            "incident page": (manager, f"/incidents/{incident_id}"),
            "invoice page": (manager, f"/invoices/{busy.id}"),
            "invoice PDF": (manager, f"/invoices/{busy.id}.pdf"),
            "review list": (reviewer, "/review"),
            "claim page": (reviewer, f"/review/claims/{busy.id}"),
            "ICB report page": (reviewer, f"/reports/events/{outage.id}/icbs/{world.icb_x.id}"),
        }
    )


def fresh_request() -> None:
    """Start the next request as a server's would: with an empty session and no user yet
    (the tests' application context outlives requests, and with it `g` and the session)."""
    db.session.remove()
    g.pop("_login_user", None)


def _counts(client: FlaskClient, pages: Pages) -> dict[str, int]:
    counts: dict[str, int] = {}
    signed_in = None
    for name, (email, url) in pages.urls.items():
        if email != signed_in:
            client.post("/logout")
            response = client.post("/login", data={"email": email, "password": PASSWORD})
            assert response.status_code == 302
            signed_in = email
        fresh_request()
        statuses: list[int] = []
        counts[name] = count_statements(
            lambda url=url, statuses=statuses: statuses.append(client.get(url).status_code)
        )
        assert statuses == [200], (name, url, statuses)
    return counts


@pytest.mark.parametrize("size", [2, 20])
def test_each_main_page_runs_a_fixed_number_of_queries(
    client: FlaskClient, world: World, size: int
) -> None:
    pages = _pages(world, size)
    assert _counts(client, pages) == EXPECTED
