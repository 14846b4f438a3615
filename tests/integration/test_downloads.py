"""Every file the app sends (invoices, exports, reports, evidence) is an attachment that no
browser sniffs and no browser or proxy stores, but for an issued invoice's own files, which
only the user's browser keeps; evidence is named and typed by what it was
checked to be, not by the uploader's name (issue 12, defect 14)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.conftest import login
from tests.factories import World, make_claim, make_event, make_expense_line, make_incident
from tracker.extensions import db
from tracker.models import CostLine, Evidence, Invoice, User

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def open_line(world: World) -> CostLine:
    """An uninvoiced cost line of practice A, to attach files to through the upload page."""
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident)
    db.session.commit()
    return line


def _upload(client: FlaskClient, line: CostLine, data: bytes, name: str) -> Evidence:
    response = client.post(
        f"/incidents/{line.incident_id}/costs/{line.id}",
        data={"evidence": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return db.session.scalars(db.select(Evidence).order_by(Evidence.id.desc())).first()


def _filename(response: TestResponse) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;"), disposition
    return re.search(r'filename="?([^";]+)"?', disposition).group(1)


@pytest.mark.parametrize(
    ("content", "uploaded_as", "downloaded_as", "mimetype"),
    [
        (JPEG, "page.html", "page.jpg", "image/jpeg"),
        (PNG, "invoice.svg", "invoice.png", "image/png"),
        (PDF, "receipt.exe", "receipt.pdf", "application/pdf"),
        (PDF, "receipt", "receipt.pdf", "application/pdf"),
        (JPEG, "scan.JPEG", "scan.JPEG", "image/jpeg"),
        (PNG, "photo.png", "photo.png", "image/png"),
    ],
)
def test_evidence_downloads_as_the_type_it_was_checked_to_be(
    as_manager: FlaskClient,
    open_line: CostLine,
    content: bytes,
    uploaded_as: str,
    downloaded_as: str,
    mimetype: str,
) -> None:
    item = _upload(as_manager, open_line, content, uploaded_as)
    response = as_manager.get(f"/evidence/{item.id}")
    assert response.status_code == 200 and response.data == content
    assert _filename(response) == downloaded_as
    assert response.mimetype == mimetype
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.fixture
def downloads(world: World, open_line: CostLine, client: FlaskClient) -> Iterator[list[tuple]]:
    """(user, url) of every kind of file download, with the data behind them."""
    event = make_event(db.session)
    claim: Invoice = make_claim(db.session, world.practice_a, event, user=world.manager)
    db.session.commit()
    login(client, world.manager)
    item = _upload(client, open_line, JPEG, "page.html")
    client.post("/logout")
    yield [
        (world.manager, f"/evidence/{item.id}"),
        (world.manager, f"/invoices/{claim.id}.pdf"),
        (world.manager, f"/invoices/{claim.id}.xlsx"),
        (world.finance, "/invoices/register.xlsx"),
        (world.finance, "/invoices/invoices.zip"),
        (world.finance, "/invoices/register-xero.csv"),
        (world.finance, "/invoices/register-quickbooks-credit-notes.csv"),
        (world.finance, "/invoices/register-lines.csv"),
        (world.manager, f"/invoices/{claim.id}/xero.csv"),
        (world.manager, f"/invoices/{claim.id}/quickbooks.csv"),
        (world.reviewer, f"/invoices/{claim.id}/lines.csv"),
        (world.reviewer, f"/invoices/{claim.id}.pdf"),
        (world.reviewer, f"/reports/events/{event.id}/icbs/{world.icb_x.id}.xlsx"),
        (world.reviewer, f"/reports/events/{event.id}/icbs/{world.icb_x.id}.pdf"),
        (world.admin, f"/reports/events/{event.id}/national.xlsx"),
        (world.admin, f"/reports/events/{event.id}/national.pdf"),
    ]


def test_every_download_is_an_unsniffed_attachment_never_stored(
    client: FlaskClient, downloads: list[tuple[User, str]]
) -> None:
    claim_id = db.session.scalars(db.select(Invoice.id)).one()
    seen = {}
    for user, url in downloads:
        login(client, user)
        response = client.get(url)
        client.post("/logout")
        assert response.status_code == 200, url
        seen[url] = (
            response.headers.get("Cache-Control"),
            response.headers.get("X-Content-Type-Options"),
            response.headers.get("Content-Disposition", "").split(";")[0],
            "ETag" in response.headers,
        )
    # an issued invoice's own files never change: kept by the user's browser only, checked
    # with the server before each use (tests/integration/test_immutable_downloads.py)
    frozen = {url for url in seen if f"/invoices/{claim_id}" in url}
    assert frozen and {url: seen[url] for url in frozen} == dict.fromkeys(
        frozen, ("private, no-cache", "nosniff", "attachment", True)
    )
    others = {url: value for url, value in seen.items() if url not in frozen}
    assert others == dict.fromkeys(others, ("no-store", "nosniff", "attachment", False))
