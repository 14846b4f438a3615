"""Migration 0012 (registered list sizes): up from the revision before it and down again, on
SQLite and PostgreSQL, with practices already there."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text

from tests.conftest import build_app
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db

#: The revision 0012 follows; the one line to change when the branches are chained on merge.
PREVIOUS = "0011"


def _practice_columns() -> set[str]:
    with db.engine.connect() as conn:
        return {column["name"] for column in inspect(conn).get_columns("practice")}


def test_migration_0012_adds_list_size_and_goes_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Up from PREVIOUS a practice keeps everything and has no list size yet; a list size
    is then kept; down drops the column and leaves the practice as it was."""
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    with app.app_context():
        upgrade(revision=PREVIOUS)
        assert "list_size" not in _practice_columns()
        with db.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO icb (id, ods_code, name, retired, created_at) "
                    "VALUES (1, 'QMJ', 'NHS North Central London ICB', false, CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO practice (id, ods_code, name, address, icb_id, "
                    "payment_terms_days, active, created_at) VALUES (1, 'Y09901', "
                    "'Riverside Medical Centre', '12 Riverside Walk', 1, 30, true, "
                    "CURRENT_TIMESTAMP)"
                )
            )
        upgrade()
        assert "list_size" in _practice_columns()
        with db.engine.begin() as conn:
            row = conn.execute(text("SELECT name, list_size FROM practice")).one()
            assert tuple(row) == ("Riverside Medical Centre", None)
            conn.execute(text("UPDATE practice SET list_size = 11240"))
            assert conn.execute(text("SELECT list_size FROM practice")).scalar() == 11_240
        downgrade(revision=PREVIOUS)
        assert "list_size" not in _practice_columns()
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT name FROM practice")).scalar() == (
                "Riverside Medical Centre"
            )
        db.session.remove()
        db.engine.dispose()
