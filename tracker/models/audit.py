"""The audit trail: who changed what, when, with old and new values."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, utcnow
from tracker.models.users import User


class AuditEntry(Base):
    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"), index=True)
    entity_type: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int] = mapped_column(Integer)
    #: "create", "update", "delete", "issue", "credit", "payment", "decision", ...
    action: Mapped[str] = mapped_column(String(20))
    summary: Mapped[str] = mapped_column(String(300), default="")
    #: JSON object {field: [old, new]}.
    changes: Mapped[str] = mapped_column(Text, default="{}")
    #: Incident the entry belongs to, so the incident page can list its history.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)

    user: Mapped[User | None] = relationship()
