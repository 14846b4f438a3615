"""Outage events practices propose, and their ICB confirms or merges (issue 14).

A practice hit by an outage its ICB has not added yet should not wait for the ICB: it
proposes the event and uses it at once for its own incidents. Until its ICB decides, the
proposal is seen only by that practice's users, by the reviewers (and finance approvers) of
the practice's ICB, and by administrators: another practice could otherwise link its
incidents to, or read, a name and description nobody has checked (OWASP ASVS 4.0.3 V4.2.1:
records are checked against the user, not the id). The ICB is the proposing practice's ICB
as it is now, the one that will receive the practice's claims.

The reviewer then either
- **confirms** it: it becomes an ordinary event, offered to every practice; or
- **merges** it into an existing confirmed event: the proposal's incidents, and the
  invoices (issued or not) naming it, move to the target in one transaction, with an audit
  entry per incident and one for the merge; the proposal is kept, marked merged and
  pointing to its target, so old links lead there.

Moving an issued invoice's event is allowed: what issuing freezes is the invoice's lines,
addresses and totals (PRODUCT.md, journey 4; services.invoicing.issue_invoice), and the
event is none of them. It is how the ICB's reports and claim checks group claims
(services.reports, services.claim_policy), and after a merge those must count the claim
under the outage it belongs to; left on the proposal it would drop out of the event's report.

Claim policies: a proposed event cannot carry one (services.claim_policy.save_policy
refuses it). An ICB writes its policy for the confirmed event, so a merge never has two
policies to reconcile, and a practice never sees terms for an event its ICB has not
accepted. Merging still refuses a proposal with a policy, should one exist.

Both decisions are check-then-write rules: each is one conditional UPDATE on
`status = proposed`, so of two decisions at the same moment exactly one changes the row and
the other is told what happened (services.locks explains why the check must be the write).
Whoever writes an incident naming an event, or issues an invoice naming it, holds the
event's row first (`hold_usable`), so a merge either comes after them and moves what they
wrote, or before them, and they are refused (an incident) or follow it (an invoice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, false, func, or_, select, true, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tracker.models import (
    SYSTEMS,
    AuditEntry,
    ClaimPolicy,
    EventStatus,
    Incident,
    Invoice,
    OutageEvent,
    Practice,
    rows_updated,
    string_length,
    table_of,
)
from tracker.services import audit, locks
from tracker.services.errors import Conflict, Invalid
from tracker.services.text import text_problem

#: Longest description kept for an event (as for an incident's free text).
MAX_TEXT = 5000

#: Events a practice may choose for its incidents, and that can hold incidents at all.
USABLE = (EventStatus.CONFIRMED, EventStatus.PROPOSED)


@dataclass(frozen=True)
class Viewer:
    """Who is looking, as far as outage events are concerned: the practices whose own data
    they see, the ICBs whose claims they read (reviewers and approvers), and whether they
    are an administrator. Built by tracker.access from the signed-in user."""

    practice_ids: frozenset[int] = field(default_factory=frozenset)
    icb_ids: frozenset[int] = field(default_factory=frozenset)
    is_admin: bool = False


def _proposed_in_icbs(icb_ids: frozenset[int]) -> ColumnElement[bool]:
    if not icb_ids:
        return false()
    return OutageEvent.proposed_by_practice_id.in_(
        select(Practice.id).where(Practice.icb_id.in_(icb_ids))
    )


def visible(viewer: Viewer) -> ColumnElement[bool]:
    """A WHERE clause on OutageEvent: the events `viewer` may see. Confirmed events are
    everyone's; a proposal (and a merged one, whose link leads to its target) is its
    practice's, its ICB's reviewers' and administrators'."""
    if viewer.is_admin:
        return true()
    own = (
        OutageEvent.proposed_by_practice_id.in_(viewer.practice_ids)
        if viewer.practice_ids
        else false()
    )
    return or_(OutageEvent.status == EventStatus.CONFIRMED, own, _proposed_in_icbs(viewer.icb_ids))


def visible_event(session: Session, event_id: int, viewer: Viewer) -> OutageEvent | None:
    """The event, if `viewer` may see it; None otherwise (the caller answers 404)."""
    return session.scalar(select(OutageEvent).where(OutageEvent.id == event_id, visible(viewer)))


def choosable(practice_id: int | None) -> ColumnElement[bool]:
    """A WHERE clause on OutageEvent: the events an incident of the practice may name, the
    confirmed ones and the practice's own proposals waiting for its ICB."""
    own = OutageEvent.proposed_by_practice_id == practice_id if practice_id is not None else false()
    return or_(
        OutageEvent.status == EventStatus.CONFIRMED,
        (OutageEvent.status == EventStatus.PROPOSED) & own,
    )


def choices(session: Session, practice_id: int | None) -> list[OutageEvent]:
    """The events offered to the practice: confirmed ones and its own proposals, newest
    first."""
    return list(
        session.scalars(
            select(OutageEvent)
            .where(choosable(practice_id))
            .order_by(OutageEvent.started_on.desc(), OutageEvent.name)
        )
    )


def listed(session: Session, viewer: Viewer) -> list[OutageEvent]:
    """The events page's list: every event the viewer may see but merged proposals (whose
    incidents now belong to their target), newest first."""
    return list(
        session.scalars(
            select(OutageEvent)
            .where(visible(viewer), OutageEvent.status != EventStatus.MERGED)
            .order_by(OutageEvent.started_on.desc(), OutageEvent.name)
        )
    )


def own_proposals(session: Session, practice_id: int) -> list[OutageEvent]:
    """Every event the practice proposed, whatever became of it, newest first: the practice
    reads here what its ICB decided."""
    return list(
        session.scalars(
            select(OutageEvent)
            .where(OutageEvent.proposed_by_practice_id == practice_id)
            .order_by(OutageEvent.created_at.desc(), OutageEvent.id.desc())
        )
    )


def waiting_for(session: Session, icb_ids: frozenset[int]) -> list[OutageEvent]:
    """Proposals of the ICBs' practices waiting for a decision, oldest first."""
    return list(
        session.scalars(
            select(OutageEvent)
            .where(OutageEvent.status == EventStatus.PROPOSED, _proposed_in_icbs(icb_ids))
            .order_by(OutageEvent.created_at, OutageEvent.id)
        )
    )


def waiting_count(session: Session, icb_ids: frozenset[int]) -> int:
    """How many proposals of the ICBs' practices wait for a decision (the review area's
    count)."""
    count = session.scalar(
        select(func.count(OutageEvent.id)).where(
            OutageEvent.status == EventStatus.PROPOSED, _proposed_in_icbs(icb_ids)
        )
    )
    return int(count or 0)


def decider_icb(session: Session, event: OutageEvent) -> int | None:
    """The ICB whose reviewers decide the proposal: its practice's ICB today."""
    if event.proposed_by_practice_id is None:
        return None
    icb_id: int | None = session.scalar(
        select(Practice.icb_id).where(Practice.id == event.proposed_by_practice_id)
    )
    return icb_id


# --- proposing -----------------------------------------------------------------------------


def normal_name(name: str) -> str:
    """The name as stored: runs of spaces made one, ends trimmed."""
    return " ".join(name.split())


def event_problems(
    name: str, started_on: date | None, description: str, today: date
) -> list[Invalid]:
    """Every problem of an event's name, start date and description, each naming its field
    (whoever adds the event). Whether the name is taken is checked apart."""
    problems: list[Invalid] = []
    if not normal_name(name):
        problems.append(Invalid("Enter a name for the outage event", "name"))
    elif problem := text_problem("Name", name, string_length(OutageEvent, "name")):
        problems.append(Invalid(problem, "name"))
    if started_on and started_on > today:
        problems.append(Invalid("Start date must be today or in the past", "started_on"))
    if problem := text_problem("Description", description, MAX_TEXT, multiline=True):
        problems.append(Invalid(problem, "description"))
    return problems


class NameTaken(Invalid):
    """The name is an existing event's: `event_id` names it, so the page can point to it
    when the user may see it."""

    def __init__(self, message: str, event_id: int) -> None:
        super().__init__(message, "name")
        self.event_id = event_id


def name_clash(session: Session, name: str, viewer: Viewer) -> NameTaken | None:
    """Refusal of a proposal whose name is taken: pointing to the event when the viewer may
    see it, and saying no more than that a practice has proposed it when not."""
    found = session.scalar(
        select(OutageEvent).where(func.lower(OutageEvent.name) == normal_name(name).lower())
    )
    if found is None:
        return None
    shown = session.scalar(
        select(OutageEvent.id).where(OutageEvent.id == found.id, visible(viewer))
    )
    if shown is None:
        return NameTaken(
            "Another practice has proposed an outage event with this name, and its ICB has "
            "not confirmed it yet. Choose a name that tells your outage apart, or ask your ICB",
            found.id,
        )
    if found.status == EventStatus.MERGED and found.merged_into is not None:
        found = found.merged_into
    return NameTaken(
        f"There is already an outage event called “{found.name}”: select it for your "
        "incident instead of proposing it again",
        found.id,
    )


@dataclass
class Proposal:
    """What a practice types when it proposes an event."""

    name: str
    started_on: date | None
    description: str = ""
    systems: list[str] = field(default_factory=list)


def proposal_problems(
    session: Session, proposal: Proposal, viewer: Viewer, today: date
) -> list[Invalid]:
    """Every problem of a proposal, each naming its field: the event's own rules
    (services.incidents.event_problems), a start date (a proposal without one cannot be
    told from the next outage of the same system), known systems, and a name not taken."""
    problems = event_problems(proposal.name, proposal.started_on, proposal.description, today)
    if proposal.started_on is None and not any(p.field == "started_on" for p in problems):
        problems.append(Invalid("Enter the date the outage started", "started_on"))
    if any(key not in SYSTEMS for key in proposal.systems):
        problems.append(Invalid("Select the systems affected from the list", "systems"))
    if normal_name(proposal.name) and not any(p.field == "name" for p in problems):
        clash = name_clash(session, proposal.name, viewer)
        if clash is not None:
            problems.append(clash)
    return problems


def propose(
    session: Session,
    practice_id: int,
    user_id: int | None,
    proposal: Proposal,
    viewer: Viewer,
    today: date,
) -> OutageEvent:
    """Save a practice's proposal, usable at once by that practice. The caller commits.
    Two proposals of one name at the same moment meet the unique name: the second is told
    the name is taken, as if it had come a moment later."""
    problems = proposal_problems(session, proposal, viewer, today)
    if problems:
        raise problems[0]
    event = OutageEvent(
        name=normal_name(proposal.name),
        started_on=proposal.started_on,
        description=proposal.description.strip(),
        systems=",".join(key for key in SYSTEMS if key in proposal.systems),
        status=EventStatus.PROPOSED,
        proposed_by_practice_id=practice_id,
        created_by_id=user_id,
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError as error:
        clash = name_clash(session, proposal.name, viewer)
        raise clash or Invalid("Choose another name", "name") from error
    audit.record(
        session,
        user_id=user_id,
        entity=event,
        action="propose",
        practice_id=practice_id,
        summary=f"Outage event proposed: {event.name}",
        changes=audit.diff({}, audit.snapshot(event, ["name", "started_on", "systems"])),
    )
    return event


# --- deciding ------------------------------------------------------------------------------


def refusal_text(event: OutageEvent) -> str:
    """What a decision on an event no longer proposed tells the reviewer."""
    if event.status == EventStatus.MERGED and event.merged_into is not None:
        return (
            f"“{event.name}” has already been merged into “{event.merged_into.name}”: "
            "nothing was changed."
        )
    return (
        f"“{event.name}” has already been confirmed: it is an outage event every practice "
        "can use, and nothing was changed."
    )


def _refusal(session: Session, event_id: int) -> Conflict:
    """The refusal of a decision that found the proposal decided a moment ago by someone
    else, read as committed."""
    session.expire_all()
    event = session.get(OutageEvent, event_id)
    if event is None:
        return Conflict("This outage event no longer exists.")
    return Conflict(f"Someone else decided a moment ago. {refusal_text(event)}")


def _decide(
    session: Session, event_id: int, user_id: int | None, now: datetime, **values: object
) -> None:
    """The one conditional UPDATE that takes a proposal out of `proposed`; Conflict when
    another decision came first."""
    events = table_of(OutageEvent)
    changed = rows_updated(
        session,
        update(events)
        .where(events.c.id == event_id, events.c.status == EventStatus.PROPOSED)
        .values(decided_by_id=user_id, decided_at=now, **values),
    )
    if changed != 1:
        raise _refusal(session, event_id)


def confirm(session: Session, event: OutageEvent, user_id: int | None, now: datetime) -> None:
    """Make a proposal an ordinary event, offered to every practice. The caller commits."""
    _decide(session, event.id, user_id, now, status=EventStatus.CONFIRMED)
    session.refresh(event)
    audit.record(
        session,
        user_id=user_id,
        entity=event,
        action="confirm",
        practice_id=event.proposed_by_practice_id,
        summary=f"Outage event confirmed: {event.name}",
        changes={"status": [EventStatus.PROPOSED.value, EventStatus.CONFIRMED.value]},
    )


def merge_targets(session: Session, event: OutageEvent) -> list[OutageEvent]:
    """The events a proposal may be merged into: every confirmed event but itself."""
    return list(
        session.scalars(
            select(OutageEvent)
            .where(OutageEvent.status == EventStatus.CONFIRMED, OutageEvent.id != event.id)
            .order_by(OutageEvent.started_on.desc(), OutageEvent.name)
        )
    )


def _check_target(session: Session, event: OutageEvent, target_id: int | None) -> OutageEvent:
    if target_id is None:
        raise Invalid("Select the outage event to merge it into", "target_id")
    target = session.get(OutageEvent, target_id)
    if target is None:
        raise Invalid("Select the outage event to merge it into", "target_id")
    if target.id == event.id:
        raise Invalid("An outage event cannot be merged into itself", "target_id")
    if target.status != EventStatus.CONFIRMED:
        raise Invalid(
            f"“{target.name}” is not a confirmed outage event: merge into a confirmed one "
            "(confirm it first if it is the right one)",
            "target_id",
        )
    return target


@dataclass(frozen=True)
class Merged:
    """What a merge moved: the incidents and the invoices, by id, and where to."""

    target_name: str
    incident_ids: list[int]
    invoice_ids: list[int]

    @property
    def moved(self) -> str:
        """ "2 incidents and 1 invoice moved", as the reviewer is told."""
        incidents, invoices = len(self.incident_ids), len(self.invoice_ids)
        return (
            f"{incidents} incident{'' if incidents == 1 else 's'} and "
            f"{invoices} invoice{'' if invoices == 1 else 's'} moved"
        )


def merge(
    session: Session, event: OutageEvent, target_id: int | None, user_id: int | None, now: datetime
) -> Merged:
    """Merge a proposal into a confirmed event, all in the caller's transaction (the caller
    commits, or rolls back on any error): the proposal is marked merged first (the
    conditional UPDATE that settles a race), then its incidents and the invoices naming it
    move to the target, each incident audited, and the merge itself audited."""
    target = _check_target(session, event, target_id)
    if session.scalar(select(ClaimPolicy.id).where(ClaimPolicy.outage_event_id == event.id)):
        raise Conflict("This proposal has a claim policy: it cannot be merged.")
    _decide(session, event.id, user_id, now, status=EventStatus.MERGED, merged_into_id=target.id)
    moved_incidents = _move_incidents(session, event, target, user_id)
    moved_invoices = _move_invoices(session, event.id, target.id)
    session.refresh(event)
    audit.record(
        session,
        user_id=user_id,
        entity=event,
        action="merge",
        practice_id=event.proposed_by_practice_id,
        summary=f"Outage event “{event.name}” merged into “{target.name}”",
        changes={
            "status": [EventStatus.PROPOSED.value, EventStatus.MERGED.value],
            "merged_into_id": [None, target.id],
            "incidents": moved_incidents,
            "invoices": moved_invoices,
        },
    )
    return Merged(target.name, moved_incidents, moved_invoices)


def _move_incidents(
    session: Session, event: OutageEvent, target: OutageEvent, user_id: int | None
) -> list[int]:
    incidents = table_of(Incident)
    moved = sorted(
        session.scalars(
            update(incidents)
            .where(incidents.c.outage_event_id == event.id)
            .values(outage_event_id=target.id)
            .returning(incidents.c.id)
        )
    )
    for incident in session.scalars(
        select(Incident).where(Incident.id.in_(moved)).execution_options(populate_existing=True)
    ):
        session.add(
            AuditEntry(
                user_id=user_id,
                practice_id=incident.practice_id,
                incident_id=incident.id,
                entity_type="Incident",
                entity_id=incident.id,
                action="update",
                summary=f"Outage event merged by the ICB: now “{target.name}”"[:300],
                changes=json.dumps({"outage_event_id": [event.id, target.id]}),
            )
        )
    return moved


def _move_invoices(session: Session, event_id: int, target_id: int) -> list[int]:
    """Move every invoice naming the proposal. The invoices are held first: a credit note
    being written for one of them (which copies its event) is waited for, and then found
    by the UPDATE, a statement of its own that sees what was committed meanwhile."""
    invoices = table_of(Invoice)
    locks.hold(session, Invoice, invoices.c.outage_event_id == event_id)
    return sorted(
        session.scalars(
            update(invoices)
            .where(invoices.c.outage_event_id == event_id)
            .values(outage_event_id=target_id)
            .returning(invoices.c.id)
        )
    )


# --- writers that name an event ------------------------------------------------------------


MERGED_MEANWHILE = (
    "Your ICB has just merged this outage event into another one: select the event again"
)


def hold_usable(session: Session, event_id: int) -> None:
    """Hold the event's row for the rest of the transaction (services.locks) while it can
    still hold incidents; Invalid (on the form's event field) when it was merged meanwhile.
    Called before an incident is written naming it, so a merge moves that incident too."""
    events = table_of(OutageEvent)
    if not locks.hold(session, OutageEvent, events.c.id == event_id, events.c.status.in_(USABLE)):
        raise Invalid(MERGED_MEANWHILE, "outage_event_id")


def follow_merge(session: Session, event_id: int | None) -> int | None:
    """The event an invoice being issued should name: `event_id`, or, if it was merged
    (before this, or while this waited for its row), the event it was merged into."""
    if event_id is None:
        return None
    events = table_of(OutageEvent)
    locks.hold_one(session, OutageEvent, event_id)
    row = session.execute(
        select(events.c.status, events.c.merged_into_id).where(events.c.id == event_id)
    ).one_or_none()
    if row is not None and row.status == EventStatus.MERGED and row.merged_into_id is not None:
        return int(row.merged_into_id)
    return event_id


def usable_problem(session: Session, event_id: int, practice_id: int | None) -> Invalid | None:
    """Why the practice's incident cannot name the event, or None when it can."""
    event = session.get(OutageEvent, event_id)
    if event is None:
        return Invalid("Select an outage event from the list", "outage_event_id")
    if event.status == EventStatus.MERGED:
        if event.proposed_by_practice_id == practice_id and event.merged_into is not None:
            return Invalid(
                f"Your ICB merged this event into “{event.merged_into.name}”: select that one",
                "outage_event_id",
            )
        return Invalid("Select an outage event from the list", "outage_event_id")
    if event.status == EventStatus.PROPOSED and event.proposed_by_practice_id != practice_id:
        return Invalid("Select an outage event from the list", "outage_event_id")
    return None
