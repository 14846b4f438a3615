"""Invoice and credit-note numbers NHS Shared Business Services accepts (issue 10): capital
letters and digits only, 30 at most, credit notes numbered apart from invoices; numbers
issued in the old pattern keep theirs and the series goes on with no gap. SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from sqlalchemy import select

from tests import factories
from tests.factories import World, make_expense_line, make_incident, make_staff_line
from tracker import demo
from tracker.extensions import db
from tracker.models import CostLine, DocumentKind, Invoice, InvoiceStatus, NumberSeries
from tracker.services import crediting, invoicing
from tracker.services.errors import Invalid
from tracker.services.invoicing import SBS_NUMBER

TODAY = date(2024, 7, 26)


def _lines(world: World, practice_name: str = "practice_a") -> list[CostLine]:
    incident = make_incident(db.session, getattr(world, practice_name))
    made = [
        make_staff_line(db.session, incident, hours="2"),
        make_expense_line(db.session, incident),
    ]
    db.session.commit()
    return made


def _all_numbers() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Invoice.number).where(Invoice.number.isnot(None))))


def test_every_invoice_and_credit_note_number_is_one_sbs_accepts(world: World) -> None:
    """Invoices, credit notes and the invoices that re-bill credited lines, for two
    practices: every number is capital letters and digits, and no credit note's number is
    an invoice's."""
    issued: list[Invoice] = []
    for practice in ("practice_a", "practice_b"):
        lines = _lines(world, practice)
        invoice = factories.make_issued_invoice(db.session, getattr(world, practice), lines)
        credit = crediting.credit_invoice(
            db.session, invoice, user_id=None, today=TODAY, reason="Wrong hours"
        )
        db.session.commit()
        again = factories.make_issued_invoice(db.session, getattr(world, practice), lines)
        issued += [invoice, credit, again]
    numbers = _all_numbers()
    assert len(numbers) == 6
    assert all(SBS_NUMBER.fullmatch(number) for number in numbers), numbers
    assert [item.number for item in issued] == [
        "A8100120240001",
        "A81001CN20240001",
        "A8100120240002",
        "B8200120240001",
        "B82001CN20240001",
        "B8200120240002",
    ]
    credits = {i.number for i in issued if i.kind == DocumentKind.CREDIT_NOTE}
    assert credits.isdisjoint({i.number for i in issued if i.kind == DocumentKind.INVOICE})


def test_the_series_goes_on_after_numbers_in_the_old_pattern(world: World) -> None:
    """An invoice and a credit note numbered before SBS numbers keep their numbers; the next
    of each takes the following counter value, with no gap and no restart."""
    old_invoice = factories.make_issued_invoice(db.session, world.practice_a, _lines(world))
    old_credit = crediting.credit_invoice(
        db.session, old_invoice, user_id=None, today=TODAY, reason="Wrong hours"
    )
    db.session.flush()
    # as the previous release numbered them
    old_invoice.number, old_credit.number = "A81001-2024-0001", "A81001-CN-2024-0001"
    db.session.commit()

    invoice = factories.make_issued_invoice(db.session, world.practice_a, _lines(world))
    credit = crediting.credit_invoice(
        db.session, invoice, user_id=None, today=TODAY, reason="Wrong date"
    )
    db.session.commit()
    assert (invoice.number, credit.number) == ("A8100120240002", "A81001CN20240002")
    assert sorted(_all_numbers()) == sorted(
        ["A81001-2024-0001", "A81001-CN-2024-0001", "A8100120240002", "A81001CN20240002"]
    )


def test_an_ods_code_that_would_break_the_pattern_is_refused_and_takes_no_number(
    world: World,
) -> None:
    """A practice whose stored ODS code holds a character SBS refuses (here one loaded before
    the code was checked) cannot issue: a clear Invalid, the draft stays a draft, its lines
    stay free and the counter does not move."""
    lines = _lines(world)
    draft = invoicing.create_draft(
        db.session,
        practice=world.practice_a,
        cost_line_ids=[line.id for line in lines],
        user_id=None,
    )
    db.session.commit()
    world.practice_a.ods_code = "a8100"
    db.session.commit()
    with pytest.raises(Invalid, match="capital letters and digits") as refused:
        invoicing.issue_invoice(db.session, draft, user_id=None, today=TODAY)
    db.session.rollback()
    assert "a8100" in refused.value.message
    db.session.expire_all()
    assert draft.status == InvoiceStatus.DRAFT and draft.number is None
    assert all(line.invoice_id is None for line in lines)
    assert db.session.scalar(select(NumberSeries.last_value)) is None


def test_every_number_the_demo_issues_is_one_sbs_accepts(app_ctx: Flask) -> None:
    demo.seed_demo(db.session, "demo-password-for-tests-1")
    db.session.commit()
    numbers = _all_numbers()
    assert numbers
    assert all(SBS_NUMBER.fullmatch(number) for number in numbers), numbers
