"""A chosen evidence file is never dropped without a word (issue 12, defect 8).

Before: a line form that failed validation came back with the file input empty and nothing
said (browsers cannot keep a chosen file); an upload folder the server cannot write gave
the generic error page (a 500) and lost what was typed. Now the page says what happened and
what to do, beside the file field; an unwritable folder saves nothing, keeps the input and
logs the cause for the administrator.
"""

from __future__ import annotations

import html
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import World, make_incident
from tests.integration.test_incidents import staff_form
from tracker.extensions import db
from tracker.models import AuditEntry, CostLine, Evidence

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _files(folder: Path) -> set[Path]:
    return set(folder.rglob("*")) if folder.exists() else set()


@pytest.fixture
def unwritable_folder(app_ctx: Flask, tmp_path: Path) -> Iterator[Path]:
    """An upload folder that cannot be created: its parent is a file. (A read-only folder
    would not do: the tests may run as root, who writes anywhere.)"""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the upload folder's parent should be")
    saved = app_ctx.config["UPLOAD_FOLDER"]
    app_ctx.config["UPLOAD_FOLDER"] = str(blocker / "uploads")
    yield blocker
    app_ctx.config["UPLOAD_FOLDER"] = saved


def test_a_line_form_with_errors_says_the_chosen_file_was_not_saved(
    app_ctx: Flask, as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    folder = Path(app_ctx.config["UPLOAD_FOLDER"])
    before = _files(folder)
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff",
        data={**staff_form(description=""), "evidence": (io.BytesIO(PNG), "scan.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert 'id="evidence-error"' in page
    assert (
        "Your file scan.png was not saved because the form has errors: correct them, "
        "then choose the file again" in page
    )
    assert 'id="description-error"' in page
    assert _count(CostLine) == 0 and _count(Evidence) == 0
    assert _files(folder) == before


def test_an_answer_with_errors_says_the_chosen_file_was_not_saved(
    as_manager: FlaskClient, world: World
) -> None:
    from tests.factories import make_claim, make_event
    from tracker.services import review

    claim = make_claim(db.session, world.practice_a, make_event(db.session), user=world.manager)
    line = claim.lines[0]
    review.decide_line(
        db.session,
        claim,
        line,
        review.LineDecisionInput("queried", reason="Proof?"),
        user_id=world.reviewer.id,
    )
    db.session.commit()
    response = as_manager.post(
        f"/claims/{claim.id}/lines/{line.id}/answer",
        data={"body": "", "evidence": (io.BytesIO(PNG), "invoice.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "Your file invoice.png was not saved because the form has errors" in page
    assert _count(Evidence) == 0


def test_an_unwritable_upload_folder_is_a_message_on_the_form_and_a_logged_error(
    app_ctx: Flask,
    as_manager: FlaskClient,
    world: World,
    unwritable_folder: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    audit_before = _count(AuditEntry)
    with caplog.at_level(logging.ERROR, logger="tracker.services.evidence"):
        response = as_manager.post(
            f"/incidents/{incident.id}/costs/new/staff",
            data={**staff_form(), "evidence": (io.BytesIO(PNG), "scan.png")},
            content_type="multipart/form-data",
        )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert 'id="evidence-error"' in page
    assert "scan.png could not be stored on the server, so nothing was saved" in page
    assert 'value="Phoning patients to rebook"' in page  # what was typed is kept
    assert _count(CostLine) == 0 and _count(Evidence) == 0
    assert _count(AuditEntry) == audit_before
    assert any(
        r.levelno == logging.ERROR and "could not be stored" in r.getMessage()
        for r in caplog.records
    )


def test_an_unwritable_upload_folder_on_the_line_page_is_a_message(
    app_ctx: Flask, as_manager: FlaskClient, world: World, unwritable_folder: Path
) -> None:
    from tests.factories import make_expense_line

    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/{line.id}",
        data={"evidence": (io.BytesIO(PNG), "receipt.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "receipt.png could not be stored on the server" in page
    assert _count(Evidence) == 0
