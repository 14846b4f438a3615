"""Migration 0013 (email notifications): up from the revision before it and down again, on
SQLite and PostgreSQL, with users already there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from tests.conftest import build_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db

#: The revision 0013 follows; the one line to change when the branches are chained on merge.
PREVIOUS = "0012"


def _tables() -> set[str]:
    with db.engine.connect() as conn:
        return set(inspect(conn).get_table_names())


def _user_columns() -> set[str]:
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("user_account")}


def test_migration_0013_adds_the_outbox_and_preferences_and_goes_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Up from PREVIOUS an existing user is on the daily digest and the outbox is empty;
    down drops both and leaves the user as they were."""
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision=PREVIOUS)
        assert "notification" not in _tables() and "notify" not in _user_columns()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO user_account (id, email, name, password_hash, is_admin, active, "
                    "created_at, session_version) VALUES (1, 'manager@example.org', "
                    "'Priya Shah', 'x', false, true, CURRENT_TIMESTAMP, 0)"
                )
            )
        upgrade()
        assert "notification" in _tables()
        with db.engine.begin() as conn:
            assert conn.execute(text("SELECT notify FROM user_account")).scalar() == "digest"
            assert conn.execute(text("SELECT count(*) FROM notification")).scalar() == 0
        downgrade(revision=PREVIOUS)
        assert "notification" not in _tables() and "notify" not in _user_columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM user_account")).scalar() == "Priya Shah"
        upgrade()  # and up again, as a redeploy after a rollback would
        assert "notification" in _tables()
        db.session.remove()
        db.engine.dispose()
