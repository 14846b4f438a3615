"""The claim pack (issue 10): one PDF with the invoice, a contents page, the covering statement
and every backing document, under NHS SBS's 10 MB email limit, or a clear refusal naming the
documents to drop and no pack at all."""

from __future__ import annotations

import io
import os
import re
from datetime import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen.canvas import Canvas

from tests.conftest import login
from tests.factories import (
    World,
    make_event,
    make_expense_line,
    make_incident,
    make_issued_invoice,
    make_staff_line,
)
from tracker.extensions import db
from tracker.models import CostLine, Evidence, Invoice

TEN_MB = 10 * 1000 * 1000


def noise_jpeg(width: int, height: int, orientation: int | None = None) -> bytes:
    """A photo of random pixels: JPEG cannot compress it, so it stays large."""
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    out = io.BytesIO()
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(out, format="JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


def receipt_pdf(title: str, pages: int, noise: tuple[int, int] | None = None) -> bytes:
    """A PDF receipt with `pages` pages, each saying which page it is; with `noise`, each
    carries a photo of random pixels, so the file is as large as a scanned receipt."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4)
    for page in range(1, pages + 1):
        canvas.drawString(72, 780, f"{title} page {page} of {pages}")
        if noise:
            width, height = noise
            raw = Image.frombytes("RGB", noise, os.urandom(width * height * 3))
            canvas.drawImage(ImageReader(raw), 72, 200, 400, 300)
        canvas.showPage()
    canvas.save()
    return out.getvalue()


def upload(client: FlaskClient, line: CostLine, data: bytes, name: str) -> Evidence:
    response = client.post(
        f"/incidents/{line.incident_id}/costs/{line.id}",
        data={"evidence": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    found: Evidence = db.session.scalars(db.select(Evidence).order_by(Evidence.id.desc())).first()
    assert found.original_filename == name
    return found


def page_text(reader: PdfReader, index: int) -> str:
    return " ".join((reader.pages[index].extract_text() or "").split())


@pytest.fixture
def lines(world: World) -> list[CostLine]:
    """Two lines of practice A's incident in a shared outage event, not yet invoiced."""
    event = make_event(db.session)
    incident = make_incident(
        db.session,
        world.practice_a,
        outage_event_id=event.id,
        title="EMIS Web down all morning",
        starts_at=datetime(2024, 7, 19, 7, 0),
        ends_at=datetime(2024, 7, 19, 13, 30),
        systems="emis_web,telephony",
        cause="Faulty CrowdStrike Falcon update on the practice's PCs",
        supplier_reference="INC-778899",
        impact="43 patients rebooked; two nurses stayed late to clear the backlog",
    )
    staff = make_staff_line(db.session, incident, description="Nurse overtime")
    expense = make_expense_line(db.session, incident, description="Printer paper")
    db.session.commit()
    return [staff, expense]


def issue(world: World, lines: list[CostLine]) -> Invoice:
    invoice: Invoice = make_issued_invoice(db.session, world.practice_a, lines)
    return invoice


def test_pack_of_receipts_over_ten_megabytes_fits_and_holds_every_page(
    app: Flask, client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """A PDF receipt and four large photos (each within the upload limit) add up to over
    10 MB; the pack holds them all, the photos made smaller, and is under the limit."""
    login(client, world.manager)
    receipt = receipt_pdf("Paper receipt", pages=2, noise=(900, 700))
    photos = [noise_jpeg(1800, 1350) for _ in range(4)]
    assert all(len(p) < app.config["MAX_UPLOAD_BYTES"] for p in [receipt, *photos])
    assert len(receipt) + sum(len(p) for p in photos) > TEN_MB
    upload(client, lines[1], receipt, "ryman-receipt.pdf")
    for number, photo in enumerate(photos, start=1):
        upload(client, lines[0], photo, f"rota-photo-{number}.jpg")
    invoice = issue(world, lines)

    response = client.get(f"/invoices/{invoice.id}/claim-pack.pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"{invoice.number}-claim-pack.pdf" in response.headers["Content-Disposition"]
    data = response.get_data()
    assert len(data) < TEN_MB
    assert len(data) <= app.config["CLAIM_PACK_MAX_BYTES"]
    reader = PdfReader(io.BytesIO(data))
    texts = [page_text(reader, i) for i in range(len(reader.pages))]
    assert invoice.number in texts[0] and "Invoice" in texts[0]
    contents = next(i for i, t in enumerate(texts) if t.startswith("Claim pack for invoice"))
    statement = next(i for i, t in enumerate(texts) if t.startswith("Covering statement"))
    assert contents == 1 and statement == 2  # a one-page invoice, then contents, statement
    told = texts[statement]
    for expected in (
        "CrowdStrike global IT outage",
        "EMIS Web down all morning",
        "EMIS Web, Telephony",
        "Faulty CrowdStrike Falcon update",
        "INC-778899",
        "43 patients rebooked",
        "Staff time",
        "Other expenses",
    ):
        assert expected in told, expected
    # every document, in line order, on the pages the contents gives for it
    for number in range(1, 5):  # line 1's photos, each on its own page
        page = 2 + number
        assert re.search(rf"rota-photo-{number}\.jpg Line 1 .* {page + 1} ", texts[contents])
        assert f"rota-photo-{number}.jpg" in texts[page]
        assert "supports Line 1" in texts[page]
        assert len(reader.pages[page].images) == 1
    assert re.search(r"ryman-receipt\.pdf Line 2 .* 8–9", texts[contents]), texts[contents]
    assert texts[7].startswith("Paper receipt page 1 of 2")
    assert texts[8].startswith("Paper receipt page 2 of 2")
    for page in (7, 8):  # a merged receipt's page says what it is, as a photo page does
        assert "Document 8 · ryman-receipt.pdf · supports Line 2" in texts[page]
        assert f"Page {page + 1} of 9" in texts[page]
    assert len(reader.pages) == 3 + 2 + 4
    assert [item.title for item in reader.outline][:3] == [
        "Invoice",
        "Contents",
        "Covering statement",
    ]


def test_a_photo_taken_sideways_comes_out_upright(
    client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """A phone stores a portrait photo as landscape pixels with an EXIF turn (orientation 6:
    turn 90° clockwise): the pack shows it upright, on a portrait page."""
    login(client, world.manager)
    upload(client, lines[0], noise_jpeg(400, 300, orientation=6), "sideways.jpg")
    upload(client, lines[0], noise_jpeg(400, 300), "landscape.jpg")
    invoice = issue(world, lines)

    data = client.get(f"/invoices/{invoice.id}/claim-pack.pdf").get_data()

    reader = PdfReader(io.BytesIO(data))
    sideways, wide = reader.pages[-2], reader.pages[-1]
    assert sideways.mediabox.width < sideways.mediabox.height  # portrait page
    assert sideways.images[0].image.size == (300, 400)  # upright pixels
    assert wide.mediabox.width > wide.mediabox.height  # a landscape photo: landscape page
    assert wide.images[0].image.size == (400, 300)


def test_a_pack_that_cannot_fit_names_what_to_drop_and_gives_no_file(
    app: Flask, client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """PDF receipts cannot be made smaller: over the limit, the user is told which to drop
    or send separately, and no PDF is sent."""
    login(client, world.manager)
    upload(client, lines[1], receipt_pdf("Big scan", pages=3, noise=(700, 600)), "big-scan.pdf")
    upload(client, lines[0], receipt_pdf("Small", pages=1), "small.pdf")
    invoice = issue(world, lines)
    app.config["CLAIM_PACK_MAX_BYTES"] = 1_000_000
    try:
        response = client.get(f"/invoices/{invoice.id}/claim-pack.pdf")
    finally:
        app.config["CLAIM_PACK_MAX_BYTES"] = 7_000_000

    assert response.status_code == 302
    assert response.mimetype != "application/pdf"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The claim pack would be larger than 1.0 MB" in page
    assert "big-scan.pdf" in page
    assert "small.pdf." not in page  # the small one can stay


def test_the_icb_reviewer_downloads_the_pack_and_others_cannot(
    client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    login(client, world.manager)
    upload(client, lines[0], receipt_pdf("Receipt", pages=1), "receipt.pdf")
    invoice = issue(world, lines)
    url = f"/invoices/{invoice.id}/claim-pack.pdf"

    statuses = {}
    for user in (world.reviewer, world.finance, world.reviewer_y, world.manager_b):
        client.post("/logout")
        login(client, user)
        statuses[user.email] = client.get(url).status_code
    assert list(statuses.values()) == [200, 200, 404, 404], statuses


def test_a_pack_never_leaves_out_a_document_it_cannot_read(
    app: Flask, client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """A stored file gone from the disk refuses the pack, naming it: no pack without it."""
    login(client, world.manager)
    item = upload(client, lines[0], receipt_pdf("Receipt", pages=1), "lost-receipt.pdf")
    invoice = issue(world, lines)
    os.remove(os.path.join(app.config["UPLOAD_FOLDER"], item.stored_name))

    response = client.get(f"/invoices/{invoice.id}/claim-pack.pdf")

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "lost-receipt.pdf" in page and "cannot be read" in page


def test_a_damaged_pdf_receipt_is_named_not_left_out(
    client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """A file that starts like a PDF but holds no pages cannot be merged: the user is told
    which one to replace, and gets no pack without it."""
    login(client, world.manager)
    damaged = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    upload(client, lines[0], damaged, "scan-from-the-copier.pdf")
    invoice = issue(world, lines)

    response = client.get(f"/invoices/{invoice.id}/claim-pack.pdf")

    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "scan-from-the-copier.pdf cannot be opened" in page


def test_credit_note_pack_and_the_cancelled_invoice_keep_their_documents(
    client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """A credit note's pack is the note, the contents and a statement saying what it
    cancels; the cancelled invoice's pack still carries the receipts frozen with it."""
    from tracker.services import crediting

    login(client, world.manager)
    upload(client, lines[0], receipt_pdf("Receipt", pages=1), "receipt.pdf")
    invoice = issue(world, lines)
    note = crediting.credit_invoice(
        db.session, invoice, user_id=None, today=invoice.issue_date, reason="Wrong ICB"
    )
    db.session.commit()
    client.post("/logout")
    login(client, world.finance)

    credit = PdfReader(io.BytesIO(client.get(f"/invoices/{note.id}/claim-pack.pdf").get_data()))
    cancelled = client.get(f"/invoices/{invoice.id}/claim-pack.pdf").get_data()

    texts = [page_text(credit, i) for i in range(len(credit.pages))]
    assert len(texts) == 3
    assert texts[1].startswith(f"Claim pack for credit note {note.number}")
    assert f"cancels invoice {invoice.number} in full" in texts[2]
    assert "Wrong ICB" in texts[2]
    assert page_text(PdfReader(io.BytesIO(cancelled)), 3).startswith("Receipt page 1 of 1")


def sideways_receipt_pdf() -> bytes:
    """A one-page receipt as scanners write them: landscape content on a page turned by
    /Rotate 90, its crop box away from the origin."""
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=(900, 700))
    canvas.drawString(150, 600, "Sideways receipt top line")
    canvas.drawString(150, 110, "Sideways receipt bottom line")
    canvas.showPage()
    canvas.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(out.getvalue())))
    page = writer.pages[0]
    page.cropbox = RectangleObject((100, 100, 800, 650))
    page.rotate(90)
    result = io.BytesIO()
    writer.write(result)
    return result.getvalue()


def test_a_merged_receipt_is_upright_whole_and_labelled(
    client: FlaskClient, world: World, lines: list[CostLine]
) -> None:
    """A receipt page turned by /Rotate comes out at the size it is seen at, its content
    shrunk clear of the foot band that names the document, the line and the pack's page."""
    login(client, world.manager)
    upload(client, lines[1], sideways_receipt_pdf(), "scan.pdf")
    invoice = issue(world, lines)

    reader = PdfReader(io.BytesIO(client.get(f"/invoices/{invoice.id}/claim-pack.pdf").data))
    page = reader.pages[-1]
    assert page.rotation == 0
    assert (float(page.mediabox.width), float(page.mediabox.height)) == (550, 700)
    text = page_text(reader, len(reader.pages) - 1)
    assert "Sideways receipt top line" in text and "Sideways receipt bottom line" in text
    assert "Document 4 · scan.pdf · supports Line 2" in text
    assert f"Page {len(reader.pages)} of {len(reader.pages)}" in text
    # where each piece of text landed (text matrix through the page's matrix): the receipt's
    # lines inside the page, above the band, as a viewer shows the turned page
    spots: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_rest: object) -> None:
        if text.strip():
            a, b, c, d, e, f = cm
            spots[text.strip()] = (a * tm[4] + c * tm[5] + e, b * tm[4] + d * tm[5] + f)

    page.extract_text(visitor_text=visit)
    band = 10 * 72 / 25.4 + 2 * 7.5 * 1.35 + 4
    receipt = [spots[k] for k in spots if k.startswith("Sideways receipt")]
    assert len(receipt) == 2 and all(0 < x < 550 and band < y < 700 for x, y in receipt)
