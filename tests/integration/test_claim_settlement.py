"""The reviewer's view of settlement (issue 11): the claims list and a claim's page show
what the practice credited and was paid, what is outstanding, and the payment state, on
SQLite and PostgreSQL."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import World
from tests.integration.test_settlement import TODAY, D, invoice_of, pay, scenario
from tracker.extensions import db
from tracker.models import Invoice
from tracker.services import crediting


def claims(world: World) -> dict[str, Invoice]:
    """ICB X's claims in four states, and one of ICB Y's."""
    settled = scenario(world)  # £1,124.61, £674.61 approved
    crediting.credit_disallowed(db.session, settled, user_id=None, today=TODAY)
    db.session.commit()
    pay(settled, "674.61")
    part_paid = invoice_of(world, "80.00", "20.00", practice=world.practice_a2)
    pay(part_paid, "30.00")
    withdrawn = invoice_of(world, "12.34")
    crediting.credit_invoice(db.session, withdrawn, user_id=None, today=TODAY, reason="Typo")
    db.session.commit()
    return {
        "settled": settled,
        "part_paid": part_paid,
        "withdrawn": withdrawn,
        "unpaid": invoice_of(world, "55.55"),
        "other_icb": invoice_of(world, "99.00", practice=world.practice_b),
    }


def row_of(page: str, invoice: Invoice) -> dict[str, str]:
    """The claims list's settlement figures for one claim, by data-testid (its flags apart)."""
    found = re.search(rf'<tr data-testid="claim-{invoice.id}">(.*?)</tr>', page, re.S)
    assert found, invoice.number
    cells = re.findall(r'data-testid="([\w-]+)">([^<]*)<', found.group(1))
    return {name: text for name, text in cells if not name.startswith("flags-")}


def test_the_claims_list_shows_each_claims_settlement(
    as_reviewer: FlaskClient, world: World
) -> None:
    made = claims(world)
    page = as_reviewer.get("/review").get_data(as_text=True)
    # the list's state is as at today, long after these 2024 invoices fell due
    assert row_of(page, made["settled"]) == {
        "credited": "£450.00",
        "paid": "£674.61",
        "outstanding": "£0.00",
        "payment-state": "Settled",
    }
    assert row_of(page, made["part_paid"]) == {
        "credited": "£0.00",
        "paid": "£30.00",
        "outstanding": "£70.00",
        "payment-state": "Overdue",
    }
    assert row_of(page, made["withdrawn"]) == {
        "credited": "£12.34",
        "paid": "£0.00",
        "outstanding": "£0.00",
        "payment-state": "Cancelled",
    }
    assert row_of(page, made["unpaid"])["outstanding"] == "£55.55"
    assert made["other_icb"].number not in page
    # totals over the claims still standing (the withdrawn one left out)
    assert 'data-testid="total-credited">£450.00<' in page
    assert 'data-testid="total-paid">£704.61<' in page
    assert 'data-testid="total-outstanding">£125.55<' in page


def test_the_claim_page_shows_credits_payments_and_what_is_outstanding(
    as_reviewer: FlaskClient, world: World
) -> None:
    made = claims(world)
    settled = made["settled"]
    (note,) = crediting.credit_notes_of(db.session, settled)
    page = as_reviewer.get(f"/review/claims/{settled.id}").get_data(as_text=True)
    assert 'data-testid="claim-state">Settled<' in page
    balance = re.search(r'data-testid="balance">(.*?)</dl>', page, re.S).group(1)
    assert 'data-testid="credited">£450.00<' in balance
    assert 'data-testid="amount-paid">£674.61<' in balance
    assert "<strong>£0.00</strong>" in balance
    assert 'data-testid="claimed"' not in balance  # shown once, in the summary above
    notes = re.search(r'data-testid="claim-credit-notes">(.*?)</table>', page, re.S).group(1)
    assert f'href="/invoices/{note.id}.pdf">{note.number}' in notes and "£450.00" in notes
    assert "Not approved by the ICB on review" in notes
    assert "BACS" in re.search(r'data-testid="claim-payments">(.*?)</table>', page, re.S).group(1)
    # each line says what was credited of it: all of the rejected, £150.00 of the other
    credited = re.findall(r'data-testid="line-credited">([^<]*)<', page)
    assert credited == ["£300.00 credited", "£150.00 credited"]
    pdf = as_reviewer.get(f"/invoices/{note.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_an_unpaid_claim_has_no_credit_note_or_payment_tables(
    as_reviewer: FlaskClient, world: World
) -> None:
    unpaid = claims(world)["unpaid"]
    page = as_reviewer.get(f"/review/claims/{unpaid.id}").get_data(as_text=True)
    assert 'data-testid="claim-credit-notes"' not in page
    assert 'data-testid="claim-payments"' not in page
    assert 'data-testid="credited">£0.00<' in page
    assert "<strong>£55.55</strong>" in page and "line-credited" not in page


def test_another_icbs_reviewer_sees_neither_the_claim_nor_its_credit_note(
    client: FlaskClient, world: World
) -> None:
    settled = claims(world)["settled"]
    (note,) = crediting.credit_notes_of(db.session, settled)
    login(client, world.reviewer_y)
    assert client.get(f"/review/claims/{settled.id}").status_code == 404
    assert client.get(f"/invoices/{note.id}.pdf").status_code == 404
    page = client.get("/review").get_data(as_text=True)
    assert settled.number not in page and "£450.00" not in page


def test_settlement_figures_add_up(world: World) -> None:
    """outstanding = claimed - credited - paid for each claim the list shows."""
    from tracker.services import review

    made = claims(world)
    listed = review.list_claims(db.session, [world.icb_x.id], review.ClaimFilters(), today=TODAY)
    for row in listed.rows:
        inv = row.invoice
        assert row.outstanding == max(inv.total - inv.amount_credited - inv.amount_paid, D(0))
    assert listed.outstanding == sum((row.outstanding for row in listed.rows), D(0))
    assert {row.invoice.id for row in listed.rows} == {
        made[name].id for name in ("settled", "part_paid", "withdrawn", "unpaid")
    }
