"""Backup: a consistent copy of every table and every uploaded file in one ZIP.

The copy is logical (JSON rows per table), read inside one snapshot transaction, so the same
file restores onto SQLite or PostgreSQL (see tracker.services.restore). Next to the rows the
ZIP's `database.json` records the format, the schema revision the rows were read at and the
uploaded files it holds, so a restore can check the whole backup before writing anything.

A backup is written to a temporary file in the target's folder, flushed to disk (fsync), and
only then renamed over the target (os.replace, an atomic rename(2) on POSIX); the folder is
fsync'd so the rename itself survives a crash. A backup killed part-way therefore never leaves
a truncated ZIP at the target path: the path keeps whatever was there before (an older backup,
or nothing) and at most a hidden `.<name>.<random>.partial` file is left beside it.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, TypeVar

from sqlalchemy import Connection, Engine, inspect, select, text
from sqlalchemy.exc import SQLAlchemyError

from tracker.models import Base
from tracker.services.errors import Invalid

FORMAT_VERSION = 1
DATA_FILE = "database.json"
UPLOADS_DIR = "uploads/"
PARTIAL_SUFFIX = ".partial"
#: Alembic's bookkeeping table: present once `init-db` has migrated the database.
VERSION_TABLE = "alembic_version"

T = TypeVar("T")


class BackupError(Invalid):
    """The backup could not be written; the target path is as it was."""


@dataclass(frozen=True)
class BackupResult:
    """What a backup holds, and the evidence files it could not find to copy."""

    target: Path
    rows: dict[str, int]
    files: int
    missing_files: list[str] = field(default_factory=list)


def first_line(error: BaseException) -> str:
    """The database's own words for an error, without SQLAlchemy's statement dump."""
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def schema_revision(conn: Connection) -> str | None:
    """The Alembic revision the database is migrated to, or None when it never was."""
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    revision = conn.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return None if revision is None else str(revision)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def read_snapshot(engine: Engine) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The schema revision and every table's rows, read in one snapshot."""
    tables: dict[str, list[dict[str, Any]]] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
        else:
            conn.exec_driver_sql("BEGIN")  # one WAL snapshot for every table
        revision = schema_revision(conn)
        if revision is None:
            raise BackupError(
                "The database has no tables yet (run `init-db`): there is nothing to back up."
            )
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns))
            tables[table.name] = [
                {key: _plain(value) for key, value in row._mapping.items()} for row in rows
            ]
        conn.rollback()
    return revision, tables


def upload_files(upload_folder: Path) -> Iterator[Path]:
    """The files under the upload folder, skipping hidden ones (a restore's staging folder)."""
    if not upload_folder.exists():
        return
    for path in sorted(upload_folder.rglob("*")):
        relative = path.relative_to(upload_folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield path


def _write_archive(
    handle: IO[bytes],
    revision: str,
    tables: dict[str, list[dict[str, Any]]],
    upload_folder: Path,
) -> list[str]:
    """Write the ZIP into `handle`: the files first, then the rows with the list of files
    actually copied (one deleted since the snapshot is simply not listed)."""
    names: list[str] = []
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in upload_files(upload_folder):
            name = path.relative_to(upload_folder).as_posix()
            try:
                archive.write(path, UPLOADS_DIR + name)
            except FileNotFoundError:
                continue
            names.append(name)
        payload = {"format": FORMAT_VERSION, "schema": revision, "files": names, "tables": tables}
        archive.writestr(DATA_FILE, json.dumps(payload, ensure_ascii=False))
    return names


def fsync_directory(folder: Path) -> None:
    """Make a rename in `folder` durable (POSIX: fsync the directory); a no-op elsewhere."""
    if not hasattr(os, "O_DIRECTORY"):
        return
    descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_atomically(target: Path, write: Callable[[IO[bytes]], T]) -> T:
    """Run `write` on a temporary file beside `target`, fsync it, then rename it over
    `target`. On any failure the temporary file is removed and `target` is untouched; a
    process killed part-way leaves only the hidden temporary file. The file is created
    readable by its owner only (mkstemp), as a backup holds personal data."""
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX
    )
    try:
        with os.fdopen(descriptor, "w+b") as handle:
            result = write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(target.parent)
    return result


def write_backup(engine: Engine, upload_folder: Path, target: Path) -> BackupResult:
    """Write the ZIP to `target` (replacing it only once complete); returns what it holds."""
    try:
        revision, tables = read_snapshot(engine)
    except SQLAlchemyError as error:
        raise BackupError(f"The database could not be read: {first_line(error)}") from error
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        names = write_atomically(
            target, lambda handle: _write_archive(handle, revision, tables, upload_folder)
        )
    except OSError as error:
        raise BackupError(
            f"The backup could not be written to {target}: {error.strerror or error}"
        ) from error
    copied = set(names)
    missing = [
        row["stored_name"] for row in tables.get("evidence", []) if row["stored_name"] not in copied
    ]
    rows = {name: len(table_rows) for name, table_rows in tables.items()}
    return BackupResult(target, rows, len(names), missing)
