"""Migration 0014 (proposed outage events): up from the revision before it and down again,
on SQLite and PostgreSQL, with an outage event already there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from tests.conftest import build_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db

#: The revision 0014 follows; the one line to change when the branches are chained on merge.
PREVIOUS = "0013"
NEW_COLUMNS = {
    "status",
    "systems",
    "proposed_by_practice_id",
    "merged_into_id",
    "decided_by_id",
    "decided_at",
}


def _event_columns() -> set[str]:
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("outage_event")}


def test_migration_0014_confirms_existing_events_and_goes_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Up from PREVIOUS an existing event is confirmed, with no proposer, target or systems;
    a proposal can then be stored; down drops the columns and keeps the event."""
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision=PREVIOUS)
        assert not NEW_COLUMNS & _event_columns()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO outage_event (id, name, description, created_at) "
                    "VALUES (1, 'CrowdStrike global IT outage', '', CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        assert _event_columns() >= NEW_COLUMNS
        with db.engine.begin() as conn:
            row = conn.execute(
                text(
                    "SELECT name, status, systems, proposed_by_practice_id, merged_into_id, "
                    "decided_by_id, decided_at FROM outage_event"
                )
            ).one()
            assert tuple(row) == ("CrowdStrike global IT outage", "confirmed", "", *[None] * 4)
            conn.execute(
                text(
                    "INSERT INTO outage_event (id, name, description, status, systems, "
                    "merged_into_id, created_at) VALUES (2, 'Camden network outage', '', "
                    "'merged', 'internet', 1, CURRENT_TIMESTAMP)"
                )
            )
            merged = conn.execute(
                text("SELECT status, merged_into_id FROM outage_event WHERE id = 2")
            ).one()
            assert tuple(merged) == ("merged", 1)
            conn.execute(text("DELETE FROM outage_event WHERE id = 2"))
        downgrade(revision=PREVIOUS)
        assert not NEW_COLUMNS & _event_columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM outage_event")).scalar() == (
                "CrowdStrike global IT outage"
            )
        db.session.remove()
        db.engine.dispose()
