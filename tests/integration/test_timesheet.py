"""The timesheet page through the test client: several staff-time lines at once, checked and
priced as the single staff-time form does, all saved or none."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import build_app, login
from tests.factories import World, make_incident
from tests.integration.test_incidents import count, input_value, staff_form
from tracker.extensions import db
from tracker.models import AuditEntry, CostLine, Incident, IncidentStatus


def rows(*people: dict[str, str], shown: int | None = None) -> dict[str, str]:
    """A timesheet post: each person's boxes under their row's prefix."""
    data = {"rows": str(shown or len(people)), "action": "save"}
    for number, person in enumerate(people, start=1):
        data.update({f"row-{number}-{name}": value for name, value in person.items()})
    return data


def person(**overrides: str) -> dict[str, str]:
    values = {
        "staff_role": "Amy Patel, receptionist",
        "description": "Phoning patients to rebook",
        "line_date": "2024-07-19",
        "start": "",
        "finish": "",
        "quantity": "6.5",
        "unit_rate": "18.66",
        "pay_basis": "overtime",
        "overtime_pct": "50",
        "vat_rate": "",
    }
    values.update(overrides)
    return values


def _incident(world: World, **fields: object) -> Incident:
    incident = make_incident(db.session, world.practice_a, **fields)
    db.session.commit()
    return incident


def test_the_page_starts_with_empty_rows_and_the_rate_cards_figures(
    as_manager: FlaskClient, world: World
) -> None:
    incident = _incident(world)
    page = as_manager.get(f"/incidents/{incident.id}/timesheet").data.decode()
    assert page.count('data-testid="timesheet-row"') == 5
    # the incident's date, and the rate card's Band 2 rate and overtime premium, in each row
    assert input_value(page, "row-5-line_date") == "2024-07-19"
    assert input_value(page, "row-1-unit_rate") not in (None, "")
    assert input_value(page, "row-1-overtime_pct") == "50"
    assert input_value(page, "row-1-staff_role") == ""
    # the boxes are named for screen readers by column and row
    assert 'for="row-3-quantity">Hours<span class="nhsuk-u-visually-hidden">, row 3</span>' in page
    assert (
        f'href="/incidents/{incident.id}/timesheet"'
        in as_manager.get(f"/incidents/{incident.id}").data.decode()
    )


def test_valid_rows_are_saved_with_the_single_forms_amounts(
    as_manager: FlaskClient, world: World
) -> None:
    incident = _incident(world)
    by_hand = _incident(world, title="The same lines, one at a time")
    people = [
        person(),
        person(
            staff_role="Ben Okafor, nurse",
            description="Paper records for the clinic",
            start="17:30",
            finish="20:15",
            quantity="",
            unit_rate="21.37",
            pay_basis="additional",
            overtime_pct="",
        ),
        person(
            staff_role="GP",
            description="Evening surgery",
            quantity="3:10",
            unit_rate="105.00",
            pay_basis="inclusive",
            overtime_pct="0",
        ),
    ]
    response = as_manager.post(
        f"/incidents/{incident.id}/timesheet", data=rows(*people, {}, shown=4)
    )
    assert response.status_code == 302, response.data.decode()[:3000]
    assert response.headers["Location"].endswith(f"/incidents/{incident.id}#kind-staff")
    saved = db.session.scalars(
        select(CostLine).where(CostLine.incident_id == incident.id).order_by(CostLine.id)
    ).all()
    assert [line.details["staff_role"] for line in saved] == [
        "Amy Patel, receptionist",
        "Ben Okafor, nurse",
        "GP",
    ]
    # 17:30 to 20:15 is 2 h 45 min
    assert str(saved[1].quantity.normalize()) == "2.75"
    # each row entered alone on the staff-time form gives the same line to the penny
    for typed in people:
        hours = typed["quantity"] or "2:45"
        single = staff_form(**{**typed, "quantity": hours})
        assert (
            as_manager.post(f"/incidents/{by_hand.id}/costs/new/staff", data=single).status_code
            == 302
        )
    alone = db.session.scalars(
        select(CostLine).where(CostLine.incident_id == by_hand.id).order_by(CostLine.id)
    ).all()
    fields = ("quantity", "unit_rate", "ni_pct", "pension_pct", "net_amount", "total_amount")
    for line, twin in zip(saved, alone, strict=True):
        assert [getattr(line, f) for f in fields] == [getattr(twin, f) for f in fields]
        assert line.working == twin.working
    # audited as adding each line alone is
    audited = db.session.scalars(
        select(AuditEntry).where(AuditEntry.incident_id == incident.id)
    ).all()
    assert len(audited) == 3
    flashed = as_manager.get(f"/incidents/{incident.id}").data.decode()
    total = sum(line.total_amount for line in saved)
    assert "3 staff-time lines added from the timesheet" in flashed
    assert f"£{total:,.2f} in all" in flashed


def test_one_bad_row_saves_nothing_and_is_shown_next_to_its_box(
    as_manager: FlaskClient, world: World
) -> None:
    incident = _incident(world)
    response = as_manager.post(
        f"/incidents/{incident.id}/timesheet",
        data=rows(person(), person(staff_role="Ben Okafor", quantity="-3"), person()),
    )
    assert response.status_code == 200
    page = response.data.decode()
    assert count(CostLine) == 0 and count(AuditEntry) == 0
    assert (
        '<span class="nhsuk-error-message" id="row-2-quantity-error">'
        '<span class="nhsuk-u-visually-hidden">Error in row 2, Hours:</span> '
        "Hours must be more than 0</span>"
    ) in page
    assert 'aria-describedby="row-2-quantity-error"' in page
    assert '<a href="#row-2-quantity">Row 2, Hours: Hours must be more than 0</a>' in page
    # every row kept as typed
    assert input_value(page, "row-2-quantity") == "-3"
    assert input_value(page, "row-2-staff_role") == "Ben Okafor"
    assert input_value(page, "row-3-description") == "Phoning patients to rebook"
    assert page.count('data-testid="timesheet-row"') == 3
    assert page.count("nhsuk-error-message") == 1


def test_start_and_finish_or_hours(as_manager: FlaskClient, world: World) -> None:
    incident = _incident(world)
    cases = {
        "row-1-finish": person(start="17:30", finish="", quantity=""),
        "row-2-quantity": person(start="", finish="", quantity=""),
        "row-3-quantity": person(start="17:30", finish="19:00", quantity="2"),
        "row-4-start": person(start="5.30pm", finish="19:00", quantity=""),
        "row-5-finish": person(start="09:00", finish="09:00", quantity=""),
    }
    page = as_manager.post(
        f"/incidents/{incident.id}/timesheet", data=rows(*cases.values())
    ).data.decode()
    assert count(CostLine) == 0
    for box in cases:
        assert f'id="{box}-error"' in page, box
    assert "Enter the finish time too, or the hours" in page
    assert "Enter the hours, or the start and finish times" in page
    assert "2 hours is more than the time from 17:30 to 19:00 (1:30)" in page
    assert "Enter the start time in the 24-hour clock, like 17:30" in page
    # a night shift: a finish earlier than the start is the next morning
    response = as_manager.post(
        f"/incidents/{incident.id}/timesheet",
        data=rows(person(start="22:00", finish="06:30", quantity=""), person(quantity="8")),
    )
    assert response.status_code == 302
    quantities = db.session.scalars(select(CostLine.quantity).order_by(CostLine.id)).all()
    assert [q.normalize() for q in quantities] == [8.5, 8]


def test_blank_rows_are_left_out_and_an_all_blank_sheet_says_so(
    as_manager: FlaskClient, world: World
) -> None:
    incident = _incident(world)
    blank = person(staff_role="", description="", quantity="")
    page = as_manager.post(
        f"/incidents/{incident.id}/timesheet", data=rows(blank, blank)
    ).data.decode()
    assert "Enter at least one person&#39;s time" in page and count(CostLine) == 0
    response = as_manager.post(
        f"/incidents/{incident.id}/timesheet", data=rows(blank, person(), blank)
    )
    assert response.status_code == 302 and count(CostLine) == 1


def test_rows_are_added_and_removed_without_losing_what_was_typed(
    as_manager: FlaskClient, world: World
) -> None:
    incident = _incident(world)
    url = f"/incidents/{incident.id}/timesheet"
    typed = rows(
        person(staff_role="A"), person(staff_role="B", quantity="-1"), person(staff_role="C")
    )
    page = as_manager.post(url, data={**typed, "action": "add"}).data.decode()
    assert page.count('data-testid="timesheet-row"') == 8
    assert input_value(page, "row-2-quantity") == "-1"  # kept, not yet checked
    assert "nhsuk-error-message" not in page
    assert input_value(page, "row-6-line_date") == "2024-07-19"  # new rows as on the first visit
    page = as_manager.post(url, data={**typed, "remove": "2"}).data.decode()
    assert page.count('data-testid="timesheet-row"') == 2
    assert [input_value(page, f"row-{n}-staff_role") for n in (1, 2)] == ["A", "C"]
    assert count(CostLine) == 0
    # removing the only row leaves one empty row to fill in
    page = as_manager.post(url, data={**rows(person()), "remove": "1"}).data.decode()
    assert page.count('data-testid="timesheet-row"') == 1
    assert input_value(page, "row-1-staff_role") == ""
    # the number of rows is bounded whatever is posted
    page = as_manager.post(url, data={"rows": "999", "action": "add"}).data.decode()
    assert page.count('data-testid="timesheet-row"') == 60
    for nonsense in ("9" * 40, "-3", "two"):
        page = as_manager.post(url, data={"rows": nonsense, "action": "add"}).data.decode()
        assert page.count('data-testid="timesheet-row"') == 10


def test_a_closed_incident_takes_a_timesheet_as_it_takes_one_line(
    as_manager: FlaskClient, world: World
) -> None:
    incident = _incident(world, status=IncidentStatus.CLOSED.value)
    single = as_manager.post(f"/incidents/{incident.id}/costs/new/staff", data=staff_form())
    assert single.status_code == 302
    response = as_manager.post(f"/incidents/{incident.id}/timesheet", data=rows(person()))
    assert response.status_code == 302 and count(CostLine) == 2


def test_another_practices_incident_is_404_and_reviewers_have_no_timesheet(
    client: FlaskClient, world: World
) -> None:
    theirs = make_incident(db.session, world.practice_b)
    ours = make_incident(db.session, world.practice_a)
    db.session.commit()
    login(client, world.manager)
    assert client.get(f"/incidents/{theirs.id}/timesheet").status_code == 404
    assert client.post(f"/incidents/{theirs.id}/timesheet", data=rows(person())).status_code == 404
    assert count(CostLine) == 0
    client.post("/logout")
    login(client, world.reviewer)
    assert client.get(f"/incidents/{ours.id}/timesheet").status_code in (403, 404)
    assert client.post(f"/incidents/{ours.id}/timesheet", data=rows(person())).status_code in (
        403,
        404,
    )
    assert count(CostLine) == 0


def test_saving_needs_the_csrf_token(app: Flask, world: World, tmp_path: Path) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    strict = build_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = world.manager.get_id()
        session["_fresh"] = True
    page = client.get(f"/incidents/{incident.id}/timesheet").data.decode()
    token = input_value(page, "csrf_token")
    assert token
    url = f"/incidents/{incident.id}/timesheet"
    assert client.post(url, data=rows(person())).status_code == 400
    assert count(CostLine) == 0
    assert client.post(url, data={**rows(person()), "csrf_token": token}).status_code == 302
    assert count(CostLine) == 1
