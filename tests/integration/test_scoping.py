"""A user sees nothing of a practice or ICB they do not belong to."""

from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import World


def test_manager_cannot_switch_to_another_practice(as_manager: FlaskClient, world: World) -> None:
    response = as_manager.post("/switch-practice", data={"practice_id": world.practice_b.id})
    assert response.status_code == 404
    response = as_manager.post("/switch-practice", data={"practice_id": "nonsense"})
    assert response.status_code == 404


def test_finance_switches_between_own_practices(as_finance: FlaskClient, world: World) -> None:
    page = as_finance.get("/").data
    assert b"Working as" in page
    as_finance.post("/switch-practice", data={"practice_id": world.practice_a2.id, "next": "/"})
    assert b"Alpha Two Practice" in as_finance.get("/practice/settings").data


def test_dashboard_shows_only_own_practice(as_manager: FlaskClient, world: World) -> None:
    page = as_manager.get("/").data
    assert b"Alpha Surgery" in page
    assert b"Beta Medical Centre" not in page


def test_non_admins_cannot_reach_administration(client: FlaskClient, world: World) -> None:
    for user in (world.manager, world.finance, world.reviewer):
        login(client, user)
        assert client.get("/admin/users").status_code == 403
        assert client.get(f"/admin/practices/{world.practice_b.id}/edit").status_code == 403
        client.post("/logout")


def test_reviewer_has_no_practice_settings(as_reviewer: FlaskClient) -> None:
    assert as_reviewer.get("/practice/settings").status_code == 403


def test_bank_details_visible_to_own_practice_staff(as_manager: FlaskClient) -> None:
    page = as_manager.get("/practice/settings").data.decode()
    assert 'value="12345678"' in page


def test_admins_manage_the_directory_but_not_practices_own_data(
    as_admin: FlaskClient, world: World
) -> None:
    from tests.factories import make_incident
    from tracker.extensions import db

    incident = make_incident(db.session, world.practice_a)
    db.session.commit()
    assert "Working as" not in as_admin.get("/").data.decode()
    assert (
        as_admin.post("/switch-practice", data={"practice_id": world.practice_b.id}).status_code
        == 404
    )
    for url in (
        "/incidents",
        "/invoices",
        "/practice/settings",
        "/practice/rate-card",
        "/incidents/new",
        f"/incidents/{incident.id}",
    ):
        assert as_admin.get(url).status_code in (403, 404), url
    assert as_admin.get("/admin/practices").status_code == 200
