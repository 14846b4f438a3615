"""Email notifications about claims: who hears about what, and the outbox that sends them.

Issue 14: the practice hears when a line of its claim is queried and when the ICB's
decisions on it are released to it; the reviewer hears when the practice answers a query;
each person chooses an email per event, one email a day listing the day's events (the
default), or none (models.NotifyPreference).

**The outbox.** An event writes one `Notification` row per person who is to hear of it, in
the same transaction as the event itself: a decision rolled back sends nothing, and a
decision committed cannot lose its email. Nobody is told in the request (a slow or absent
mail server never slows a reviewer down or loses a decision); `flask send-notifications`
(every few minutes) sends the "each" rows and `flask send-digest` (daily) one email per
person with their "digest" rows. A sender first *claims* its rows with one conditional
UPDATE (only rows not sent and not claimed, or claimed so long ago that their sender must
have died) and commits, then sends, then marks each sent; two senders running at once never
send a row twice. A refusal by the mail server releases the claim for the next run, with
the attempt counted and the server's words kept, until MAX_ATTEMPTS.

**What a practice may be told.** The same rule as every practice page
(services.release.decisions_released and review.shown_to_practice): a query is shown to
the practice at once, because it must answer it; an approval, part-approval or rejection
only once the claim's decisions are released (at once for a one-step ICB, once authorised
for a two-step one). So a decision on its own never emails the practice; the release of the
claim's decisions does, once (`claim_released`).

**Who.** The practice's managers and finance staff (never ICB people, never another
practice's); for an answer, the reviewer the claim is assigned to in the work queue, else
every reviewer of the claim's ICB. Whether a person may still hear of the claim is checked
again when the email is sent (a user deactivated or moved since gets nothing).

**What an email says.** What happened and on which claim (invoice number and practice),
the lines with the reviewer's decision or query text, and a link to the page to open; no
patient data (a claim holds none: costs, not consultations) and not the practice's answer
(free text that may say more than the reviewer needs in an inbox: the link shows it).

The SMTP conversation is services.mailing.deliver, as for invoices sent to the ICB; this
module imports nothing from Flask (the commands pass the settings and the base URL in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, true, update
from sqlalchemy.orm import Session, joinedload

from tracker.models import (
    ICB_ROLES,
    PRACTICE_ROLES,
    ClaimMessage,
    Icb,
    Invoice,
    InvoiceLine,
    LineDecision,
    Membership,
    Notification,
    NotifyPreference,
    Role,
    User,
    rows_updated,
    table_of,
    utcnow,
)
from tracker.presentation import cost_kind_label, decision_tag, format_money, shortened
from tracker.services.errors import Invalid
from tracker.services.mailing import DeliveryFailed, MailSettings, deliver
from tracker.services.release import decisions_released

#: A claim older than this is taken to belong to a sender that died mid-run: its rows are
#: claimed again (a send takes seconds; the cron line runs every 5 minutes).
STALE_CLAIM = timedelta(minutes=30)
#: After this many refusals a row is left unsent, its last error kept, rather than retried
#: every five minutes for ever.
MAX_ATTEMPTS = 5
QUERIED = "queried"


class Kind(StrEnum):
    LINE_QUERIED = "line_queried"
    CLAIM_RELEASED = "claim_released"
    QUERY_ANSWERED = "query_answered"


#: Who may hear of each kind: the practice's own people, or the ICB's reviewers.
PRACTICE_KINDS = frozenset({Kind.LINE_QUERIED, Kind.CLAIM_RELEASED})


# --- preferences ---------------------------------------------------------------------------


def set_preference(session: Session, user: User, value: str) -> None:
    """Change how the user hears of events. What is already waiting follows the new choice:
    switched off, nothing more is sent (waiting rows are dropped); switched between each
    and digest, waiting rows go the new way (the caller commits)."""
    try:
        preference = NotifyPreference(value)
    except ValueError:
        raise Invalid("Choose how you want to hear about your claims", "notify") from None
    user.notify = preference.value
    rows = table_of(Notification)
    waiting = and_(rows.c.user_id == user.id, rows.c.sent_at.is_(None), rows.c.claimed_at.is_(None))
    if preference is NotifyPreference.OFF:
        session.execute(delete(rows).where(waiting))
    else:
        session.execute(update(rows).where(waiting).values(delivery=preference.value))


# --- events: called by services.review and services.sign_off, inside their transaction ----


def line_queried(session: Session, invoice: Invoice, line: InvoiceLine, query: str) -> None:
    """A reviewer queried a line: the practice is told at once (a query is shown to it
    whatever the sign-off, review.shown_to_practice)."""
    claim = _claim_name(invoice)
    body = (
        f"{_icb_name(session, invoice)} queried line {line.position} of claim "
        f"{invoice.number} from {claim}.\n\n"
        f"{_line_text(line)}\nQuery: {query}\n\n"
        "Answer the query, with evidence if you have it, from the claim's page."
    )
    _write(
        session,
        _practice_people(session, invoice),
        Kind.LINE_QUERIED,
        invoice,
        line,
        subject=f"Query on line {line.position} of claim {invoice.number} ({claim})",
        body=body,
        link_path=f"/claims/{invoice.id}/lines/{line.id}/answer",
    )


def claim_released(session: Session, invoice: Invoice) -> None:
    """The claim's decisions have just reached the practice: a one-step claim whose last line
    was decided, or a two-step claim authorised. Told once per claim: a one-step claim
    decided again after a change is not announced twice. The caller holds the claim
    (review.hold_claim, as every decision and sign-off step does), so the look for an
    earlier announcement and the writing of this one are one step."""
    if not decisions_released(invoice) or invoice.approved_total is None:
        return
    told = session.scalar(
        select(
            exists().where(
                Notification.invoice_id == invoice.id,
                Notification.kind == Kind.CLAIM_RELEASED.value,
            )
        )
    )
    if told:
        return
    claim = _claim_name(invoice)
    lines = "\n".join(_decided_line_text(line) for line in invoice.lines)
    body = (
        f"{_icb_name(session, invoice)} has decided claim {invoice.number} from {claim}: "
        f"{format_money(invoice.approved_total)} approved of {format_money(invoice.total)} "
        f"claimed.\n\n{lines}"
    )
    _write(
        session,
        _practice_people(session, invoice),
        Kind.CLAIM_RELEASED,
        invoice,
        None,
        subject=f"Claim {invoice.number} ({claim}) decided: "
        f"{format_money(invoice.approved_total)} approved",
        body=body,
        link_path=f"/claims/{invoice.id}/feedback",
    )


def query_answered(
    session: Session, invoice: Invoice, line: InvoiceLine | None, message: ClaimMessage
) -> None:
    """The practice answered a query: the reviewer the claim is assigned to hears of it,
    else every reviewer of the claim's ICB."""
    claim = _claim_name(invoice)
    where = f"line {line.position} of claim" if line is not None else "claim"
    body = f"{invoice.practice.name} answered the query on {where} {invoice.number}."
    if line is not None:
        body += f"\n\n{_line_text(line)}"
    body += "\n\nRead the answer, and any evidence with it, on the claim's page."
    _write(
        session,
        _reviewers(session, invoice),
        Kind.QUERY_ANSWERED,
        invoice,
        line,
        subject=f"Answer to a query on claim {invoice.number} ({claim})",
        body=body,
        link_path=f"/review/claims/{invoice.id}" + (f"#line-{line.id}" if line else ""),
    )


def _write(
    session: Session,
    people: Iterable[User],
    kind: Kind,
    invoice: Invoice,
    line: InvoiceLine | None,
    *,
    subject: str,
    body: str,
    link_path: str,
) -> None:
    for person in people:  # _members leaves out whoever switched notifications off
        session.add(
            Notification(
                user_id=person.id,
                kind=kind.value,
                invoice_id=invoice.id,
                invoice_line_id=line.id if line is not None else None,
                delivery=person.notify,
                subject=subject[:200],
                body=body,
                link_path=link_path[:200],
            )
        )


def _practice_people(session: Session, invoice: Invoice) -> list[User]:
    """The practice's active managers and finance staff."""
    return _members(
        session,
        Membership.practice_id == invoice.practice_id,
        Membership.role.in_([role.value for role in PRACTICE_ROLES]),
    )


def _reviewers(session: Session, invoice: Invoice) -> list[User]:
    """The claim's assigned reviewer while they still review for its ICB, else all of the
    ICB's reviewers (as work_queue.reviewers_of lists them)."""
    reviewers = _members(
        session, Membership.icb_id == invoice.icb_id, Membership.role == Role.ICB_REVIEWER.value
    )
    assigned = [r for r in reviewers if r.id == invoice.assigned_to_id]
    return assigned or reviewers


def _members(session: Session, *conditions: ColumnElement[bool]) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .where(
                User.active == true(),
                User.notify != NotifyPreference.OFF.value,
                exists().where(Membership.user_id == User.id, *conditions),
            )
            .order_by(User.id)
        )
    )


def _claim_name(invoice: Invoice) -> str:
    practice = invoice.practice
    return f"{practice.name}, {practice.ods_code}"


def _icb_name(session: Session, invoice: Invoice) -> str:
    icb = session.get(Icb, invoice.icb_id)
    return icb.name if icb is not None else "The ICB"


def _line_text(line: InvoiceLine) -> str:
    return (
        f"Line {line.position}, {cost_kind_label(line.kind)}: "
        f"{shortened(line.description, 80)} ({format_money(line.total_amount)} claimed)"
    )


def _decided_line_text(line: InvoiceLine) -> str:
    decision: LineDecision | None = line.decision
    if decision is None:  # pragma: no cover - a released claim is decided
        return _line_text(line)
    outcome = decision_tag(decision.decision).label
    if decision.approved_amount is not None and decision.decision == "part_approved":
        outcome += f" {format_money(decision.approved_amount)}"
    reason = f" Reason: {decision.reason}" if decision.reason else ""
    return f"{_line_text(line)}\n  {outcome}.{reason}"


# --- sending -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    sent: int = 0  # emails the server took
    failed: int = 0  # emails it refused or could not be reached for
    dropped: int = 0  # rows whose person may no longer hear of the claim

    @property
    def summary(self) -> str:
        text = f"sent {self.sent}, failed {self.failed}"
        return text + (f", not sent {self.dropped} (no longer allowed)" if self.dropped else "")


def send_each(
    session: Session, settings: MailSettings, base_url: str, now: datetime | None = None
) -> SendResult:
    """Send every waiting "each" row, one email per row. Commits as it goes: the claim before
    sending (so another sender skips the rows), each outcome after its email."""
    token, rows = _claim(session, NotifyPreference.EACH, now or utcnow())
    sent = failed = dropped = 0
    for row in rows:
        if not may_hear(session, row):
            _finish(session, [row.id], token, error="Not sent: no longer allowed to see it")
            dropped += 1
            continue
        message = compose(settings, row.user, row.subject, _with_link(row, base_url), base_url)
        if _deliver(session, settings, message, [row.id], token):
            sent += 1
        else:
            failed += 1
    return SendResult(sent, failed, dropped)


def send_digests(
    session: Session, settings: MailSettings, base_url: str, now: datetime | None = None
) -> SendResult:
    """Send each person one email listing their waiting "digest" rows, oldest first."""
    token, rows = _claim(session, NotifyPreference.DIGEST, now or utcnow())
    by_user: dict[int, list[Notification]] = {}
    for row in rows:
        by_user.setdefault(row.user_id, []).append(row)
    sent = failed = dropped = 0
    for items in by_user.values():
        allowed = [row for row in items if may_hear(session, row)]
        refused = [row.id for row in items if row not in allowed]
        if refused:
            _finish(session, refused, token, error="Not sent: no longer allowed to see it")
            dropped += len(refused)
        if not allowed:
            continue
        subject, body = digest_text(allowed, base_url)
        message = compose(settings, allowed[0].user, subject, body, base_url)
        if _deliver(session, settings, message, [row.id for row in allowed], token):
            sent += 1
        else:
            failed += 1
    return SendResult(sent, failed, dropped)


def _claim(
    session: Session, delivery: NotifyPreference, now: datetime
) -> tuple[str, list[Notification]]:
    """Claim the waiting rows of `delivery` for this run with one conditional UPDATE, commit,
    and read them back: the rows another sender claimed (and has not abandoned) are not
    touched, so no row is sent by two senders."""
    token = uuid.uuid4().hex
    rows = table_of(Notification)
    rows_updated(
        session,
        update(rows)
        .where(
            rows.c.sent_at.is_(None),
            rows.c.delivery == delivery.value,
            rows.c.attempts < MAX_ATTEMPTS,
            or_(rows.c.claimed_at.is_(None), rows.c.claimed_at < now - STALE_CLAIM),
        )
        .values(claimed_at=now, claim_token=token),
    )
    session.commit()
    claimed = list(
        session.scalars(
            select(Notification)
            .options(
                joinedload(Notification.user).selectinload(User.memberships),
                joinedload(Notification.invoice).joinedload(Invoice.practice),
            )
            .where(Notification.claim_token == token)
            .order_by(Notification.user_id, Notification.created_at, Notification.id)
        )
    )
    return token, claimed


def may_hear(session: Session, row: Notification) -> bool:
    """Whether the row's person may still hear of its claim: active, and a manager or finance
    member of the claim's practice (practice kinds, with the claim's decisions released for
    a release), or a member of the claim's ICB (an answer)."""
    user, invoice = row.user, row.invoice
    if not user.active:
        return False
    if row.kind in PRACTICE_KINDS:
        member = any(
            m.practice_id == invoice.practice_id and m.role in PRACTICE_ROLES
            for m in user.memberships
        )
        return member and (row.kind != Kind.CLAIM_RELEASED or decisions_released(invoice))
    return any(m.icb_id == invoice.icb_id and m.role in ICB_ROLES for m in user.memberships)


def _deliver(
    session: Session, settings: MailSettings, message: EmailMessage, ids: list[int], token: str
) -> bool:
    try:
        deliver(settings, message)
    except DeliveryFailed as failure:
        _release(session, ids, token, failure.reason)
        return False
    _finish(session, ids, token, error="")
    return True


def _finish(session: Session, ids: Sequence[int], token: str, *, error: str) -> None:
    """Mark the rows done (sent, or given up for the reason in `error`) and commit, so a
    later failure in the run cannot send them again."""
    rows = table_of(Notification)
    rows_updated(
        session,
        update(rows)
        .where(rows.c.id.in_(ids), rows.c.claim_token == token)
        .values(sent_at=utcnow(), attempts=rows.c.attempts + 1, last_error=error),
    )
    session.commit()


def _release(session: Session, ids: Sequence[int], token: str, error: str) -> None:
    """A failed send: count the attempt, keep the server's words, let the next run retry."""
    rows = table_of(Notification)
    rows_updated(
        session,
        update(rows)
        .where(rows.c.id.in_(ids), rows.c.claim_token == token)
        .values(
            claimed_at=None,
            claim_token=None,
            attempts=rows.c.attempts + 1,
            last_error=error[:2000],
        ),
    )
    session.commit()


# --- the messages --------------------------------------------------------------------------


def link(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _with_link(row: Notification, base_url: str) -> str:
    return f"{row.body}\n\nOpen it: {link(base_url, row.link_path)}"


def digest_text(rows: Sequence[Notification], base_url: str) -> tuple[str, str]:
    """The subject and body of one person's digest: every event, oldest first, each with its
    own link."""
    count = len(rows)
    subject = (
        f"Outage Claims: {count} update{'s' if count != 1 else ''} on claims"
        if count > 1
        else rows[0].subject
    )
    parts = [
        f"{index}. {row.subject}\n\n{_with_link(row, base_url)}"
        for index, row in enumerate(rows, start=1)
    ]
    rule = "\n\n" + "-" * 40 + "\n\n"
    return subject, "What happened on claims since the last email:\n\n" + rule.join(parts)


#: The page where each person chooses how they hear of events (tracker.auth's route).
PREFERENCES_PATH = "/account/notifications"


def compose(
    settings: MailSettings, user: User, subject: str, body: str, base_url: str
) -> EmailMessage:
    """A plain-text message to one person, from the app's sender address."""
    message = EmailMessage()
    message["From"] = Address(display_name="Outage Claims", addr_spec=settings.sender)
    message["To"] = Address(display_name=user.name[:80], addr_spec=user.email)
    message["Subject"] = subject[:200]
    # a Date header is required (RFC 5322 3.6); smtplib does not add one
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2] or None)
    footer = (
        "\n\n--\nYou receive these emails because of your role on these claims. To have "
        f"them less often, or not at all: {link(base_url, PREFERENCES_PATH)}"
    )
    message.set_content(f"Hello {user.name},\n\n{body}{footer}\n")
    return message
