"""Throw-away PostgreSQL databases for tests that need a database of their own (a restore
target, a never-migrated database), created on TEST_DATABASE_URL's server and dropped after."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import missing


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new, empty PostgreSQL database's URL (plain `postgresql://`, as a user would write
    it); dropped, with any connection still open, when the block ends."""
    server_url = os.environ.get("TEST_DATABASE_URL")
    if not server_url:
        missing("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    server = make_url(str(server_url))
    name = f"tracker_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        server.set(drivername="postgresql+psycopg", database="postgres"),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(drivername="postgresql", database=name).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
