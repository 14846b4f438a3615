"""An ICB's claim policy for one outage event: what it reimburses, its caps, its deadline.

A policy is only ever added to: every save is a new version row (who, when), so a decision
made under version 2 can always be read against version 2 (services.claim_policy).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, Fixed, Money, created_at_column
from tracker.models.directory import Icb
from tracker.models.incidents import OutageEvent
from tracker.models.users import User


class ClaimPolicy(Base):
    """One version of an ICB's policy for one outage event. Blank figures mean no limit."""

    __tablename__ = "claim_policy"
    __table_args__ = (
        UniqueConstraint("outage_event_id", "icb_id", "version", name="uq_claim_policy_version"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    outage_event_id: Mapped[int] = mapped_column(ForeignKey("outage_event.id"), index=True)
    icb_id: Mapped[int] = mapped_column(ForeignKey("icb.id"), index=True)
    #: 1, 2, 3 ... per (event, ICB); the highest is in force.
    version: Mapped[int] = mapped_column(Integer)
    #: The cost kinds the ICB reimburses, comma-separated ("staff,locum,expense").
    claimable: Mapped[str] = mapped_column(String(100), default="")
    #: The last day a claim may be issued.
    deadline: Mapped[date | None] = mapped_column(Date)
    #: Costs are accepted from the outage's start to this many days after the incident ended.
    window_days: Mapped[int | None] = mapped_column(Integer)
    #: A line above this amount needs a receipt or other evidence attached.
    evidence_above: Mapped[Decimal | None] = mapped_column(Money)
    #: Most hours of staff or locum time one person may claim on one day.
    max_hours_per_day: Mapped[Decimal | None] = mapped_column(Fixed(2))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()

    outage_event: Mapped[OutageEvent] = relationship()
    icb: Mapped[Icb] = relationship()
    created_by: Mapped[User | None] = relationship()
    caps: Mapped[list[ClaimPolicyCap]] = relationship(
        back_populates="policy", order_by="ClaimPolicyCap.id", cascade="all, delete-orphan"
    )


class ClaimPolicyCap(Base):
    """One cap of a policy version: an hourly rate of a staff band, a locum's sessional or
    hourly rate, the unit cost of a type of appointment (keys: services.claim_policy.CAPS)."""

    __tablename__ = "claim_policy_cap"
    __table_args__ = (UniqueConstraint("policy_id", "key", name="uq_claim_policy_cap_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("claim_policy.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(Money)

    policy: Mapped[ClaimPolicy] = relationship(back_populates="caps")
