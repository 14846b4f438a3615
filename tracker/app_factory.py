"""The application factory: the one module that puts Flask, the extensions, the blueprints,
the CLI and the error pages together. Kept out of tracker/__init__.py so that importing a
service or a document builder never imports Flask or the models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from jinja2 import ChainableUndefined, ChoiceLoader, FileSystemLoader, PackageLoader
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter, Map

from tracker import web_errors
from tracker.config import load_config
from tracker.extensions import csrf, db, db_session, login_manager, migrate
from tracker.models import MAX_INTEGER

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_FOLDER = str(PROJECT_ROOT / "templates")


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Application factory: config, extensions, blueprints, CLI, error handlers."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("TRACKER_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=TEMPLATE_FOLDER,
    )
    load_config(app, test_config)
    if app.config.get("BEHIND_PROXY"):
        # trust one proxy's X-Forwarded-For/-Proto, so login throttling counts real addresses
        # and HTTPS is recognised behind a load balancer
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    register_templates(app)
    register_extensions(app)
    app.url_map.converters["int"] = RecordIdConverter  # before any route is added
    register_blueprints(app)
    register_cli(app)
    register_error_handlers(app)
    web_errors.register(app)
    register_security_headers(app)
    return app


class RecordIdConverter(IntegerConverter):
    """`<int:...>` in a route, bounded by what an INTEGER column holds (1 to 2**31 - 1).

    Werkzeug's converter takes a number of any length; one past the column's range reached
    the database as a query parameter, which PostgreSQL refuses (from 2,147,483,648) and
    SQLite's driver cannot bind (from 2**63): a 500 for /invoices/99999999999999999999. Out
    of range now simply matches no route: "Page not found", like any other unknown id."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_INTEGER)
        super().__init__(url_map, *args, **kwargs)


def register_templates(app: Flask) -> None:
    from tracker import filters

    app.jinja_options = {
        "undefined": ChainableUndefined,
        "loader": ChoiceLoader(
            [FileSystemLoader(TEMPLATE_FOLDER), PackageLoader("nhsuk_frontend_jinja")]
        ),
        "autoescape": True,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }
    filters.register(app)


def _user_with_memberships() -> list[Any]:
    """Every page asks who the user is, what they may do and which practices they work for
    (the header's practice, the switcher, each access check) and the practice's ICB (the
    dashboard, an invoice's customer): the user, their memberships, those practices and
    ICBs come in one query, not one for each (issue 13)."""
    from sqlalchemy.orm import joinedload

    from tracker.models import Membership, Practice, User

    memberships = joinedload(User.memberships)
    return [
        memberships.joinedload(Membership.practice).joinedload(Practice.icb),
        memberships.joinedload(Membership.icb),
    ]


USER_WITH_MEMBERSHIPS = _user_with_memberships()


def register_extensions(app: Flask) -> None:
    from tracker import models

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)

    @login_manager.user_loader
    def load_user(token: str) -> models.User | None:
        """The signed-in user, on every request: only an active user whose session version
        is still the one this session signed in with (see `User.get_id`)."""
        from tracker.models.users import parse_session_token

        parsed = parse_session_token(token)
        if parsed is None:
            return None
        user_id, version = parsed
        user = db_session().get(models.User, user_id, options=USER_WITH_MEMBERSHIPS)
        if user is None or not user.active or user.session_version != version:
            return None
        return user


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys, WAL for concurrent readers, wait rather than fail on locks."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def register_blueprints(app: Flask) -> None:
    from tracker.admin.views import bp as admin_bp
    from tracker.auth.views import bp as auth_bp
    from tracker.incidents.imports import bp as imports_bp
    from tracker.incidents.views import bp as incidents_bp
    from tracker.invoices import settlement  # noqa: F401 (remittances, statements: invoices_bp)
    from tracker.invoices.views import bp as invoices_bp
    from tracker.main.views import bp as main_bp
    from tracker.practices.views import bp as practices_bp
    from tracker.reports.views import bp as reports_bp
    from tracker.review.queue import bp as queue_bp
    from tracker.review.views import bp as review_bp

    for blueprint in (
        auth_bp,
        main_bp,
        admin_bp,
        practices_bp,
        incidents_bp,
        imports_bp,
        invoices_bp,
        review_bp,
        queue_bp,
        reports_bp,
    ):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from tracker.cli import register

    register(app)


def register_error_handlers(app: Flask) -> None:
    def render_error(code: int, title: str, message: str) -> tuple[str, int]:
        return render_template("errors/error.html", code=code, title=title, message=message), code

    @app.errorhandler(403)
    def forbidden(_error: Exception) -> tuple[str, int]:
        return render_error(
            403,
            "You do not have access to this page",
            "Your role does not include this page. Ask your administrator if you think it should.",
        )

    @app.errorhandler(404)
    def not_found(_error: Exception) -> tuple[str, int]:
        return render_error(
            404,
            "Page not found",
            "If you typed the web address, check it is "
            "correct. If you followed a link, it may belong to another practice.",
        )

    @app.errorhandler(413)
    def too_large(_error: Exception) -> tuple[str, int]:
        limit = app.config["MAX_UPLOAD_BYTES"] // (1024 * 1024)
        return render_error(
            413,
            "The file is too large",
            f"Files must be smaller than {limit} MB. Go back and choose a smaller file.",
        )

    @app.errorhandler(429)
    def too_many(_error: Exception) -> tuple[str, int]:
        return render_error(429, "Too many attempts", "Wait a minute, then try again.")

    @app.errorhandler(CSRFError)
    def csrf_failed(_error: CSRFError) -> tuple[str, int]:
        return render_error(
            400,
            "Your session expired",
            "The form was open too long or was "
            "sent from another site. Go back, reload the page and try again.",
        )

    @app.errorhandler(500)
    def server_error(_error: Exception) -> tuple[str, int]:
        db_session().rollback()
        return render_error(
            500, "Sorry, there is a problem with the service", "Nothing was saved. Try again later."
        )


def register_security_headers(app: Flask) -> None:
    from tracker.filters import csp_nonce

    @app.after_request
    def security_headers(response: Any) -> Any:
        nonce = csp_nonce()
        response.headers.setdefault(
            "Content-Security-Policy",
            f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; "
            "img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
            "frame-ancestors 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if request.endpoint != "static":
            response.headers.setdefault("Cache-Control", "no-store")
        return response
