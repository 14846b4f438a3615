"""Sending an issued invoice to the ICB by email, through a real SMTP server on 127.0.0.1.

aiosmtpd runs in a thread on a free port; what it received is read back as the ICB would
receive it: envelope recipients, To and Cc, subject, and the PDF attachment byte for byte.
"""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text

from tests.conftest import build_app, demo_schema_app, login
from tests.factories import World, make_expense_line, make_incident, make_issued_invoice
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tests.mail import Mailbox, free_port, parsed
from tracker.extensions import db
from tracker.models import AuditEntry, Invoice, InvoiceSend, Practice, SendOutcome
from tracker.services import audit, crediting

ICB_EMAIL = "qxa.accountspayable@nhs.net"
LMC_EMAIL = "secretary@exampleshire-lmc.org.uk"


def issued(world: World) -> Invoice:
    world.icb_x.invoice_email = ICB_EMAIL
    world.practice_a.lmc_email = LMC_EMAIL
    incident = make_incident(db.session, world.practice_a, title="EMIS down all day")
    line = make_expense_line(db.session, incident)
    db.session.commit()
    return make_issued_invoice(db.session, world.practice_a, [line])


def attachments(message: EmailMessage) -> list[tuple[str | None, str, bytes]]:
    found = []
    for part in message.iter_attachments():
        assert isinstance(part, EmailMessage)
        content = part.get_content()
        assert isinstance(content, bytes)
        found.append((part.get_filename(), part.get_content_type(), content))
    return found


def sends(outcome: str | None = None) -> int:
    stmt = select(func.count(InvoiceSend.id))
    if outcome:
        stmt = stmt.where(InvoiceSend.outcome == outcome)
    count: int = db.session.scalar(stmt)
    return count


def send_audits() -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "send")))


# --- the message the ICB receives ----------------------------------------------------------


def test_the_icb_receives_the_invoice_with_the_lmc_and_practice_in_copy(
    as_finance: FlaskClient, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    practice_email = world.practice_a.contact_email
    pack = as_finance.get(f"/invoices/{invoice.id}/claim-pack.pdf")
    assert pack.status_code == 200 and pack.data.startswith(b"%PDF")
    pdf = pack.data  # SBS: the backing documents travel inside the one emailed PDF

    page = as_finance.get(f"/invoices/{invoice.id}/send")
    assert page.status_code == 200
    html = page.data.decode()
    assert ICB_EMAIL in html and LMC_EMAIL in html and practice_email in html
    assert not mail_settings.received, "the confirmation page sends nothing"

    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 302, response.data[:800]

    assert len(mail_settings.received) == 1
    envelope, raw = mail_settings.received[0]
    assert envelope == [ICB_EMAIL, LMC_EMAIL, practice_email]
    message = parsed(raw)
    assert message["To"] == ICB_EMAIL
    assert message["Cc"] == f"{LMC_EMAIL}, {practice_email}"
    assert message["Reply-To"] == practice_email
    assert message["Date"].datetime is not None
    assert invoice.number in message["Subject"] and "A81001" in message["Subject"]
    assert message["From"].addresses[0].addr_spec == "claims@outage-claims.example.org"
    body = message.get_body(preferencelist=("plain",))
    assert body is not None and invoice.number in body.get_content()
    attached = [(f"{invoice.number}-claim-pack.pdf", "application/pdf", pdf)]
    assert attachments(message) == attached

    # a header longer than a line is folded after its name (RFC 5322 2.2.3), and the parser
    # keeps the fold's space: a Message-ID is longer when the process id is
    message_id = message["Message-ID"].strip()
    db.session.expire_all()
    [logged] = db.session.scalars(select(InvoiceSend)).all()
    assert logged.outcome == SendOutcome.SENT and logged.sent_by_id == world.finance.id
    assert logged.to_address == ICB_EMAIL
    assert logged.cc_addresses == f"{LMC_EMAIL}, {practice_email}"
    assert logged.message_id == message_id
    assert logged.size_bytes == len(raw)
    assert logged.attachment_bytes == len(pdf)
    [entry] = send_audits()
    assert entry.user_id == world.finance.id and entry.entity_id == invoice.id
    assert message_id in entry.summary and ICB_EMAIL in entry.summary
    assert audit.changes_of(entry)["message_id"] == message_id

    detail = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert "Sent to the ICB" in detail and message_id.strip("<>") in detail


def test_sending_again_sends_a_second_message_and_logs_both(
    as_manager: FlaskClient, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    assert as_manager.post(f"/invoices/{invoice.id}/send").status_code == 302
    page = as_manager.get(f"/invoices/{invoice.id}/send").data.decode()
    assert "Send again" in page
    assert as_manager.post(f"/invoices/{invoice.id}/send").status_code == 302
    ids = [parsed(raw)["Message-ID"].strip() for _, raw in mail_settings.received]
    assert len(ids) == 2 and ids[0] != ids[1]
    assert sends(SendOutcome.SENT) == 2 and len(send_audits()) == 2


def test_without_an_lmc_the_practice_alone_is_copied_and_told(
    as_finance: FlaskClient, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    world.practice_a.lmc_email = None
    db.session.commit()
    page = as_finance.get(f"/invoices/{invoice.id}/send").data.decode()
    assert "Your LMC is not copied" in page
    as_finance.post(f"/invoices/{invoice.id}/send")
    [(envelope, raw)] = mail_settings.received
    assert envelope == [ICB_EMAIL, world.practice_a.contact_email]
    assert parsed(raw)["Cc"] == world.practice_a.contact_email


# --- refusals: nothing is sent, nothing changes --------------------------------------------


def _state(invoice_id: int) -> dict[str, Any]:
    db.session.expire_all()
    invoice = db.session.get(Invoice, invoice_id)
    assert invoice is not None
    return audit.snapshot(invoice)


def test_a_server_refusal_shows_its_words_and_records_nothing_as_sent(
    as_finance: FlaskClient, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    before, audits = _state(invoice.id), db.session.scalar(select(func.count(AuditEntry.id)))
    mail_settings.answer = "550 5.7.1 Message rejected by policy"
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 503
    html = response.data.decode()
    assert "550" in html and "Message rejected by policy" in html
    assert mail_settings.received == []
    assert sends(SendOutcome.SENT) == 0
    assert _state(invoice.id) == before
    assert db.session.scalar(select(func.count(AuditEntry.id))) == audits
    # the attempt is logged as failed, with the server's words, for the practice to see
    [failed] = db.session.scalars(select(InvoiceSend)).all()
    assert failed.outcome == SendOutcome.FAILED and "550" in failed.error
    detail = as_finance.get(f"/invoices/{invoice.id}").data.decode()
    assert "Not sent" in detail and "Message rejected by policy" in detail
    # and once the server takes it, sending again works
    mail_settings.answer = "250 OK"
    assert as_finance.post(f"/invoices/{invoice.id}/send").status_code == 302
    assert sends(SendOutcome.SENT) == 1 and len(mail_settings.received) == 1


def test_a_server_that_cannot_be_reached_is_said_so(
    as_finance: FlaskClient, world: World, app_ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    invoice = issued(world)
    monkeypatch.setitem(app_ctx.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app_ctx.config, "MAIL_PORT", free_port())  # nothing listens there
    monkeypatch.setitem(app_ctx.config, "MAIL_USE_TLS", False)
    monkeypatch.setitem(app_ctx.config, "MAIL_SENDER", "claims@outage-claims.example.org")
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 503
    assert "could not be used" in response.data.decode()
    assert sends(SendOutcome.SENT) == 0 and send_audits() == []


def test_tls_asked_of_a_server_without_it_is_refused_not_sent_in_clear(
    as_finance: FlaskClient,
    world: World,
    mail_settings: Mailbox,
    app_ctx: Flask,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    invoice = issued(world)
    monkeypatch.setitem(app_ctx.config, "MAIL_USE_TLS", True)
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 503 and "STARTTLS" in response.data.decode()
    assert mail_settings.received == [] and sends(SendOutcome.SENT) == 0


def test_without_mail_settings_the_page_says_how_and_offers_the_pdf(
    as_finance: FlaskClient, world: World
) -> None:
    invoice = issued(world)
    page = as_finance.get(f"/invoices/{invoice.id}/send")
    assert page.status_code == 200
    html = page.data.decode()
    assert "not set up" in html
    assert "TRACKER_MAIL_SERVER" in html and "TRACKER_MAIL_SENDER" in html
    assert f'href="/invoices/{invoice.id}/claim-pack.pdf"' in html
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 409 and "not set up" in response.data.decode()
    assert sends() == 0


def test_without_an_icb_address_nothing_is_sent(
    as_finance: FlaskClient, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    world.icb_x.invoice_email = None
    db.session.commit()
    page = as_finance.get(f"/invoices/{invoice.id}/send").data.decode()
    assert "no invoice email address" in page and "Send to the ICB</button>" not in page
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 422 and "no invoice email address" in response.data.decode()
    assert mail_settings.received == [] and sends() == 0


def test_drafts_and_cancelled_invoices_are_not_sent(
    as_finance: FlaskClient, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    note = crediting.credit_invoice(
        db.session, invoice, user_id=world.finance.id, today=invoice.issue_date, reason="Wrong"
    )
    db.session.commit()
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 409 and "send the credit note" in response.data.decode()
    assert mail_settings.received == []
    # the credit note itself goes, named as one
    assert as_finance.post(f"/invoices/{note.id}/send").status_code == 302
    [(_, raw)] = mail_settings.received
    # a long subject is folded after "Subject:", so the parsed value starts with a space
    assert parsed(raw)["Subject"].strip().startswith(f"Credit note {note.number}")


def test_only_the_practices_own_staff_send(
    app_ctx: Flask, world: World, mail_settings: Mailbox
) -> None:
    invoice = issued(world)
    for user in (world.reviewer, world.manager_b, world.admin):
        client = login(app_ctx.test_client(), user)
        assert client.get(f"/invoices/{invoice.id}/send").status_code in (403, 404)
        assert client.post(f"/invoices/{invoice.id}/send").status_code in (403, 404)
    assert mail_settings.received == [] and sends() == 0


# --- settings ------------------------------------------------------------------------------


def test_the_practice_sets_its_lmc_address(as_manager: FlaskClient, world: World) -> None:
    form = as_manager.get("/practice/settings").data.decode()
    assert 'name="lmc_email"' in form
    data = {
        "address": world.practice_a.address,
        "contact_email": world.practice_a.contact_email,
        "payment_terms_days": "30",
        "lmc_email": "not an address",
    }
    refused = as_manager.post("/practice/settings", data=data)
    assert refused.status_code == 200 and "correct format" in refused.data.decode()
    assert 'value="not an address"' in refused.data.decode()
    response = as_manager.post("/practice/settings", data={**data, "lmc_email": LMC_EMAIL})
    assert response.status_code == 302
    db.session.expire_all()
    practice = db.session.get(Practice, world.practice_a.id)
    assert practice is not None and practice.lmc_email == LMC_EMAIL


def test_the_administrator_sets_the_icbs_invoice_address(as_admin: FlaskClient) -> None:
    page = as_admin.get("/admin/icbs/new")
    assert page.status_code == 200 and 'name="invoice_email"' in page.data.decode()


def test_mail_credentials_stay_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A password of digits with a leading zero, or a username "yes", reaches the server as
    typed: the other settings are read as numbers and booleans."""
    monkeypatch.setenv("TRACKER_MAIL_PASSWORD", "0123")
    monkeypatch.setenv("TRACKER_MAIL_USERNAME", "yes")
    monkeypatch.setenv("TRACKER_MAIL_PORT", "2525")
    app = build_app(f"sqlite:///{tmp_path / 'x.db'}", tmp_path)
    assert app.config["MAIL_PASSWORD"] == "0123" and app.config["MAIL_USERNAME"] == "yes"
    assert app.config["MAIL_PORT"] == 2525


# --- migration 0006 ------------------------------------------------------------------------


def test_migration_0006_adds_the_lmc_address_and_the_send_log_and_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Down, the column and the table go and every practice is as it was; up again, both
    are back, empty."""
    from flask_migrate import downgrade, upgrade

    app = demo_schema_app(empty_database, tmp_path)
    with app.app_context():
        db.session.execute(text("UPDATE practice SET lmc_email = 'lmc@example.org'"))
        db.session.commit()
        names = {p.ods_code: p.name for p in db.session.scalars(select(Practice))}
        db.session.remove()
        downgrade(revision="0005")
        with db.engine.connect() as conn:
            schema = inspect(conn)
            assert "lmc_email" not in {c["name"] for c in schema.get_columns("practice")}
            assert not schema.has_table("invoice_send")
            assert dict(conn.execute(text("SELECT ods_code, name FROM practice")).all()) == names
        upgrade()
        with db.engine.connect() as conn:
            schema = inspect(conn)
            assert "lmc_email" in {c["name"] for c in schema.get_columns("practice")}
            assert schema.has_table("invoice_send")
        assert {p.lmc_email for p in db.session.scalars(select(Practice))} == {None}
        db.session.remove()
        db.engine.dispose()


def test_an_email_over_10_mb_is_refused_before_sending(
    as_finance: FlaskClient,
    world: World,
    mail_settings: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SBS accepts emails of at most 10 MB; what is attached comes from one function
    (attachment_for), so a pack that would not fit once encoded is refused up front."""
    from tracker.invoices import views

    invoice = issued(world)
    large = b"%PDF-1.7\n" + b"0" * (8 * 1024 * 1024)  # 8 MB is over 10 MB in base64
    monkeypatch.setattr(views, "attachment_for", lambda _invoice: ("pack.pdf", large))
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 422 and "at most 10 MB" in response.data.decode()
    assert mail_settings.received == [] and sends() == 0


def test_a_claim_pack_that_cannot_be_made_is_not_sent_and_says_why(
    as_finance: FlaskClient,
    world: World,
    mail_settings: Mailbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What goes is the claim pack (SBS: backing documents inside the one PDF). When the
    pack cannot be made, the page says why, offers the bare invoice PDF, and sends nothing:
    never an invoice without the documents it promises."""
    invoice = issued(world)
    monkeypatch.setitem(as_finance.application.config, "CLAIM_PACK_MAX_BYTES", 1_000)
    page = as_finance.get(f"/invoices/{invoice.id}/send")
    html = page.data.decode()
    assert page.status_code == 200 and "Send to the ICB</button>" not in html
    assert f'href="/invoices/{invoice.id}.pdf"' in html
    response = as_finance.post(f"/invoices/{invoice.id}/send")
    assert response.status_code == 409  # PackTooLarge: the documents must be dropped or split
    assert "claim pack" in response.data.decode().lower()
    assert mail_settings.received == [] and sends() == 0
