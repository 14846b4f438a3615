"""The "Be ready for an outage" page and the paper forms' downloads: who may have them, what
is printed on them, and that looking at them writes nothing."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from pypdf import PdfReader

from tests.conftest import login
from tests.factories import World, make_incident
from tests.integration.test_get_never_writes import dump
from tests.unit.test_paper_forms import layout_text, printed_headings
from tracker.columns import columns
from tracker.cost_kinds import CostKind
from tracker.documents.paper_forms import FORMS
from tracker.extensions import db


def test_the_ready_page_offers_each_form_and_a_checklist(
    as_manager: FlaskClient, world: World
) -> None:
    dashboard = as_manager.get("/").data.decode()
    assert 'href="/be-ready"' in dashboard
    page = as_manager.get("/be-ready").data.decode()
    assert "Be ready for an outage" in page
    for form in FORMS:
        assert f'href="/be-ready/forms/{form.key}.pdf"' in page and form.title in page
    assert 'href="/be-ready/forms/all.pdf"' in page
    for item in (
        "Contacts on paper",
        "Where the paper forms are kept",
        "incident number",
        "Keep receipts",
    ):
        assert item in page
    assert world.practice_a.name in page and world.practice_a.ods_code in page


def test_a_blank_form_carries_the_practices_name_and_ods_code(
    as_manager: FlaskClient, world: World
) -> None:
    response = as_manager.get("/be-ready/forms/staff-timesheet.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"staff-timesheet-{world.practice_a.ods_code}.pdf" in disposition
    text = layout_text(response.data)
    assert world.practice_a.name in text and f"ODS code {world.practice_a.ods_code}" in text
    staff = columns(CostKind.STAFF)
    assert printed_headings(text, staff) == [column.name for column in staff]

    every = as_manager.get("/be-ready/forms/all.pdf")
    assert every.status_code == 200
    assert len(PdfReader(io.BytesIO(every.data)).pages) == len(FORMS)
    assert as_manager.get("/be-ready/forms/nonsense.pdf").status_code == 404


def test_an_incidents_forms_print_its_title_and_dates(
    as_manager: FlaskClient, world: World
) -> None:
    incident = make_incident(db.session, world.practice_a, title="EMIS Web down all morning")
    db.session.commit()
    page = as_manager.get(f"/incidents/{incident.id}").data.decode()
    for form in FORMS:
        assert f'href="/incidents/{incident.id}/paper-forms/{form.key}.pdf"' in page
    response = as_manager.get(f"/incidents/{incident.id}/paper-forms/all.pdf")
    assert response.status_code == 200
    assert f"paper-forms-incident-{incident.id}.pdf" in response.headers["Content-Disposition"]
    text = " ".join(layout_text(response.data).split())
    # the factory's incident: 06:10 to 16:00 UTC on 19 July 2024, an hour later in London
    assert "Incident: EMIS Web down all morning" in text
    assert "19 July 2024 at 7:10am to 19 July 2024 at 5:00pm" in text
    assert world.practice_a.ods_code in text
    assert as_manager.get(f"/incidents/{incident.id}/paper-forms/nonsense.pdf").status_code == 404


def test_only_the_practices_own_staff_have_its_forms(client: FlaskClient, world: World) -> None:
    theirs = make_incident(db.session, world.practice_b, title="Another practice's outage")
    ours = make_incident(db.session, world.practice_a)
    db.session.commit()
    login(client, world.manager)
    assert client.get(f"/incidents/{theirs.id}/paper-forms/all.pdf").status_code == 404
    assert client.get(f"/incidents/{theirs.id}/paper-forms/expenses.pdf").status_code == 404
    client.post("/logout")
    # the other practice's manager gets their own practice's name on a blank form
    login(client, world.manager_b)
    text = layout_text(client.get("/be-ready/forms/expenses.pdf").data)
    assert world.practice_b.ods_code in text and world.practice_a.ods_code not in text
    client.post("/logout")
    login(client, world.reviewer)
    assert client.get("/be-ready").status_code == 403
    assert client.get("/be-ready/forms/all.pdf").status_code == 403
    assert client.get(f"/incidents/{ours.id}/paper-forms/all.pdf").status_code == 403
    client.post("/logout")
    assert client.get("/be-ready/forms/all.pdf").status_code in (302, 401)


def test_looking_at_the_forms_writes_nothing(as_manager: FlaskClient, world: World) -> None:
    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    before = dump(as_manager.application)
    for url in (
        "/be-ready",
        "/be-ready/forms/all.pdf",
        "/be-ready/forms/outage-log.pdf",
        f"/incidents/{incident.id}/paper-forms/all.pdf",
        f"/incidents/{incident.id}/paper-forms/cancelled-appointments.pdf",
        f"/incidents/{incident.id}/timesheet",
    ):
        assert as_manager.get(url).status_code == 200, url
    assert dump(as_manager.application) == before
