"""A practice's registered list size: its manager or finance staff set it in practice settings,
an administrator on the practice; a slip is refused next to the field with what was typed
kept, and nothing is saved."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.factories import World
from tests.integration.test_admin import practice_form
from tracker.extensions import db
from tracker.models import AuditEntry, Practice
from tracker.services.practices import list_size_problem, parse_list_size


def _details(world: World, list_size: str) -> dict[str, object]:
    return {
        "address": world.practice_a.address,
        "payment_terms_days": "30",
        "list_size": list_size,
    }


def _stored(practice_id: int) -> int | None:
    db.session.expire_all()
    practice = db.session.get(Practice, practice_id)
    assert practice is not None
    return practice.list_size


def test_the_practice_sets_its_list_size(as_manager: FlaskClient, world: World) -> None:
    form = as_manager.get("/practice/settings").get_data(as_text=True)
    assert 'name="list_size"' in form and "Registered list size" in form
    response = as_manager.post("/practice/settings", data=_details(world, "8,450"))
    assert response.status_code == 302
    assert _stored(world.practice_a.id) == 8_450
    assert 'value="8450"' in as_manager.get("/practice/settings").get_data(as_text=True)
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "Practice", AuditEntry.entity_id == world.practice_a.id)
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None and "list_size" in entry.changes
    # left blank: not known (the practice is then left out of the comparison)
    assert as_manager.post("/practice/settings", data=_details(world, "")).status_code == 302
    assert _stored(world.practice_a.id) is None


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("8450.5", "whole number of patients"),
        ("eight thousand", "whole number of patients"),
        ("-20", "whole number of patients"),
        ("84,50", "whole number of patients"),
        ("1e4", "whole number of patients"),
        ("0", "at least 1 patient"),
        ("150,001", "at most 150,000 patients"),
        ("99999999999999999999999", "whole number of patients"),
    ],
)
def test_a_slip_is_refused_next_to_the_field(
    as_finance: FlaskClient, world: World, typed: str, message: str
) -> None:
    world.practice_a.list_size = 6_000
    db.session.commit()
    response = as_finance.post("/practice/settings", data=_details(world, typed))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    beside = page.split('id="list_size-error"')[1].split("</span>\n</span>")[0]
    assert message in beside  # the message sits next to the field
    assert f'value="{typed}"' in page  # what was typed is kept
    assert _stored(world.practice_a.id) == 6_000


def test_an_administrator_sets_it_on_the_practice(as_admin: FlaskClient, world: World) -> None:
    url = f"/admin/practices/{world.practice_b.id}/edit"
    data = practice_form(
        world,
        ods_code=world.practice_b.ods_code,
        name=world.practice_b.name,
        list_size="150,000",
    )
    data["icb_id"] = world.icb_y.id
    assert as_admin.post(url, data=data).status_code == 302
    assert _stored(world.practice_b.id) == 150_000
    refused = as_admin.post(url, data={**data, "list_size": "150001"})
    assert "at most 150,000 patients" in refused.get_data(as_text=True)
    assert _stored(world.practice_b.id) == 150_000


def test_reviewers_cannot_set_it(as_reviewer: FlaskClient, world: World) -> None:
    response = as_reviewer.post("/practice/settings", data=_details(world, "9000"))
    assert response.status_code == 403
    assert _stored(world.practice_a.id) is None


def test_the_rule_itself() -> None:
    assert parse_list_size(" 12,345 ") == 12_345 and parse_list_size("12345") == 12_345
    assert parse_list_size("1,2345") is None and parse_list_size("") is None
    assert list_size_problem("") is None and list_size_problem("150000") is None
    assert list_size_problem("1") is None
