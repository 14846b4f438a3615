"""`flask backup` and `flask restore`: restoring gives back every row and every file."""

import json
import zipfile
from pathlib import Path

from flask import Flask
from sqlalchemy import func, select

from tests.conftest import wipe
from tests.factories import World, make_incident, make_issued_invoice, make_staff_line
from tracker.extensions import db
from tracker.models import Base, CostLine, Invoice, Practice


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
