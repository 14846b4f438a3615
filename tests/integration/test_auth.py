import pytest
from flask.testing import FlaskClient

from tests.conftest import login
from tests.factories import PASSWORD, World


def test_every_page_but_login_redirects_to_login(client: FlaskClient) -> None:
    for url in ("/", "/practice/settings", "/admin/", "/admin/users", "/account/password"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.location.startswith("/login")
    assert client.get("/login").status_code == 200


def test_sign_in_shows_the_dashboard(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/login", data={"email": world.manager.email, "password": PASSWORD}, follow_redirects=True
    )
    assert response.status_code == 200
    assert b"Dashboard" in response.data
    assert b"Alpha Surgery" in response.data


def test_wrong_password_and_unknown_email_give_the_same_answer(
    client: FlaskClient, world: World
) -> None:
    wrong_password = client.post("/login", data={"email": world.manager.email, "password": "x"})
    unknown_email = client.post("/login", data={"email": "nobody@example.org", "password": "x"})
    for response in (wrong_password, unknown_email):
        assert response.status_code == 200
        assert b"Incorrect email or password" in response.data
    assert world.manager.email.encode() in wrong_password.data  # what was typed is kept


def test_eleventh_failed_attempt_in_a_minute_is_refused(client: FlaskClient, world: World) -> None:
    for _ in range(10):
        response = client.post("/login", data={"email": world.manager.email, "password": "bad"})
        assert response.status_code == 200
    refused = client.post("/login", data={"email": world.manager.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert b"Too many attempts" in refused.data


def test_throttle_counts_per_address_across_accounts(client: FlaskClient, world: World) -> None:
    for n in range(10):
        client.post("/login", data={"email": f"guess{n}@example.org", "password": "bad"})
    refused = client.post("/login", data={"email": world.finance.email, "password": PASSWORD})
    assert refused.status_code == 429


def test_deactivated_user_cannot_sign_in(client: FlaskClient, world: World, app_ctx) -> None:
    from tracker.extensions import db

    world.manager.active = False
    db.session.commit()
    response = client.post("/login", data={"email": world.manager.email, "password": PASSWORD})
    assert b"Incorrect email or password" in response.data


def test_sign_out_needs_a_post_and_ends_the_session(client: FlaskClient, world: World) -> None:
    login(client, world.manager)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


OFF_SITE_TARGETS = [
    "https://evil.example/",
    "////evil.example/steal",
    "//evil.example/steal",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    " //evil.example",
    "javascript:alert(1)",
    "evil.example",
    "//[",
]


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_next_parameter_never_leaves_the_site(
    client: FlaskClient, world: World, target: str
) -> None:
    """ASVS 5.1.5: after sign-in, a `next` that a browser would read as another site (or
    that is not a path at all) goes to the dashboard instead."""
    response = client.post(
        "/login",
        query_string={"next": target},
        data={"email": world.manager.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.location == "/"


def test_next_parameter_keeps_a_page_of_this_site(client: FlaskClient, world: World) -> None:
    response = client.post(
        "/login",
        query_string={"next": "/incidents/?page=2"},
        data={"email": world.manager.email, "password": PASSWORD},
    )
    assert response.location == "/incidents/?page=2"


@pytest.mark.parametrize("target", OFF_SITE_TARGETS)
def test_switching_practice_never_leaves_the_site(
    as_finance: FlaskClient, world: World, target: str
) -> None:
    """The practice switcher's `next` follows the same rule as sign-in's."""
    response = as_finance.post(
        "/switch-practice", data={"practice_id": world.practice_a2.id, "next": target}
    )
    assert response.status_code == 302
    assert response.location == "/"
    kept = as_finance.post(
        "/switch-practice", data={"practice_id": world.practice_a.id, "next": "/incidents/"}
    )
    assert kept.location == "/incidents/"


def test_change_password(client: FlaskClient, world: World) -> None:
    login(client, world.manager)
    response = client.post(
        "/account/password",
        data={
            "current_password": "wrong",
            "new_password": "a-new-password-1",
            "confirm_password": "a-new-password-1",
        },
    )
    assert b"Your current password is not right" in response.data
    response = client.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-new-password-1",
            "confirm_password": "a-new-password-1",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    login(client, world.manager, "a-new-password-1")


def test_session_cookie_is_httponly_and_lax(client: FlaskClient, world: World) -> None:
    response = client.post("/login", data={"email": world.manager.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_security_headers_are_set(client: FlaskClient) -> None:
    response = client.get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
