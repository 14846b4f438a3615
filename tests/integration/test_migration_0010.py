"""Migration 0010 (claim policies): up from the previous revision, and down, on SQLite and
PostgreSQL. The demo's policies go with the tables on the way down; nothing else changes."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, inspect, select

from tests.conftest import demo_schema_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.demo import DEMO_EVENT, DEMO_ICB
from tracker.extensions import db
from tracker.models import ClaimPolicy, Icb, Invoice, LineDecision, OutageEvent
from tracker.services import claim_policy

#: The revision 0010 follows: the one line to change when the migrations are re-chained.
PREVIOUS = "0009"
TABLES = {"claim_policy", "claim_policy_cap"}


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def test_migration_0010_adds_the_policy_tables_and_drops_them_going_down(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    from flask_migrate import downgrade, upgrade

    app = demo_schema_app(empty_database, tmp_path)
    with app.app_context():
        assert db.session.scalar(select(func.count(ClaimPolicy.id))) == 2  # the demo's
        invoices = db.session.scalar(select(func.count(Invoice.id)))
        decisions = db.session.scalar(select(func.count(LineDecision.id)))
        db.session.remove()
        downgrade(revision=PREVIOUS)
        assert not TABLES & _tables()
        upgrade(revision="0010")
        assert _tables() >= TABLES
        assert db.session.scalar(select(func.count(ClaimPolicy.id))) == 0
        assert db.session.scalar(select(func.count(Invoice.id))) == invoices
        assert db.session.scalar(select(func.count(LineDecision.id))) == decisions
        db.session.remove()
        upgrade()  # to the head: later revisions' columns are in the models used below
        event = db.session.scalars(select(OutageEvent).where(OutageEvent.name == DEMO_EVENT)).one()
        icb = db.session.scalars(select(Icb).where(Icb.ods_code == DEMO_ICB)).one()
        saved = claim_policy.save_policy(
            db.session,
            event,
            icb,
            claim_policy.PolicyInput(
                claimable=frozenset({"locum"}), caps={"locum_session": Decimal("340.00")}
            ),
            seen_version=0,
            user_id=None,
        )
        db.session.commit()
        assert saved is not None
        again = db.session.get(ClaimPolicy, saved.id)
        assert again is not None and [c.amount for c in again.caps] == [Decimal("340.00")]
        db.session.remove()
        db.engine.dispose()
