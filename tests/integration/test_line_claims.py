"""The practice's incident page: for each cost, the invoice it is on, the ICB's decision and
reason, and whether it was credited or paid (issue 11); through the services and the pages,
on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from tests.factories import (
    World,
    make_expense_line,
    make_incident,
    make_issued_invoice,
)
from tests.integration.test_settlement import ISSUED_ON, TODAY, D, decide, pay
from tests.queries import count_statements
from tracker.extensions import db
from tracker.models import CostLine, Incident, Invoice
from tracker.services import crediting, invoicing, review, settlement
from tracker.services.payments import PaymentState
from tracker.services.review import Decision, LineDecisionInput


def expenses(incident: Incident, *totals: str) -> list[CostLine]:
    return [
        make_expense_line(db.session, incident, net=total, vat="0.00", description=f"Cost {n}")
        for n, total in enumerate(totals, start=1)
    ]


def settled_claim(world: World) -> tuple[Incident, list[CostLine], Invoice, Invoice]:
    """Three costs claimed on one invoice: approved, part-approved and rejected; what the ICB
    did not approve credited in one step and the rest paid. A fourth cost is not invoiced."""
    incident = make_incident(db.session, world.practice_a, title="Telephony outage")
    lines = expenses(incident, "200.00", "300.00", "100.00", "40.00")
    invoice = make_issued_invoice(db.session, world.practice_a, lines[:3], today=ISSUED_ON)
    decide(
        world,
        invoice,
        (Decision.APPROVED, None, ""),
        (Decision.PART_APPROVED, "180.00", "Six hours agreed, not ten"),
        (Decision.REJECTED, None, "Mobile phones are kept: not an outage cost"),
    )
    note = crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    pay(invoice, "380.00")
    return incident, lines, invoice, note


def test_each_line_shows_its_invoice_decision_credit_and_state(world: World) -> None:
    incident, lines, invoice, note = settled_claim(world)
    claims = settlement.line_claims(db.session, incident.id, TODAY)
    approved, part, rejected, uninvoiced = (claims.get(line.id) for line in lines)
    assert uninvoiced is None
    for claim in (approved, part, rejected):
        assert claim is not None and claim.invoice is not None
        assert claim.invoice.id == invoice.id and claim.state is PaymentState.SETTLED
        assert claim.cancelled == () and claim.draft is None
    assert approved.decision.decision == Decision.APPROVED and approved.credits == ()
    assert part.decision.approved_amount == D("180.00")
    assert part.decision.reason == "Six hours agreed, not ten"
    assert [(c.number, c.amount) for c in part.credits] == [(note.number, D("120.00"))]
    assert rejected.decision.decision == Decision.REJECTED
    assert rejected.credited == D("100.00") and rejected.credits[0].credit_note_id == note.id


def test_the_incident_page_links_the_invoice_and_shows_decisions_credits_and_state(
    as_manager: FlaskClient, world: World
) -> None:
    incident, lines, invoice, note = settled_claim(world)
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    cells = {line.id: claim_cell(page, line.id) for line in lines}
    approved, part, rejected, uninvoiced = (cells[line.id] for line in lines)
    link = f'href="/invoices/{invoice.id}"'
    for cell in (approved, part, rejected):
        assert link in cell and invoice.number in cell and "Settled" in cell
    assert "Approved" in approved and "Credited" not in approved
    assert "Part-approved" in part and "£180.00 approved" in part
    assert "Six hours agreed, not ten" in part
    assert f'Credited £120.00 by <a href="/invoices/{note.id}">{note.number}</a>' in part
    assert "Rejected" in rejected and "Mobile phones are kept" in rejected
    assert "Credited £100.00 by" in rejected
    assert "Not invoiced yet" in uninvoiced and "Edit" in uninvoiced
    assert "Edit" not in approved


def claim_cell(page: str, line_id: int) -> str:
    """The text of one line's "Invoice and ICB decision" cell (tags and links kept)."""
    found = re.search(rf'data-testid="claim-{line_id}">(.*?)</td>', page, re.S)
    assert found, f"no claim cell for line {line_id}"
    return " ".join(found.group(1).split())


def test_a_line_on_a_draft_and_one_never_invoiced(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    drafted, loose = expenses(incident, "10.00", "20.00")
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[drafted.id], user_id=None
    )
    db.session.commit()
    claims = settlement.line_claims(db.session, incident.id, TODAY)
    assert claims[drafted.id].draft.id == draft.id and claims[drafted.id].invoice is None
    assert claims[drafted.id].state is None and loose.id not in claims
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    cell = claim_cell(page, drafted.id)
    assert "Not invoiced yet" in cell and f'href="/invoices/{draft.id}">draft invoice' in cell


def test_a_line_cancelled_and_invoiced_again_shows_the_live_invoice(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    (line,) = expenses(incident, "75.00")
    first = make_issued_invoice(db.session, world.practice_a, [line], today=ISSUED_ON)
    crediting.credit_invoice(db.session, first, user_id=None, today=TODAY, reason="Wrong PO")
    db.session.commit()
    second = make_issued_invoice(db.session, world.practice_a, [line], today=TODAY)
    claim = settlement.line_claims(db.session, incident.id, TODAY)[line.id]
    assert claim.invoice.id == second.id and [i.id for i in claim.cancelled] == [first.id]
    assert claim.state is PaymentState.UNPAID and claim.credits == ()
    cell = claim_cell(as_manager.get(f"/incidents/{incident.id}").data.decode(), line.id)
    assert cell.index(second.number) < cell.index(first.number)
    assert "Earlier on" in cell and "cancelled by credit note" in cell


def test_a_line_rejected_and_credited_in_full_keeps_the_decision(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    (line,) = expenses(incident, "28.00")
    invoice = make_issued_invoice(db.session, world.practice_a, [line], today=ISSUED_ON)
    decide(world, invoice, (Decision.REJECTED, None, "Taxi home is not an outage cost"))
    note = crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    claim = settlement.line_claims(db.session, incident.id, TODAY)[line.id]
    assert claim.invoice is None and claim.claimed_on.id == invoice.id
    assert claim.state is PaymentState.CANCELLED
    assert claim.decision.reason == "Taxi home is not an outage cost"
    assert claim.credited == D("28.00") and claim.credits[0].number == note.number
    cell = claim_cell(as_manager.get(f"/incidents/{incident.id}").data.decode(), line.id)
    assert "Not on an invoice now" in cell and "Was on" in cell and invoice.number in cell
    assert "Rejected" in cell and "Taxi home" in cell and "Credited £28.00" in cell


def test_a_query_links_to_the_answer_and_an_unpaid_invoice_shows_overdue(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    lines = expenses(incident, "50.00", "60.00")
    invoice = make_issued_invoice(db.session, world.practice_a, lines, today=ISSUED_ON)
    review.decide_line(
        db.session,
        invoice,
        invoice.lines[0],
        LineDecisionInput(Decision.QUERIED, None, "Send the receipt"),
        user_id=world.reviewer.id,
    )
    pay(invoice, "20.00")
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    queried, undecided = claim_cell(page, lines[0].id), claim_cell(page, lines[1].id)
    assert "Queried" in queried and "Send the receipt" in queried
    assert f"/claims/{invoice.id}/feedback#line-{invoice.lines[0].id}" in queried
    # part-paid, and long past its due date by the time the page is read
    assert "Not decided" in undecided and ">Overdue<" in undecided
    assert invoice.amount_paid == D("20.00")


def test_decisions_the_practice_may_not_see_yet_are_not_shown(
    monkeypatch: pytest.MonkeyPatch, as_manager: FlaskClient, world: World
) -> None:
    """services.review.decisions_released is the one rule: when it says not yet, the page
    shows the line as not decided, and no reason."""
    incident, lines, _invoice, _note = settled_claim(world)
    monkeypatch.setattr(review, "decisions_released", lambda invoice: False)
    claims = settlement.line_claims(db.session, incident.id, TODAY)
    assert all(claims[line.id].decision is None for line in lines[:3])
    cell = claim_cell(as_manager.get(f"/incidents/{incident.id}").data.decode(), lines[1].id)
    assert "Not decided" in cell and "Six hours agreed" not in cell


def test_another_practice_cannot_see_the_incident(client: FlaskClient, world: World) -> None:
    from tests.conftest import login

    incident, _lines, _invoice, _note = settled_claim(world)
    login(client, world.manager_b)
    assert client.get(f"/incidents/{incident.id}").status_code == 404


# --- no query per line ---------------------------------------------------------------------


def claimed_incident(world: World, lines: int) -> Incident:
    """An incident with `lines` costs on one decided, part-credited, part-paid invoice."""
    incident = make_incident(db.session, world.practice_a)
    costs = expenses(incident, *(f"{10 + n}.00" for n in range(lines)))
    invoice = make_issued_invoice(db.session, world.practice_a, costs, today=ISSUED_ON)
    decide(world, invoice, *[(Decision.PART_APPROVED, "5.00", "Half")] * lines)
    crediting.credit_disallowed(db.session, invoice, user_id=None, today=TODAY)
    db.session.commit()
    pay(invoice, "5.00")
    return incident


def test_the_service_reads_every_line_in_two_queries(world: World) -> None:
    for incident_id in (claimed_incident(world, 2).id, claimed_incident(world, 12).id):
        read = lambda: settlement.line_claims(db.session, incident_id, TODAY)  # noqa: B023, E731
        assert count_statements(read) == 2


def test_the_incident_page_does_not_query_per_line(as_manager: FlaskClient, world: World) -> None:
    few, many = claimed_incident(world, 2).id, claimed_incident(world, 12).id

    def page(incident_id: int) -> None:
        response = as_manager.get(f"/incidents/{incident_id}")
        assert response.status_code == 200 and b"Part-approved" in response.data

    assert count_statements(lambda: page(few)) == count_statements(lambda: page(many))
