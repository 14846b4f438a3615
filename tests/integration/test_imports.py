"""Importing a spreadsheet of costs into an incident, through the Flask client: templates,
the preview (errors by row and column, amounts and working), all-or-nothing saving, the
valid-only choice, the duplicate warning, the audit entry, and access."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from datetime import date
from decimal import Decimal

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from tests.conftest import login
from tests.factories import World, make_incident
from tests.integration.test_races import in_thread, race, signed_in
from tracker.columns import columns
from tracker.cost_kinds import CostKind
from tracker.extensions import db
from tracker.models import AuditEntry, CostLine, Incident
from tracker.services import cost_lines

D = Decimal
STAFF_HEADER = [c.name for c in columns("staff")]


def workbook(kind: str, rows: list[list[object]], client: FlaskClient, incident: Incident) -> bytes:
    """The kind's downloaded template with `rows` written below its example row."""
    response = client.get(f"/incidents/{incident.id}/import/template/{kind}.xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    sheet = book.worksheets[0]
    for offset, row in enumerate(rows):
        for position, value in enumerate(row, start=1):
            sheet.cell(4 + offset, position).value = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def upload(
    client: FlaskClient,
    incident: Incident | int,
    kind: str,
    data: bytes,
    name: str = "costs.xlsx",
) -> TestResponse:
    number = incident if isinstance(incident, int) else incident.id
    return client.post(
        f"/incidents/{number}/import",
        data={"kind": kind, "upload": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def token_of(response: TestResponse) -> str:
    match = re.search(r'name="token" type="hidden" value="([^"]+)"', response.text)
    match = match or re.search(
        r'id="token" name="token" type="hidden" value="([^"]+)"', response.text
    )
    assert match, response.text[:3000]
    return match.group(1)


def confirm(
    client: FlaskClient, incident: Incident | int, token: str, **extra: str
) -> TestResponse:
    number = incident if isinstance(incident, int) else incident.id
    return client.post(f"/incidents/{number}/import/confirm", data={"token": token, **extra})


def staff_row(**changes: object) -> list[object]:
    row: dict[str, object] = {
        "Staff member or role": "Receptionist (Band 2)",
        "Description": "Phoning patients",
        "Date": "19/07/2024",
        "Start": "",
        "Finish": "",
        "Hours": "6.5",
        "Hourly rate": "£12.45",
        "Paid as": "Overtime",
        "Overtime premium": "50",
        "VAT rate": "",
    }
    row.update(changes)
    return [row[name] for name in STAFF_HEADER]


def problem_lines(page: str) -> dict[tuple[int, str], tuple[str, str]]:
    """The preview's problems: (row, column) -> (what it says, the message)."""
    found = re.findall(
        r'<tr data-row="(\d+)" data-error-column="([^"]*)".*?app-import-typed">([^<]*)</td>'
        r".*?Error:</span> ([^<]*)</span>",
        page,
        re.DOTALL,
    )
    return {
        (int(row), html.unescape(column)): (html.unescape(typed), html.unescape(message.strip()))
        for row, column, typed, message in found
    }


def lines_of(incident: Incident) -> list[CostLine]:
    return list(
        db.session.scalars(
            select(CostLine).where(CostLine.incident_id == incident.id).order_by(CostLine.id)
        )
    )


def imports_of(incident: Incident) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry).where(
                AuditEntry.incident_id == incident.id, AuditEntry.action == "import"
            )
        )
    )


def fresh_incident(world: World) -> Incident:
    """A new incident of practice A, committed."""
    found = make_incident(db.session, world.practice_a)
    db.session.commit()
    return found


@pytest.fixture
def incident(world: World) -> Incident:
    return fresh_incident(world)


@pytest.mark.parametrize("kind", list(CostKind))
def test_templates_have_the_columns_hints_and_example_in_form_order(
    as_manager: FlaskClient, incident: Incident, kind: CostKind
) -> None:
    response = as_manager.get(f"/incidents/{incident.id}/import/template/{kind.value}.xlsx")
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).worksheets[0]
    kind_columns = columns(kind)
    assert [sheet.cell(1, i + 1).value for i in range(len(kind_columns))] == [
        c.name for c in kind_columns
    ]
    for index, column in enumerate(kind_columns, start=1):
        header = sheet.cell(1, index)
        assert header.comment is not None and column.hint in header.comment.text
        assert sheet.cell(2, index).value == column.hint
    date_col = next(i for i, c in enumerate(kind_columns, start=1) if c.key == "line_date")
    assert sheet.cell(3, date_col).is_date
    lists = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert len(lists) == sum(1 for c in kind_columns if c.choices)
    assert sheet.freeze_panes == "A4"
    text = as_manager.get(f"/incidents/{incident.id}/import/template/{kind.value}.csv")
    rows = list(csv.reader(io.StringIO(text.data.decode("utf-8-sig"))))
    assert rows[0] == [c.name for c in kind_columns]
    assert rows[2] == [c.example for c in kind_columns]


def test_an_untouched_template_imports_nothing_and_says_why(
    as_manager: FlaskClient, incident: Incident
) -> None:
    template = as_manager.get(f"/incidents/{incident.id}/import/template/staff.xlsx").data
    response = upload(as_manager, incident, "staff", template)
    assert "The file has no rows to import" in response.text
    assert "the template&#39;s example, unchanged: left out" in response.text
    assert lines_of(incident) == []


def test_the_preview_shows_each_error_by_row_and_column_and_saves_nothing(
    as_manager: FlaskClient, incident: Incident
) -> None:
    data = workbook(
        "staff",
        [
            staff_row(),
            staff_row(**{"Hourly rate": "twelve", "Date": "31/02/2024"}),
            [None] * len(STAFF_HEADER),
            staff_row(**{"Paid as": "Bank holiday"}),
        ],
        as_manager,
        incident,
    )
    before = db.session.scalar(select(func.count()).select_from(AuditEntry))
    response = upload(as_manager, incident, "staff", data)
    assert response.status_code == 200
    page = response.text
    assert "3 read: 1 valid, 2 with problems" in page
    problems = problem_lines(page)
    assert problems[(5, "Hourly rate")][0] == "twelve"  # the user's value kept
    assert problems[(5, "Hourly rate")][1].startswith("Enter the hourly rate as an amount")
    assert problems[(5, "Date")] == ("31/02/2024", "Enter the date as a real date, like 19/07/2024")
    assert problems[(7, "Paid as")] == ("Bank holiday", "Choose how the hours were paid")
    assert set(problems) == {(5, "Hourly rate"), (5, "Date"), (7, "Paid as")}
    assert 'data-row="6"' not in page  # the blank row is ignored, the next keeps its number
    # the valid row's amount and working
    row4 = page[page.index('data-row="4"', page.index('data-testid="valid-rows"')) :]
    assert "6.5 h × £12.45" in row4[: row4.index("</tr>")]
    db.session.expire_all()
    assert lines_of(incident) == []
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == before
    # saving everything is refused while a row is invalid
    refused = confirm(as_manager, incident, token_of(response))
    assert "2 rows of the file have problems" in refused.text
    assert lines_of(incident) == []


def test_all_valid_rows_are_saved_as_by_hand_with_one_audit_entry(
    as_manager: FlaskClient, incident: Incident, world: World
) -> None:
    data = workbook(
        "staff",
        [
            staff_row(),
            staff_row(**{"Start": "22:00", "Finish": "06:30", "Hours": "", "Paid as": "plain"}),
        ],
        as_manager,
        incident,
    )
    response = upload(as_manager, incident, "staff", data)
    assert "2 read: 2 valid, 0 with problems" in response.text
    saved = confirm(as_manager, incident, token_of(response))
    assert saved.status_code == 302
    db.session.expire_all()
    lines = lines_of(incident)
    assert [line.quantity for line in lines] == [D("6.5"), D("8.5")]
    by_hand = [
        cost_lines.compute(
            cost_lines.line_input(
                "staff",
                {
                    "staff_role": "Receptionist (Band 2)",
                    "description": "Phoning patients",
                    "line_date": date(2024, 7, 19),
                    "quantity": quantity,
                    "unit_rate": D("12.45"),
                    "pay_basis": basis,
                    "overtime_pct": D(50),
                },
            ),
            cost_lines.pricing_context(db.session, world.practice_a, date(2024, 7, 19)),
        ).total
        for quantity, basis in ((D("6.5"), "overtime"), (D("8.5"), "plain"))
    ]
    assert [line.total_amount for line in lines] == by_hand
    entries = imports_of(incident)
    assert len(entries) == 1
    changes = json.loads(entries[0].changes)
    assert changes["file"][1] == "costs.xlsx" and len(changes["sha256"][1]) == 64
    assert [item["id"] for item in changes["lines"][1]] == [line.id for line in lines]
    assert [item["row"] for item in changes["lines"][1]] == [4, 5]
    assert "Imported 2 costs (Staff time) from costs.xlsx" in entries[0].summary
    page = as_manager.get(f"/incidents/{incident.id}").text
    assert "Imported 2 costs" in page
    total = sum(by_hand, D(0))
    assert f"£{total:,.2f}" in page


def test_only_the_valid_rows_when_the_user_chooses_so(
    as_manager: FlaskClient, incident: Incident
) -> None:
    data = csv_bytes(
        [
            [c.name for c in columns("expense")],
            ["Ryman", "Paper", "19/07/2024", "£1,250.00", "250"],
            ["Ryman", "Toner", "19/07/2024", "", ""],
            ["Argos", "Kettle", "20/07/2024", "20", "4"],
        ]
    )
    response = upload(as_manager, incident, "expense", data, "receipts.csv")
    assert "Import only the 2 valid rows" in response.text
    assert "Enter the net amount" in response.text
    saved = confirm(as_manager, incident, token_of(response), only_valid="y")
    assert saved.status_code == 302
    db.session.expire_all()
    assert [line.description for line in lines_of(incident)] == ["Paper", "Kettle"]
    changes = json.loads(imports_of(incident)[0].changes)
    assert changes["rows_left_out"][1] == [3]


def test_the_same_file_twice_is_warned_and_needs_a_knowing_choice(
    as_manager: FlaskClient, incident: Incident
) -> None:
    data = csv_bytes(
        [[c.name for c in columns("expense")], ["Ryman", "Paper", "19/07/2024", "10", ""]]
    )
    first = upload(as_manager, incident, "expense", data)
    assert "imported before" not in first.text
    assert confirm(as_manager, incident, token_of(first)).status_code == 302
    second = upload(as_manager, incident, "expense", data, "renamed.csv")
    assert 'data-testid="duplicate-warning"' in second.text
    token = token_of(second)
    refused = confirm(as_manager, incident, token)
    assert "This file has already been imported into this incident" in refused.text
    db.session.expire_all()
    assert len(lines_of(incident)) == 1
    again = confirm(as_manager, incident, token_of(refused), again="y")
    assert again.status_code == 302
    db.session.expire_all()
    assert len(lines_of(incident)) == 2 and len(imports_of(incident)) == 2


def test_a_confirmation_is_used_once_and_only_by_its_user(
    as_manager: FlaskClient, incident: Incident, world: World, app_ctx: Flask
) -> None:
    data = csv_bytes(
        [[c.name for c in columns("expense")], ["Ryman", "Paper", "19/07/2024", "10", ""]]
    )
    token = token_of(upload(as_manager, incident, "expense", data))
    g.pop("_login_user", None)  # the test's app context keeps the last user in g
    other = login(app_ctx.test_client(), world.finance)
    stolen = confirm(other, incident, token)
    assert stolen.status_code == 302 and stolen.location.endswith("/import")
    g.pop("_login_user", None)
    assert confirm(as_manager, incident, token).status_code == 302
    replay = confirm(as_manager, incident, token)
    assert replay.location.endswith(f"/incidents/{incident.id}/import")
    db.session.expire_all()
    assert len(lines_of(incident)) == 1


def test_unknown_and_missing_columns_are_named(as_manager: FlaskClient, incident: Incident) -> None:
    data = csv_bytes([["Supplier", "Description", "Date", "Colour"], ["A", "B", "19/07/2024", "x"]])
    response = upload(as_manager, incident, "expense", data)
    assert "“Colour” is not a column of other expenses" in response.text
    assert "The column “Net amount” is missing: it is required" in response.text
    assert 'name="token"' not in response.text


def test_the_upload_form_says_what_is_missing(as_manager: FlaskClient, incident: Incident) -> None:
    response = as_manager.post(f"/incidents/{incident.id}/import", data={})
    assert response.status_code == 422
    assert "Choose what the file holds" in response.text
    assert "Select a CSV or Excel file" in response.text


def test_another_kinds_template_is_recognised(as_manager: FlaskClient, incident: Incident) -> None:
    data = csv_bytes([[c.name for c in columns("expense")], ["Ryman", "Paper", "19/07/2024", "10"]])
    response = upload(as_manager, incident, "staff", data)
    assert "These are the columns of other expenses, not of staff time" in response.text


def test_other_files_and_large_files_are_refused_next_to_the_upload(
    as_manager: FlaskClient, incident: Incident, app_ctx: Flask
) -> None:
    response = upload(as_manager, incident, "expense", b"%PDF-1.4 a receipt", "receipt.pdf")
    assert response.status_code == 422
    assert "must be a CSV file or an Excel workbook" in response.text
    app_ctx.config["MAX_UPLOAD_BYTES"] = 100
    try:
        big = upload(as_manager, incident, "expense", b"Supplier\n" + b"x\n" * 200, "big.csv")
    finally:
        app_ctx.config["MAX_UPLOAD_BYTES"] = 10 * 1024 * 1024
    assert big.status_code == 422
    assert "The selected file must be smaller than 1 KB" in big.text


def test_another_practices_incident_is_not_found(
    client: FlaskClient, world: World, incident: Incident
) -> None:
    login(client, world.manager_b)
    data = csv_bytes([[c.name for c in columns("expense")]])
    assert client.get(f"/incidents/{incident.id}/import").status_code == 404
    assert client.get(f"/incidents/{incident.id}/import/template/staff.xlsx").status_code == 404
    assert upload(client, incident, "expense", data).status_code == 404
    assert confirm(client, incident, "x" * 32).status_code == 404


def test_a_reviewer_cannot_import(client: FlaskClient, world: World, incident: Incident) -> None:
    login(client, world.reviewer)
    assert client.get(f"/incidents/{incident.id}/import").status_code in (403, 404)


def test_two_confirmations_of_the_same_file_at_once_import_it_once(
    app_ctx: Flask, world: World
) -> None:
    """The duplicate check is made while holding the incident's row: two people confirming
    the same file at the same moment (neither choosing to import it again) add it once."""
    data = csv_bytes(
        [[c.name for c in columns("expense")], ["Ryman", "Paper", "19/07/2024", "10", ""]]
    )
    first, second = signed_in(app_ctx, world.manager), signed_in(app_ctx, world.finance)
    for round_number in range(6):
        target = make_incident(db.session, world.practice_a, title=f"Round {round_number}")
        db.session.commit()
        number = target.id
        tokens = [
            in_thread(lambda c=c, n=number: token_of(upload(c, n, "expense", data)))
            for c in (first, second)
        ]
        outcomes = race(
            [
                (client, lambda c, t=token, n=number: confirm(c, n, t))
                for client, token in zip((first, second), tokens, strict=True)
            ]
        )
        assert all(o.acceptable for o in outcomes), [str(o) for o in outcomes]
        db.session.expire_all()
        assert len(lines_of(target)) == 1 and len(imports_of(target)) == 1
        assert sum("already been imported" in o.text for o in outcomes) == 1
