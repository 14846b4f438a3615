"""Journeys 2 and 3 through the test client: log an incident, cost it up, attach evidence."""

import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.conftest import login
from tests.factories import (
    World,
    make_event,
    make_expense_line,
    make_incident,
    make_issued_invoice,
    make_staff_line,
)
from tracker.extensions import db
from tracker.models import (
    AuditEntry,
    CostLine,
    Evidence,
    Incident,
    IncidentStatus,
    OutageEvent,
    RateCardItem,
)
from tracker.services import evidence as evidence_service

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100


def incident_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "title": "EMIS Web down after CrowdStrike update",
        "start_date": "2024-07-19",
        "start_time": "07:10",
        "end_date": "2024-07-20",
        "end_time": "13:00",
        "systems": ["emis_web", "docman"],
        "systems_other": "",
        "cause": "Faulty CrowdStrike update",
        "supplier_reference": "EMIS-123",
        "impact": "Worked on paper all day",
        "outage_event_id": "0",
    }
    data.update(overrides)
    return data


def staff_form(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "staff_role": "Receptionist (Band 2)",
        "description": "Phoning patients to rebook",
        "line_date": "2024-07-19",
        "quantity": "6.5",
        "unit_rate": "18.66",
        "pay_basis": "overtime",
        "overtime_pct": "50",
        "vat_rate": "",
    }
    data.update(overrides)
    return data


def input_value(page: str, name: str) -> str | None:
    """The value of the text input called name on a page."""
    for tag in re.findall(r"<input[^>]*>", page):
        if f'name="{name}"' in tag:
            found = re.search(r'value="([^"]*)"', tag)
            return found.group(1) if found else None
    return None


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


# --- incidents -------------------------------------------------------------------------


def test_manager_logs_an_incident_in_london_time(as_manager: FlaskClient, world: World) -> None:
    event = make_event(db.session)
    db.session.commit()
    response = as_manager.post("/incidents/new", data=incident_form(outage_event_id=str(event.id)))
    assert response.status_code == 302
    incident = db.session.scalars(select(Incident)).one()
    assert incident.practice_id == world.practice_a.id
    # 07:10 BST is 06:10 UTC
    assert incident.starts_at == datetime(2024, 7, 19, 6, 10)
    assert incident.ends_at == datetime(2024, 7, 20, 12, 0)
    assert incident.systems == "emis_web,docman"
    assert incident.outage_event_id == event.id
    page = as_manager.get(response.headers["Location"]).data.decode()
    assert "19 July 2024 at 7:10am" in page
    assert "1 day 5 hours 50 minutes" in page
    assert "Incident logged" in page  # the history
    entry = db.session.scalars(select(AuditEntry)).one()
    assert entry.action == "create" and entry.user_id == world.manager.id


def test_duration_is_elapsed_time_across_the_clock_change(
    as_manager: FlaskClient, world: World
) -> None:
    # the clocks went back at 2am on 27 October 2024: 00:00 to 03:00 was four hours
    as_manager.post(
        "/incidents/new",
        data=incident_form(
            start_date="2024-10-27", start_time="00:00", end_date="2024-10-27", end_time="03:00"
        ),
    )
    incident = db.session.scalars(select(Incident)).one()
    assert incident.ends_at - incident.starts_at == timedelta(hours=4)
    assert "4 hours" in as_manager.get(f"/incidents/{incident.id}").data.decode()


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_date": "2024-07-18"}, "end_date", "End must be after the start"),
        (
            {"start_date": "2099-01-01", "end_date": "", "end_time": ""},
            "start_date",
            "today or in the past",
        ),
        (
            {"start_date": "2024-03-31", "start_time": "01:30", "end_date": "", "end_time": ""},
            "start_time",
            "does not exist",
        ),
        ({"start_date": "31/02/2024"}, "start_date", "Enter the start date as a real date"),
        ({"systems": []}, "systems", "Select the systems affected"),
        ({"systems": ["other"], "systems_other": ""}, "systems_other", "Enter the other system"),
        ({"impact": "x" * 3_000_000}, "impact", "5,000 characters or fewer"),
        ({"title": ""}, "title", "Enter a title"),
    ],
)
def test_bad_incident_input_is_shown_next_to_the_field(
    as_manager: FlaskClient, world: World, overrides: dict, field: str, message: str
) -> None:
    response = as_manager.post("/incidents/new", data=incident_form(**overrides))
    assert response.status_code == 200
    page = response.data.decode()
    assert f'id="{field}-error"' in page
    assert message in page
    assert "There is a problem" in page
    if "title" not in overrides:
        assert 'value="EMIS Web down after CrowdStrike update"' in page  # input kept
    assert count(Incident) == 0
    assert count(AuditEntry) == 0


def test_editing_records_old_and_new_values(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    form = as_manager.get(f"/incidents/{incident.id}/edit").data.decode()
    assert 'value="2024-07-19"' in form and 'value="07:10"' in form  # 06:10 UTC shown as BST
    response = as_manager.post(
        f"/incidents/{incident.id}/edit",
        data=incident_form(title="EMIS and Docman outage", start_time="07:10"),
    )
    assert response.status_code == 302
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "EMIS and Docman outage" in page
    assert "EMIS outage" in page and "→" in page  # old → new in the history
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "update")).one()
    assert entry.incident_id == incident.id


def test_closing_needs_an_end_and_can_be_undone(as_manager: FlaskClient, world: World) -> None:
    ongoing = make_incident(db.session, world.practice_a, ends_at=None)
    db.session.commit()
    as_manager.post(f"/incidents/{ongoing.id}/close")
    assert db.session.get(Incident, ongoing.id).status == IncidentStatus.OPEN
    ongoing.ends_at = datetime(2024, 7, 19, 16, 0)
    db.session.commit()
    as_manager.post(f"/incidents/{ongoing.id}/close")
    db.session.expire_all()
    assert db.session.get(Incident, ongoing.id).status == IncidentStatus.CLOSED
    as_manager.post(f"/incidents/{ongoing.id}/reopen")
    db.session.expire_all()
    assert db.session.get(Incident, ongoing.id).status == IncidentStatus.OPEN


def test_list_is_newest_first_filtered_paginated_and_totalled(
    app_ctx: Flask, as_manager: FlaskClient, world: World
) -> None:
    event = make_event(db.session)
    older = make_incident(
        db.session,
        world.practice_a,
        title="Older outage",
        starts_at=datetime(2024, 1, 5, 9, 0),
        status=IncidentStatus.CLOSED,
    )
    newer = make_incident(
        db.session, world.practice_a, title="Newer outage", outage_event_id=event.id
    )
    make_staff_line(db.session, newer)
    make_expense_line(db.session, newer)
    make_incident(db.session, world.practice_b, title="Beta's outage")
    db.session.commit()
    page = as_manager.get("/incidents").data.decode()
    assert page.index("Newer outage") < page.index("Older outage")
    assert "Beta&#39;s outage" not in page and "Beta's outage" not in page
    # staff 6.5 h x £18.66 = 121.29; +50% = 181.935 -> 181.94; NI 13.8% = 25.1077 -> 25.11;
    # 207.05. Expense (practice not VAT-registered): 42.50 + 8.50 VAT = 51.00. 258.05 in all
    assert "£258.05" in page
    open_only = as_manager.get("/incidents?status=open").data.decode()
    assert "Newer outage" in open_only and "Older outage" not in open_only
    by_event = as_manager.get(f"/incidents?event={event.id}").data.decode()
    assert "Newer outage" in by_event and "Older outage" not in by_event
    no_event = as_manager.get("/incidents?event=none").data.decode()
    assert "Older outage" in no_event and "Newer outage" not in no_event
    app_ctx.config["PAGE_SIZE"] = 1
    try:
        first = as_manager.get("/incidents").data.decode()
        assert "Newer outage" in first and "Older outage" not in first and "Page 1 of 2" in first
        second = as_manager.get("/incidents?page=2").data.decode()
        assert "Older outage" in second
    finally:
        app_ctx.config["PAGE_SIZE"] = 25
    _ = older


def test_other_practices_incidents_lines_and_evidence_are_404(
    app_ctx: Flask, client: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_b)
    line = make_staff_line(db.session, incident)
    db.session.commit()
    item = evidence_service.store(
        db.session, app_ctx.config["UPLOAD_FOLDER"], line, "r.pdf", _stream(PDF), 10_000, None
    )
    db.session.commit()
    login(client, world.manager)
    for url in (
        f"/incidents/{incident.id}",
        f"/incidents/{incident.id}/edit",
        f"/incidents/{incident.id}/costs/new/staff",
        f"/incidents/{incident.id}/costs/{line.id}",
        f"/incidents/{incident.id}/costs/{line.id}/edit",
        f"/incidents/{incident.id}/costs/{line.id}/delete",
        f"/evidence/{item.id}",
        "/evidence/99999",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/incidents/{incident.id}/costs/{line.id}/delete").status_code == 404
    assert client.post(f"/evidence/{item.id}/delete").status_code == 404
    assert client.post(f"/incidents/{incident.id}/close").status_code == 404
    # a line of the manager's own incident cannot be reached through another incident's id
    own = make_incident(db.session, world.practice_a)
    db.session.commit()
    assert client.get(f"/incidents/{own.id}/costs/{line.id}").status_code == 404
    assert count(CostLine) == 1 and count(Evidence) == 1


def test_reviewers_have_no_incident_pages(as_reviewer: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    assert as_reviewer.get("/incidents").status_code == 403
    assert as_reviewer.get(f"/incidents/{incident.id}").status_code == 403


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"end_time": ""}, "end_time", "Enter the end time, or clear the end date"),
        ({"end_date": ""}, "end_date", "Enter the end date, or clear the end time"),
    ],
)
def test_an_end_needs_both_its_date_and_its_time(
    as_manager: FlaskClient, world: World, overrides: dict, field: str, message: str
) -> None:
    response = as_manager.post("/incidents/new", data=incident_form(**overrides))
    assert response.status_code == 200
    page = response.data.decode()
    assert f'id="{field}-error"' in page and message in page
    other = "end_date" if field == "end_time" else "end_time"
    assert f'id="{other}-error"' not in page
    kept = "2024-07-20" if field == "end_time" else "13:00"
    assert f'value="{kept}"' in page  # what was typed is kept
    assert count(Incident) == 0
    # and the same when editing
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/edit", data=incident_form(title="Changed", **overrides)
    )
    assert response.status_code == 200 and message in response.data.decode()
    db.session.refresh(incident)
    assert incident.title == "EMIS outage"
    assert incident.ends_at == datetime(2024, 7, 19, 16, 0)


def test_business_rules_are_shown_with_the_field_errors(
    as_manager: FlaskClient, world: World
) -> None:
    response = as_manager.post(
        "/incidents/new", data=incident_form(title="", end_date="2024-07-18")
    )
    assert response.status_code == 200
    page = response.data.decode()
    assert 'id="title-error"' in page and "Enter a title" in page
    assert 'id="end_date-error"' in page and "End must be after the start" in page
    assert page.count("Enter a title") == 2  # beside the field and in the summary, not twice
    assert count(Incident) == 0


# --- cost lines ------------------------------------------------------------------------


def test_staff_line_is_prefilled_and_costed_on_the_server(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    form = as_manager.get(f"/incidents/{incident.id}/costs/new/staff?rate=afc_band_5").data
    assert b'value="18.66"' in form and b'value="50"' in form
    # NI and pension are not typed: they come from the rate card for the line's date
    assert b'name="ni_pct"' not in form and b'name="pension_pct"' not in form
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff",
        data=staff_form(total_amount="999999"),  # a posted amount is ignored
    )
    assert response.status_code == 302
    line = db.session.scalars(select(CostLine)).one()
    # 6.5 x 18.66 = 121.29; overtime +50%: 121.29 x 1.5 = 181.935 -> 181.94;
    # NI 13.8% on 19 July 2024: 181.94 x 0.138 = 25.10772 -> 25.11; no pension on overtime;
    # 181.94 + 25.11 = 207.05
    assert line.total_amount == Decimal("207.05")
    assert line.working == (
        "6.5 h × £18.66 = £121.29; overtime +50% = £181.94; employer NI 13.8% = £25.11;"
        " total £207.05"
    )
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "£207.05" in page and line.working in page
    assert 'data-testid="kind-total-staff">£207.05' in page


def test_one_line_of_each_kind_totals_correctly(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    base = f"/incidents/{incident.id}/costs/new"
    assert as_manager.post(f"{base}/staff", data=staff_form()).status_code == 302
    assert (
        as_manager.post(
            f"{base}/locum",
            data={
                "locum_name": "Dr Łukasz Nowak",
                "description": "Backlog clinic",
                "line_date": "2024-07-19",
                "unit": "hour",
                "quantity": "4",
                "unit_rate": "85.68",
                "locum_pension": "none",
                "locum_invoice_ref": "LN-1",
            },
        ).status_code
        == 302
    )
    assert (
        as_manager.post(
            f"{base}/appointments",
            data={
                "appointment_type": "gp",
                "description": "GP appointments cancelled",
                "line_date": "2024-07-19",
                "quantity": "38",
                "unit_rate": "45",
                "rebook_hours": "3",
                "rebook_rate": "13.13",
                "rebook_basis": "additional",
                "overtime_pct": "0",
            },
        ).status_code
        == 302
    )
    assert (
        as_manager.post(
            f"{base}/expense",
            data={
                "supplier": "Ryman",
                "description": "Paper",
                "line_date": "2024-07-19",
                "net_amount": "42.50",
                "vat_paid": "8.50",
                "evidence": (_stream(PDF), "receipt.pdf"),
            },
            content_type="multipart/form-data",
        ).status_code
        == 302
    )
    lines = db.session.scalars(select(CostLine).order_by(CostLine.id)).all()
    assert [line.kind for line in lines] == ["staff", "locum", "appointments", "staff", "expense"]
    rebook = lines[3]
    assert rebook.description == "Admin time to rebook 38 GP appointments"
    # additional hours: 3 x 13.13 = 39.39; NI 13.8% = 5.43582 -> 5.44;
    # pension 14.38% = 5.664282 -> 5.66; 39.39 + 5.44 + 5.66 = 50.49
    assert rebook.total_amount == Decimal("50.49")
    assert rebook.details["pay_basis"] == "additional"
    # 4 h x 85.68 = 342.72; not in the pension scheme: nothing added
    assert lines[1].total_amount == Decimal("342.72")
    assert lines[4].evidence[0].original_filename == "receipt.pdf"
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    expected = (
        Decimal("207.05")
        + Decimal("342.72")
        + Decimal("1710.00")
        + Decimal("50.49")
        + Decimal("51.00")
    )
    assert f'data-testid="incident-total">£{expected:,}' in page
    assert 'data-testid="kind-total-expense">£51.00' in page
    assert "<svg" in page and "Cost by kind" in page


def test_rate_card_links_carry_their_rate_and_prefill_it(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    base = f"/incidents/{incident.id}/costs/new"
    page = as_manager.get(f"{base}/staff").data.decode()
    assert f'href="{base}/staff?rate=gp_hour"' in page
    assert f'href="{base}/staff?rate=nurse_hour"' in page
    assert "rate=&quot;" not in page and '?rate="' not in page
    # a rate that already includes on-costs zeroes them
    gp = as_manager.get(f"{base}/staff?rate=gp_hour").data.decode()
    assert input_value(gp, "unit_rate") == "268"
    assert input_value(gp, "staff_role") == "GP patient-contact time (includes on-costs)"
    assert input_value(gp, "overtime_pct") == "0"
    assert re.search(r'<input checked[^>]*name="pay_basis"[^>]*value="inclusive"', gp)
    nurse = as_manager.get(f"{base}/staff?rate=nurse_hour").data.decode()
    assert input_value(nurse, "unit_rate") == "47"
    assert re.search(r'<input checked[^>]*name="pay_basis"[^>]*value="inclusive"', nurse)
    band = as_manager.get(f"{base}/staff?rate=afc_band_5").data.decode()
    assert input_value(band, "unit_rate") == "18.66"
    assert input_value(band, "staff_role").startswith("Agenda for Change Band 5, top (4+ years)")
    assert input_value(band, "overtime_pct") == "50"
    assert re.search(r'<input checked[^>]*name="pay_basis"[^>]*value="overtime"', band)
    # only hourly staff rates: a locum session is not one
    locum_rate = as_manager.get(f"{base}/staff?rate=locum_session").data.decode()
    assert input_value(locum_rate, "unit_rate") == "12.08"
    # the other kinds' links still carry their own values
    assert f'href="{base}/locum?unit=hour"' in as_manager.get(f"{base}/locum").data.decode()
    appointments = as_manager.get(f"{base}/appointments").data.decode()
    assert f'href="{base}/appointments?type=nurse"' in appointments


def test_blank_vat_paid_means_no_vat(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/expense",
        data={
            "supplier": "Ryman",
            "description": "Paper",
            "line_date": "2024-07-19",
            "net_amount": "42.50",
            "vat_paid": "",
        },
    )
    assert response.status_code == 302, response.data.decode()
    line = db.session.scalars(select(CostLine)).one()
    assert line.vat_amount == Decimal("0") and line.total_amount == Decimal("42.50")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"quantity": "-3"}, "quantity", "Hours must be more than 0"),
        ({"quantity": "six"}, "quantity", "Enter hours in figures, like 6.5 or 6:30"),
        ({"unit_rate": "10000.01"}, "unit_rate", "Hourly rate must be £10,000.00 or less"),
        ({"line_date": "2099-07-19"}, "line_date", "Date must be today or in the past"),
        ({"description": "x" * 3_000_000}, "description", "500 characters or fewer"),
        ({"overtime_pct": ""}, "overtime_pct", "Enter the overtime premium, or 0"),
    ],
)
def test_bad_cost_input_keeps_what_was_typed_and_saves_nothing(
    as_manager: FlaskClient, world: World, overrides: dict, field: str, message: str
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff", data=staff_form(**overrides)
    )
    assert response.status_code == 200
    page = response.data.decode()
    assert f'id="{field}-error"' in page
    assert message in page
    if field != "description":
        assert 'value="Phoning patients to rebook"' in page
    if field == "quantity":
        assert f'value="{overrides["quantity"]}"' in page
    assert count(CostLine) == 0


def test_bad_evidence_saves_neither_line_nor_file(
    app_ctx: Flask, as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    folder = Path(app_ctx.config["UPLOAD_FOLDER"])
    before = set(folder.iterdir()) if folder.exists() else set()
    expense = {
        "supplier": "Ryman",
        "description": "Paper",
        "line_date": "2024-07-19",
        "net_amount": "42.50",
        "vat_paid": "8.50",
    }
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/expense",
        data={**expense, "evidence": (_stream(EXE), "receipt.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "The selected file must be a PDF, PNG or JPEG" in response.data.decode()
    assert 'value="Ryman"' in response.data.decode()
    app_ctx.config["MAX_UPLOAD_BYTES"] = 1000
    try:
        response = as_manager.post(
            f"/incidents/{incident.id}/costs/new/expense",
            data={**expense, "evidence": (_stream(PDF + b"0" * 2000), "big.pdf")},
            content_type="multipart/form-data",
        )
    finally:
        app_ctx.config["MAX_UPLOAD_BYTES"] = 10 * 1024 * 1024
    assert "The selected file must be smaller than 1 KB" in response.data.decode()
    # a file over the real 10 MB limit is refused by the form too, not by a bare 413 page
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/expense",
        data={**expense, "evidence": (_stream(PDF + b"0" * (15 * 1024 * 1024)), "scan.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "The selected file must be smaller than 10 MB" in response.data.decode()
    assert 'value="Ryman"' in response.data.decode()
    assert count(CostLine) == 0 and count(Evidence) == 0
    after = set(folder.iterdir()) if folder.exists() else set()
    assert after == before


def test_evidence_upload_download_and_removal(
    app_ctx: Flask, as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_expense_line(db.session, incident)
    db.session.commit()
    url = f"/incidents/{incident.id}/costs/{line.id}"
    response = as_manager.post(
        url, data={"evidence": (_stream(EXE), "setup.pdf")}, content_type="multipart/form-data"
    )
    assert "must be a PDF, PNG or JPEG" in response.data.decode()
    response = as_manager.post(url, data={}, content_type="multipart/form-data")
    assert 'id="evidence-error"' in response.data.decode()
    assert "Select a PDF, PNG or JPEG file" in response.data.decode()
    response = as_manager.post(
        url,
        data={"evidence": (_stream(PDF), "Zoë receipt.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    item = db.session.scalars(select(Evidence)).one()
    assert item.content_type == "application/pdf" and item.practice_id == world.practice_a.id
    assert "Zo" not in item.stored_name
    download = as_manager.get(f"/evidence/{item.id}")
    assert download.status_code == 200
    assert download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "Zo%C3%AB%20receipt.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    path = Path(app_ctx.config["UPLOAD_FOLDER"]) / item.stored_name
    assert path.exists()
    assert as_manager.post(f"/evidence/{item.id}/delete").status_code == 302
    assert count(Evidence) == 0 and not path.exists()


def test_invoiced_lines_are_frozen(app_ctx: Flask, as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_staff_line(db.session, incident)
    db.session.commit()
    item = evidence_service.store(
        db.session, app_ctx.config["UPLOAD_FOLDER"], line, "r.pdf", _stream(PDF), 10_000, None
    )
    db.session.commit()
    invoice = make_issued_invoice(db.session, world.practice_a, [line])
    base = f"/incidents/{incident.id}/costs/{line.id}"
    assert as_manager.get(f"{base}/edit").status_code == 302
    assert as_manager.post(f"{base}/edit", data=staff_form(quantity="100")).status_code == 302
    assert as_manager.post(f"{base}/delete").status_code == 302
    assert as_manager.post(f"/evidence/{item.id}/delete").status_code == 302
    db.session.expire_all()
    frozen = db.session.get(CostLine, line.id)
    assert frozen.quantity == Decimal("6.5") and len(frozen.evidence) == 1
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert f'href="/invoices/{invoice.id}" data-testid="line-invoice">{invoice.number}<' in page
    assert f"/costs/{line.id}/edit" not in page


def test_reviewer_downloads_evidence_only_of_invoiced_lines_in_their_icb(
    app_ctx: Flask, client: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    invoiced = make_staff_line(db.session, incident)
    draft = make_expense_line(db.session, incident)
    db.session.commit()
    folder = app_ctx.config["UPLOAD_FOLDER"]
    on_invoice = evidence_service.store(
        db.session, folder, invoiced, "a.pdf", _stream(PDF), 10_000, None
    )
    not_invoiced = evidence_service.store(
        db.session, folder, draft, "b.pdf", _stream(PDF), 10_000, None
    )
    db.session.commit()
    make_issued_invoice(db.session, world.practice_a, [invoiced])
    login(client, world.reviewer)
    assert client.get(f"/evidence/{on_invoice.id}").status_code == 200
    assert client.get(f"/evidence/{not_invoiced.id}").status_code == 404
    client.post("/logout")
    login(client, world.reviewer_y)
    assert client.get(f"/evidence/{on_invoice.id}").status_code == 404


def test_edit_and_delete_a_line_are_audited(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    line = make_staff_line(db.session, incident)
    db.session.commit()
    form = as_manager.get(f"/incidents/{incident.id}/costs/{line.id}/edit").data.decode()
    assert 'value="6.5"' in form and 'value="18.66"' in form
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/{line.id}/edit", data=staff_form(quantity="8")
    )
    assert response.status_code == 302
    db.session.expire_all()
    # 8 x 18.66 = 149.28; +50% = 223.92; NI 13.8% = 30.90096 -> 30.90; 254.82
    assert db.session.get(CostLine, line.id).total_amount == Decimal("254.82")
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "£207.05" in page and "£254.82" in page  # old → new amount in the history
    assert as_manager.get(f"/incidents/{incident.id}/costs/{line.id}/delete").status_code == 200
    assert as_manager.post(f"/incidents/{incident.id}/costs/{line.id}/delete").status_code == 302
    assert count(CostLine) == 0
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.entity_type == "CostLine")
    ).all()
    assert sorted(actions) == ["delete", "update"]
    assert "Staff time deleted" in as_manager.get(f"/incidents/{incident.id}").data.decode()


# --- rate card, outage events, dashboard ------------------------------------------------


def _card_row(practice_id: int, key: str, valid_from: date | None) -> RateCardItem:
    """The practice's rate-card row for `key` starting on `valid_from`."""
    return db.session.scalars(
        select(RateCardItem).where(
            RateCardItem.practice_id == practice_id,
            RateCardItem.key == key,
            RateCardItem.valid_from == valid_from,
        )
    ).one()


def test_rate_card_shows_sources_and_saves_all_or_nothing(
    as_manager: FlaskClient, world: World
) -> None:
    band_5 = _card_row(world.practice_a.id, "afc_band_5", date(2024, 4, 1))
    gp = _card_row(world.practice_a.id, "gp_appointment", date(2024, 4, 1))
    ni = _card_row(world.practice_a.id, "ni_pct", date(2025, 4, 6))
    page = as_manager.get("/practice/rate-card").data.decode()
    assert "Unit Costs of Health and Social Care 2024" in page
    assert f'id="value-{band_5.id}"' in page and 'value="18.66"' in page
    response = as_manager.post(
        "/practice/rate-card",
        data={
            f"value-{band_5.id}": "19.10",
            f"source-{band_5.id}": "Our payroll, April 2024",
            f"value-{gp.id}": "lots",
            f"source-{gp.id}": "",
        },
    )
    assert response.status_code == 200
    assert "Enter the rate as a number" in response.data.decode()
    assert 'value="19.10"' in response.data.decode()
    page = as_manager.get("/practice/rate-card").data.decode()
    assert 'value="18.66"' in page  # nothing saved
    response = as_manager.post(
        "/practice/rate-card",
        data={
            f"value-{band_5.id}": "19.10",
            f"source-{band_5.id}": "Our payroll, April 2024",
        },
    )
    assert response.status_code == 302
    form = as_manager.get(
        f"/incidents/{make_incident(db.session, world.practice_a).id}/costs/new/staff"
        "?rate=afc_band_5"
    )
    db.session.commit()
    assert b'value="19.1"' in form.data
    assert as_manager.post("/practice/rate-card", data={f"value-{ni.id}": "250"}).status_code == 200


def test_rate_card_shows_each_period_and_the_rates_in_force(
    as_manager: FlaskClient, world: World
) -> None:
    page = as_manager.get("/practice/rate-card").data.decode()
    # employer NI by tax year: 13.8% in 2024/25, 15% from 6 April 2025 (open-ended, so in
    # force today whatever the day the test runs, as long as it is after 6 April 2025)
    old_ni = _card_row(world.practice_a.id, "ni_pct", date(2024, 4, 6))
    new_ni = _card_row(world.practice_a.id, "ni_pct", date(2025, 4, 6))
    assert "2024/25" in page and "2025/26" in page and "from 6 April 2025" in page
    old_row = page[page.index(f'for="value-{old_ni.id}"') : page.index(f'id="value-{old_ni.id}"')]
    new_row = page[page.index(f'for="value-{new_ni.id}"') : page.index(f'id="value-{new_ni.id}"')]
    assert "In force" in new_row and "In force" not in old_row
    assert f'id="value-{old_ni.id}" name="value-{old_ni.id}"' in page
    assert re.search(rf'name="value-{old_ni.id}"[^>]*value="13.8"', page)
    assert re.search(rf'name="value-{new_ni.id}"[^>]*value="15"', page)


def test_editing_a_rate_card_row_by_id_changes_only_that_period(
    as_manager: FlaskClient, world: World
) -> None:
    band_5_2024 = _card_row(world.practice_a.id, "afc_band_5", date(2024, 4, 1))
    band_5_2025 = _card_row(world.practice_a.id, "afc_band_5", date(2025, 4, 1))
    before_2025 = band_5_2025.value
    response = as_manager.post(
        "/practice/rate-card",
        data={f"value-{band_5_2024.id}": "19.50", f"source-{band_5_2024.id}": "Our payroll"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    edited = db.session.get(RateCardItem, band_5_2024.id)
    assert (edited.value, edited.source, edited.is_own) == (Decimal("19.50"), "Our payroll", True)
    assert db.session.get(RateCardItem, band_5_2025.id).value == before_2025
    page = as_manager.get("/practice/rate-card").data.decode()
    assert "Your figure" in page and 'value="19.50"' in page


def test_an_own_dated_rate_prices_lines_from_its_date_only(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        "/practice/rate-card/own",
        data={
            "key": "ni_pct",
            "valid_from": "2024-08-01",
            "value": "12",
            "source": "Payroll, August 2024",
        },
    )
    assert response.status_code == 302, response.data.decode()
    own = _card_row(world.practice_a.id, "ni_pct", date(2024, 8, 1))
    assert (own.value, own.is_own) == (Decimal("12.00"), True)
    assert "from 1 August 2024" in as_manager.get("/practice/rate-card").data.decode()
    url = f"/incidents/{incident.id}/costs/new/staff"
    assert as_manager.post(url, data=staff_form(line_date="2024-07-31")).status_code == 302
    assert as_manager.post(url, data=staff_form(line_date="2024-08-02")).status_code == 302
    before, after = db.session.scalars(select(CostLine).order_by(CostLine.id)).all()
    # before the own rate: 6.5 x 18.66 = 121.29; +50% = 181.94; NI 13.8% = 25.10772 -> 25.11;
    # 181.94 + 25.11 = 207.05
    assert before.total_amount == Decimal("207.05")
    # from 1 August 2024 the practice's 12%: 181.94 x 0.12 = 21.8328 -> 21.83; 203.77
    assert after.total_amount == Decimal("203.77")
    assert "employer NI 12% = £21.83" in after.working


def test_a_staff_line_in_july_2025_pays_employer_ni_at_15_percent(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(
        db.session,
        world.practice_a,
        starts_at=datetime(2025, 7, 18, 8, 0),
        ends_at=datetime(2025, 7, 18, 17, 0),
    )
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff", data=staff_form(line_date="2025-07-18")
    )
    assert response.status_code == 302, response.data.decode()
    line = db.session.scalars(select(CostLine)).one()
    # 6.5 x 18.66 = 121.29; +50% = 181.935 -> 181.94; NI 15% (from 6 April 2025):
    # 181.94 x 0.15 = 27.291 -> 27.29; no pension on overtime; 181.94 + 27.29 = 209.23
    assert line.total_amount == Decimal("209.23")
    assert "employer NI 15% = £27.29" in line.working
    assert "pension" not in line.working


def test_a_locum_outside_the_pension_scheme_gets_no_employer_pension(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    url = f"/incidents/{incident.id}/costs/new/locum"
    locum = {
        "locum_name": "Dr Łukasz Nowak",
        "description": "Backlog clinic",
        "line_date": "2024-07-19",
        "unit": "session",
        "quantity": "2",
        "unit_rate": "357",
    }
    assert as_manager.post(url, data={**locum, "locum_pension": "none"}).status_code == 302
    assert as_manager.post(url, data={**locum, "locum_pension": "scheme"}).status_code == 302
    none, scheme = db.session.scalars(select(CostLine).order_by(CostLine.id)).all()
    # 2 x 357.00 = 714.00; not in the scheme through the practice: nothing added
    assert none.total_amount == Decimal("714.00")
    assert "pension" not in none.working
    # in the scheme: 90% of 714.00 = 642.60; 14.38% of it = 92.40588 -> 92.41; 806.41
    assert scheme.total_amount == Decimal("806.41")
    assert "employer pension 14.38% of 90% (£642.60) = £92.41" in scheme.working


def test_an_unregistered_practices_expense_shows_the_vat_it_cannot_recover(
    as_manager: FlaskClient, world: World
) -> None:
    assert not (world.practice_a.vat_number or "").strip()
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/expense",
        data={
            "supplier": "Ryman",
            "description": "Paper",
            "line_date": "2024-07-19",
            "net_amount": "42.50",
            "vat_paid": "8.50",
        },
    )
    assert response.status_code == 302, response.data.decode()
    line = db.session.scalars(select(CostLine)).one()
    # no VAT number: the VAT paid is part of the cost; 42.50 + 8.50 = 51.00, no VAT charged
    assert (line.unit_rate, line.vat_amount, line.total_amount) == (
        Decimal("51.00"),
        Decimal("0.00"),
        Decimal("51.00"),
    )
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    assert "1 × £51.00 = £51.00; includes £8.50 VAT paid, not recoverable" in page


def test_reviewer_has_no_rate_card(as_reviewer: FlaskClient) -> None:
    assert as_reviewer.get("/practice/rate-card").status_code == 403


def test_reviewers_and_admins_create_outage_events_practices_choose(
    client: FlaskClient, world: World
) -> None:
    login(client, world.manager)
    assert client.get("/outage-events/new").status_code == 403
    assert client.post("/outage-events/new", data={"name": "X"}).status_code == 403
    client.post("/logout")
    login(client, world.reviewer)
    data = {
        "name": "NHSmail outage, 3 March 2025",
        "started_on": "2025-03-03",
        "description": "NHSmail unavailable",
    }
    assert client.post("/outage-events/new", data=data).status_code == 302
    again = client.post("/outage-events/new", data={**data, "name": "nhsmail outage, 3 march 2025"})
    assert "already exists" in again.data.decode()
    assert (
        client.post(
            "/outage-events/new", data={**data, "name": "Future", "started_on": "2099-01-01"}
        ).status_code
        == 200
    )
    assert count(OutageEvent) == 1
    client.post("/logout")
    login(client, world.manager)
    assert b"NHSmail outage, 3 March 2025" in client.get("/incidents/new").data


def test_dashboard_lists_open_incidents_and_uninvoiced_costs(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a, title="Phones down")
    make_staff_line(db.session, incident)
    db.session.commit()
    page = as_manager.get("/").data.decode()
    assert f'href="/incidents/{incident.id}"' in page
    # 6.5 x 18.66 = 121.29; +50% = 181.94; NI 13.8% = 25.11; 207.05
    assert 'data-testid="not-invoiced">£207.05' in page


def _stream(content: bytes):
    from io import BytesIO

    return BytesIO(content)


_ = date


def test_error_summary_follows_the_order_of_the_page(as_manager, world) -> None:
    from tests.factories import make_incident
    from tracker.extensions import db

    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    response = as_manager.post(
        f"/incidents/{incident.id}/costs/new/staff",
        data={
            "staff_role": "Receptionist",
            "description": "Phones",
            "line_date": "2024-07-19",
            "quantity": "-1",
            "unit_rate": "12.08",
            "pay_basis": "overtime",
            "overtime_pct": "0",
            "vat_rate": "abc",
        },
    )
    page = response.data.decode()
    summary = page[
        page.index("There is a problem") : page.index("</ul>", page.index("There is a problem"))
    ]
    assert summary.index("#quantity") < summary.index("#vat_rate")
