"""Practices propose outage events (issue 14): usable at once for their own incidents, seen
only by the practice, its ICB's reviewers and administrators, then confirmed or merged by
the ICB's reviewer, with the incidents and invoices naming a merged proposal moved to its
target in one transaction. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import (
    World,
    make_claim,
    make_event,
    make_incident,
    make_proposed_event,
    make_staff_line,
)
from tests.integration.test_incidents import incident_form, input_value
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    ClaimPolicy,
    EventStatus,
    Incident,
    Invoice,
    OutageEvent,
    utcnow,
)
from tracker.services import claim_policy, events, incidents, invoicing
from tracker.services.errors import Conflict, Invalid

PROPOSAL = {
    "name": "Holloway Road broadband outage, 3 March 2025",
    "started_on": "2025-03-03",
    "systems": ["internet", "emis_web"],
    "description": "Street works cut the fibre to the practice.",
}


def _count(model: type, *where: object) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _switch(client: FlaskClient, practice_id: int) -> None:
    response = client.post("/switch-practice", data={"practice_id": practice_id})
    assert response.status_code == 302


def _as(client: FlaskClient, user) -> FlaskClient:
    client.post("/logout")
    return login(client, user)


# --- proposing -----------------------------------------------------------------------------


def test_a_manager_proposes_from_the_incident_form_and_uses_it_at_once(
    as_manager: FlaskClient, world: World
) -> None:
    form = as_manager.get("/incidents/new").data.decode()
    assert "Not in the list?" in form
    assert "/outage-events/propose?back=new" in form
    response = as_manager.post("/outage-events/propose", data={**PROPOSAL, "back": "new"})
    assert response.status_code == 302
    event = db.session.scalars(select(OutageEvent)).one()
    assert (event.status, event.proposed_by_practice_id) == (
        EventStatus.PROPOSED,
        world.practice_a.id,
    )
    assert event.systems == "emis_web,internet"
    assert response.location.endswith(f"/incidents/new?event={event.id}")
    page = as_manager.get(response.location).data.decode()
    assert f'<option selected value="{event.id}">' in page
    assert "(proposed by you)" in page
    saved = as_manager.post("/incidents/new", data=incident_form(outage_event_id=str(event.id)))
    assert saved.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert incident.outage_event_id == event.id
    shown = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "Proposed, waiting for your ICB" in shown
    assert "Proposed, waiting for your ICB" in as_manager.get(f"/outage-events/{event.id}").text
    assert _count(AuditEntry, AuditEntry.action == "propose") == 1


def test_finance_proposes_too_but_only_for_the_practice_it_works_as(
    client: FlaskClient, world: World
) -> None:
    login(client, world.finance)
    _switch(client, world.practice_a2.id)
    assert client.post("/outage-events/propose", data=PROPOSAL).status_code == 302
    event = db.session.scalars(select(OutageEvent)).one()
    assert event.proposed_by_practice_id == world.practice_a2.id
    _switch(client, world.practice_a.id)
    client.get("/incidents")  # the proposal's message shown
    assert event.name not in client.get("/incidents/new").text
    refused = client.post("/incidents/new", data=incident_form(outage_event_id=str(event.id)))
    assert refused.status_code == 200
    assert _count(Incident) == 0


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", "Enter a name for the event"),
        ({"started_on": ""}, "started_on", "Enter the date the outage started"),
        ({"started_on": "2099-01-01"}, "started_on", "today or in the past"),
        ({"systems": ["teleport"]}, "systems", "not a valid choice"),
    ],
)
def test_a_bad_proposal_is_shown_next_to_the_field_and_kept(
    as_manager: FlaskClient, world: World, overrides: dict, field: str, message: str
) -> None:
    response = as_manager.post("/outage-events/propose", data={**PROPOSAL, **overrides})
    assert response.status_code == 200
    page = response.data.decode()
    assert f'id="{field}-error"' in page and message in page
    if "name" not in overrides:
        assert input_value(page, "name") == PROPOSAL["name"]
    assert _count(OutageEvent) == 0


def test_a_taken_name_points_to_the_event_the_practice_may_see(
    as_manager: FlaskClient, world: World
) -> None:
    existing = make_event(db.session)
    db.session.commit()
    response = as_manager.post(
        "/outage-events/propose", data={**PROPOSAL, "name": existing.name.upper()}
    )
    page = response.data.decode()
    assert "There is already an outage event called" in page
    assert f'href="/outage-events/{existing.id}"' in page
    assert _count(OutageEvent) == 1


def test_a_name_another_practice_proposed_is_refused_without_showing_it(
    as_manager: FlaskClient, world: World
) -> None:
    other = make_proposed_event(db.session, world.practice_b)
    db.session.commit()
    response = as_manager.post("/outage-events/propose", data={**PROPOSAL, "name": other.name})
    page = response.data.decode()
    assert "Another practice has proposed an outage event with this name" in page
    assert f"/outage-events/{other.id}" not in page
    assert _count(OutageEvent) == 1


def test_reviewers_and_approvers_do_not_propose(client: FlaskClient, world: World) -> None:
    login(client, world.reviewer)
    assert client.get("/outage-events/propose").status_code == 403
    assert client.post("/outage-events/propose", data=PROPOSAL).status_code == 403


# --- who sees a proposal ---------------------------------------------------------------------


def test_a_proposal_is_seen_by_its_practice_its_icb_and_admins_only(
    client: FlaskClient, world: World
) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    db.session.commit()
    url = f"/outage-events/{proposal.id}"
    for user, seen in (
        (world.manager, True),
        (world.finance, True),
        (world.reviewer, True),
        (world.admin, True),
        (world.manager_b, False),
        (world.reviewer_y, False),
    ):
        _as(client, user)
        assert client.get(url).status_code == (200 if seen else 404), user.email
        assert (proposal.name in client.get("/outage-events").text) == seen, user.email
        if user in (world.manager_b,):
            assert proposal.name not in client.get("/incidents/new").text
            assert proposal.name not in client.get("/incidents").text
            response = client.post(
                "/incidents/new", data=incident_form(outage_event_id=str(proposal.id))
            )
            assert response.status_code == 200
            assert input_value(response.text, "title") == "EMIS Web down after CrowdStrike update"
            assert _count(Incident) == 0
        if user in (world.reviewer_y,):
            assert (
                client.get(f"/reports/events/{proposal.id}/icbs/{world.icb_y.id}").status_code
                == 404
            )
            assert client.post(f"{url}/confirm").status_code == 404
            assert client.post(f"{url}/merge", data={"target_id": "1"}).status_code == 404
    assert db.session.get(OutageEvent, proposal.id).status == EventStatus.PROPOSED


def test_the_icb_reviewer_sees_the_count_and_the_list_waiting(
    as_reviewer: FlaskClient, world: World
) -> None:
    make_proposed_event(db.session, world.practice_a)
    make_proposed_event(db.session, world.practice_a2)
    make_proposed_event(db.session, world.practice_b)  # another ICB's
    db.session.commit()
    review = as_reviewer.get("/review").text
    assert "2 outage events proposed by your practices" in review
    page = as_reviewer.get("/outage-events").text
    assert "Proposed by practices, waiting for you (2)" in page
    assert "Beta Medical Centre" not in page


def test_the_practice_cannot_decide_its_own_proposal(as_manager: FlaskClient, world: World) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    target = make_event(db.session)
    db.session.commit()
    assert as_manager.post(f"/outage-events/{proposal.id}/confirm").status_code == 403
    merge = as_manager.post(f"/outage-events/{proposal.id}/merge", data={"target_id": target.id})
    assert merge.status_code == 403
    assert db.session.get(OutageEvent, proposal.id).status == EventStatus.PROPOSED


# --- confirming ------------------------------------------------------------------------------


def test_confirming_makes_it_every_practices_event(client: FlaskClient, world: World) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    db.session.commit()
    login(client, world.reviewer)
    page = client.get(f"/outage-events/{proposal.id}").text
    assert "Confirm this outage event" in page and "Write your ICB" not in page
    response = client.post(f"/outage-events/{proposal.id}/confirm")
    assert response.status_code == 302
    db.session.expire_all()
    confirmed = db.session.get(OutageEvent, proposal.id)
    assert (confirmed.status, confirmed.decided_by_id) == (EventStatus.CONFIRMED, world.reviewer.id)
    assert confirmed.decided_at is not None
    assert "Write your ICB" in client.get(f"/outage-events/{proposal.id}").text
    again = client.post(f"/outage-events/{proposal.id}/confirm", follow_redirects=True)
    assert "has already been confirmed" in again.text
    _as(client, world.manager_b)
    assert proposal.name in client.get("/incidents/new").text
    _as(client, world.manager)
    assert "Confirmed" in client.get(f"/outage-events/{proposal.id}").text
    assert _count(AuditEntry, AuditEntry.action == "confirm") == 1


# --- merging ---------------------------------------------------------------------------------


def _proposal_with_claim(world: World) -> tuple[OutageEvent, OutageEvent, Incident, Invoice]:
    """A proposal with two incidents of practice A, one of them on an issued claim, and a
    confirmed event to merge it into."""
    proposal = make_proposed_event(db.session, world.practice_a)
    target = make_event(db.session)
    claim = make_claim(db.session, world.practice_a, proposal, user=world.manager)
    plain = make_incident(db.session, world.practice_a, outage_event_id=proposal.id)
    db.session.commit()
    return proposal, target, plain, claim


def test_merging_moves_incidents_and_claims_and_old_links_lead_to_the_target(
    client: FlaskClient, world: World
) -> None:
    proposal, target, plain, claim = _proposal_with_claim(world)
    assert claim.outage_event_id == proposal.id
    login(client, world.reviewer)
    form = client.get(f"/outage-events/{proposal.id}/merge").text
    assert target.name in form and f'value="{proposal.id}"' not in form
    response = client.post(
        f"/outage-events/{proposal.id}/merge", data={"target_id": target.id}, follow_redirects=True
    )
    assert "2 incidents and 1 invoice moved" in response.text
    db.session.expire_all()
    merged = db.session.get(OutageEvent, proposal.id)
    assert (merged.status, merged.merged_into_id) == (EventStatus.MERGED, target.id)
    assert _count(Incident, Incident.outage_event_id == proposal.id) == 0
    assert _count(Incident, Incident.outage_event_id == target.id) == 2
    assert db.session.get(Invoice, claim.id).outage_event_id == target.id
    moved = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity_type == "Incident", AuditEntry.action == "update"
        )
    ).all()
    assert sorted(entry.incident_id for entry in moved) == sorted(
        db.session.scalars(select(Incident.id).where(Incident.outage_event_id == target.id))
    )
    assert _count(AuditEntry, AuditEntry.action == "merge") == 1
    _as(client, world.manager)
    old_link = client.get(f"/outage-events/{proposal.id}")
    assert old_link.status_code == 302 and old_link.location.endswith(f"/outage-events/{target.id}")
    listed = client.get("/outage-events").text
    assert f"Merged into {target.name}" in listed
    history = client.get(f"/incidents/{plain.id}").text
    assert f"Outage event merged by the ICB: now “{target.name}”" in history


def test_merging_into_a_proposed_or_merged_event_is_refused(
    as_reviewer: FlaskClient, world: World
) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    other = make_proposed_event(db.session, world.practice_a2)
    incident = make_incident(db.session, world.practice_a, outage_event_id=proposal.id)
    db.session.commit()
    response = as_reviewer.post(f"/outage-events/{proposal.id}/merge", data={"target_id": other.id})
    assert response.status_code == 422
    assert "Not a valid choice" in response.text
    with pytest.raises(Invalid, match="not a confirmed outage event"):
        events.merge(db.session, proposal, other.id, world.reviewer.id, utcnow())
    with pytest.raises(Invalid, match="cannot be merged into itself"):
        events.merge(db.session, proposal, proposal.id, world.reviewer.id, utcnow())
    db.session.rollback()
    assert db.session.get(Incident, incident.id).outage_event_id == proposal.id
    assert db.session.get(OutageEvent, proposal.id).status == EventStatus.PROPOSED


def test_a_second_decision_is_told_what_the_first_did(app_ctx, world: World) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    target = make_event(db.session)
    db.session.commit()
    events.merge(db.session, proposal, target.id, world.reviewer.id, utcnow())
    db.session.commit()
    with pytest.raises(Conflict, match="has already been merged into"):
        events.confirm(db.session, proposal, world.admin.id, utcnow())
    db.session.rollback()
    with pytest.raises(Conflict, match="has already been merged into"):
        events.merge(db.session, proposal, target.id, world.admin.id, utcnow())
    db.session.rollback()
    assert _count(AuditEntry, AuditEntry.action.in_(("merge", "confirm"))) == 1


# --- what names an event after a merge -------------------------------------------------------


def test_an_incident_cannot_name_a_merged_proposal(app_ctx, world: World) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    target = make_event(db.session)
    db.session.commit()
    events.merge(db.session, proposal, target.id, world.reviewer.id, utcnow())
    db.session.commit()
    details = incidents.IncidentDetails(
        title="Broadband down",
        start_local=datetime(2025, 3, 3, 8, 0),
        systems=["internet"],
        outage_event_id=proposal.id,
    )
    with pytest.raises(Invalid, match=f"merged this event into “{target.name}”"):
        incidents.create_incident(db.session, world.practice_a.id, None, details, utcnow())
    db.session.rollback()
    assert _count(Incident) == 0


def test_an_invoice_issued_after_a_merge_names_the_target(app_ctx, world: World) -> None:
    """An invoice whose incidents named the proposal when its draft was made is issued
    under the event the proposal was merged into (services.events.follow_merge)."""
    proposal = make_proposed_event(db.session, world.practice_a)
    target = make_event(db.session)
    incident = make_incident(db.session, world.practice_a, outage_event_id=proposal.id)
    line = make_staff_line(db.session, incident)
    draft = invoicing.create_draft(
        db.session, practice=world.practice_a, cost_line_ids=[line.id], user_id=None
    )
    db.session.commit()
    assert events.follow_merge(db.session, proposal.id) == proposal.id
    db.session.rollback()
    # the merge as another transaction committed it, leaving this draft's incident behind
    events.merge(db.session, proposal, target.id, world.reviewer.id, utcnow())
    db.session.commit()
    db.session.execute(
        Incident.__table__.update().values(outage_event_id=proposal.id)  # type: ignore[attr-defined]
    )
    issued = invoicing.issue_invoice(db.session, draft, user_id=None, today=date(2025, 3, 10))
    assert issued.outage_event_id == target.id
    db.session.rollback()


def test_a_proposed_event_carries_no_claim_policy(client: FlaskClient, world: World) -> None:
    proposal = make_proposed_event(db.session, world.practice_a)
    db.session.commit()
    login(client, world.reviewer)
    response = client.get(f"/review/events/{proposal.id}/policy", follow_redirects=True)
    assert "before writing a claim policy" in response.text
    with pytest.raises(Conflict, match="not confirmed"):
        claim_policy.save_policy(
            db.session,
            proposal,
            world.icb_x,
            claim_policy.PolicyInput(claimable=frozenset({"staff"})),
            seen_version=0,
            user_id=world.reviewer.id,
        )
    db.session.rollback()
    assert _count(ClaimPolicy) == 0
    _as(client, world.reviewer_y)
    assert client.get(f"/review/events/{proposal.id}/policy").status_code == 404
