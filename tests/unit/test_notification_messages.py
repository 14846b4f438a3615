"""The notification emails as built in memory: the digest's subject and order, each event's
link from the base URL, and the message's headers and footer."""

from __future__ import annotations

from decimal import Decimal

from tracker.models import InvoiceLine, LineDecision, Notification, User
from tracker.services import notifications
from tracker.services.mailing import MailSettings

SETTINGS = MailSettings(
    server="127.0.0.1",
    port=25,
    use_tls=False,
    username=None,
    password=None,
    sender="claims@outage-claims.example.org",
)
BASE = "https://claims.example.nhs.uk/"


def row(subject: str, path: str, body: str = "What happened.") -> Notification:
    return Notification(subject=subject, body=body, link_path=path)


def test_one_event_keeps_its_own_subject() -> None:
    subject, body = notifications.digest_text([row("Query on line 2", "/claims/7/feedback")], BASE)
    assert subject == "Query on line 2"
    assert "Open it: https://claims.example.nhs.uk/claims/7/feedback" in body


def test_a_digest_lists_every_event_in_order_each_with_its_link() -> None:
    subject, body = notifications.digest_text(
        [row("First", "/claims/7/feedback"), row("Second", "/claims/8/feedback", "Other.")],
        BASE,
    )
    assert subject == "Outage Claims: 2 updates on claims"
    assert body.index("1. First") < body.index("2. Second")
    assert body.count("Open it: https://claims.example.nhs.uk/claims/") == 2
    assert "uk//claims" not in body  # a base URL's trailing slash is not doubled


def test_the_message_goes_to_the_person_with_a_way_to_stop_them() -> None:
    person = User(name="Siân O'Connor-Ndiaye", email="sian@example.org")
    message = notifications.compose(SETTINGS, person, "Claim decided", "Body.", BASE)
    assert message["To"].addresses[0].addr_spec == "sian@example.org"
    assert message["From"].addresses[0].addr_spec == SETTINGS.sender
    assert message["Date"] and message["Message-ID"]
    text = message.get_content()
    assert text.startswith("Hello Siân O'Connor-Ndiaye,\n\nBody.")
    assert "https://claims.example.nhs.uk/account/notifications" in text


def test_a_decided_line_reads_with_its_amount_and_reason() -> None:
    line = InvoiceLine(
        position=3,
        kind="locum",
        description="Dr Okafor, locum session 19 July",
        total_amount=Decimal("714.00"),
    )
    line.decision = LineDecision(
        decision="part_approved", approved_amount=Decimal("680.00"), reason="Capped at £340.00"
    )
    assert notifications._decided_line_text(line) == (
        "Line 3, Locum cover: Dr Okafor, locum session 19 July (£714.00 claimed)\n"
        "  Part-approved £680.00. Reason: Capped at £340.00"
    )


def test_the_summary_counts_what_happened() -> None:
    assert notifications.SendResult(3, 1).summary == "sent 3, failed 1"
    assert notifications.SendResult(1, 0, 2).summary == (
        "sent 1, failed 0, not sent 2 (no longer allowed)"
    )
