"""Migration 0009 (remittances): down drops the table and each payment's link, keeping the
payments; up from 0008 adds them, old payments standing alone; remittances work again."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, inspect, select, text

from tests.conftest import demo_schema_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db
from tracker.models import Invoice, Payment, Remittance
from tracker.services import payments, remittances
from tracker.services.dates import today_in_london


def test_migration_0009_goes_down_keeping_payments_and_up_again(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from flask_migrate import downgrade, upgrade

    app = demo_schema_app(empty_database, tmp_path)
    with app.app_context():
        # the demo's ICB payments: Archway's, Holloway Road's and Riverside's telephony claim
        demo = db.session.scalars(select(Remittance)).all()
        linked = {p.id for remittance in demo for p in remittance.payments}
        received = {p.id: (p.invoice_id, p.amount) for p in db.session.scalars(select(Payment))}
        assert linked and linked <= set(received)
        db.session.remove()

        downgrade(revision="0008")
        with db.engine.connect() as conn:
            schema = inspect(conn)
            assert "remittance" not in schema.get_table_names()
            assert "remittance_id" not in {c["name"] for c in schema.get_columns("payment")}
            assert conn.scalar(text("SELECT COUNT(*) FROM payment")) == len(received)

        upgrade()
        assert db.session.scalar(select(func.count(Remittance.id))) == 0
        again = {p.id: (p.invoice_id, p.amount) for p in db.session.scalars(select(Payment))}
        assert again == received
        assert all(p.remittance_id is None for p in db.session.scalars(select(Payment)))

        invoice = next(
            i
            for i in db.session.scalars(select(Invoice).order_by(Invoice.id))
            if payments.outstanding(i) > 0
        )
        owed = payments.outstanding(invoice)
        remittances.record_remittance(
            db.session,
            remittances.RemittanceEntry(
                practice_id=invoice.practice_id,
                icb_id=invoice.icb_id,
                received_on=today_in_london(),
                reference="AFTER 0009",
                amount=owed,
                allocations={invoice.id: owed},
            ),
            user_id=None,
            today=today_in_london(),
        )
        db.session.commit()
        assert payments.outstanding(invoice) == 0
        db.session.remove()
        db.engine.dispose()
