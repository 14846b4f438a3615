"""Journey 9's last step (issue 14): the practice hears by email. The manager chooses an
email for each event; the reviewer decides Riverside's appointments claim and recommends it;
`flask send-notifications` runs against a real SMTP server on 127.0.0.1 and sends the
practice nothing about it yet (the demo ICB signs off in two steps); the approver authorises; the
command runs again, the manager receives the email, follows its link into the app and sees
the decision."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import expect
from sqlalchemy import select
from werkzeug.serving import make_server

from tests.browser.conftest import recommend_appointments_claim, screenshot, sign_in
from tests.conftest import build_app
from tests.factories import PASSWORD, make_user
from tests.mail import Mailbox, parsed
from tracker.extensions import db
from tracker.models import Practice, Role

pytestmark = pytest.mark.browser


@pytest.fixture
def served(
    demo_instance: Path, tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> Iterator[tuple[str, Flask]]:
    """The browser tests' server (a fresh copy of the demo data), with the mail settings
    pointing at the local SMTP server and its own address as the base of the links."""
    instance = tmp_path / "instance"
    shutil.copytree(demo_instance, instance)
    app = build_app(
        f"sqlite:///{instance / 'browser.db'}",
        instance,
        WTF_CSRF_ENABLED=True,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=mailbox[1],
        MAIL_USE_TLS=False,
        MAIL_SENDER="claims@outage-claims.example.org",
        MAIL_TIMEOUT=10,
    )
    server = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = url
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url, app
    server.shutdown()
    thread.join()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_server(served: tuple[str, Flask]) -> str:
    """The `page` fixture's server: this module's, with mail."""
    return served[0]


def send_notifications(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 0, result.output
    return result.output


def plain_text(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def test_the_practice_receives_the_email_and_sees_the_decision(
    page, served: tuple[str, Flask], mailbox: tuple[Mailbox, int]
) -> None:
    url, app = served
    box = mailbox[0]

    # the manager asks for an email for each event, from the header's account links
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Notifications").first.click()
    expect(page.get_by_role("heading", name="Email notifications")).to_be_visible()
    page.get_by_label("An email for each event").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Saved: an email for each event.")).to_be_visible()
    screenshot(page, "notifications-preference")
    page.context.clear_cookies()

    # the reviewer decides Riverside's appointments claim and recommends it
    claim_id, number = recommend_appointments_claim(page)

    # recommended, not authorised: the practice is told nothing of it yet (what the demo's
    # history left waiting for the manager's digest now goes as it happens: earlier claims)
    send_notifications(app)
    earlier = [parsed(raw)["Subject"] for _, raw in box.received]
    assert earlier and not [subject for subject in earlier if number in subject]
    box.received.clear()

    sign_in(page, "approver@example.org")
    page.goto(f"/review/claims/{claim_id}")
    page.get_by_role("button", name="Authorise £1,500.00").click()
    expect(page.get_by_test_id("authorised")).to_be_visible()
    page.context.clear_cookies()

    # the manager's email (finance chose nothing, so waits for the daily digest)
    assert "sent 1, failed 0" in send_notifications(app)
    [(recipients, raw)] = box.received
    assert recipients == ["manager@example.org"]
    message = parsed(raw)
    assert number in message["Subject"] and "Riverside Medical Centre" in message["Subject"]
    text = plain_text(message)
    assert "Part-approved £1,500.00. Reason: Agreed for 50 of the 57" in text
    found = re.search(r"Open it: (\S+)", text)
    assert found and found[1] == f"{url}/claims/{claim_id}/feedback"

    # the link, followed: sign in, then straight to the decision
    page.goto(found[1])
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password").fill("demo-password-for-tests")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("line-1")).to_contain_text("Part-approved")
    expect(page.get_by_test_id("line-1")).to_contain_text("Agreed for 50 of the 57")
    expect(page.get_by_test_id("approved")).to_contain_text("£1,500.00")
    screenshot(page, "notifications-practice-follows-the-link")


def test_icb_review_from_the_cap_to_the_practices_inbox(
    page, served: tuple[str, Flask], mailbox: tuple[Mailbox, int]
) -> None:
    """Issue 14's journey in one piece, on Tufnell Park's flagged claim: its manager sees the
    ICB's cap beside the locum form; the reviewer approves the lines that pass the checks in
    one step, part-approves the one over the cap at the cap, rejects the rest and recommends;
    the approver authorises; the daily digest reaches the manager, whose link leads to the
    decisions."""
    url, app = served
    box = mailbox[0]
    with app.app_context():
        tufnell = db.session.scalar(select(Practice).where(Practice.name == "Tufnell Park Surgery"))
        make_user(
            db.session,
            Role.PRACTICE_MANAGER,
            practices=[tufnell],
            email="tufnell.manager@example.org",
            name="Dana Tufnell",
        )
        db.session.commit()

    sign_in(page, "tufnell.manager@example.org", PASSWORD)
    page.get_by_role("link", name="Incidents").first.click()
    page.get_by_role("link", name="CrowdStrike outage: EMIS Web down 19 July 2024").click()
    page.get_by_role("link", name="Locum cover", exact=True).click()
    expect(page.get_by_test_id("policy-panel")).to_contain_text(
        "Locum cover: up to £340.00 a session and £81.60 an hour."
    )
    page.context.clear_cookies()

    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Claims to review").first.click()
    page.get_by_test_id("claims").locator("tr", has_text="Tufnell Park Surgery").get_by_role(
        "link"
    ).first.click()
    claim_id = page.url.rstrip("/").split("/")[-1]
    number = page.get_by_role("heading", name=re.compile(r"^Claim ")).inner_text()[6:]
    page.get_by_role(
        "button", name=re.compile(r"^Approve the \d+ undecided lines? that pass the checks")
    ).click()
    page.get_by_role("button", name="Part-approve 1 line at the cap (£340.00)").click()
    lines = page.get_by_test_id("lines")
    expect(lines.locator("tr", has_text="Locum GP evening session")).to_contain_text(
        "£340.00 approved"
    )
    open_lines = lines.locator("tr", has_text=re.compile("Not decided|Queried"))
    rejected = open_lines.count()
    assert rejected >= 1
    for _ in range(rejected):
        open_lines.first.get_by_role("link", name=re.compile("^(Decide|Change)")).click()
        page.get_by_label("Rejected").check()
        page.get_by_label("Reason").fill("No timesheet or receipt came with this cost.")
        page.get_by_role("button", name="Save decision").click()
    expect(open_lines).to_have_count(0)
    page.get_by_role("button", name="Recommend for authorisation").click()
    page.context.clear_cookies()

    sign_in(page, "approver@example.org")
    page.goto(f"/review/claims/{claim_id}")
    page.get_by_role("button", name=re.compile(r"^Authorise £")).click()
    expect(page.get_by_test_id("authorised")).to_be_visible()
    page.context.clear_cookies()

    # the manager left the default: one digest a day, which now names the released claim
    result = app.test_cli_runner().invoke(args=["send-digest"])
    assert result.exit_code == 0, result.output
    [raw] = [
        raw for recipients, raw in box.received if recipients == ["tufnell.manager@example.org"]
    ]
    text = plain_text(parsed(raw))
    assert number in text and "Part-approved £340.00" in text
    found = re.search(rf"Open it: ({re.escape(url)}/claims/{claim_id}/feedback)", text)
    assert found

    page.goto(found[1])
    page.get_by_label("Email").fill("tufnell.manager@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text("Locum sessions capped at £340.00 a session").first).to_be_visible()
    expect(page.get_by_text("No timesheet or receipt came with this cost.").first).to_be_visible()
    screenshot(page, "icb-review-practice-sees-the-decisions")
