"""A draft invoice follows its cost lines when they change, or when asked to; looking at it
(page, PDF, Excel) never rewrites it."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import World, make_expense_line, make_incident, make_staff_line
from tests.integration.test_incidents import incident_form, staff_form
from tracker.extensions import db
from tracker.models import CostLine, Invoice, InvoiceLine, InvoiceStatus
from tracker.services import invoicing
from tracker.services.errors import DomainError

TODAY = date(2024, 7, 26)


def draft_with_lines(world: World) -> tuple[Invoice, list[CostLine]]:
    incident = make_incident(db.session, world.practice_a, title="EMIS down all day")
    lines = [make_staff_line(db.session, incident), make_expense_line(db.session, incident)]
    db.session.commit()
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[line.id for line in lines],
        user_id=world.manager.id,
    )
    db.session.commit()
    return draft, lines


def stored_lines(draft_id: int) -> list[tuple[int | None, str, Decimal]]:
    db.session.expire_all()
    rows = db.session.execute(
        select(InvoiceLine.cost_line_id, InvoiceLine.description, InvoiceLine.total_amount)
        .where(InvoiceLine.invoice_id == draft_id)
        .order_by(InvoiceLine.position)
    )
    return [tuple(row) for row in rows]


def test_editing_a_cost_line_updates_the_draft_holding_it(
    as_manager: FlaskClient, world: World
) -> None:
    draft, (staff, _expense) = draft_with_lines(world)
    response = as_manager.post(
        f"/incidents/{staff.incident_id}/costs/{staff.id}/edit",
        data=staff_form(description="Nurse overtime, 19 July", quantity="10"),
    )
    assert response.status_code == 302
    line = db.session.get(CostLine, staff.id)
    assert (staff.id, "Nurse overtime, 19 July", line.total_amount) in stored_lines(draft.id)
    page = as_manager.get(f"/invoices/{draft.id}").data.decode()
    assert "Nurse overtime, 19 July" in page and "changed since this draft" not in page


def test_deleting_a_cost_line_takes_it_off_the_draft(as_manager: FlaskClient, world: World) -> None:
    draft, (staff, expense) = draft_with_lines(world)
    response = as_manager.post(f"/incidents/{staff.incident_id}/costs/{staff.id}/delete")
    assert response.status_code == 302
    assert [row[0] for row in stored_lines(draft.id)] == [expense.id]
    assert db.session.get(Invoice, draft.id).total == expense.total_amount


def test_renaming_the_incident_renames_it_on_the_draft(
    as_manager: FlaskClient, world: World
) -> None:
    draft, (staff, _expense) = draft_with_lines(world)
    response = as_manager.post(
        f"/incidents/{staff.incident_id}/edit", data=incident_form(title="EMIS and Docman down")
    )
    assert response.status_code == 302
    db.session.expire_all()
    titles = {line.incident_title for line in db.session.get(Invoice, draft.id).lines}
    assert titles == {"EMIS and Docman down"}


def test_issuing_one_draft_takes_its_lines_off_another(world: World) -> None:
    first, lines = draft_with_lines(world)
    second = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[lines[0].id], user_id=None
    )
    db.session.commit()
    invoicing.issue_invoice(db.session, first, user_id=None, today=lines[0].line_date)
    db.session.commit()
    assert stored_lines(second.id) == []


def test_a_stale_draft_is_shown_as_stale_and_refreshed_only_on_request(
    as_manager: FlaskClient, world: World
) -> None:
    draft, (staff, _expense) = draft_with_lines(world)
    # changed behind the services' back, e.g. by a data fix: the draft is now stale
    staff.description, staff.total_amount, staff.net_amount = "Fixed", Decimal("1.00"), Decimal(1)
    db.session.commit()
    before = stored_lines(draft.id)
    page = as_manager.get(f"/invoices/{draft.id}").data.decode()
    assert 'data-testid="draft-changes"' in page
    assert "1 line changed since this draft was made." in page
    assert "Refresh from the incidents" in page
    for url in (f"/invoices/{draft.id}", f"/invoices/{draft.id}.pdf", f"/invoices/{draft.id}.xlsx"):
        assert as_manager.get(url).status_code == 200
    assert stored_lines(draft.id) == before

    response = as_manager.post(f"/invoices/{draft.id}/refresh")
    assert response.status_code == 302
    assert (staff.id, "Fixed", Decimal("1.00")) in stored_lines(draft.id)
    page = as_manager.get(response.location).data.decode()
    assert "Draft refreshed from its cost lines." in page
    assert 'data-testid="draft-changes"' not in page


def test_an_issued_invoice_cannot_be_refreshed(as_manager: FlaskClient, world: World) -> None:
    draft, lines = draft_with_lines(world)
    invoicing.issue_invoice(db.session, draft, user_id=None, today=lines[0].line_date)
    db.session.commit()
    response = as_manager.post(f"/invoices/{draft.id}/refresh")
    assert response.status_code == 409
    assert "cannot be changed" in response.data.decode()


def test_registering_for_vat_puts_vat_on_the_practices_drafts(
    as_manager: FlaskClient, world: World
) -> None:
    """Not VAT-registered, the practice invoices an expense gross; once it records a VAT
    number its draft charges the net amount plus VAT, without anyone opening the draft."""
    draft, (_staff, expense) = draft_with_lines(world)
    assert db.session.get(Invoice, draft.id).vat_total == Decimal("0.00")
    response = as_manager.post(
        "/practice/settings",
        data={
            "address": "1 High Street\nLondon",
            "vat_number": "GB123456789",
            "bank_sort_code": "309457",
            "bank_account_number": "12345678",
            "payment_terms_days": 30,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    refreshed = db.session.get(Invoice, draft.id)
    assert refreshed.vat_total == expense.vat_amount == Decimal("8.50")
    assert refreshed.total == refreshed.net_total + refreshed.vat_total


def _race_issue_and_refresh(app: Flask, draft_id: int) -> dict[str, str]:
    """Issue and refresh one draft from two threads released at the same moment."""
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def act(name: str) -> None:
        with app.app_context():
            try:
                invoice = db.session.get(Invoice, draft_id)
                assert invoice is not None
                barrier.wait()
                if name == "issue":
                    invoicing.issue_invoice(db.session, invoice, user_id=None, today=TODAY)
                else:
                    invoicing.refresh_draft(db.session, invoice)
                db.session.commit()
                outcomes[name] = "done"
            except DomainError:
                db.session.rollback()
                outcomes[name] = "refused"
            except Exception as error:  # what a user would see as a server error
                db.session.rollback()
                outcomes[name] = f"error: {error}"
            finally:
                db.session.remove()

    threads = [threading.Thread(target=act, args=(name,)) for name in ("issue", "refresh")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_refreshing_a_draft_while_it_is_issued_never_changes_the_issued_invoice(
    app_ctx: Flask, world: World
) -> None:
    """ "Refresh" and "Issue" pressed at once (two tabs, two people): the issue goes through,
    the refresh is refused or comes first, and the issued invoice keeps exactly the lines it
    was issued with, its totals their sums."""
    for _round in range(6):
        draft, lines = draft_with_lines(world)
        outcomes = _race_issue_and_refresh(app_ctx, draft.id)
        assert outcomes["issue"] == "done", outcomes
        assert outcomes["refresh"] in ("done", "refused"), outcomes
        db.session.expire_all()
        issued = db.session.get(Invoice, draft.id)
        assert issued is not None and issued.status == InvoiceStatus.ISSUED
        stored = stored_lines(draft.id)
        assert sorted(row[0] for row in stored) == sorted(line.id for line in lines)
        assert issued.total == sum(row[2] for row in stored)
        ids = [line.id for line in lines]
        locked = db.session.scalars(select(CostLine.invoice_id).where(CostLine.id.in_(ids)))
        assert list(locked) == [draft.id] * len(lines)
