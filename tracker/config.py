"""Configuration, layered: defaults -> instance/config.py -> TRACKER_* env vars -> test config.

`DATABASE_URL` (without the prefix) is honoured too, because hosting platforms set it.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

#: Keys that must never be used as a real secret.
INSECURE_SECRET_KEYS = {"", "dev", "changeme", "secret", "development"}


class Defaults:
    """Safe defaults for a single-machine install (SQLite in instance/)."""

    SQLALCHEMY_DATABASE_URI: str | None = None  # filled from instance path at start-up
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_HTTPONLY = True
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_UPLOAD_BYTES = 10 * 1024 * 1024
    UPLOAD_FOLDER: str | None = None  # instance/uploads unless set
    #: Spreadsheets waiting for their import to be confirmed (services.imports.stash).
    IMPORT_FOLDER: str | None = None  # instance/imports unless set
    #: The largest claim pack PDF: NHS SBS takes emails of at most 10 MB, and base64 makes
    #: the attachment 37% larger (services.claim_pack.DEFAULT_MAX_BYTES).
    CLAIM_PACK_MAX_BYTES = 7_000_000
    #: Failed sign-ins a minute for one account from one address; then, looser, for one
    #: account from any address and from one address over every account (see
    #: services.accounts.ThrottleLimits).
    LOGIN_MAX_FAILURES_PER_MINUTE = 10
    LOGIN_MAX_FAILURES_PER_ACCOUNT_PER_MINUTE = 100
    LOGIN_MAX_FAILURES_PER_ADDRESS_PER_MINUTE = 30
    PAYMENT_TERMS_DAYS = 30
    PAGE_SIZE = 25
    #: Set TRACKER_BEHIND_PROXY=true behind one reverse proxy or load balancer.
    BEHIND_PROXY = False
    #: Production: Secure cookies, a real secret key required. Set TRACKER_PRODUCTION=true.
    PRODUCTION = False
    #: Sending invoices to the ICB by email (services.mailing): off until a server and a
    #: sender are set. USE_TLS is STARTTLS on the submission port; port 465 is TLS from the
    #: first byte. A username makes the app log in (over TLS only, see services.mailing).
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_SENDER: str | None = None
    #: Seconds to wait for the mail server before giving up with a message.
    MAIL_TIMEOUT = 30
    #: The address people open the app at, for the links in notification emails (sent by
    #: `flask send-notifications` and `flask send-digest`, outside any request, so the
    #: app cannot tell its own address). Set TRACKER_BASE_URL, e.g. https://claims.example.nhs.uk
    BASE_URL = "http://127.0.0.1:5000"
    #: The sales account code the CSV exports for Xero give each line (AccountCode): 200 is
    #: "Sales" in Xero's demo chart of accounts. Set TRACKER_ACCOUNTS_SALES_CODE to the code
    #: of the income account the practice books NHS claims to, exactly as its chart shows it.
    ACCOUNTS_SALES_CODE = "200"


#: Settings that are text whatever they look like: a password of digits ("0123") or a
#: username "yes" must reach the mail server as typed, not as a number or a boolean; an
#: account code "0200" must reach Xero with its zero.
TEXT_SETTINGS = (
    "MAIL_SERVER",
    "MAIL_USERNAME",
    "MAIL_PASSWORD",
    "MAIL_SENDER",
    "ACCOUNTS_SALES_CODE",
    "BASE_URL",
)


def _coerce(value: str) -> Any:
    """Read an environment string as bool/int when it obviously is one."""
    lowered = value.lower()
    if lowered in {"true", "yes", "on"}:
        return True
    if lowered in {"false", "no", "off"}:
        return False
    if value.isdigit():
        return int(value)
    return value


def load_config(app: Flask, test_config: dict[str, Any] | None = None) -> None:
    """Apply the configuration layers in order; later layers win."""
    app.config.from_object(Defaults)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("TRACKER", loads=_coerce)
    for name in TEXT_SETTINGS:
        if f"TRACKER_{name}" in os.environ:
            app.config[name] = os.environ[f"TRACKER_{name}"]
    if os.environ.get("DATABASE_URL"):
        app.config["SQLALCHEMY_DATABASE_URI"] = os.environ["DATABASE_URL"]
    if test_config:
        app.config.from_mapping(test_config)

    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'tracker.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = _normalise_db_url(app.config["SQLALCHEMY_DATABASE_URI"])
    _derive_request_limits(app)
    if not app.config["UPLOAD_FOLDER"]:
        app.config["UPLOAD_FOLDER"] = str(instance / "uploads")
    if not app.config["IMPORT_FOLDER"]:
        app.config["IMPORT_FOLDER"] = str(instance / "imports")
    # cookies travel only over HTTPS in production; a local run serves plain http://127.0.0.1
    if app.config["PRODUCTION"]:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
    _ensure_secret_key(app, instance)


def _derive_request_limits(app: Flask) -> None:
    """Requests may be several times the upload limit, so a file that is too large is
    refused next to its field (with the form kept) rather than by a bare 413 page; files
    stream to disk while parsed. A text field may be as large as an upload, so an over-long
    description is refused by its form too."""
    upload = int(app.config["MAX_UPLOAD_BYTES"])
    app.config.setdefault("MAX_CONTENT_LENGTH", None)
    if not app.config["MAX_CONTENT_LENGTH"]:
        app.config["MAX_CONTENT_LENGTH"] = 4 * upload + 1024 * 1024
    app.config["MAX_FORM_MEMORY_SIZE"] = upload + 1024 * 1024


def _normalise_db_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whichever spelling the URL came with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _ensure_secret_key(app: Flask, instance: Path) -> None:
    """Generate a key into instance/ on first start; refuse a well-known key in production."""
    key = app.config.get("SECRET_KEY")
    if key:
        if app.config["PRODUCTION"] and str(key).lower() in INSECURE_SECRET_KEYS:
            raise RuntimeError("Refusing to start in production with a default SECRET_KEY.")
        return
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()
