"""Pages show states, kinds and file sizes through the shared presentation filters: the tag
a reviewer sees has the colour and words of the state, and a file's size reads in KB."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from flask import current_app
from flask.testing import FlaskClient

from tests.factories import World, make_claim, make_event, make_expense_line, make_incident
from tracker.extensions import db
from tracker.services import evidence as evidence_service
from tracker.services import review

RECEIPT = b"%PDF-1.4\n" + b"0" * 1500 + b"\n%%EOF\n"  # 1,516 bytes: 2 KB, rounded up


def _tags(page: str) -> list[tuple[str, str]]:
    return re.findall(r'class="nhsuk-tag nhsuk-tag--(\w+)[^"]*"[^>]*>([^<]+)<', page)


def test_reviewer_sees_claim_and_decision_tags(as_reviewer: FlaskClient, world: World) -> None:
    claim = make_claim(db.session, world.practice_a, make_event(db.session), user=world.manager)
    db.session.commit()
    page = as_reviewer.get("/review").get_data(as_text=True)
    assert ("white", "New") in _tags(page)
    first = claim.lines[0]
    review.decide_line(
        db.session,
        claim,
        first,
        review.LineDecisionInput("part_approved", Decimal("1.00"), "Fewer hours"),
        user_id=world.reviewer.id,
    )
    db.session.commit()
    page = as_reviewer.get(f"/review/claims/{claim.id}").get_data(as_text=True)
    tags = _tags(page)
    assert ("blue", "In review") in tags
    assert ("yellow", "Part-approved") in tags
    assert tags.count(("grey", "Not decided")) == len(claim.lines) - 1
    for label in ("Staff time", "Locum cover", "Lost appointments", "Other expenses"):
        assert f"<strong>{label}</strong>" in page


def test_incident_pages_show_status_and_file_size(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident, description="Toner")
    db.session.flush()
    evidence_service.store(
        db.session,
        current_app.config["UPLOAD_FOLDER"],
        line,
        "toner.pdf",
        io.BytesIO(RECEIPT),
        100_000,
        world.manager.id,
    )
    db.session.commit()
    listing = as_manager.get("/incidents").get_data(as_text=True)
    assert ("blue", "Open") in _tags(listing)
    detail = as_manager.get(f"/incidents/{incident.id}").get_data(as_text=True)
    assert ("blue", "Open") in _tags(detail)
    line_page = as_manager.get(f"/incidents/{incident.id}/costs/{line.id}").get_data(as_text=True)
    assert "PDF, 2 KB" in line_page
