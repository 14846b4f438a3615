"""Signing in and out, sessions, throttling and the password policy (OWASP ASVS level 2)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import delete, inspect, select, text

from tests.conftest import build_app, create_schema, login
from tests.factories import PASSWORD, World
from tests.integration.test_admin import user_form
from tests.integration.test_cost_kind_details import empty_database  # noqa: F401 (fixture)
from tracker.extensions import db
from tracker.models import LoginAttempt, User
from tracker.models import users as users_model


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


def test_throttle_counts_per_address_across_accounts(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Password spraying: one address guessing many accounts is stopped too."""
    for n in range(app.config["LOGIN_MAX_FAILURES_PER_ADDRESS_PER_MINUTE"]):
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
    assert b'id="current_password-error"' in response.data
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


# --- sessions end (ASVS 3.3.1, 3.3.3) ----------------------------------------------------------


def _session_cookie(client: FlaskClient) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def _replay(app: Flask, cookie: str) -> FlaskClient:
    """A fresh browser holding a copy of a session cookie saved earlier."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    """Whether the client's session still signs it in. The requests of a test share its
    application context, where Flask-Login keeps the last user it loaded; dropping it makes
    this request load the user from its own session cookie, as a real request does."""
    g.pop("_login_user", None)
    response = client.get("/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_session_cookie_saved_before_sign_out_no_longer_works(
    app_ctx: Flask, client: FlaskClient, world: World
) -> None:
    login(client, world.manager)
    saved = _session_cookie(client)
    assert _signed_in(_replay(app_ctx, saved))
    client.post("/logout")
    g.pop("_login_user", None)  # see _signed_in
    replayed = _replay(app_ctx, saved).get("/")
    assert replayed.status_code == 302
    assert replayed.location.startswith("/login")


def test_a_password_change_signs_out_other_sessions_but_not_this_one(
    app_ctx: Flask, world: World
) -> None:
    here, elsewhere = app_ctx.test_client(), app_ctx.test_client()
    login(here, world.manager)
    login(elsewhere, world.manager)
    saved = _session_cookie(here)
    response = here.post(
        "/account/password",
        data={
            "current_password": PASSWORD,
            "new_password": "a-new-password-1",
            "confirm_password": "a-new-password-1",
        },
    )
    assert response.status_code == 302
    assert _signed_in(here)
    assert not _signed_in(elsewhere)
    assert not _signed_in(_replay(app_ctx, saved))  # the cookie from before the change too


def test_an_admin_password_reset_or_deactivation_signs_the_user_out(
    app_ctx: Flask, world: World
) -> None:
    admin, user = app_ctx.test_client(), app_ctx.test_client()
    login(user, world.manager)
    edit = f"/admin/users/{world.manager.id}/edit"
    form = user_form(world, name=world.manager.name, email=world.manager.email)

    def as_admin(**changes: str) -> int:
        g.pop("_login_user", None)  # see _signed_in
        login(admin, world.admin)
        status = admin.post(edit, data={**form, **changes}).status_code
        admin.post("/logout")
        return status

    assert as_admin(password="reset-by-the-admin") == 302
    assert not _signed_in(user)

    login(user, world.manager, "reset-by-the-admin")
    saved = _session_cookie(user)
    assert as_admin(password="", active="") == 302  # deactivated
    assert not _signed_in(user)
    assert as_admin(password="") == 302  # active again
    assert not _signed_in(_replay(app_ctx, saved))


def test_a_session_from_before_session_versions_must_sign_in_again(
    client: FlaskClient, world: World
) -> None:
    with client.session_transaction() as session:
        session["_user_id"] = str(world.manager.id)
        session["_fresh"] = True
    assert not _signed_in(client)


def test_migration_0005_adds_the_session_version_and_back(
    empty_database: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Up, every user starts at version 0 (and keeps signing in); down, the column goes and
    nothing else changes."""
    from flask_migrate import downgrade, upgrade

    app = build_app(empty_database, tmp_path)
    create_schema(app)
    assert app.test_cli_runner().invoke(args=["seed-demo", "--password", PASSWORD]).exit_code == 0
    with app.app_context():
        users = {u.email: u.password_hash for u in db.session.scalars(select(User))}
        db.session.execute(text("UPDATE user_account SET session_version = 7"))
        db.session.commit()
        db.session.remove()
        downgrade(revision="0004")
        with db.engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("user_account")}
            assert "session_version" not in columns
            rows = conn.execute(text("SELECT email, password_hash FROM user_account")).all()
            assert dict(rows) == users
        upgrade()
        assert {u.email: u.session_version for u in db.session.scalars(select(User))} == {
            email: 0 for email in users
        }
        db.session.remove()
        db.engine.dispose()
    response = app.test_client().post(
        "/login", data={"email": "manager@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302


# --- equal work for every failed sign-in (ASVS 2.2.1) -----------------------------------------


@pytest.fixture
def hash_checks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every password hash check the app makes, through the real function (thread-safe)."""
    real = users_model.check_password_hash
    calls: list[str] = []
    lock = threading.Lock()

    def counting(pwhash: str, password: str) -> bool:
        with lock:
            calls.append(pwhash.split("$")[0])
        return real(pwhash, password)

    monkeypatch.setattr(users_model, "check_password_hash", counting)
    yield calls


def test_every_failed_sign_in_checks_exactly_one_password_hash(
    client: FlaskClient, world: World, hash_checks: list[str]
) -> None:
    """Unknown address, inactive account, wrong password: one hash check of the same method
    each, so none answers faster than another and none tells the account exists."""
    world.finance.active = False
    db.session.commit()
    attempts = {
        "wrong password": (world.manager.email, "not-the-password"),
        "unknown address": ("nobody@example.org", "not-the-password"),
        "inactive account": (world.finance.email, PASSWORD),
        "right password": (world.reviewer.email, PASSWORD),
    }
    for what, (email, password) in attempts.items():
        hash_checks.clear()
        client.post("/login", data={"email": email, "password": password})
        assert hash_checks == [users_model.PASSWORD_HASH_METHOD], what
        client.post("/logout")


# --- throttling: atomic, and per account and address ---------------------------------------


def _wrong_attempt(app: Flask, email: str, address: str) -> int:
    response = app.test_client().post(
        "/login",
        data={"email": email, "password": "not-the-password"},
        environ_base={"REMOTE_ADDR": address},
    )
    return response.status_code


def _race_wrong_attempts(app: Flask, email: str, address: str, count: int) -> list[int]:
    """`count` wrong sign-ins for one account from one address, released at the same moment."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def attempt() -> None:
        barrier.wait()
        try:
            statuses.append(_wrong_attempt(app, email, address))
        except Exception:  # what a user would see as a server error
            statuses.append(500)

    threads = [threading.Thread(target=attempt) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_simultaneous_wrong_attempts_never_exceed_the_limit(
    app_ctx: Flask, world: World, hash_checks: list[str]
) -> None:
    """40 wrong passwords sent at once for one account from one address: at most `limit`
    have their password checked; the rest are refused with 429, none fails."""
    limit = app_ctx.config["LOGIN_MAX_FAILURES_PER_MINUTE"]
    for round_ in range(3):
        db.session.execute(delete(LoginAttempt))
        db.session.commit()
        hash_checks.clear()
        statuses = _race_wrong_attempts(app_ctx, world.manager.email, f"192.0.2.{round_}", 40)
        assert sorted(set(statuses)) == [200, 429], statuses
        assert len(hash_checks) <= limit, f"round {round_}: {len(hash_checks)} of 40 checked"
        assert statuses.count(200) == len(hash_checks)


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(
    app_ctx: Flask, client: FlaskClient, world: World
) -> None:
    statuses = [_wrong_attempt(app_ctx, world.manager.email, "198.51.100.66") for _ in range(30)]
    limit = app_ctx.config["LOGIN_MAX_FAILURES_PER_MINUTE"]
    assert statuses == [200] * limit + [429] * (30 - limit)
    response = client.post(
        "/login",
        data={"email": world.manager.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "192.0.2.10"},
    )
    assert response.status_code == 302


def test_the_looser_account_limit_stops_guessing_from_many_addresses(
    app_ctx: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app_ctx.config, "LOGIN_MAX_FAILURES_PER_ACCOUNT_PER_MINUTE", 25)
    statuses = [
        _wrong_attempt(app_ctx, world.manager.email, f"203.0.113.{n // 5}") for n in range(40)
    ]
    assert statuses == [200] * 25 + [429] * 15


# --- the password policy (ASVS 2.1, NIST SP 800-63B 5.1.1.2) ------------------------------


WEAK_PASSWORDS = {
    "aaaaaaaaaa": "at least 12 characters",
    "1234567890": "at least 12 characters",
    "aaaaaaaaaaaa": "repeated or sequential",
    "123456789012": "repeated or sequential",
    "Password123456": "most common passwords",
    "IloveYou!!!!!!": "most common passwords",
}


def _change_password_to(client: FlaskClient, new: str) -> str:
    response = client.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm_password": new},
    )
    assert response.status_code == 200
    return response.data.decode()


@pytest.mark.parametrize("password", sorted(WEAK_PASSWORDS))
def test_change_password_refuses_weak_passwords_next_to_the_field(
    as_manager: FlaskClient, world: World, password: str
) -> None:
    page = _change_password_to(as_manager, password)
    assert WEAK_PASSWORDS[password] in page
    assert 'id="new_password-error"' in page
    db.session.expire_all()
    assert world.manager.check_password(PASSWORD)


def test_change_password_refuses_the_users_own_email(as_manager: FlaskClient, world: World) -> None:
    for password in (world.manager.email, world.manager.email.upper() + "1"):
        page = _change_password_to(as_manager, password)
        assert "Do not base your password on your email address" in page


def test_admin_user_form_applies_the_password_policy(as_admin: FlaskClient, world: World) -> None:
    for password, message in [*WEAK_PASSWORDS.items(), ("new.person@example.org", "email")]:
        response = as_admin.post("/admin/users/new", data=user_form(world, password=password))
        page = response.data.decode()
        assert message in page, password
        assert 'id="password-error"' in page
        assert 'value="new.person@example.org"' in page  # what was typed is kept
    assert db.session.scalar(select(User).where(User.email == "new.person@example.org")) is None


@pytest.mark.parametrize(
    ("password", "message"),
    [("x", "at least 12 characters"), ("1234567890", "at least 12"), ("pm3@example.org", "email")],
)
def test_create_user_command_applies_the_password_policy(
    app_ctx: Flask, world: World, password: str, message: str
) -> None:
    args = ["create-user", "--email", "pm3@example.org", "--password", password, "--admin"]
    result = app_ctx.test_cli_runner().invoke(args=args)
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(User).where(User.email == "pm3@example.org")) is None


def test_an_admin_setting_their_own_password_stays_signed_in(
    as_admin: FlaskClient, world: World
) -> None:
    form = user_form(world, name=world.admin.name, email=world.admin.email, role="")
    form.update(is_admin="y", practice_ids=[], password="kettle orbit lantern")
    response = as_admin.post(f"/admin/users/{world.admin.id}/edit", data=form)
    assert response.status_code == 302
    assert _signed_in(as_admin)


@pytest.mark.parametrize(
    ("name", "message"),
    [("N" * 121, "Name must be 120 characters or fewer"), ("Ann\x00Lee", "control character")],
)
def test_create_user_command_refuses_a_name_the_database_cannot_hold(
    app_ctx: Flask, world: World, name: str, message: str
) -> None:
    """The command line has no form in front of it: the service checks the text itself, the
    same on SQLite (which would store it) and PostgreSQL (which raised a 500-style error)."""
    args = ["create-user", "--email", "pm4@example.org", "--password", "kettle orbit lantern"]
    result = app_ctx.test_cli_runner().invoke(args=[*args, "--name", name, "--admin"])
    assert result.exit_code != 0
    assert message in result.output
    assert db.session.scalar(select(User).where(User.email == "pm4@example.org")) is None
