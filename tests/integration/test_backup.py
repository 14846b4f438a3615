"""`flask backup` and `flask restore`: restoring gives back every row and every file."""

import errno
import io
import json
import shutil
import zipfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from flask import Flask
from sqlalchemy import func, inspect, select, text

from tests.conftest import build_app, wipe
from tests.factories import World, make_incident, make_issued_invoice, make_staff_line
from tests.throwaway import postgres_database
from tracker.extensions import db
from tracker.models import Base, CostLine, Evidence, Invoice, Practice
from tracker.services import evidence
from tracker.services.backup import read_snapshot
from tracker.services.directory import load_icbs, reference_icbs


def table_counts() -> dict[str, int]:
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in Base.metadata.sorted_tables
    }


def test_backup_then_restore_gives_back_everything(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    incident = make_incident(db.session, world.practice_a, title="Zoë's outage – Łódź & <b>")
    invoice = make_issued_invoice(
        db.session, world.practice_a, [make_staff_line(db.session, incident)]
    )
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "receipt-abc.pdf").write_bytes(b"%PDF-1.4 receipt")
    before = table_counts()
    number, total, practice_id = invoice.number, invoice.total, world.practice_a.id
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert result.exit_code == 0, result.output
    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0 and "not empty" in refused.output

    db.session.remove()  # end this test's read transaction so the wipe can take its locks
    wipe(app_ctx)
    (uploads / "receipt-abc.pdf").unlink()
    result = runner.invoke(args=["restore", str(target)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert table_counts() == before
    restored = db.session.scalar(select(Invoice).where(Invoice.number == number))
    assert restored.total == total
    assert restored.lines[0].incident_title == "Zoë's outage – Łódź & <b>"
    assert (uploads / "receipt-abc.pdf").read_bytes() == b"%PDF-1.4 receipt"
    # new rows still get fresh ids after a restore
    make_incident(db.session, db.session.get(Practice, practice_id))
    db.session.commit()


def test_a_backup_from_before_the_details_column_restores(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    """Backups taken before migration 0002 kept the staff role in its own column."""
    incident = make_incident(db.session, world.practice_a)
    line = make_staff_line(db.session, incident)
    invoice = make_issued_invoice(db.session, world.practice_a, [line])
    number = invoice.number
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    with zipfile.ZipFile(target) as archive:
        payload = json.loads(archive.read("database.json"))
    for row in payload["tables"]["cost_line"]:
        row.update(staff_role=row.pop("details").get("staff_role"), supplier=None)
    for row in payload["tables"]["invoice_line"]:
        del row["details"]
    del payload["schema"], payload["files"]  # nor did they list their schema and files
    legacy = tmp_path / "legacy.zip"
    with zipfile.ZipFile(legacy, "w") as archive:
        archive.writestr("database.json", json.dumps(payload))

    db.session.remove()
    wipe(app_ctx)
    result = runner.invoke(args=["restore", str(legacy)])
    assert result.exit_code == 0, result.output
    restored = db.session.scalar(select(Invoice).where(Invoice.number == number))
    assert restored.lines[0].details == [
        {"name": "staff_role", "label": "Staff", "value": "Practice nurse"}
    ]
    assert db.session.scalar(select(CostLine)).details == {"staff_role": "Practice nurse"}


# --- issue 12, defect 3: restores that work, and fail whole with a message ---------------


def read_payload(path: Path) -> dict[str, Any]:
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("database.json"))


def rewrite(
    source: Path, target: Path, payload: dict[str, Any], drop: frozenset[str] = frozenset()
) -> Path:
    """A copy of a backup with its rows replaced and the named members left out."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            if name != "database.json" and name not in drop:
                new.writestr(name, old.read(name))
        new.writestr("database.json", json.dumps(payload))
    return target


def fresh_installation(app: Flask) -> None:
    """A database as `init-db` leaves it (migrated, with the reference ICB directory) and
    no uploaded files."""
    db.session.remove()
    wipe(app)
    load_icbs(db.session)
    db.session.commit()
    shutil.rmtree(app.config["UPLOAD_FOLDER"], ignore_errors=True)


def assert_only_init_db_rows(uploads: Path) -> None:
    """Nothing of a refused restore was written: the reference ICBs alone, and no files."""
    db.session.expire_all()
    counts = table_counts()
    assert counts.pop("icb") == len(reference_icbs())
    assert set(counts.values()) == {0}, counts
    assert not uploads.exists() or list(uploads.iterdir()) == []


def assert_refused(result: Result, *phrases: str) -> None:
    """A message and exit status 1, never a traceback (click exits with SystemExit)."""
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1
    for phrase in phrases:
        assert phrase in result.output, result.output


def add_evidence(line: CostLine, uploads: Path, user_id: int) -> Evidence:
    stored = evidence.store(
        db.session, uploads, line, "receipt.pdf", io.BytesIO(b"%PDF-1.4 a receipt"), 10**6, user_id
    )
    db.session.commit()
    return stored


def assert_sequences_past_ids() -> None:
    """On PostgreSQL every id sequence gives a fresh id after a restore."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in Base.metadata.sorted_tables:
        if "id" not in table.c:
            continue
        largest = db.session.scalar(select(func.max(table.c.id))) or 0
        following = db.session.scalar(
            text(f"SELECT nextval(pg_get_serial_sequence('\"{table.name}\"', 'id'))")
        )
        assert following > largest, table.name


def test_restore_after_init_db_replaces_the_reference_icbs(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    """The README's procedure: `init-db` (which loads the 42 ICBs), then `restore`."""
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    shutil.rmtree(uploads, ignore_errors=True)  # left by earlier tests of this app
    line = make_staff_line(db.session, make_incident(db.session, world.practice_a))
    add_evidence(line, uploads, world.manager.id)
    make_issued_invoice(db.session, world.practice_a, [line])
    _revision, before = read_snapshot(db.engine)
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0

    fresh_installation(app_ctx)
    result = runner.invoke(args=["restore", str(target)])
    assert result.exit_code == 0, result.output
    _revision, after = read_snapshot(db.engine)
    assert after == before
    assert [p.name for p in uploads.iterdir()] == [before["evidence"][0]["stored_name"]]
    assert_sequences_past_ids()


def test_restore_into_an_unmigrated_database_says_run_init_db(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    target = tmp_path / "backup.zip"
    assert app_ctx.test_cli_runner().invoke(args=["backup", "--output", str(target)]).exit_code == 0
    with ExitStack() as stack:
        if db.engine.dialect.name == "postgresql":
            url = stack.enter_context(postgres_database())
        else:
            url = f"sqlite:///{tmp_path / 'blank.db'}"
        blank = build_app(url, tmp_path / "blank-instance")
        with blank.app_context():  # the CLI runs in the current app's context
            result = blank.test_cli_runner().invoke(args=["restore", str(target)])
            assert inspect(db.engine).get_table_names() == []
            db.engine.dispose()
    assert_refused(result, "no tables yet", "flask --app app init-db` first")


def test_text_too_long_for_postgres_columns_is_named_and_nothing_is_written(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    """SQLite stores a 250-character practice name and a NUL; PostgreSQL refuses both. The
    restore names each value before writing anything, instead of failing half-way."""
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    payload = read_payload(target)
    payload["tables"]["practice"][0]["name"] = "x" * 250
    payload["tables"]["user_account"][0]["name"] = "Manager\x00A"
    from_sqlite = rewrite(target, tmp_path / "from-sqlite.zip", payload)

    fresh_installation(app_ctx)
    result = runner.invoke(args=["restore", str(from_sqlite)])
    if db.engine.dialect.name == "postgresql":
        assert_refused(
            result,
            "Table practice, row id ",
            ": name has 250 characters; PostgreSQL allows 200.",
            "Table user_account, row id ",
            "name contains a NUL character",
        )
        assert_only_init_db_rows(Path(app_ctx.config["UPLOAD_FOLDER"]))
    else:  # SQLite to SQLite gives back exactly what SQLite held
        assert result.exit_code == 0, result.output
        assert len(db.session.scalars(select(Practice.name)).first() or "") == 250


def test_every_problem_of_a_backup_is_listed_and_nothing_is_written(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    line = make_staff_line(db.session, make_incident(db.session, world.practice_a))
    stored = add_evidence(line, uploads, world.manager.id).stored_name
    (uploads / "stray.pdf").write_bytes(b"%PDF-1.4 not evidence")
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    payload = read_payload(target)
    payload["tables"]["ghost"] = [{"id": 1}]
    for row in payload["tables"]["practice"]:
        row["colour"] = "blue"
    payload["tables"]["incident"][0]["starts_at"] = "yesterday"
    payload["tables"]["cost_line"][0]["incident_id"] = 999_999
    payload["tables"]["membership"].append(dict(payload["tables"]["membership"][0]))
    payload["files"].append("gone.pdf")
    dropped = frozenset({f"uploads/{stored}"})
    broken = rewrite(target, tmp_path / "broken.zip", payload, drop=dropped)

    fresh_installation(app_ctx)
    result = runner.invoke(args=["restore", str(broken)])
    assert_refused(
        result,
        "Table ghost: not a table of this release",
        "Table practice: column colour is not in this release's schema.",
        ": starts_at is not a date and time.",
        ": incident_id 999999 refers to no row of table incident.",
        "Table membership: the id ",
        "gone.pdf: listed in the backup but missing from the ZIP.",
        f"(receipt.pdf): its file {stored} is not in the backup.",
    )
    assert_only_init_db_rows(uploads)


def test_a_row_the_database_refuses_takes_back_every_row_and_file(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    """Two practices with one ODS code pass the checks but not the database's unique index:
    the restore is one transaction, and the files staged for it go again."""
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    line = make_staff_line(db.session, make_incident(db.session, world.practice_a))
    add_evidence(line, uploads, world.manager.id)
    make_issued_invoice(db.session, world.practice_a, [line])
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    payload = read_payload(target)
    practices = payload["tables"]["practice"]
    practices[1]["ods_code"] = practices[0]["ods_code"]
    duplicate = rewrite(target, tmp_path / "duplicate.zip", payload)

    fresh_installation(app_ctx)
    result = runner.invoke(args=["restore", str(duplicate)])
    assert_refused(result, "The database refused the rows of table practice")
    assert_only_init_db_rows(uploads)


def test_a_backup_that_fails_part_way_leaves_the_previous_backup(
    app_ctx: Flask, world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer fails at an uploaded file (disk full): the target path keeps the complete
    backup it had (not a ZIP cut short, nor one silently missing files), and no partial file
    is left beside it."""
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    uploads.mkdir(parents=True, exist_ok=True)
    (uploads / "a.pdf").write_bytes(b"%PDF-1.4 first")
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "nightly.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    previous = target.read_bytes()

    def write_then_fail(self: zipfile.ZipFile, *args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", write_then_fail)
    result = runner.invoke(args=["backup", "--output", str(target)])
    assert_refused(result, "could not be written", "No space left on device")
    assert target.read_bytes() == previous
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_truncated_or_damaged_backup_is_reported_before_anything_is_written(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    make_staff_line(db.session, make_incident(db.session, world.practice_a))
    runner = app_ctx.test_cli_runner()
    target = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "--output", str(target)]).exit_code == 0
    whole = target.read_bytes()
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(whole[: len(whole) // 2])  # what a killed writer used to leave
    damaged = tmp_path / "damaged.zip"
    with zipfile.ZipFile(target) as archive:
        offset = archive.getinfo("database.json").header_offset + 100
    damaged.write_bytes(whole[:offset] + bytes([whole[offset] ^ 0xFF]) + whole[offset + 1 :])

    fresh_installation(app_ctx)
    result = runner.invoke(args=["restore", str(truncated)])
    assert_refused(result, "truncated.zip is not a complete backup ZIP", "cut off")
    result = runner.invoke(args=["restore", str(damaged)])
    assert_refused(result, "database.json is damaged or unreadable")
    assert_only_init_db_rows(uploads)


def test_a_backup_missing_an_evidence_file_says_so(
    app_ctx: Flask, world: World, tmp_path: Path
) -> None:
    """Restore refuses a backup without an evidence row's file, so backup warns when it
    writes one (a file lost from the upload folder), rather than at restore time."""
    uploads = Path(app_ctx.config["UPLOAD_FOLDER"])
    line = make_staff_line(db.session, make_incident(db.session, world.practice_a))
    stored = add_evidence(line, uploads, world.manager.id).stored_name
    (uploads / stored).unlink()
    result = app_ctx.test_cli_runner().invoke(
        args=["backup", "--output", str(tmp_path / "backup.zip")]
    )
    assert result.exit_code == 0, result.output
    assert f"Warning: 1 evidence files were not in the upload folder ({stored})" in result.output
