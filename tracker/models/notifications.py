"""The outbox of email notifications (services.notifications): one row per person and event,
written in the same transaction as the event, sent later by `flask send-notifications` (each
on its own) or `flask send-digest` (a day's rows in one email)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, created_at_column
from tracker.models.invoices import Invoice
from tracker.models.users import User


class Notification(Base):
    """One email owed to one user about one event on a claim.

    `delivery` is the user's preference when the row was written ("each" or "digest"; a user
    who switched notifications off gets no rows). A sender claims rows (claimed_at and its
    claim_token) before sending, so two senders never send the same row; a failure releases
    the claim, counts the attempt and keeps the server's words in last_error."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_unsent", "sent_at", "delivery"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"))
    delivery: Mapped[str] = mapped_column(String(10))
    subject: Mapped[str] = mapped_column(String(200))
    #: What happened, in plain text, without the link (built when sent from TRACKER_BASE_URL).
    body: Mapped[str] = mapped_column(Text)
    #: The page to open, as a path of the app ("/claims/12/feedback").
    link_path: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = created_at_column()
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_error: Mapped[str] = mapped_column(Text, default="", server_default="")

    user: Mapped[User] = relationship()
    invoice: Mapped[Invoice] = relationship()
