"""Email notifications (issue 14), through the Flask test client and a real SMTP server.

Reviewers and practices act through the web pages; `flask send-notifications` and `flask
send-digest` then run against aiosmtpd on 127.0.0.1, and each test reads what it received
as the person would: whom it went to, the subject, the text and the link (followed back
into the app, signed in as the recipient).
"""

from __future__ import annotations

import re
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.conftest import build_app, login
from tests.factories import World, make_claim, make_event, make_user
from tests.mail import Mailbox, parsed
from tracker.extensions import db
from tracker.models import (
    Invoice,
    InvoiceLine,
    Membership,
    Notification,
    NotifyPreference,
    Role,
    User,
)
from tracker.services import notifications, review
from tracker.services.mailing import MailSettings

BASE_URL = "https://claims.example.nhs.uk"


@pytest.fixture
def mail(mail_settings: Mailbox, app_ctx: Flask, monkeypatch: pytest.MonkeyPatch) -> Mailbox:
    monkeypatch.setitem(app_ctx.config, "BASE_URL", BASE_URL)
    return mail_settings


def prefer(user: User, preference: NotifyPreference) -> None:
    db.session.get(User, user.id).notify = preference.value
    db.session.commit()


def claim_of(world: World) -> Invoice:
    invoice = make_claim(db.session, world.practice_a, make_event(db.session))
    db.session.commit()
    return invoice


class OwnContextClient(FlaskClient):
    """A client whose every request runs in an application context of its own: the test's
    context would share `g`, and with it the user Flask-Login cached for the first client
    signed in, with every other client (see test_races.in_thread)."""

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        with self.application.app_context():
            return super().open(*args, **kwargs)


def as_user(app: Flask, user: User) -> FlaskClient:
    return login(OwnContextClient(app, app.response_class, use_cookies=True), user)


def decide(client: FlaskClient, claim: Invoice, line: InvoiceLine, decision: str, **extra: str):
    response = client.post(
        f"/review/claims/{claim.id}/lines/{line.id}",
        data={"decision": decision, "reason": extra.get("reason", ""), **extra},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def run(app: Flask, command: str) -> str:
    result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code == 0, result.output
    return result.output


def received(box: Mailbox) -> list[tuple[list[str], EmailMessage]]:
    return [(rcpt, parsed(raw)) for rcpt, raw in box.received]


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    content = body.get_content()
    assert isinstance(content, str)
    return content


def link_in(message: EmailMessage) -> str:
    found = re.search(r"Open it: (\S+)", text_of(message))
    assert found, text_of(message)
    return found[1]


def rows(**where: object) -> list[Notification]:
    stmt = select(Notification).order_by(Notification.id)
    for name, value in where.items():
        stmt = stmt.where(getattr(Notification, name) == value)
    return list(db.session.scalars(stmt))


# --- a query reaches the practice ----------------------------------------------------------


def test_a_query_emails_the_practice_and_its_link_opens_the_query(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    prefer(world.manager, NotifyPreference.EACH)
    claim = claim_of(world)
    line = claim.lines[1]
    decide(as_user(app_ctx, world.reviewer), claim, line, "queried", reason="Send the rota.")

    assert "sent 1, failed 0" in run(app_ctx, "send-notifications")
    [(rcpt, message)] = received(mail)
    assert rcpt == [world.manager.email]
    assert claim.number in message["Subject"] and "Alpha Surgery" in message["Subject"]
    text = text_of(message)
    assert "NHS Exampleshire Integrated Care Board queried line 2" in text
    assert "Query: Send the rota." in text
    assert f"{BASE_URL}/account/notifications" in text
    url = link_in(message)
    assert url == f"{BASE_URL}/claims/{claim.id}/lines/{line.id}/answer"
    page = as_user(app_ctx, world.manager).get(url.removeprefix(BASE_URL))
    assert page.status_code == 200 and "Send the rota." in page.get_data(as_text=True)
    # nobody else: finance A waits for the digest; ICB people and practice B get nothing
    assert {(r.user_id, r.delivery) for r in rows()} == {
        (world.manager.id, "each"),
        (world.finance.id, "digest"),
    }
    assert "sent 0, failed 0" in run(app_ctx, "send-notifications")  # never twice


def test_a_decision_rolled_back_writes_no_email(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    prefer(world.manager, NotifyPreference.EACH)
    claim = claim_of(world)
    review.decide_line(
        db.session,
        claim,
        claim.lines[0],
        review.LineDecisionInput("queried", reason="Which rota?"),
        user_id=world.reviewer.id,
    )
    assert rows() != []  # written with the decision...
    db.session.rollback()
    assert rows() == []  # ...and gone with it
    run(app_ctx, "send-notifications")
    assert mail.received == []


# --- the claim's decisions reach the practice ----------------------------------------------


def test_a_one_step_claim_decided_emails_the_practice_once(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    prefer(world.manager, NotifyPreference.EACH)
    claim = claim_of(world)
    reviewer = as_user(app_ctx, world.reviewer)
    decide(reviewer, claim, claim.lines[0], "rejected", reason="Not during the outage.")
    assert rows(kind="claim_released") == []
    reviewer.post(f"/review/claims/{claim.id}/approve-remaining")
    assert len(rows(kind="claim_released", user_id=world.manager.id)) == 1
    # changed and decided again: not announced a second time
    decide(reviewer, claim, claim.lines[0], "queried", reason="Which day?")
    decide(reviewer, claim, claim.lines[0], "approved")
    assert len(rows(kind="claim_released", user_id=world.manager.id)) == 1

    run(app_ctx, "send-notifications")
    released = [m for _, m in received(mail) if "decided" in m["Subject"]]
    assert len(released) == 1
    text = text_of(released[0])
    assert f"has decided claim {claim.number} from Alpha Surgery, A81001" in text
    assert "Rejected. Reason: Not during the outage." in text
    assert link_in(released[0]) == f"{BASE_URL}/claims/{claim.id}/feedback"


def test_two_step_the_practice_hears_of_approvals_only_once_authorised(
    app_ctx: Flask, world: World, mail: Mailbox, approvers: tuple[User, User]
) -> None:
    prefer(world.manager, NotifyPreference.EACH)
    prefer(world.finance, NotifyPreference.EACH)
    claim = claim_of(world)
    reviewer = as_user(app_ctx, world.reviewer)
    decide(reviewer, claim, claim.lines[0], "part_approved", approved_amount="10.00", reason="Cap")
    reviewer.post(f"/review/claims/{claim.id}/approve-remaining")
    assert reviewer.post(f"/review/claims/{claim.id}/recommend").status_code == 302
    run(app_ctx, "send-notifications")
    run(app_ctx, "send-digest")
    assert mail.received == [] and rows() == []  # decided and recommended: not yet released

    approver = as_user(app_ctx, approvers[0])
    assert approver.post(f"/review/claims/{claim.id}/authorise").status_code == 302
    assert "sent 2, failed 0" in run(app_ctx, "send-notifications")
    assert sorted(rcpt[0] for rcpt, _ in received(mail)) == sorted(
        [world.manager.email, world.finance.email]
    )
    text = text_of(received(mail)[0][1])
    assert "Part-approved £10.00. Reason: Cap" in text
    page = as_user(app_ctx, world.manager).get(f"/claims/{claim.id}/feedback")
    assert "Part-approved" in page.get_data(as_text=True)


def test_switching_two_steps_off_releases_decided_claims_with_an_email(
    app_ctx: Flask, world: World, mail: Mailbox, approvers: tuple[User, User]
) -> None:
    from tracker.services import sign_off

    claim = claim_of(world)
    review.approve_remaining(db.session, claim, user_id=world.reviewer.id)
    db.session.commit()
    assert rows() == []
    sign_off.follow_icb_setting(db.session, world.icb_x.id, False)
    db.session.commit()
    assert {r.user_id for r in rows(kind="claim_released")} == {world.manager.id, world.finance.id}


# --- an answer reaches the reviewer --------------------------------------------------------


def answer(app: Flask, world: World, claim: Invoice, line: InvoiceLine) -> None:
    response = as_user(app, world.manager).post(
        f"/claims/{claim.id}/lines/{line.id}/answer", data={"body": "Rota attached."}
    )
    assert response.status_code == 302


def test_an_answer_emails_the_assigned_reviewer_only(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    second = make_user(db.session, Role.ICB_REVIEWER, icb=world.icb_x, email="second.x@example.org")
    for user in (world.reviewer, second, world.reviewer_y):
        user.notify = NotifyPreference.EACH.value
    db.session.commit()
    claim = claim_of(world)
    claim.assigned_to_id = second.id
    db.session.commit()
    line = claim.lines[1]
    decide(as_user(app_ctx, world.reviewer), claim, line, "queried", reason="Which rota?")
    answer(app_ctx, world, claim, line)

    run(app_ctx, "send-notifications")
    answers = [(r, m) for r, m in received(mail) if "Answer to a query" in m["Subject"]]
    assert [rcpt for rcpt, _ in answers] == [[second.email]]
    message = answers[0][1]
    assert "Alpha Surgery answered the query on line 2" in text_of(message)
    assert "Rota attached." not in text_of(message)  # the practice's words stay in the app
    assert link_in(message) == f"{BASE_URL}/review/claims/{claim.id}#line-{line.id}"


def test_an_answer_on_an_unassigned_claim_emails_every_reviewer_of_its_icb(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    second = make_user(db.session, Role.ICB_REVIEWER, icb=world.icb_x, email="second.x@example.org")
    db.session.commit()
    claim = claim_of(world)
    line = claim.lines[0]
    decide(as_user(app_ctx, world.reviewer), claim, line, "queried", reason="Which rota?")
    answer(app_ctx, world, claim, line)
    assert {r.user_id for r in rows(kind="query_answered")} == {world.reviewer.id, second.id}


# --- the daily digest and "off" ------------------------------------------------------------


def test_the_digest_sends_one_email_per_person_with_the_days_events(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    claim = claim_of(world)
    reviewer = as_user(app_ctx, world.reviewer)
    decide(reviewer, claim, claim.lines[0], "queried", reason="Which rota?")
    decide(reviewer, claim, claim.lines[1], "queried", reason="Locum invoice?")
    assert "sent 0, failed 0" in run(app_ctx, "send-notifications")  # digest rows wait

    assert "sent 2, failed 0" in run(app_ctx, "send-digest")  # manager A and finance A
    by_person = {rcpt[0]: message for rcpt, message in received(mail)}
    assert set(by_person) == {world.manager.email, world.finance.email}
    text = text_of(by_person[world.manager.email])
    assert by_person[world.manager.email]["Subject"] == "Outage Claims: 2 updates on claims"
    assert "Which rota?" in text and "Locum invoice?" in text
    assert text.count("Open it: ") == 2
    assert "sent 0, failed 0" in run(app_ctx, "send-digest")


def test_a_user_who_switched_off_gets_no_rows(app_ctx: Flask, world: World, mail: Mailbox) -> None:
    prefer(world.manager, NotifyPreference.OFF)
    claim = claim_of(world)
    decide(as_user(app_ctx, world.reviewer), claim, claim.lines[0], "queried", reason="Why?")
    assert [r.user_id for r in rows()] == [world.finance.id]
    run(app_ctx, "send-digest")
    assert [rcpt for rcpt, _ in mail.received] == [[world.finance.email]]


def test_switching_off_drops_what_was_waiting_and_switching_moves_it(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    claim = claim_of(world)
    decide(as_user(app_ctx, world.reviewer), claim, claim.lines[0], "queried", reason="Why?")
    notifications.set_preference(db.session, db.session.get(User, world.finance.id), "each")
    notifications.set_preference(db.session, db.session.get(User, world.manager.id), "off")
    db.session.commit()
    assert [(r.user_id, r.delivery) for r in rows()] == [(world.finance.id, "each")]


def test_nobody_outside_the_practice_is_told(app_ctx: Flask, world: World, mail: Mailbox) -> None:
    """Practice B's manager, the other ICB's reviewer, admins: no rows; and a member who left
    the practice before the email went is not sent it."""
    claim = claim_of(world)
    decide(as_user(app_ctx, world.reviewer), claim, claim.lines[0], "queried", reason="Why?")
    assert {r.user_id for r in rows()} == {world.manager.id, world.finance.id}
    # finance A leaves practice A before the digest goes
    db.session.execute(
        Membership.__table__.delete().where(
            Membership.user_id == world.finance.id, Membership.practice_id == world.practice_a.id
        )
    )
    db.session.commit()
    output = run(app_ctx, "send-digest")
    assert "sent 1, failed 0, not sent 1" in output
    assert [rcpt for rcpt, _ in mail.received] == [[world.manager.email]]


# --- the commands ---------------------------------------------------------------------------


def test_without_mail_settings_the_commands_refuse_and_touch_nothing(
    app_ctx: Flask, world: World
) -> None:
    prefer(world.manager, NotifyPreference.EACH)
    claim = claim_of(world)
    decide(as_user(app_ctx, world.reviewer), claim, claim.lines[0], "queried", reason="Why?")
    for command in ("send-notifications", "send-digest"):
        result = app_ctx.test_cli_runner().invoke(args=[command])
        assert result.exit_code != 0
        assert "TRACKER_MAIL_SERVER" in result.output and "Nothing was sent" in result.output
    assert all(r.claimed_at is None and r.attempts == 0 for r in rows())


def test_a_refusal_is_kept_and_retried_next_time(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    prefer(world.manager, NotifyPreference.EACH)
    claim = claim_of(world)
    decide(as_user(app_ctx, world.reviewer), claim, claim.lines[0], "queried", reason="Why?")
    mail.answer = "451 4.3.0 Try again later"
    result = app_ctx.test_cli_runner().invoke(args=["send-notifications"])
    assert result.exit_code == 1 and "sent 0, failed 1" in result.output
    [row] = rows(delivery="each")
    db.session.refresh(row)
    assert row.sent_at is None and row.claimed_at is None and row.attempts == 1
    assert "451" in row.last_error
    mail.answer = "250 OK"
    assert "sent 1, failed 0" in run(app_ctx, "send-notifications")
    db.session.refresh(row)
    assert row.sent_at is not None and row.attempts == 2 and row.last_error == ""


# --- two senders at once -------------------------------------------------------------------


def test_two_senders_at_once_never_send_a_row_twice(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    """Real threads, each with its own application context and database connection,
    released together by a barrier: every row is sent exactly once, whoever claims it."""
    settings = MailSettings.from_config(app_ctx.config)
    assert settings is not None
    claim = claim_of(world)
    for _ in range(3):
        for person in (world.manager, world.finance):
            db.session.add(
                Notification(
                    user_id=person.id,
                    kind="line_queried",
                    invoice_id=claim.id,
                    delivery="each",
                    subject=f"Query for {person.name}",
                    body="A query",
                    link_path=f"/claims/{claim.id}/feedback",
                )
            )
    db.session.commit()
    total = len(rows())

    def sender(barrier: threading.Barrier, results: list[notifications.SendResult]) -> None:
        with app_ctx.app_context():
            barrier.wait()
            results.append(notifications.send_each(db.session, settings, BASE_URL))
            db.session.remove()

    for round_number in range(4):
        if round_number:
            db.session.execute(
                Notification.__table__.update().values(
                    sent_at=None, claimed_at=None, claim_token=None, attempts=0
                )
            )
            db.session.commit()
            mail.received.clear()
        barrier = threading.Barrier(2)
        results: list[notifications.SendResult] = []
        threads = [threading.Thread(target=sender, args=(barrier, results)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(results) == 2, "a sender raised (see its traceback)"
        assert sum(result.sent for result in results) == total, round_number
        assert len(mail.received) == total
        db.session.expire_all()
        assert (
            db.session.scalar(
                select(func.count(Notification.id)).where(Notification.sent_at.is_(None))
            )
            == 0
        )


def test_a_claim_left_by_a_dead_sender_is_taken_again_once_stale(
    app_ctx: Flask, world: World, mail: Mailbox
) -> None:
    from datetime import timedelta

    from tracker.models import utcnow

    prefer(world.manager, NotifyPreference.EACH)
    claim = claim_of(world)
    decide(as_user(app_ctx, world.reviewer), claim, claim.lines[0], "queried", reason="Why?")
    [row] = rows(delivery="each")
    row.claimed_at, row.claim_token = utcnow() - timedelta(minutes=5), "dead-sender"
    db.session.commit()
    assert "sent 0, failed 0" in run(app_ctx, "send-notifications")  # still someone's
    row.claimed_at = utcnow() - notifications.STALE_CLAIM - timedelta(minutes=1)
    db.session.commit()
    assert "sent 1, failed 0" in run(app_ctx, "send-notifications")


# --- the preference page -------------------------------------------------------------------


def test_the_preference_page_saves_a_choice(app_ctx: Flask, world: World) -> None:
    client = as_user(app_ctx, world.manager)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert re.search(r'value="digest"[^>]*checked|checked[^>]*value="digest"', page)
    assert 'href="/account/notifications"' in client.get("/account/password").get_data(as_text=True)
    response = client.post("/account/notifications", data={"notify": "each"})
    assert response.status_code == 302
    assert "Saved: an email for each event." in client.get(response.headers["Location"]).get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.get(User, world.manager.id).notify == "each"


def test_the_preference_page_refuses_an_unknown_choice(app_ctx: Flask, world: World) -> None:
    client = as_user(app_ctx, world.manager)
    for data in ({"notify": "hourly"}, {}):
        response = client.post("/account/notifications", data=data)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        assert "Choose how you want to hear about claims" in text
        assert "nhsuk-error-message" in text
    assert db.session.get(User, world.manager.id).notify == "digest"


def test_the_preference_page_needs_a_csrf_token(app: Flask, world: World, tmp_path: Path) -> None:
    strict = build_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = world.manager.get_id()
        session["_fresh"] = True
    assert client.post("/account/notifications", data={"notify": "off"}).status_code == 400
    assert db.session.get(User, world.manager.id).notify == "digest"
