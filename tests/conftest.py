"""Shared fixtures: an app per database backend, a clean database per test, users per role.

Integration tests run on SQLite and, when TEST_DATABASE_URL names a PostgreSQL server, again
on PostgreSQL in a throw-away database created for the run and dropped afterwards.
With TRACKER_REQUIRE_FULL_SUITE=1 (as CI sets it) a missing PostgreSQL or Chromium fails
the run instead of skipping.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests import factories, mail
from tracker import create_app
from tracker.extensions import db
from tracker.models import Base, Role, User
from tracker.models import users as users_model

# Hashing with the production cost in every fixture would make the suite crawl; the check is
# the same code path whatever the method.
users_model.PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"

REQUIRE_FULL = os.environ.get("TRACKER_REQUIRE_FULL_SUITE") == "1"
PASSWORD = factories.PASSWORD


def missing(reason: str) -> None:
    """Skip, or fail when the full suite is required (CI)."""
    if REQUIRE_FULL:
        pytest.fail(f"{reason} (TRACKER_REQUIRE_FULL_SUITE=1 forbids skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        missing("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    server = make_url(server_url).set(drivername="postgresql+psycopg")
    name = f"tracker_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # pragma: no cover - depends on the machine
        missing(f"PostgreSQL at {server.host}:{server.port} not reachable: {error}")
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def build_app(database_url: str, instance: Path, **overrides: object) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "SERVER_NAME": None,
        **overrides,
    }
    os.environ["TRACKER_INSTANCE_PATH"] = str(instance)
    return create_app(config)


def create_schema(app: Flask) -> None:
    """Build the schema the way production does: through the Alembic migrations."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def demo_schema_app(database_url: str, instance: Path) -> Flask:
    """An app on `database_url` with the migrated schema and the demo data, as a migration's
    down-and-up test starts from."""
    app = build_app(database_url, instance)
    create_schema(app)
    result = app.test_cli_runner().invoke(args=["seed-demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    return app


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Flask]:
    instance = tmp_path_factory.mktemp(f"instance-{request.param}")
    if request.param == "sqlite":
        url = f"sqlite:///{instance / 'test.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    application = build_app(url, instance)
    create_schema(application)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def wipe(app: Flask) -> None:
    """Empty every table so each test starts from nothing."""
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in Base.metadata.sorted_tables]
        with db.engine.begin() as conn:
            if db.engine.dialect.name == "postgresql":
                quoted = ", ".join(f'"{name}"' for name in tables)
                conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    conn.execute(text(f'DELETE FROM "{name}"'))


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    """A clean database and an application context for the test."""
    wipe(app)
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app_ctx: Flask) -> FlaskClient:
    return app_ctx.test_client()


@pytest.fixture
def world(app_ctx: Flask) -> factories.World:
    """Two ICBs, a practice in each plus a second practice in the first, and one user per role."""
    return factories.build_world(db.session)


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> FlaskClient:
    response = client.post("/login", data={"email": user.email, "password": password})
    assert response.status_code == 302, response.data[:500]
    return client


@pytest.fixture
def as_manager(client: FlaskClient, world: factories.World) -> FlaskClient:
    return login(client, world.manager)


@pytest.fixture
def as_finance(client: FlaskClient, world: factories.World) -> FlaskClient:
    return login(client, world.finance)


@pytest.fixture
def as_reviewer(client: FlaskClient, world: factories.World) -> FlaskClient:
    return login(client, world.reviewer)


@pytest.fixture
def as_admin(client: FlaskClient, world: factories.World) -> FlaskClient:
    return login(client, world.admin)


@pytest.fixture
def approvers(world: factories.World) -> tuple[User, User]:
    """ICB X signs off in two steps, with an ICB finance approver; ICB Y (one step) has one
    too."""
    world.icb_x.two_step_sign_off = True
    approver = factories.make_user(
        db.session,
        Role.ICB_FINANCE_APPROVER,
        icb=world.icb_x,
        email="approver.x@example.org",
        name="Approver X",
    )
    approver_y = factories.make_user(
        db.session,
        Role.ICB_FINANCE_APPROVER,
        icb=world.icb_y,
        email="approver.y@example.org",
        name="Approver Y",
    )
    db.session.commit()
    return approver, approver_y


@pytest.fixture
def mailbox() -> Iterator[tuple[mail.Mailbox, int]]:
    box = mail.Mailbox()
    port = mail.free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.fixture
def mail_settings(
    app_ctx: Flask, mailbox: tuple[mail.Mailbox, int], monkeypatch: pytest.MonkeyPatch
) -> mail.Mailbox:
    """The app pointed at the local server (no TLS: it is a plain test server)."""
    box, port = mailbox
    for key, value in {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": port,
        "MAIL_USE_TLS": False,
        "MAIL_SENDER": "claims@outage-claims.example.org",
        "MAIL_TIMEOUT": 10,
    }.items():
        monkeypatch.setitem(app_ctx.config, key, value)
    return box
