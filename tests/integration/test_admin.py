"""Administrators manage users, practices and the ICB directory; bad input loses nothing."""

from flask.testing import FlaskClient
from sqlalchemy import func, select

from tests.factories import World
from tracker.extensions import db
from tracker.models import AuditEntry, Icb, Practice, User


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def practice_form(world: World, **overrides: str) -> dict[str, object]:
    data: dict[str, object] = {
        "ods_code": "C83001",
        "name": "Gamma Surgery",
        "icb_id": world.icb_x.id,
        "address": "1 Road\nTown",
        "payment_terms_days": 30,
        "active": "y",
    }
    data.update(overrides)
    return data


def test_admin_adds_a_practice_with_a_rate_card(as_admin: FlaskClient, world: World) -> None:
    response = as_admin.post("/admin/practices/new", data=practice_form(world))
    assert response.status_code == 302
    practice = db.session.scalar(select(Practice).where(Practice.ods_code == "C83001"))
    assert practice is not None and practice.icb_id == world.icb_x.id
    assert b"Gamma Surgery" in as_admin.get("/admin/practices").data


def test_malformed_ods_code_is_refused_next_to_the_field(
    as_admin: FlaskClient, world: World
) -> None:
    before = _count(Practice)
    for code in ("A8100", "AB1234", "V81999", "83001A"):
        response = as_admin.post("/admin/practices/new", data=practice_form(world, ods_code=code))
        page = response.data.decode()
        assert response.status_code == 200
        assert "Enter a practice ODS code" in page
        assert "nhsuk-form-group--error" in page
        assert 'value="Gamma Surgery"' in page  # what the user typed is kept
    assert _count(Practice) == before


def test_duplicate_practice_code_is_refused(as_admin: FlaskClient, world: World) -> None:
    response = as_admin.post("/admin/practices/new", data=practice_form(world, ods_code="A81001"))
    assert b"A practice with ODS code A81001 already exists" in response.data


def user_form(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "New Person",
        "email": "new.person@example.org",
        "password": "long-enough-pw",
        "role": "practice_manager",
        "practice_ids": [world.practice_a.id],
        "icb_id": 0,
        "active": "y",
    }
    data.update(overrides)
    return data


def test_admin_creates_a_user_who_can_sign_in(as_admin: FlaskClient, world: World, client) -> None:
    assert as_admin.post("/admin/users/new", data=user_form(world)).status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user is not None and [p.ods_code for p in user.practices] == ["A81001"]


def test_duplicate_email_is_refused_and_input_kept(as_admin: FlaskClient, world: World) -> None:
    before = _count(User)
    response = as_admin.post(
        "/admin/users/new", data=user_form(world, email="MANAGER.A@example.org")
    )
    page = response.data.decode()
    assert "A user with this email address already exists" in page
    assert 'value="New Person"' in page
    assert _count(User) == before


def test_over_long_name_is_refused(as_admin: FlaskClient, world: World) -> None:
    before = _count(User)
    response = as_admin.post("/admin/users/new", data=user_form(world, name="N" * 121))
    page = response.data.decode()
    assert "Name must be 120 characters or fewer" in page
    assert "N" * 121 in page
    assert _count(User) == before


def test_role_needs_its_practices_or_icb(as_admin: FlaskClient, world: World) -> None:
    response = as_admin.post("/admin/users/new", data=user_form(world, practice_ids=[]))
    assert b"Choose at least one practice for this role" in response.data
    response = as_admin.post("/admin/users/new", data=user_form(world, role="icb_reviewer"))
    assert b"Choose the ICB this reviewer belongs to" in response.data


def test_deactivating_keeps_the_user(as_admin: FlaskClient, world: World) -> None:
    data = user_form(world, name="Manager A", email=world.manager.email, password="")
    data.pop("active")
    assert as_admin.post(f"/admin/users/{world.manager.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, world.manager.id).active is False


def test_admin_sets_an_icb_payables_code(as_admin: FlaskClient, world: World) -> None:
    response = as_admin.post(
        f"/admin/icbs/{world.icb_y.id}/edit",
        data={"ods_code": "QYB", "name": "NHS Otherton and Elsewhere ICB", "payables_code": "x9y8"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    icb = db.session.get(Icb, world.icb_y.id)
    assert icb.name == "NHS Otherton and Elsewhere ICB"
    assert icb.payables_address == "QYB Payables X9Y8\nPO Box 312\nLS11 1HP"


def test_an_icb_code_taken_by_another_icb_is_refused_beside_the_field(
    as_admin: FlaskClient, world: World
) -> None:
    response = as_admin.post(
        f"/admin/icbs/{world.icb_y.id}/edit",
        data={"ods_code": world.icb_x.ods_code.lower(), "name": "Renamed ICB"},
    )
    assert response.status_code == 200
    page = response.data.decode()
    assert 'id="ods_code-error"' in page and 'value="Renamed ICB"' in page
    db.session.expire_all()
    assert db.session.get(Icb, world.icb_y.id).name != "Renamed ICB"


def test_saving_an_icb_is_in_the_audit_trail(as_admin: FlaskClient, world: World) -> None:
    as_admin.post(
        f"/admin/icbs/{world.icb_y.id}/edit",
        data={"ods_code": world.icb_y.ods_code, "name": "NHS Renamed ICB"},
    )
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.entity_type == "Icb", AuditEntry.entity_id == world.icb_y.id)
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None and entry.summary == f"ICB {world.icb_y.ods_code} saved"
    assert "NHS Renamed ICB" in entry.changes


def test_practice_staff_edit_their_details(as_manager: FlaskClient, world: World) -> None:
    response = as_manager.post(
        "/practice/settings",
        data={
            "address": "2 New Road\nLondon",
            "bank_sort_code": "309457",
            "bank_account_number": "1234",
            "payment_terms_days": 30,
        },
    )
    assert b"Enter an 8-digit account number" in response.data
    response = as_manager.post(
        "/practice/settings",
        data={
            "address": "2 New Road\nLondon",
            "bank_sort_code": "309457",
            "bank_account_number": "87654321",
            "payment_terms_days": 30,
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    practice = db.session.get(Practice, world.practice_a.id)
    assert practice.bank_sort_code == "30-94-57"
    assert practice.bank_account_number == "87654321"
