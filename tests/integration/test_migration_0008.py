"""Migration 0008 (partial credit notes): what was credited before it is carried over."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import inspect, select

from tests.conftest import demo_schema_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db
from tracker.models import DocumentKind, Invoice, InvoiceStatus
from tracker.services import crediting


def test_migration_0008_marks_old_full_credits_and_goes_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Before 0008 a credit note reversed its invoice in full: up from 0007, a cancelled
    invoice is credited by its total and each credit-note line credits the invoice line at its
    position; an invoice never credited stays at £0.00. Down drops both columns."""
    from flask_migrate import downgrade, upgrade

    app = demo_schema_app(empty_database, tmp_path)
    with app.app_context():
        invoice = db.session.scalars(
            select(Invoice).where(
                Invoice.kind == DocumentKind.INVOICE,
                Invoice.status == InvoiceStatus.ISSUED,
                Invoice.amount_paid == 0,
                Invoice.amount_credited == 0,
            )
        ).first()
        assert invoice is not None
        note = crediting.credit_invoice(
            db.session, invoice, user_id=None, today=date(2026, 12, 1), reason="Sent twice"
        )
        db.session.commit()
        invoice_id, note_id, total = invoice.id, note.id, invoice.total
        originals = {line.position: line.id for line in invoice.lines}
        untouched = db.session.scalars(
            select(Invoice.id).where(Invoice.amount_credited == 0, Invoice.id != invoice_id)
        ).all()
        db.session.remove()
        downgrade(revision="0007")
        with db.engine.connect() as conn:
            schema = inspect(conn)
            assert "amount_credited" not in {c["name"] for c in schema.get_columns("invoice")}
            assert "credits_line_id" not in {c["name"] for c in schema.get_columns("invoice_line")}
        upgrade()
        again = db.session.get(Invoice, invoice_id)
        assert again is not None and again.amount_credited == total > Decimal(0)
        credit = db.session.get(Invoice, note_id)
        assert credit is not None
        assert {line.credits_line_id for line in credit.lines} == {
            originals[line.position] for line in credit.lines
        }
        assert all(db.session.get(Invoice, i).amount_credited == 0 for i in untouched)
        db.session.remove()
        db.engine.dispose()
