"""The audit trail: record who changed what, with the old and new values."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from tracker.models import AuditEntry


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj: Any, fields: list[str] | None = None) -> dict[str, Any]:
    """The column values of a model object, as JSON-ready values."""
    columns = [c.key for c in inspect(obj).mapper.column_attrs]
    return {name: _plain(getattr(obj, name)) for name in (fields or columns)}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """Only what changed: {field: [old, new]}. Bookkeeping timestamps are left out."""
    ignored = {"updated_at", "created_at"}
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if key not in ignored and before.get(key) != after.get(key)
    }


def record(
    session: Session,
    *,
    user_id: int | None,
    entity: Any,
    action: str,
    changes: dict[str, Any] | None = None,
    summary: str = "",
    practice_id: int | None = None,
    incident_id: int | None = None,
) -> AuditEntry:
    """Add an audit entry for `entity` (flushed so it has an id); the caller commits."""
    session.flush()
    entry = AuditEntry(
        user_id=user_id,
        practice_id=practice_id,
        incident_id=incident_id,
        entity_type=type(entity).__name__,
        entity_id=entity.id,
        action=action,
        summary=summary[:300],
        changes=json.dumps(changes or {}, default=str, ensure_ascii=False),
    )
    session.add(entry)
    return entry


def changes_of(entry: AuditEntry) -> dict[str, Any]:
    # record() always stores a JSON object, so this is a dict
    changes: dict[str, Any] = json.loads(entry.changes or "{}")
    return changes
