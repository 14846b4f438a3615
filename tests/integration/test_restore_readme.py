"""The README's backup and restore procedure, run as written (issue 12, defect 3).

The command lines are read from the README's "restore procedure" block and run in
subprocesses from the project folder, with only FILE.zip filled in; each installation is
chosen by the environment, as the README says (`DATABASE_URL`, or SQLite in the instance
folder, here `TRACKER_INSTANCE_PATH`). Legs: SQLite -> SQLite, SQLite -> PostgreSQL and
PostgreSQL -> PostgreSQL, each compared row for row and file for file with its source.
Every flask start costs about a second, so the installations are shared by the module.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from tests.throwaway import postgres_database
from tracker.models import Base
from tracker.services.backup import read_snapshot

ROOT = Path(__file__).resolve().parents[2]
MARKER = "<!-- restore procedure:"
PLACEHOLDER = "FILE.zip"


def readme_procedure() -> list[list[str]]:
    """The command lines of the README's restore procedure, comments dropped."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split(MARKER, 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line, comments=True) for line in block.splitlines() if line.strip()]


BACKUP, INIT_DB, RESTORE = readme_procedure()
SEED_DEMO = [".venv/bin/flask", "--app", "app", "seed-demo"]


@dataclass(frozen=True)
class Installation:
    """One installation: its instance folder and, for PostgreSQL, its DATABASE_URL."""

    instance: Path
    database_url: str | None = None

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TRACKER_") and key != "DATABASE_URL"
        }
        env["TRACKER_INSTANCE_PATH"] = str(self.instance)
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        return env

    def run(self, command: list[str], backup: Path | None = None) -> str:
        """Run a README command line here; it must succeed without a traceback."""
        argv = [str(backup) if arg == PLACEHOLDER else arg for arg in command]
        done = subprocess.run(
            argv, cwd=ROOT, env=self.environment(), capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Traceback" not in done.stderr, done.stderr
        return done.stdout

    def restore_from(self, backup: Path) -> None:
        """The README's steps on the new installation: init-db, then restore."""
        self.run(INIT_DB)
        assert f"from {backup}" in self.run(RESTORE, backup)

    def url(self) -> str:
        if self.database_url:
            return self.database_url.replace("postgresql://", "postgresql+psycopg://", 1)
        return f"sqlite:///{self.instance / 'tracker.db'}"

    def rows(self) -> dict[str, list[dict[str, Any]]]:
        engine = create_engine(self.url())
        try:
            return read_snapshot(engine)[1]
        finally:
            engine.dispose()

    def uploads(self) -> dict[str, bytes]:
        return {path.name: path.read_bytes() for path in (self.instance / "uploads").iterdir()}

    def assert_same_as(self, source: Installation) -> None:
        rows = self.rows()
        assert rows == source.rows()
        assert rows["invoice"] and rows["evidence"]  # the demo's data, not an empty copy
        assert self.uploads() == source.uploads()
        assert len(self.uploads()) == len(rows["evidence"])

    def assert_fresh_ids(self) -> None:
        """PostgreSQL: every id sequence is past the restored ids, so new rows fit."""
        engine = create_engine(self.url())
        try:
            with engine.connect() as conn:
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c:
                        largest = conn.scalar(select(func.max(table.c.id))) or 0
                        following = conn.scalar(
                            text(f"SELECT nextval(pg_get_serial_sequence('\"{table}\"', 'id'))")
                        )
                        assert following > largest, table.name
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def sqlite_source(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    """An installation on SQLite with the demo data (incidents, invoices, receipts)."""
    source = Installation(tmp_path_factory.mktemp("old-sqlite"))
    source.run(INIT_DB)
    source.run(SEED_DEMO)
    return source


@pytest.fixture(scope="module")
def sqlite_backup(sqlite_source: Installation, tmp_path_factory: pytest.TempPathFactory) -> Path:
    backup = tmp_path_factory.mktemp("backups") / "claims.zip"
    sqlite_source.run(BACKUP, backup)
    return backup


@pytest.fixture(scope="module")
def postgresql_from_sqlite(
    sqlite_backup: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installation]:
    with postgres_database() as url:
        target = Installation(tmp_path_factory.mktemp("new-postgresql"), url)
        target.restore_from(sqlite_backup)
        yield target


def test_the_readme_procedure_is_backup_then_init_db_then_restore() -> None:
    assert [command[3] for command in (BACKUP, INIT_DB, RESTORE)] == [
        "backup",
        "init-db",
        "restore",
    ]
    assert PLACEHOLDER in BACKUP and PLACEHOLDER in RESTORE


def test_readme_restore_sqlite_to_sqlite(
    sqlite_source: Installation, sqlite_backup: Path, tmp_path: Path
) -> None:
    target = Installation(tmp_path / "new-sqlite")
    target.restore_from(sqlite_backup)
    target.assert_same_as(sqlite_source)


def test_readme_restore_sqlite_to_postgresql(
    sqlite_source: Installation, postgresql_from_sqlite: Installation
) -> None:
    postgresql_from_sqlite.assert_same_as(sqlite_source)
    postgresql_from_sqlite.assert_fresh_ids()


def test_readme_restore_postgresql_to_postgresql(
    postgresql_from_sqlite: Installation, tmp_path: Path
) -> None:
    backup = tmp_path / "claims.zip"
    postgresql_from_sqlite.run(BACKUP, backup)
    with postgres_database() as url:
        target = Installation(tmp_path / "new-postgresql", url)
        target.restore_from(backup)
        target.assert_same_as(postgresql_from_sqlite)
        target.assert_fresh_ids()


#: Runs the flask command line given after it, killed (SIGKILL, nothing cleans up) as soon
#: as the first uploaded file is in the ZIP: a backup cut off by a crash or an OOM kill.
KILLED_WRITER = """
import os, signal, sys, zipfile
from flask.cli import main
write = zipfile.ZipFile.write
def write_then_die(self, *args, **kwargs):
    write(self, *args, **kwargs)
    self.fp.flush()
    os.kill(os.getpid(), signal.SIGKILL)
zipfile.ZipFile.write = write_then_die
main()
"""


def test_a_backup_killed_mid_write_leaves_the_previous_backup(
    sqlite_source: Installation, sqlite_backup: Path, tmp_path: Path
) -> None:
    target = tmp_path / "nightly.zip"
    shutil.copyfile(sqlite_backup, target)
    previous = target.read_bytes()
    argv = [sys.executable, "-c", KILLED_WRITER, *BACKUP[1:]]
    argv = [str(target) if arg == PLACEHOLDER else arg for arg in argv]
    done = subprocess.run(argv, cwd=ROOT, env=sqlite_source.environment(), timeout=300)
    assert done.returncode == -signal.SIGKILL
    assert target.read_bytes() == previous
    partial = [path for path in tmp_path.iterdir() if path.name != "nightly.zip"]
    assert [path.name.startswith(".nightly.zip.") for path in partial] == [True]
    assert partial[0].stat().st_size > 0  # killed part-way through writing
