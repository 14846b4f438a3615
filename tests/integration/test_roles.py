"""Who may do what (the README's table), each rule through the pages (issue 12, defect 15):
national outage events are changed by administrators only, an ICB's own events by its
reviewers; bulk exports are finance's; claims are read by the ICB they were sent to and
administrators, and decided by that ICB's reviewers."""

from __future__ import annotations

import io
import re

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from tests.conftest import login
from tests.factories import World, make_claim, make_incident
from tracker.extensions import db
from tracker.models import Invoice, Membership, OutageEvent, Role, User

EVENT = {"name": "NHSmail outage, 3 March 2025", "started_on": "2025-03-03", "description": ""}


def _as(client: FlaskClient, user: User) -> FlaskClient:
    client.post("/logout")
    return login(client, user)


def _add_event(client: FlaskClient, user: User, name: str) -> OutageEvent:
    _as(client, user)
    response = client.post("/outage-events/new", data={**EVENT, "name": name})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return db.session.scalars(db.select(OutageEvent).where(OutageEvent.name == name)).one()


def _rename(client: FlaskClient, user: User, event: OutageEvent, name: str) -> int:
    _as(client, user)
    assert client.get(f"/outage-events/{event.id}/edit").status_code in (200, 403)
    return client.post(f"/outage-events/{event.id}/edit", data={**EVENT, "name": name}).status_code


def _edit_links(client: FlaskClient, user: User) -> set[int]:
    _as(client, user)
    page = client.get("/outage-events").get_data(as_text=True)
    return {int(found) for found in re.findall(r'href="/outage-events/(\d+)/edit"', page)}


def _name(event: OutageEvent) -> str:
    db.session.expire_all()
    return db.session.get(OutageEvent, event.id).name


def test_reviewer_cannot_rename_a_national_event_an_administrator_added(
    client: FlaskClient, world: World
) -> None:
    event = _add_event(client, world.admin, "CrowdStrike outage, 19 July 2024")
    make_incident(db.session, world.practice_a, outage_event_id=event.id)
    db.session.commit()
    assert _rename(client, world.reviewer, event, "Renamed by ICB X") == 403
    assert _name(event) == "CrowdStrike outage, 19 July 2024"
    assert event.id not in _edit_links(client, world.reviewer)
    assert _rename(client, world.admin, event, "CrowdStrike, 19 July 2024") == 302
    assert _name(event) == "CrowdStrike, 19 July 2024"
    assert event.id in _edit_links(client, world.admin)


def test_an_icb_event_is_its_reviewers_until_another_icb_uses_it(
    client: FlaskClient, world: World
) -> None:
    event = _add_event(client, world.reviewer, "Exampleshire phones down")
    make_incident(db.session, world.practice_a, outage_event_id=event.id)
    db.session.commit()
    assert _rename(client, world.reviewer_y, event, "Renamed by ICB Y") == 403
    assert event.id not in _edit_links(client, world.reviewer_y)
    assert event.id in _edit_links(client, world.reviewer)
    assert _rename(client, world.reviewer, event, "Exampleshire phones, 3 March") == 302
    assert _name(event) == "Exampleshire phones, 3 March"
    # a practice of ICB Y links its incident: the event is now national
    make_incident(db.session, world.practice_b, outage_event_id=event.id)
    db.session.commit()
    assert _rename(client, world.reviewer, event, "Renamed again by ICB X") == 403
    assert event.id not in _edit_links(client, world.reviewer)
    assert _rename(client, world.admin, event, "Phones down, 3 March 2025") == 302


def test_an_event_on_a_claim_sent_to_another_icb_is_national(
    client: FlaskClient, world: World
) -> None:
    """Practice A claimed for the event while in ICB X, then moved to ICB Y."""
    event = _add_event(client, world.reviewer_y, "Otherton outage")
    make_claim(db.session, world.practice_a, event)
    world.practice_a.icb_id = world.icb_y.id
    db.session.commit()
    assert _rename(client, world.reviewer_y, event, "Renamed by ICB Y") == 403
    assert _rename(client, world.reviewer, event, "Renamed by ICB X") == 403


def test_practice_staff_neither_add_nor_change_events(client: FlaskClient, world: World) -> None:
    event = _add_event(client, world.reviewer, "Exampleshire phones down")
    for user in (world.manager, world.finance):
        _as(client, user)
        assert client.post("/outage-events/new", data=EVENT).status_code == 403
        assert _rename(client, user, event, "Renamed by a practice") == 403
        assert _edit_links(client, user) == set()


@pytest.fixture
def claims(world: World) -> tuple[Invoice, Invoice]:
    """A claim of practice A (ICB X) and one of practice B (ICB Y)."""
    claim_a = make_claim(db.session, world.practice_a, None, user=world.manager)
    claim_b = make_claim(db.session, world.practice_b, None, user=world.manager_b)
    db.session.commit()
    return claim_a, claim_b


def test_bulk_exports_are_for_finance(
    client: FlaskClient, world: World, claims: tuple[Invoice, Invoice]
) -> None:
    claim_a = claims[0]
    _as(client, world.manager)
    assert client.get("/invoices/register.xlsx").status_code == 403
    assert client.get("/invoices/invoices.zip").status_code == 403
    page = client.get("/invoices").get_data(as_text=True)
    assert claim_a.number in page and "register.xlsx" not in page and "invoices.zip" not in page
    # a practice manager still downloads each invoice to send it
    assert client.get(f"/invoices/{claim_a.id}.pdf").status_code == 200
    assert client.get(f"/invoices/{claim_a.id}.xlsx").status_code == 200
    _as(client, world.finance)
    assert "register.xlsx" in client.get("/invoices").get_data(as_text=True)
    assert client.get("/invoices/register.xlsx").status_code == 200
    assert client.get("/invoices/invoices.zip").status_code == 200
    for user in (world.reviewer, world.admin):
        _as(client, user)
        assert client.get("/invoices/register.xlsx").status_code == 403
        assert client.get("/invoices/invoices.zip").status_code == 403


def _register_numbers(client: FlaskClient) -> set[str]:
    book = load_workbook(io.BytesIO(client.get("/invoices/register.xlsx").data))
    found = {str(cell.value) for row in book.active.iter_rows() for cell in row}
    return {value for value in found if re.fullmatch(r"[A-Z]\d{5}(?:CN)?\d{8,}", value)}


def test_bulk_exports_cover_only_practices_where_the_user_is_finance(
    client: FlaskClient, world: World, claims: tuple[Invoice, Invoice]
) -> None:
    """Finance at practice A who is also practice manager at practice B exports A only."""
    claim_a, claim_b = claims
    db.session.add(
        Membership(
            user_id=world.finance.id,
            practice_id=world.practice_b.id,
            role=Role.PRACTICE_MANAGER.value,
        )
    )
    db.session.commit()
    _as(client, world.finance)
    assert claim_b.number in client.get("/invoices").get_data(as_text=True)
    assert _register_numbers(client) == {claim_a.number}
    archive = client.get("/invoices/invoices.zip").data
    assert claim_a.number.encode() in archive and claim_b.number.encode() not in archive


def test_claims_are_read_by_their_icb_and_administrators_and_decided_by_their_icb(
    client: FlaskClient, world: World, claims: tuple[Invoice, Invoice]
) -> None:
    claim_a = claims[0]
    line = claim_a.lines[0]
    urls = [
        f"/review/claims/{claim_a.id}",
        f"/invoices/{claim_a.id}.pdf",
        f"/review/claims/{claim_a.id}/lines/{line.id}",  # the decision form
    ]
    expected = {
        world.reviewer: [200, 200, 200],
        world.admin: [200, 200, 403],  # reads every ICB's claims, decides none
        world.reviewer_y: [404, 404, 404],
        world.manager_b: [403, 404, 403],
        world.manager: [403, 200, 403],  # its own invoice, never the review pages
    }
    for user, statuses in expected.items():
        _as(client, user)
        assert [client.get(url).status_code for url in urls] == statuses, user.email


def test_money_actions_are_finance_only(
    client: FlaskClient, world: World, claims: tuple[Invoice, Invoice]
) -> None:
    claim_a = claims[0]
    payment = {"paid_on": "2024-08-01", "amount": "1.00", "reference": "BACS"}
    for user, status in ((world.manager, 403), (world.reviewer, 404), (world.admin, 404)):
        _as(client, user)
        assert client.post(f"/invoices/{claim_a.id}/payments", data=payment).status_code == status
        assert client.get(f"/invoices/{claim_a.id}/credit").status_code == status
    _as(client, world.finance)
    assert client.post(f"/invoices/{claim_a.id}/payments", data=payment).status_code == 302
    assert client.get(f"/invoices/{claim_a.id}/credit").status_code == 200


def test_an_icbs_claim_policy_is_read_by_its_practices_and_reviewers_and_written_by_reviewers(
    client: FlaskClient, world: World
) -> None:
    """The README's two policy rows: practices read their own ICB's policy for an event (on the
    event's page), the ICB's reviewers read and write it; administrators do neither."""
    event = _add_event(client, world.admin, "CrowdStrike outage, 19 July 2024")
    _as(client, world.reviewer)
    written = client.post(
        f"/review/events/{event.id}/policy",
        data={"claimable": ["locum"], "cap_locum_session": "340", "seen_version": "0"},
    )
    assert written.status_code == 302
    cap = "Locum cover: up to £340.00 a session."
    for user, sees in (
        (world.manager, True),
        (world.finance, True),
        (world.manager_b, False),
        (world.reviewer_y, False),
        (world.admin, False),
    ):
        _as(client, user)
        assert (cap in client.get(f"/outage-events/{event.id}").get_data(as_text=True)) is sees
    for user in (world.manager, world.finance, world.admin):
        _as(client, user)
        assert client.post(f"/review/events/{event.id}/policy", data={}).status_code == 403
