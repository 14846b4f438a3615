"""Schema, CSRF, configuration and command line."""

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import select

from tests.conftest import build_app, create_schema
from tests.factories import PASSWORD, World
from tracker import create_app
from tracker.extensions import db
from tracker.models import Base, Icb, User


def test_migrations_give_exactly_the_models_schema(app_ctx: Flask) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata
        )
    assert diff == []


def test_every_post_route_needs_a_csrf_token(app: Flask, world: World, tmp_path: Path) -> None:
    strict = build_app(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, WTF_CSRF_ENABLED=True)
    client = strict.test_client()
    assert (
        client.post("/login", data={"email": world.manager.email, "password": PASSWORD}).status_code
        == 400
    )
    with client.session_transaction() as session:
        session["_user_id"] = world.admin.get_id()
        session["_fresh"] = True
    post_rules = [r for r in strict.url_map.iter_rules() if "POST" in r.methods]
    assert len(post_rules) >= 5
    for rule in post_rules:
        url = rule.build({arg: 1 for arg in rule.arguments}, append_unknown=False)[1]
        response = client.post(url, data={})
        assert response.status_code == 400, f"{rule.rule} accepted a POST without CSRF token"
        assert b"Your session expired" in response.data


def test_a_secret_key_is_generated_into_the_instance_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert len(app.config["SECRET_KEY"]) == 64
    assert (tmp_path / "secret_key").read_text() == app.config["SECRET_KEY"]
    assert (
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}).config["SECRET_KEY"]
        == app.config["SECRET_KEY"]
    )


def test_production_refuses_a_default_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match="default SECRET_KEY"):
        create_app({"PRODUCTION": True, "SECRET_KEY": "dev"})
    app = create_app({"PRODUCTION": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_environment_overrides_configuration(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TRACKER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("TRACKER_PAGE_SIZE", "7")
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/db")
    app = create_app()
    assert app.config["PAGE_SIZE"] == 7
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_sqlite_runs_with_wal_and_foreign_keys(app_ctx: Flask) -> None:
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_init_db_and_seed_demo_are_idempotent(app: Flask, tmp_path: Path) -> None:
    fresh = build_app(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    runner = fresh.test_cli_runner()
    result = runner.invoke(args=["init-db"])
    assert result.exit_code == 0, result.output
    assert "42 ICBs added" in result.output
    assert "0 ICBs added" in runner.invoke(args=["init-db"]).output
    result = runner.invoke(args=["seed-demo", "--password", "demo-pass-123"])
    assert "manager@example.org" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert "already present" in again.output
    short = runner.invoke(args=["seed-demo", "--password", "short"])
    assert short.exit_code != 0 and "at least 12 characters" in short.output
    with fresh.app_context():
        assert db.session.scalar(select(User).where(User.email == "manager@example.org"))
        assert len(db.session.scalars(select(Icb)).all()) == 42
    client = fresh.test_client()
    response = client.post(
        "/login",
        data={"email": "manager@example.org", "password": "demo-pass-123"},
        follow_redirects=True,
    )
    assert b"Riverside Medical Centre" in response.data


def test_seed_demo_prints_a_random_password_that_works(tmp_path: Path) -> None:
    fresh = build_app(f"sqlite:///{tmp_path / 'cli.db'}", tmp_path)
    create_schema(fresh)
    result = fresh.test_cli_runner().invoke(args=["seed-demo"])
    password = result.output.strip().splitlines()[-1].split(": ")[-1]
    response = fresh.test_client().post(
        "/login", data={"email": "reviewer@example.org", "password": password}
    )
    assert response.status_code == 302


def test_create_user_command(app_ctx: Flask, world: World) -> None:
    runner = app_ctx.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "pm2@example.org",
            "--password",
            "long-password-1",
            "--role",
            "practice_manager",
            "--practice",
            "A81001",
        ]
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "pm2@example.org",
            "--password",
            "long-password-1",
            "--admin",
        ]
    )
    assert result.exit_code != 0 and "already exists" in result.output
    result = runner.invoke(
        args=[
            "create-user",
            "--email",
            "r@example.org",
            "--password",
            "pw",
            "--role",
            "icb_reviewer",
        ]
    )
    assert result.exit_code != 0 and "--icb" in result.output


def test_error_pages_use_the_service_layout(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert b"Page not found" in response.data
    assert b"Outage Claims" in response.data


def test_behind_a_proxy_the_client_address_counts_for_throttling(tmp_path: Path) -> None:
    from tracker.models import LoginAttempt

    app = build_app(f"sqlite:///{tmp_path / 'proxy.db'}", tmp_path, BEHIND_PROXY=True)
    create_schema(app)
    app.test_client().post(
        "/login",
        data={"email": "x@example.org", "password": "wrong"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    with app.app_context():
        assert db.session.scalar(select(LoginAttempt.remote_addr)) == "203.0.113.7"


def test_the_web_layer_and_the_services_share_one_session(app_ctx: Flask) -> None:
    """db_session() is the session db.session proxies, so a view's commit or rollback covers
    what the services did through it."""
    from tracker.extensions import db, db_session

    assert db_session() is db.session()
