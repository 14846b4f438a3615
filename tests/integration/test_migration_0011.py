"""Migration 0011 (two-step sign-off and the work queue): down to the revision before it and
up again, on SQLite and PostgreSQL, with the demo data in the database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, select

from tests.conftest import demo_schema_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db
from tracker.models import Icb, Invoice

#: The revision 0011 follows; the one line to change when it is re-chained on merge.
PREVIOUS_REVISION = "0010"
INVOICE_COLUMNS = {
    "two_step_sign_off",
    "recommended_by_id",
    "recommended_at",
    "authorised_by_id",
    "authorised_at",
    "sent_back_by_id",
    "sent_back_at",
    "sent_back_reason",
    "assigned_to_id",
}


def test_migration_0011_signs_existing_claims_off_in_one_step_and_goes_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Down drops the ICB's settings and the claims' sign-off and assignment; up from the
    revision before, every ICB signs off in one step with a 30-day target and every claim
    is one-step, so practices see what they saw before; the decisions are untouched."""
    from flask_migrate import downgrade, upgrade

    app = demo_schema_app(empty_database, tmp_path)
    with app.app_context():
        approved = dict(db.session.execute(select(Invoice.id, Invoice.approved_total)).all())
        assert db.session.scalar(select(Icb).where(Icb.two_step_sign_off)) is not None
        db.session.remove()
        downgrade(revision=PREVIOUS_REVISION)
        with db.engine.connect() as conn:
            schema = inspect(conn)
            assert not INVOICE_COLUMNS & {c["name"] for c in schema.get_columns("invoice")}
            icb_columns = {c["name"] for c in schema.get_columns("icb")}
            assert not {"two_step_sign_off", "review_target_days"} & icb_columns
        upgrade()
        icbs = db.session.scalars(select(Icb)).all()
        assert icbs and all(not i.two_step_sign_off and i.review_target_days == 30 for i in icbs)
        claims = db.session.scalars(select(Invoice)).all()
        assert all(
            not c.two_step_sign_off and c.recommended_at is None and c.assigned_to_id is None
            for c in claims
        )
        assert {c.id: c.approved_total for c in claims} == approved
        db.session.remove()
        db.engine.dispose()
