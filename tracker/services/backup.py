"""Backup and restore: a consistent copy of every table and every uploaded file in one ZIP.

The copy is logical (JSON rows per table), read inside one snapshot transaction, so the same
file restores onto SQLite or PostgreSQL. Restoring needs an empty, migrated database.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Date, DateTime, Engine, func, select, text

from tracker.cost_kinds import clean_details, invoice_details
from tracker.models import Base, Fixed

FORMAT_VERSION = 1
DATA_FILE = "database.json"
UPLOADS_DIR = "uploads/"


class RestoreError(Exception):
    """The backup cannot be restored here; nothing was written."""


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _snapshot_rows(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        else:
            conn.exec_driver_sql("BEGIN")  # one WAL snapshot for every table
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [
                {key: _plain(value) for key, value in row._mapping.items()} for row in rows
            ]
        conn.rollback()
    return tables


def write_backup(engine: Engine, upload_folder: Path, target: Path) -> dict[str, int]:
    """Write the ZIP; returns the number of rows per table and of files."""
    tables = _snapshot_rows(engine)
    counts = {name: len(rows) for name, rows in tables.items()}
    payload = {"format": FORMAT_VERSION, "tables": tables}
    target.parent.mkdir(parents=True, exist_ok=True)
    files = 0
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(DATA_FILE, json.dumps(payload, ensure_ascii=False))
        if upload_folder.exists():
            for path in sorted(upload_folder.rglob("*")):
                if path.is_file():
                    archive.write(path, UPLOADS_DIR + path.relative_to(upload_folder).as_posix())
                    files += 1
    counts["files"] = files
    return counts


def _parse(column: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Fixed):
        return Decimal(value)
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


#: Cost-line columns that migration 0002 folded into `details`; older backups carry them.
LEGACY_DETAIL_COLUMNS = (
    "staff_role",
    "locum_name",
    "locum_invoice_ref",
    "appointment_type",
    "supplier",
)


def _legacy_details(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Let a backup written before the `details` columns restore: the cost lines' detail
    columns become their details, and invoice lines get the details their (frozen) cost
    lines print, as migration 0002 does for a database."""
    by_id: dict[Any, dict[str, Any]] = {}
    for row in tables.get("cost_line", []):
        old = {name: row.pop(name) for name in LEGACY_DETAIL_COLUMNS if name in row}
        if "details" not in row:
            row["details"] = clean_details(row["kind"], old)
        by_id[row["id"]] = row
    for row in tables.get("invoice_line", []):
        if "details" not in row:
            source = by_id.get(row.get("cost_line_id"))
            row["details"] = invoice_details(row["kind"], source["details"]) if source else []


def restore_backup(engine: Engine, upload_folder: Path, source: Path) -> dict[str, int]:
    """Load a backup into an empty, migrated database and put the files back."""
    with zipfile.ZipFile(source) as archive:
        payload = json.loads(archive.read(DATA_FILE))
        if payload.get("format") != FORMAT_VERSION:
            raise RestoreError(f"Unknown backup format {payload.get('format')!r}")
        tables = payload["tables"]
        _legacy_details(tables)
        with engine.begin() as conn:
            for table in Base.metadata.sorted_tables:
                if conn.scalar(select(func.count()).select_from(table)):
                    raise RestoreError(
                        f"The database is not empty (table {table.name} has rows)."
                        " Restore into a new database after `init-db`."
                    )
            for table in Base.metadata.sorted_tables:
                rows = [
                    {key: _parse(table.c[key], value) for key, value in row.items()}
                    for row in tables.get(table.name, [])
                ]
                if rows:
                    conn.execute(table.insert(), rows)
            if engine.dialect.name == "postgresql":
                _reset_sequences(conn)
        files = 0
        for name in archive.namelist():
            if name.startswith(UPLOADS_DIR) and not name.endswith("/"):
                relative = Path(name[len(UPLOADS_DIR) :])
                if ".." in relative.parts or relative.is_absolute():
                    continue
                destination = upload_folder / relative
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.write_bytes(archive.read(name))
                files += 1
    counts = {name: len(rows) for name, rows in tables.items()}
    counts["files"] = files
    return counts


def _reset_sequences(conn: Any) -> None:
    """After inserting explicit ids, move each id sequence past the largest id."""
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )
