"""Sending an issued invoice to its ICB by email, with the practice's LMC in copy.

Most ICBs pay through NHS Shared Business Services, and a GP practice is outside SBS's
supplier portal, so its invoices arrive by email: one invoice per PDF, the backing documents
in that PDF, at most 10 MB. The BMA advised practices to copy their local medical committee
(LMC). So a send goes to the ICB's invoice address, copies the LMC and the practice's own
address (so the practice keeps a copy and sees what the ICB received), and replies go to the
practice, not to the app's sender address.

Every attempt is a row of `invoice_send`: a message the server took is "sent" (and in the
audit trail); one it refused, or could not be reached for, is "failed" with the server's own
words, so the practice can see what happened and send again. A failed attempt changes
nothing else: the invoice, its state and its payments are as they were, and it is not in the
audit trail (which records changes; nothing was changed).

The SMTP conversation uses only the standard library (smtplib, email.message.EmailMessage)
and nothing from Flask; the web layer passes the settings in (MailSettings.from_config).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tracker.models import (
    DocumentKind,
    Icb,
    Invoice,
    InvoiceSend,
    InvoiceStatus,
    Practice,
    SendOutcome,
    User,
)
from tracker.presentation import format_money, long_date
from tracker.services import audit
from tracker.services.errors import Conflict, Invalid

#: The largest email SBS accepts (its rules for emailed invoices: PDF only, one invoice per
#: PDF, backing documents inside it, at most 10 MB). Checked on the whole message as it
#: travels (the attachment base64-encoded), which is what a mail server measures.
MAX_MESSAGE_BYTES = 10 * 1024 * 1024
#: The settings (environment variables, without the TRACKER_ prefix) a send needs.
REQUIRED_SETTINGS = ("MAIL_SERVER", "MAIL_SENDER")
#: Port on which the connection is TLS from the first byte (RFC 8314 "implicit TLS").
IMPLICIT_TLS_PORT = 465


@dataclass(frozen=True)
class MailSettings:
    """How to reach the mail server, from TRACKER_MAIL_* (tracker.config)."""

    server: str
    port: int
    use_tls: bool
    username: str | None
    password: str | None
    sender: str
    timeout: float = 30

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MailSettings | None:
        """The settings, or None while a server or a sender address is missing."""
        if missing_settings(config):
            return None
        return cls(
            server=str(config["MAIL_SERVER"]),
            port=int(config.get("MAIL_PORT") or 587),
            use_tls=bool(config.get("MAIL_USE_TLS")),
            username=str(config["MAIL_USERNAME"]) if config.get("MAIL_USERNAME") else None,
            password=str(config["MAIL_PASSWORD"]) if config.get("MAIL_PASSWORD") else None,
            sender=str(config["MAIL_SENDER"]),
            timeout=float(config.get("MAIL_TIMEOUT") or 30),
        )


def missing_settings(config: Mapping[str, Any]) -> list[str]:
    """The required settings not set, as the environment variables to set."""
    return [f"TRACKER_{name}" for name in REQUIRED_SETTINGS if not config.get(name)]


@dataclass(frozen=True)
class Recipients:
    to: str
    cc: tuple[str, ...]
    reply_to: str | None


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


def document_name(invoice: Invoice) -> str:
    return "Credit note" if invoice.kind == DocumentKind.CREDIT_NOTE else "Invoice"


def check_sendable(invoice: Invoice) -> None:
    """Only an issued invoice or credit note goes to the ICB: a draft has no number yet and
    may change; a cancelled invoice was reversed by its credit note, which is what to send."""
    if invoice.status == InvoiceStatus.DRAFT:
        raise Conflict("Issue the invoice before sending it to the ICB.")
    if invoice.status != InvoiceStatus.ISSUED:
        raise Conflict("This invoice is cancelled by a credit note: send the credit note instead.")


def recipients(invoice: Invoice, sender: User) -> Recipients:
    """The ICB's invoice address, then in copy the practice's LMC and the practice's own
    address (the sender's address when the practice has none). Raises Invalid when the ICB
    has no invoice address yet: an administrator sets it on the ICB."""
    practice: Practice = invoice.practice
    to = _icb_email_of(invoice)
    if not to:
        raise Invalid(
            "The ICB has no invoice email address yet. Ask an administrator to add it to "
            "the ICB, or download the PDF and send it yourself."
        )
    own = practice.contact_email or sender.email
    cc: list[str] = []
    for address in (practice.lmc_email, own):
        if address and address.lower() not in {to.lower(), *(c.lower() for c in cc)}:
            cc.append(address)
    return Recipients(to=to, cc=tuple(cc), reply_to=practice.contact_email or sender.email)


def _icb_email_of(invoice: Invoice) -> str | None:
    """The invoice address of the ICB the invoice was issued to (its own `icb_id`), even for
    a practice that has since moved ICB: the claim stays with the ICB it was issued to. The
    address is the ICB's as it is now, so a corrected address is used by the next send."""
    session = Session.object_session(invoice)
    icb = session.get(Icb, invoice.icb_id) if session is not None else None
    return icb.invoice_email if icb is not None else None


def subject_of(invoice: Invoice) -> str:
    """Invoice number and the practice's ODS code first, as accounts payable file by them."""
    practice = invoice.practice
    return (
        f"{document_name(invoice)} {invoice.number} from GP practice {practice.ods_code} "
        f"({practice.name})"
    )[:200]


def body_of(invoice: Invoice, sender: User) -> str:
    """A short covering note: what is attached and whom to answer."""
    practice = invoice.practice
    name = document_name(invoice).lower()
    lines = [
        "Dear Accounts Payable,",
        "",
        f"Please find attached {name} {invoice.number} from {practice.name} "
        f"(ODS code {practice.ods_code}) for {format_money(abs(invoice.total))}.",
    ]
    if invoice.po_reference:
        lines.append(f"Purchase-order or reference number: {invoice.po_reference}.")
    if invoice.kind == DocumentKind.INVOICE and invoice.due_date:
        lines.append(f"Payment is due by {long_date(invoice.due_date)}.")
    lines += [
        "",
        "Please reply to this email with any query about it.",
        "",
        "Kind regards,",
        sender.name,
        practice.name,
    ]
    return "\n".join(lines) + "\n"


def compose(
    invoice: Invoice, sender: User, attachment: Attachment, settings: MailSettings
) -> EmailMessage:
    """The message as it will be sent, with a fresh Message-ID the ICB can quote back."""
    to = recipients(invoice, sender)
    message = EmailMessage()
    message["From"] = Address(display_name=invoice.practice.name[:80], addr_spec=settings.sender)
    message["To"] = to.to
    if to.cc:
        message["Cc"] = ", ".join(to.cc)
    if to.reply_to:
        message["Reply-To"] = to.reply_to
    message["Subject"] = subject_of(invoice)
    # a Date header is required (RFC 5322 3.6); smtplib does not add one
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    message.set_content(body_of(invoice, sender))
    message.add_attachment(
        attachment.content,
        maintype="application",
        subtype="pdf",
        filename=attachment.filename,
    )
    return message


def message_size(message: EmailMessage) -> int:
    """Bytes on the wire: SMTP lines end in CRLF (RFC 5321), as the server counts them."""
    return len(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def check_size(message: EmailMessage) -> int:
    """The message's size in bytes; Invalid when over SBS's 10 MB."""
    size = message_size(message)
    if size > MAX_MESSAGE_BYTES:
        raise Invalid(
            f"The email would be {size / 1024 / 1024:.1f} MB and NHS Shared Business Services "
            "accepts at most 10 MB. Download the PDF and send it in parts."
        )
    return size


class DeliveryFailed(Exception):
    """The mail server refused the message or could not be reached; `reason` says why in
    the server's words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def deliver(settings: MailSettings, message: EmailMessage) -> None:
    """Hand the message to the mail server. Raises DeliveryFailed with the server's answer.

    A password is only ever sent over TLS (OWASP ASVS 4.0.3 V9.2.1, V9.2.2: connections to
    other services encrypted): with a username and neither STARTTLS nor port 465 the send is
    refused before connecting. A server that does not offer STARTTLS when asked is an error,
    not a silent fall-back to plain text (smtplib raises SMTPNotSupportedError)."""
    implicit = settings.port == IMPLICIT_TLS_PORT
    if settings.username and not (implicit or settings.use_tls):
        raise DeliveryFailed(
            "The mail settings would send the password unencrypted: set TRACKER_MAIL_USE_TLS "
            "to true (or use port 465)."
        )
    context = ssl.create_default_context()
    try:
        smtp: smtplib.SMTP
        if implicit:
            smtp = smtplib.SMTP_SSL(
                settings.server, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)
        with smtp:
            if settings.use_tls and not implicit:
                smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
            refused = smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        raise DeliveryFailed(_refusals(error.recipients)) from error
    except smtplib.SMTPResponseException as error:
        raise DeliveryFailed(_server_said(error.smtp_code, error.smtp_error)) from error
    except (smtplib.SMTPException, OSError) as error:
        raise DeliveryFailed(
            f"The mail server {settings.server}:{settings.port} could not be used: {error}"
        ) from error
    if refused:
        # the server took the message for some recipients only: report those it refused
        raise DeliveryFailed(_refusals(refused))


def _server_said(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"The mail server refused the message: {code} {words}".strip()


def _refusals(refused: Mapping[str, tuple[int, bytes]]) -> str:
    parts = [
        f"{address}: {code} {text.decode('utf-8', 'replace')}"
        for address, (code, text) in refused.items()
    ]
    return "The mail server refused " + "; ".join(parts)


def send_invoice(
    session: Session,
    invoice: Invoice,
    *,
    sender: User,
    attachment: Attachment,
    settings: MailSettings,
) -> InvoiceSend:
    """Email the invoice to its ICB and record the attempt (the caller commits).

    Raises Conflict (not issued) or Invalid (no ICB address, too large) before anything is
    sent. A refusal by the mail server is not raised: the attempt is recorded as failed with
    the server's words, and the caller shows them."""
    check_sendable(invoice)
    message = compose(invoice, sender, attachment, settings)
    size = check_size(message)
    to = recipients(invoice, sender)
    attempt = InvoiceSend(
        invoice_id=invoice.id,
        sent_by_id=sender.id,
        to_address=to.to,
        cc_addresses=", ".join(to.cc)[:600],
        subject=str(message["Subject"])[:200],
        attachment_name=attachment.filename[:200],
        message_id=str(message["Message-ID"])[:250],
        size_bytes=size,
        attachment_bytes=len(attachment.content),
        outcome=SendOutcome.SENT,
        error="",
    )
    try:
        deliver(settings, message)
    except DeliveryFailed as failure:
        attempt.outcome = SendOutcome.FAILED
        attempt.error = failure.reason
    session.add(attempt)
    session.flush()
    if attempt.outcome == SendOutcome.SENT:
        _audit(session, invoice, attempt, sender)
    return attempt


def _audit(session: Session, invoice: Invoice, attempt: InvoiceSend, sender: User) -> None:
    copy = f", copy {attempt.cc_addresses}" if attempt.cc_addresses else ""
    audit.record(
        session,
        user_id=sender.id,
        entity=invoice,
        action="send",
        practice_id=invoice.practice_id,
        summary=(
            f"{document_name(invoice)} {invoice.number} emailed to {attempt.to_address}{copy} "
            f"({attempt.size_bytes:,} bytes, {attempt.message_id})"
        ),
        changes={
            "to": attempt.to_address,
            "cc": attempt.cc_addresses,
            "message_id": attempt.message_id,
            "size_bytes": attempt.size_bytes,
            "send_id": attempt.id,
        },
    )


def sends_of(session: Session, invoice_id: int) -> list[InvoiceSend]:
    """Every attempt to send the invoice, newest first."""
    return list(
        session.scalars(
            select(InvoiceSend)
            .where(InvoiceSend.invoice_id == invoice_id)
            .order_by(InvoiceSend.sent_at.desc(), InvoiceSend.id.desc())
        )
    )
