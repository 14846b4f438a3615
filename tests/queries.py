"""Counting the SQL a piece of work sends, to show it does not grow with the data (no query
per line, per claim or per practice)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event

from tracker.extensions import db


def count_statements(action: Callable[[], object]) -> int:
    """How many SQL statements `action` sends, counted at the engine. The session's objects
    are expired first, so each count starts cold, as a new request does."""
    statements: list[str] = []

    def seen(*args: object) -> None:
        statements.append(str(args[2]))

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    return len(statements)
