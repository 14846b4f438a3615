"""Races on a proposed outage event (issue 14), with real threads released together by a
barrier (tests.integration.test_races), on SQLite and PostgreSQL.

- A confirm and a merge at the same moment: exactly one decides; the other is told.
- Two merges into different events at the same moment: exactly one moves the incidents
  and claims, all to its target; the other is told.
- An incident logged under the proposal while it is merged: it ends up under the target,
  or is refused with a message; never left under the merged proposal.
"""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import (
    World,
    make_claim,
    make_event,
    make_incident,
    make_proposed_event,
)
from tests.integration.test_incidents import incident_form
from tests.integration.test_races import Outcome, in_thread, race, signed_in
from tracker.extensions import db
from tracker.models import AuditEntry, EventStatus, Incident, Invoice, OutageEvent

ROUNDS = 8

#: What a practice logging an incident under a proposal just merged is told, beside the
#: event: when the form was checked after the merge, or while the merge held the event.
MERGED = ("Your ICB merged this event into", "Your ICB has just merged this outage event")
#: What the side that lost is told, on the page it lands on.
TOLD = ("Someone else decided a moment ago", "has already been")


def _proposal(world: World) -> tuple[int, int, int]:
    """A fresh proposal of practice A with an incident and a claim under it, and two
    confirmed events to merge it into: their ids."""
    proposal = make_proposed_event(db.session, world.practice_a)
    make_incident(db.session, world.practice_a, outage_event_id=proposal.id)
    make_claim(db.session, world.practice_a, proposal, user=world.manager)
    first, second = make_event(db.session), make_event(db.session)
    db.session.commit()
    return proposal.id, first.id, second.id


def _confirm(event_id: int):  # -> Request
    return lambda client: client.post(f"/outage-events/{event_id}/confirm")


def _merge(event_id: int, target_id: int):  # -> Request
    return lambda client: client.post(
        f"/outage-events/{event_id}/merge", data={"target_id": target_id}
    )


def _told(client: FlaskClient, event_id: int) -> bool:
    """Whether the page the losing side was sent to says someone else decided."""
    page = in_thread(lambda: client.get(f"/outage-events/{event_id}", follow_redirects=True))
    return any(text in page.get_data(as_text=True) for text in TOLD)


def _where_things_are(event_id: int) -> tuple[OutageEvent, set[int | None], set[int | None]]:
    """The event as committed, and the events its former incidents and claims name now."""
    db.session.expire_all()
    event = db.session.get(OutageEvent, event_id)
    assert event is not None
    practice_incidents = select(Incident.outage_event_id).where(
        Incident.practice_id == event.proposed_by_practice_id,
        Incident.outage_event_id.in_(
            select(OutageEvent.id).where(
                (OutageEvent.id == event_id) | (OutageEvent.id == event.merged_into_id)
            )
        ),
    )
    claims = select(Invoice.outage_event_id).where(
        Invoice.practice_id == event.proposed_by_practice_id,
        Invoice.outage_event_id.in_(
            select(OutageEvent.id).where(
                (OutageEvent.id == event_id) | (OutageEvent.id == event.merged_into_id)
            )
        ),
    )
    return event, set(db.session.scalars(practice_incidents)), set(db.session.scalars(claims))


def _decisions(event_id: int) -> int:
    return (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.entity_type == "OutageEvent",
                AuditEntry.entity_id == event_id,
                AuditEntry.action.in_(("confirm", "merge")),
            )
        )
        or 0
    )


def _answered_well(outcomes: list[Outcome]) -> bool:
    return all(outcome.acceptable for outcome in outcomes)


def test_confirm_and_merge_at_once_exactly_one_decides(app_ctx: Flask, world: World) -> None:
    confirmer, merger = signed_in(app_ctx, world.reviewer), signed_in(app_ctx, world.admin)
    wrong = []
    for number in range(ROUNDS):
        proposal_id, target_id, _ = _proposal(world)
        outcomes = race(
            [(confirmer, _confirm(proposal_id)), (merger, _merge(proposal_id, target_id))]
        )
        event, incident_events, claim_events = _where_things_are(proposal_id)
        if event.status == EventStatus.MERGED:
            expected, loser = {target_id}, confirmer
        else:
            expected, loser = {proposal_id}, merger
        problems = []
        if event.status == EventStatus.PROPOSED or _decisions(proposal_id) != 1:
            problems.append(f"{event.status}, {_decisions(proposal_id)} decisions")
        if incident_events != expected or claim_events != expected:
            problems.append(f"incidents {incident_events}, claims {claim_events}")
        if not _answered_well(outcomes) or not _told(loser, proposal_id):
            problems.append(f"answers {[str(o) for o in outcomes]}")
        if problems:
            wrong.append(f"round {number}: {problems}")
    assert not wrong, wrong[:3]


def test_two_merges_at_once_move_everything_to_one_target(app_ctx: Flask, world: World) -> None:
    first, second = signed_in(app_ctx, world.reviewer), signed_in(app_ctx, world.reviewer)
    wrong = []
    for number in range(ROUNDS):
        proposal_id, one, other = _proposal(world)
        outcomes = race([(first, _merge(proposal_id, one)), (second, _merge(proposal_id, other))])
        event, incident_events, claim_events = _where_things_are(proposal_id)
        problems = []
        if event.status != EventStatus.MERGED or _decisions(proposal_id) != 1:
            problems.append(f"{event.status}, {_decisions(proposal_id)} decisions")
        target = {event.merged_into_id}
        if incident_events != target or claim_events != target:
            problems.append(f"target {target}: incidents {incident_events}, claims {claim_events}")
        loser = second if event.merged_into_id == one else first
        if not _answered_well(outcomes) or not _told(loser, proposal_id):
            problems.append(f"answers {[str(o) for o in outcomes]}")
        if problems:
            wrong.append(f"round {number}: {problems}")
    assert not wrong, wrong[:3]


def test_an_incident_logged_while_its_proposal_is_merged_follows_or_is_refused(
    app_ctx: Flask, world: World
) -> None:
    manager, reviewer = signed_in(app_ctx, world.manager), signed_in(app_ctx, world.reviewer)
    wrong = []
    for number in range(ROUNDS):
        proposal_id, target_id, _ = _proposal(world)
        title = f"Broadband down, round {number}"
        outcomes = race(
            [
                (
                    manager,
                    lambda client, p=proposal_id, t=title: client.post(
                        "/incidents/new", data=incident_form(title=t, outage_event_id=str(p))
                    ),
                ),
                (reviewer, _merge(proposal_id, target_id)),
            ]
        )
        db.session.expire_all()
        logged = db.session.scalar(select(Incident).where(Incident.title == title))
        logging = outcomes[0]
        problems = []
        if logged is not None and logged.outage_event_id != target_id:
            problems.append(f"the new incident names {logged.outage_event_id}")
        if logged is None and not (
            logging.status == 200 and any(text in logging.text for text in MERGED)
        ):
            problems.append(f"refused without saying why: {logging}")
        if not _answered_well(outcomes):
            problems.append(f"answers {[str(o) for o in outcomes]}")
        if problems:
            wrong.append(f"round {number}: {problems}")
    assert not wrong, wrong[:3]
