"""Restore: load a backup (tracker.services.backup) into a new database, all or nothing.

The whole backup is checked before anything is written, and every problem found is reported
at once: the ZIP is complete and every member passes its CRC; the format and the schema
revision are ones this release reads; every table and column is known; every value fits its
column on the target database (PostgreSQL enforces VARCHAR lengths, 32-bit INTEGER and refuses
NUL characters, where SQLite stores what it is given, so a SQLite backup that holds text longer
than a column is refused by PostgreSQL here, by name, rather than half-way through); and every
evidence row's file is in the ZIP with its recorded size and SHA-256.

The target must be migrated to this release's schema by `init-db` (restore never runs
migrations: one command makes schemas, and a restore stays one transaction) and may hold
only the reference data `init-db` loads, the ICB directory, unedited. The backup replaces
those rows; any other row means the database is in use, and the restore is refused naming the
tables. Rows are written in one transaction; uploaded files are first copied into a hidden
staging folder inside the upload folder and renamed into place just before the commit (and
removed again if the commit fails), so a failed restore leaves neither rows nor files.
On PostgreSQL the id sequences are moved past the restored ids, so new rows get fresh ids.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path, PurePosixPath
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from tracker.cost_kinds import clean_details, invoice_details
from tracker.models import Base, Fixed
from tracker.services import claim_totals
from tracker.services.backup import (
    DATA_FILE,
    FORMAT_VERSION,
    UPLOADS_DIR,
    first_line,
    fsync_directory,
    schema_revision,
)
from tracker.services.directory import reference_icbs
from tracker.services.errors import Invalid

#: How many problems the message lists before it says how many more there are.
MAX_LISTED = 25
INIT_DB = "`.venv/bin/flask --app app init-db`"
INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

#: Cost-line columns that migration 0002 folded into `details`; older backups carry them.
LEGACY_DETAIL_COLUMNS = (
    "staff_role",
    "locum_name",
    "locum_invoice_ref",
    "appointment_type",
    "supplier",
)

Rows = dict[str, list[dict[str, Any]]]


class RestoreError(Invalid):
    """The backup cannot be restored here; nothing was written. `problems` lists each one."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        lines = ["The backup was not restored; nothing was written."]
        lines += [f"  - {problem}" for problem in problems[:MAX_LISTED]]
        if len(problems) > MAX_LISTED:
            lines.append(f"  - ... and {len(problems) - MAX_LISTED} more problems.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Schema:
    """The schema revisions this release knows, oldest first; the last is the one it runs."""

    revisions: tuple[str, ...]

    @property
    def head(self) -> str:
        return self.revisions[-1]


@dataclass(frozen=True)
class RestoreResult:
    rows: dict[str, int]
    files: int


@dataclass(frozen=True)
class Member:
    """An uploaded file in the ZIP, as read in full (so its CRC was checked)."""

    size: int
    sha256: str


@dataclass
class Backup:
    """A read backup: its rows (as JSON values) and its uploaded files by relative name."""

    tables: Rows
    files: dict[str, Member]


def restore_backup(
    engine: Engine, upload_folder: Path, source: Path, schema: Schema
) -> RestoreResult:
    """Check the backup whole, then load it into the database and the upload folder as one
    change; raise RestoreError listing every problem, with nothing written."""
    postgres = engine.dialect.name == "postgresql"
    with _open(source) as archive:
        try:
            backup, problems = read_backup(archive, schema, postgres)
            problems += _file_clashes(backup.files, upload_folder)
            _load(engine, archive, backup, upload_folder, schema, problems)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            raise RestoreError([_cut_off(source, error)]) from error
        except SQLAlchemyError as error:
            message = f"The database could not be used: {first_line(error)}"
            raise RestoreError([message]) from error
    rows = {name: len(table_rows) for name, table_rows in backup.tables.items()}
    return RestoreResult(rows, len(backup.files))


# --- reading and checking the backup -----------------------------------------------------


def _open(source: Path) -> zipfile.ZipFile:
    """The backup's ZIP, or a RestoreError saying why it cannot be opened."""
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zlib.error, EOFError) as error:
        raise RestoreError([_cut_off(source, error)]) from error
    except OSError as error:
        raise RestoreError([f"{source} cannot be read ({error.strerror or error})."]) from error


def _cut_off(source: Path, error: Exception) -> str:
    return (
        f"{source.name} is not a complete backup ZIP ({error}): it may have been cut off "
        "while being written. Restore from another backup."
    )


def read_backup(
    archive: zipfile.ZipFile, schema: Schema, postgres: bool
) -> tuple[Backup, list[str]]:
    """Read every member (checking its CRC) and every row; return the backup and the problems
    that do not stop the reading. A problem that does (no data, unknown format) raises."""
    files, problems = _read_members(archive)
    payload = _payload(archive, problems)
    problems += _manifest_problems(payload, files, schema)
    tables = payload["tables"]
    problems += _structure_problems(tables)
    readable = {
        name: rows
        for name, rows in tables.items()
        if name in Base.metadata.tables and _is_rows(rows)
    }
    problems += _legacy_details(readable)
    problems += _row_problems(readable, postgres)
    problems += _reference_problems(readable)
    problems += _evidence_problems(readable, files)
    return Backup(tables, files), problems


def _read_members(archive: zipfile.ZipFile) -> tuple[dict[str, Member], list[str]]:
    """Read every uploaded file to its end, which checks its CRC; name the damaged or unsafe
    ones. (The rows file is read, and so checked, by `_payload`.)"""
    files: dict[str, Member] = {}
    problems: list[str] = []
    for info in archive.infolist():
        if info.is_dir():
            continue
        name = info.filename
        if name == DATA_FILE:
            continue
        if not name.startswith(UPLOADS_DIR):
            problems.append(f"{name}: not part of a backup made by this application.")
            continue
        try:
            digest = _sha256(archive, name)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            problems.append(f"{name} is damaged in the ZIP ({error}).")
            continue
        relative = PurePosixPath(name[len(UPLOADS_DIR) :])
        if relative.is_absolute() or ".." in relative.parts or "\\" in str(relative):
            problems.append(f"{name}: a file name that would be written outside the uploads.")
            continue
        files[str(relative)] = Member(info.file_size, digest)
    return files, problems


def _sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with archive.open(name) as member:
        for chunk in iter(lambda: member.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _payload(archive: zipfile.ZipFile, problems: list[str]) -> dict[str, Any]:
    """The rows and manifest; raise at once (with the problems so far) when unreadable."""
    try:
        payload = json.loads(archive.read(DATA_FILE))
    except KeyError:
        raise RestoreError(
            [*problems, f"The ZIP has no {DATA_FILE}: it is not a backup of this application."]
        ) from None
    except (ValueError, zipfile.BadZipFile, zlib.error) as error:
        raise RestoreError(
            [*problems, f"{DATA_FILE} is damaged or unreadable ({error})."]
        ) from error
    if not isinstance(payload, dict) or payload.get("format") != FORMAT_VERSION:
        found = payload.get("format") if isinstance(payload, dict) else None
        raise RestoreError(
            [
                *problems,
                f"Backup format {found!r} is not one this release reads ({FORMAT_VERSION}).",
            ]
        )
    if not isinstance(payload.get("tables"), dict):
        raise RestoreError([*problems, f"{DATA_FILE} has no tables."])
    return payload


def _manifest_problems(
    payload: dict[str, Any], files: dict[str, Member], schema: Schema
) -> list[str]:
    problems = []
    revision = payload.get("schema")
    if revision is not None and revision not in schema.revisions:
        problems.append(
            f"The backup was made at database schema {revision!r}, which this release does "
            f"not know (it runs {schema.head}): restore it with the release that made it, "
            "or a later one."
        )
    listed = payload.get("files", [])
    if not isinstance(listed, list):
        return [*problems, f"{DATA_FILE}: the list of files is not a list."]
    problems += [
        f"{name}: listed in the backup but missing from the ZIP."
        for name in listed
        if str(name) not in files
    ]
    return problems


def _structure_problems(tables: dict[str, Any]) -> list[str]:
    known = Base.metadata.tables
    problems = []
    for name, rows in tables.items():
        if name not in known:
            problems.append(
                f"Table {name}: not a table of this release (the backup was made by another one)."
            )
        elif not _is_rows(rows):
            problems.append(f"Table {name}: not a list of rows.")
    return problems


def _is_rows(rows: Any) -> bool:
    return isinstance(rows, list) and all(isinstance(row, dict) for row in rows)


def _legacy_details(tables: Rows) -> list[str]:
    """Let a backup written before the `details` columns restore: the cost lines' detail
    columns become their details, and invoice lines get the details their (frozen) cost
    lines print, as migration 0002 does for a database."""
    by_id: dict[Any, dict[str, Any]] = {}
    try:
        for row in tables.get("cost_line", []):
            old = {name: row.pop(name) for name in LEGACY_DETAIL_COLUMNS if name in row}
            if "details" not in row:
                row["details"] = clean_details(row["kind"], old)
            by_id[row.get("id")] = row
        for row in tables.get("invoice_line", []):
            if "details" not in row:
                source = by_id.get(row.get("cost_line_id"))
                details = invoice_details(row["kind"], source["details"]) if source else []
                row["details"] = details
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return [f"Cost or invoice lines cannot be read ({type(error).__name__}: {error})."]
    return []


def _row_problems(tables: Rows, postgres: bool) -> list[str]:
    problems: list[str] = []
    for name, rows in tables.items():
        table = Base.metadata.tables[name]
        problems += _column_set_problems(table, rows)
        for index, row in enumerate(rows):
            where = f"Table {name}, row {_row_label(row, index)}"
            for key, value in row.items():
                if key in table.c:
                    problem = value_problem(table.c[key], value, postgres)
                    if problem:
                        problems.append(f"{where}: {key} {problem}.")
    return problems


def _reference_problems(tables: Rows) -> list[str]:
    """Ids are unique, and every reference names a row of the backup (the database would
    refuse the first such row; this lists them all)."""
    ids = {
        name: Counter(_key(row.get("id")) for row in rows)
        for name, rows in tables.items()
        if "id" in Base.metadata.tables[name].c
    }
    problems = [
        f"Table {name}: the id {value} is used by {count} rows."
        for name, counts in ids.items()
        for value, count in counts.items()
        if count > 1 and value is not None
    ]
    known = {name: set(values) for name, values in ids.items()}
    for name, rows in tables.items():
        for column in Base.metadata.tables[name].c:
            for key in column.foreign_keys:
                target = key.column.table.name
                problems += [
                    f"Table {name}, row {_row_label(row, index)}: {column.name} "
                    f"{row[column.name]} refers to no row of table {target}."
                    for index, row in enumerate(rows)
                    if row.get(column.name) is not None
                    and _key(row[column.name]) not in known.get(target, set())
                ]
    return problems


def _key(value: Any) -> int | str | None:
    """An id as a set member: a whole number, or the text of anything else (which its
    column's check already reports)."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    return repr(value)


def _row_label(row: dict[str, Any], index: int) -> str:
    return f"id {row['id']}" if "id" in row else f"number {index + 1}"


def _column_set_problems(table: Table, rows: list[dict[str, Any]]) -> list[str]:
    """Every row has the same columns, all of them known, and none the table needs is left
    out (a missing column may only be one the database fills or allows empty)."""
    if not rows:
        return []
    keys = set(rows[0])
    problems = [
        f"Table {table.name}: column {key} is not in this release's schema."
        for key in sorted(keys - set(table.c.keys()))
    ]
    problems += [
        f"Table {table.name}: column {column.name} is missing from the backup."
        for column in table.c
        if column.name not in keys and _required(column)
    ]
    if any(set(row) != keys for row in rows):
        problems.append(f"Table {table.name}: rows do not all have the same columns.")
    return problems


def _required(column: Column[Any]) -> bool:
    needed = column.primary_key or not column.nullable
    return needed and column.default is None and column.server_default is None


def value_problem(column: Column[Any], value: Any, postgres: bool) -> str | None:
    """Why `value` cannot be stored in `column` on the target database, or None."""
    kind = column.type
    if value is None:
        return None if column.nullable and not column.primary_key else "is empty but required"
    if isinstance(kind, Fixed):
        return _fixed_problem(kind, value)
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else "is not true or false"
    if isinstance(kind, Integer):
        if isinstance(value, bool) or not isinstance(value, int):
            return "is not a whole number"
        limit = INT32_MAX if postgres and not isinstance(kind, BigInteger) else INT64_MAX
        return None if -limit - 1 <= value <= limit else "is out of range"
    if isinstance(kind, DateTime):
        return _iso_problem(datetime.fromisoformat, value, "a date and time")
    if isinstance(kind, Date):
        return _iso_problem(date.fromisoformat, value, "a date")
    if isinstance(kind, String):
        return _text_problem(kind, value, postgres)
    return None


def _fixed_problem(kind: Fixed, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return "is not a decimal number"
    try:
        number = Decimal(value)
        if not number.is_finite() or number.adjusted() > 18:
            return "is not a number this column can hold"
        scaled = kind.process_bind_param(number, None)
    except (ArithmeticError, ValueError):
        return f"is not a decimal number with at most {kind.places} decimal places"
    return None if scaled is not None and abs(scaled) <= INT64_MAX else "is out of range"


def _iso_problem(parse: Any, value: Any, what: str) -> str | None:
    try:
        parse(value)
    except (TypeError, ValueError):
        return f"is not {what}"
    return None


def _text_problem(kind: String, value: Any, postgres: bool) -> str | None:
    if not isinstance(value, str):
        return "is not text"
    if not postgres:
        return None  # SQLite stores text of any length, NULs included
    if "\x00" in value:
        return "contains a NUL character, which PostgreSQL cannot store"
    if kind.length is not None and len(value) > kind.length:
        return f"has {len(value)} characters; PostgreSQL allows {kind.length}"
    return None


def _evidence_problems(tables: Rows, files: dict[str, Member]) -> list[str]:
    """Every evidence row's file is in the ZIP, with the size and SHA-256 it was stored with."""
    problems = []
    for row in tables.get("evidence", []):
        name = row.get("stored_name")
        member = files.get(str(name))
        where = f"Evidence id {row.get('id')} ({row.get('original_filename')})"
        if member is None:
            problems.append(f"{where}: its file {name} is not in the backup.")
        elif (member.size, member.sha256) != (row.get("size_bytes"), row.get("sha256")):
            problems.append(f"{where}: its file {name} does not match its recorded checksum.")
    return problems


def _file_clashes(files: dict[str, Member], upload_folder: Path) -> list[str]:
    """A different file already under the upload folder with a backed-up name is never
    overwritten; the same file is simply kept."""
    problems = []
    for name, member in files.items():
        path = upload_folder / name
        if path.exists() and _file_sha256(path) != member.sha256:
            problems.append(
                f"The upload folder {upload_folder} already holds a different {name}: restore "
                "into an empty upload folder."
            )
    return problems


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- the target database -----------------------------------------------------------------


def target_problems(conn: Connection, schema: Schema) -> list[str]:
    """The database is migrated to this release and holds nothing but what init-db loads."""
    revision = schema_revision(conn)
    if revision is None:
        return [f"The database has no tables yet: run {INIT_DB} first, then restore."]
    if revision != schema.head:
        return [
            f"The database schema is at revision {revision} and this release needs "
            f"{schema.head}: run {INIT_DB} first to bring it up to date."
        ]
    in_use = [
        f"table {table.name} has {count} row{'' if count == 1 else 's'}"
        for table in Base.metadata.sorted_tables
        if table.name != "icb" and (count := conn.scalar(select(func.count()).select_from(table)))
    ]
    if not _only_reference_icbs(conn):
        in_use.insert(0, "table icb has ICBs that init-db did not load, or edited ones")
    if in_use:
        return [
            f"The database is not empty ({'; '.join(in_use)}). Restore into a new database "
            f"on which only {INIT_DB} has run."
        ]
    return []


def _only_reference_icbs(conn: Connection) -> bool:
    """The ICB rows are the shipped directory as init-db loads it, untouched by anyone."""
    table = Base.metadata.tables["icb"]
    reference = {row["ods_code"]: row for row in reference_icbs()}
    for icb in conn.execute(select(table)).mappings():
        shipped = reference.get(icb["ods_code"])
        if shipped is None or any(icb[key] != value for key, value in shipped.items()):
            return False
        if icb["payables_code"] or icb["invoice_address"] or icb["invoice_email"]:
            return False
        if icb["retired"]:
            return False
    return True


# --- writing -----------------------------------------------------------------------------


def _load(
    engine: Engine,
    archive: zipfile.ZipFile,
    backup: Backup,
    upload_folder: Path,
    schema: Schema,
    problems: list[str],
) -> None:
    """Write the rows and the files in one transaction, after the last check passed."""
    with engine.connect() as conn, conn.begin() as transaction:
        problems += target_problems(conn, schema)
        if problems:
            raise RestoreError(problems)
        staging = _stage_files(archive, backup.files, upload_folder)
        try:
            _insert_rows(conn, backup.tables)
            moved = _move_into_place(staging, backup.files, upload_folder)
            try:
                transaction.commit()
            except BaseException:
                _unlink(moved)
                raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def _stage_files(archive: zipfile.ZipFile, files: Iterable[str], upload_folder: Path) -> Path:
    """Copy the files out of the ZIP into a hidden folder inside the upload folder (so the
    final rename stays on one file system), each fsync'd."""
    try:
        upload_folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=upload_folder))
    except OSError as error:
        raise RestoreError([_unwritable(upload_folder, error)]) from error
    try:
        for name in files:
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(UPLOADS_DIR + name) as member, path.open("wb") as out:
                shutil.copyfileobj(member, out)
                out.flush()
                os.fsync(out.fileno())
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise RestoreError([_unwritable(upload_folder, error)]) from error
    return staging


def _unwritable(upload_folder: Path, error: OSError) -> str:
    return (
        f"The uploaded files cannot be written to {upload_folder} ({error.strerror or error}): "
        "make the folder writable by this user, or set TRACKER_UPLOAD_FOLDER to one that is."
    )


def _insert_rows(conn: Connection, tables: Rows) -> None:
    """Replace init-db's ICB rows with the backup's and insert every table in foreign-key
    order; a row the database still refuses (a broken reference, a duplicate) aborts all."""
    conn.execute(delete(Base.metadata.tables["icb"]))
    for table in Base.metadata.sorted_tables:
        rows = [
            {key: _parse(table.c[key], value) for key, value in row.items()}
            for row in tables.get(table.name, [])
        ]
        if not rows:
            continue
        try:
            conn.execute(table.insert(), rows)
        except SQLAlchemyError as error:
            raise RestoreError(
                [f"The database refused the rows of table {table.name}: {first_line(error)}"]
            ) from error
    # derived rows: recomputed from the restored lines, whatever the backup held of them
    claim_totals.refresh(conn)
    if conn.dialect.name == "postgresql":
        _reset_sequences(conn)


def _parse(column: Column[Any], value: Any) -> Any:
    if value is None:
        return None
    if isinstance(column.type, Fixed):
        return Decimal(value)
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column.type, Date):
        return date.fromisoformat(value)
    return value


def _reset_sequences(conn: Connection) -> None:
    """After inserting explicit ids, move each id sequence past the largest id, so the next
    row inserted gets a fresh one."""
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', '{column.name}'), "
                    f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1, false)'
                )
            )


def _move_into_place(staging: Path, files: Iterable[str], upload_folder: Path) -> list[Path]:
    """Rename the staged files into the upload folder; on a failure take back those moved."""
    moved: list[Path] = []
    try:
        for name in files:
            target = upload_folder / name
            if target.exists():
                continue  # the same file (a different one was refused while checking)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / name, target)
            moved.append(target)
        fsync_directory(upload_folder)
    except OSError as error:
        _unlink(moved)
        raise RestoreError([_unwritable(upload_folder, error)]) from error
    return moved


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
