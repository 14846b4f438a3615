"""Outage events, a practice's incidents, their cost lines, rate cards and evidence files."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import cost_kinds
from tracker.models.base import Base, Fixed, Money, created_at_column, utcnow
from tracker.models.directory import Practice

SYSTEMS = {
    "emis_web": "EMIS Web",
    "systmone": "SystmOne",
    "telephony": "Telephony",
    "internet": "Internet",
    "nhsmail": "NHSmail",
    "docman": "Docman",
    "eps": "EPS",
    "ers": "e-RS",
    "other": "Other",
}


class IncidentStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class EventStatus(StrEnum):
    """Where an outage event stands (migration 0014, services.events).

    CONFIRMED: added by an ICB reviewer or administrator, or a proposal its ICB accepted;
    every practice may use it. PROPOSED: a practice's proposal, usable at once by that
    practice alone and waiting for its ICB. MERGED: a proposal its ICB folded into an
    existing event; kept so that old links lead to the event it points to."""

    CONFIRMED = "confirmed"
    PROPOSED = "proposed"
    MERGED = "merged"


class OutageEvent(Base):
    """One real-world outage that many practices' incidents share; ICB reports group by it."""

    __tablename__ = "outage_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    started_on: Mapped[date | None] = mapped_column(Date)
    #: Comma-separated keys of SYSTEMS, as a proposing practice saw them; "" when not given.
    systems: Mapped[str] = mapped_column(String(200), default="", server_default="", nullable=False)
    status: Mapped[str] = mapped_column(
        String(10),
        default=EventStatus.CONFIRMED,
        server_default=EventStatus.CONFIRMED.value,
        nullable=False,
        index=True,
    )
    #: The practice that proposed the event; None for events added by an ICB or admin.
    proposed_by_practice_id: Mapped[int | None] = mapped_column(
        ForeignKey("practice.id"), index=True
    )
    #: A merged proposal's target: where its incidents and invoices went.
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("outage_event.id"))
    #: Who confirmed or merged the proposal, and when.
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()

    proposed_by_practice: Mapped[Practice | None] = relationship()
    merged_into: Mapped[OutageEvent | None] = relationship(remote_side=[id])

    @property
    def system_labels(self) -> list[str]:
        return [SYSTEMS.get(key, key) for key in self.systems.split(",") if key]

    @property
    def is_proposed(self) -> bool:
        return self.status == EventStatus.PROPOSED


class Incident(Base):
    """A practice's experience of an outage: what happened, when, and (through lines) its cost.

    Start and end are stored as naive UTC; forms and pages convert to Europe/London.
    """

    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    outage_event_id: Mapped[int | None] = mapped_column(ForeignKey("outage_event.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Comma-separated keys of SYSTEMS.
    systems: Mapped[str] = mapped_column(String(200), default="")
    systems_other: Mapped[str | None] = mapped_column(String(200))
    cause: Mapped[str] = mapped_column(Text, default="")
    supplier_reference: Mapped[str | None] = mapped_column(String(100))
    impact: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default=IncidentStatus.OPEN, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    practice: Mapped[Practice] = relationship()
    outage_event: Mapped[OutageEvent | None] = relationship()
    cost_lines: Mapped[list[CostLine]] = relationship(
        back_populates="incident", order_by="CostLine.line_date, CostLine.id"
    )

    @property
    def system_keys(self) -> list[str]:
        return [key for key in self.systems.split(",") if key]

    @property
    def system_labels(self) -> list[str]:
        return [SYSTEMS.get(key, key) for key in self.system_keys]


class CostLine(Base):
    """One costed item of an incident. Amounts are computed by services.costing.

    `invoice_id` points at the issued invoice that holds the line; while it is set the line
    is frozen and cannot go on another invoice.
    """

    __tablename__ = "cost_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incident.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    line_date: Mapped[date] = mapped_column(Date)
    #: as long as the cost kinds' description field allows (the form's limit)
    description: Mapped[str] = mapped_column(String(cost_kinds.MAX_DESCRIPTION))
    #: hours typed as h:mm are stored to 4 places (4:10 is 4.1667), see migration 0003
    quantity: Mapped[Decimal] = mapped_column(Fixed(4))
    unit: Mapped[str] = mapped_column(String(20))
    unit_rate: Mapped[Decimal] = mapped_column(Money)
    overtime_pct: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal("0"))
    pension_pct: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal("0"))
    ni_pct: Mapped[Decimal] = mapped_column(Fixed(2), default=Decimal("0"))
    #: None means no VAT charged (exempt or outside the scope); otherwise a percentage.
    vat_rate: Mapped[Decimal | None] = mapped_column(Fixed(2))
    net_amount: Mapped[Decimal] = mapped_column(Money)
    vat_amount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total_amount: Mapped[Decimal] = mapped_column(Money)
    working: Mapped[str] = mapped_column(String(300), default="")
    #: The parts of the net amount (services.costing): base = quantity x rate, then the
    #: overtime premium, employer NI and employer pension; NULL on lines priced before
    #: revision 0004, whose working is all they have.
    base_amount: Mapped[Decimal | None] = mapped_column(Money)
    premium_amount: Mapped[Decimal | None] = mapped_column(Money)
    ni_amount: Mapped[Decimal | None] = mapped_column(Money)
    pension_amount: Mapped[Decimal | None] = mapped_column(Money)
    #: The rate-card rates the line was priced with, frozen:
    #: [{"key", "label", "value", "source", "period"}, ...].
    rates_used: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    #: Other expenses: the receipt as typed (net and VAT), whatever the line charges.
    receipt_net: Mapped[Decimal | None] = mapped_column(Money)
    receipt_vat: Mapped[Decimal | None] = mapped_column(Money)
    #: The kind's text details by field name (tracker.cost_kinds): {"locum_name": "Dr A"}.
    details: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    incident: Mapped[Incident] = relationship(back_populates="cost_lines")
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="cost_line", order_by="Evidence.id"
    )

    @property
    def is_locked(self) -> bool:
        return self.invoice_id is not None

    @property
    def detail_rows(self) -> list[tuple[str, str]]:
        """(label, value) of the kind's details this line has, for its own page."""
        return cost_kinds.summary_rows(self.kind, self.details or {})

    @property
    def details_text(self) -> str:
        """The details as the incident's list of costs shows them: "Dr A, invoice L-1"."""
        return cost_kinds.list_text(self.kind, self.details or {})


class RateCardItem(Base):
    """A practice's rate for one kind of cost over one period, with where the figure comes
    from. A line takes the rate in force on its date (services.rates.rates_on)."""

    __tablename__ = "rate_card_item"
    __table_args__ = (
        UniqueConstraint("practice_id", "key", "valid_from", name="uq_rate_card_item_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    cost_kind: Mapped[str | None] = mapped_column(String(20))
    #: "hour", "session", "appointment", "day" or "%" for on-cost percentages.
    unit: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal] = mapped_column(Fixed(2))
    source: Mapped[str] = mapped_column(String(300), default="")
    #: The period's name as printed ("2024/25"); blank for a practice's own dated rate.
    year: Mapped[str] = mapped_column(String(20), default="")
    #: First and last day the rate applies to; NULL is open-ended.
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    #: The practice's own figure rather than the published default.
    is_own: Mapped[bool] = mapped_column(Boolean, default=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Evidence(Base):
    """An uploaded receipt or document. Stored under instance/uploads with a random name."""

    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    cost_line_id: Mapped[int | None] = mapped_column(ForeignKey("cost_line.id"), index=True)
    claim_message_id: Mapped[int | None] = mapped_column(ForeignKey("claim_message.id"), index=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(50))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    uploaded_at: Mapped[datetime] = created_at_column()

    cost_line: Mapped[CostLine | None] = relationship(back_populates="evidence")
