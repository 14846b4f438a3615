"""Invoices and credit notes with frozen lines, their number series and payments."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    JSON,
    Boolean,
    ColumnElement,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    type_coerce,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker import cost_kinds, presentation
from tracker.models.base import Base, Fixed, Money, created_at_column
from tracker.models.directory import Icb, Practice
from tracker.models.users import User


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class InvoiceStatus(StrEnum):
    """Stored states. Paid, part-paid and overdue are derived from payments and dates."""

    DRAFT = "draft"
    ISSUED = "issued"
    CANCELLED = "cancelled"  # reversed in full by a credit note


class ReviewStatus(StrEnum):
    NEW = "new"
    IN_REVIEW = "in_review"
    DECIDED = "decided"


class NumberSeries(Base):
    """The last number used in one practice's series; incremented inside the issuing
    transaction so numbers are unique and gap-free."""

    __tablename__ = "number_series"
    __table_args__ = (UniqueConstraint("practice_id", "kind", "year", name="uq_number_series"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"))
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    """An invoice or credit note. Once issued, nothing on it changes but payments and review."""

    __tablename__ = "invoice"

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    icb_id: Mapped[int] = mapped_column(ForeignKey("icb.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default=DocumentKind.INVOICE)
    status: Mapped[str] = mapped_column(String(20), default=InvoiceStatus.DRAFT, index=True)
    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    credited_invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoice.id"))
    issue_date: Mapped[date | None] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    supply_from: Mapped[date | None] = mapped_column(Date)
    supply_to: Mapped[date | None] = mapped_column(Date)
    po_reference: Mapped[str | None] = mapped_column(String(60))
    notes: Mapped[str] = mapped_column(Text, default="")
    #: JSON snapshots of the supplier (practice) and customer (ICB) taken at issue.
    supplier_snapshot: Mapped[str | None] = mapped_column(Text)
    customer_snapshot: Mapped[str | None] = mapped_column(Text)
    #: JSON of the evidence files named on the invoice, frozen at issue: {"files": [...],
    #: "by_line": {"<position>": [names]}}; invoices issued before evidence was named per
    #: line hold a plain list (services.invoice_documents.read_evidence_snapshot reads both).
    evidence_snapshot: Mapped[str | None] = mapped_column(Text)
    net_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    vat_total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    amount_paid: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    #: What credit notes have taken off this invoice, kept in step with them: each credit
    #: note raises it in the same transaction, under the invoice row's lock (migration 0008).
    amount_credited: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    review_status: Mapped[str] = mapped_column(String(20), default=ReviewStatus.NEW, index=True)
    approved_total: Mapped[Decimal | None] = mapped_column(Money)
    outage_event_id: Mapped[int | None] = mapped_column(ForeignKey("outage_event.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = created_at_column()
    issued_at: Mapped[datetime | None] = mapped_column(DateTime)
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    #: Sign-off (migration 0011). Whether the claim's decisions need an approver's
    #: authorisation before the practice sees them: the ICB's setting when it was issued.
    two_step_sign_off: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    recommended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recommended_at: Mapped[datetime | None] = mapped_column(DateTime)
    authorised_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    authorised_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The last time an approver sent the claim back to the reviewers, and why.
    sent_back_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_back_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_back_reason: Mapped[str | None] = mapped_column(Text)
    #: The ICB reviewer the claim is assigned to in the work queue.
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)

    practice: Mapped[Practice] = relationship()
    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", order_by="InvoiceLine.position", cascade="all, delete-orphan"
    )
    payments: Mapped[list[Payment]] = relationship(
        back_populates="invoice", order_by="Payment.paid_on, Payment.id"
    )
    credited_invoice: Mapped[Invoice | None] = relationship(remote_side=[id])
    recommended_by: Mapped[User | None] = relationship(foreign_keys=[recommended_by_id])
    authorised_by: Mapped[User | None] = relationship(foreign_keys=[authorised_by_id])
    sent_back_by: Mapped[User | None] = relationship(foreign_keys=[sent_back_by_id])
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id])

    @hybrid_property
    def balance(self) -> Decimal:
        """The one balance: total less what credit notes took off and what was paid (net
        of refunds). The same expression in Python and in SQL, so the register's filters
        and the invoice page cannot disagree; services.payments.outstanding applies it."""
        return self.total - self.amount_credited - self.amount_paid

    @balance.inplace.expression
    @classmethod
    def _balance_expression(cls) -> ColumnElement[Decimal]:
        """In SQL, typed as money: the arithmetic alone would come back as integer pence."""
        return type_coerce(cls.total - cls.amount_credited - cls.amount_paid, Money)


class InvoiceLine(Base):
    """A frozen copy of a cost line as it stood when the invoice was issued."""

    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    #: The cost line this copies; NULL once a cost line on a draft is deleted.
    cost_line_id: Mapped[int | None] = mapped_column(
        ForeignKey("cost_line.id", ondelete="SET NULL"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    incident_title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), index=True)
    line_date: Mapped[date] = mapped_column(Date)
    #: a copy of the cost line's description, as long as it may be
    description: Mapped[str] = mapped_column(String(cost_kinds.MAX_DESCRIPTION))
    working: Mapped[str] = mapped_column(String(300), default="")
    #: hours typed as h:mm are stored to 4 places (4:10 is 4.1667), see migration 0003
    quantity: Mapped[Decimal] = mapped_column(Fixed(4))
    unit: Mapped[str] = mapped_column(String(20))
    unit_rate: Mapped[Decimal] = mapped_column(Money)
    vat_rate: Mapped[Decimal | None] = mapped_column(Fixed(2))
    net_amount: Mapped[Decimal] = mapped_column(Money)
    vat_amount: Mapped[Decimal] = mapped_column(Money)
    total_amount: Mapped[Decimal] = mapped_column(Money)
    #: The parts of the net amount, copied from the cost line (NULL before revision 0004).
    base_amount: Mapped[Decimal | None] = mapped_column(Money)
    premium_amount: Mapped[Decimal | None] = mapped_column(Money)
    ni_amount: Mapped[Decimal | None] = mapped_column(Money)
    pension_amount: Mapped[Decimal | None] = mapped_column(Money)
    #: The rates the line was priced with and their sources, frozen at issue.
    rates_used: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    #: Hours of staff or locum time, appointments lost: kept for reports.
    hours: Mapped[Decimal | None] = mapped_column(Fixed(2))
    appointments: Mapped[int | None] = mapped_column(Integer)
    #: The kind's details as printed, frozen at issue: [{"name", "label", "value"}, ...].
    details: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    @property
    def details_text(self) -> str:
        """The frozen details as the invoice prints them, for the reviewer's pages."""
        return presentation.details_text((d["label"], d["value"]) for d in self.details or [])

    #: On a credit note's line: the invoice line it credits (part or all of). The credit
    #: notes' lines of one invoice line never add up to more than it (services.crediting).
    credits_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"), index=True)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")
    decision: Mapped[LineDecision | None] = relationship(back_populates="invoice_line")


class Remittance(Base):
    """One payment from an ICB to one practice, as its remittance advice lists it: the
    date received, the ICB's reference and the amount, allocated across that practice's
    invoices to that ICB (one Payment per invoice, each linked here). A payment goes into
    one bank account, the practice's on its invoices, so a remittance has one payee. Its
    payments add up to its amount (services.remittances); it is never changed afterwards,
    and a refund is recorded against the invoice, not here."""

    __tablename__ = "remittance"
    __table_args__ = (
        UniqueConstraint("practice_id", "icb_id", "reference", name="uq_remittance_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    practice_id: Mapped[int] = mapped_column(ForeignKey("practice.id"), index=True)
    icb_id: Mapped[int] = mapped_column(ForeignKey("icb.id"), index=True)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(100))
    amount: Mapped[Decimal] = mapped_column(Money)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = created_at_column()

    practice: Mapped[Practice] = relationship()
    icb: Mapped[Icb] = relationship()
    recorded_by: Mapped[User | None] = relationship()
    payments: Mapped[list[Payment]] = relationship(
        back_populates="remittance", order_by="Payment.id"
    )


class Payment(Base):
    """Money received against an invoice; a refund is recorded with a negative amount."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    reference: Mapped[str] = mapped_column(String(100), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    recorded_at: Mapped[datetime] = created_at_column()
    #: The remittance this payment is part of (migration 0009); None for a payment or
    #: refund recorded on its own against the invoice.
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittance.id"), index=True)

    invoice: Mapped[Invoice] = relationship(back_populates="payments")
    remittance: Mapped[Remittance | None] = relationship(back_populates="payments")


class LineDecision(Base):
    """An ICB reviewer's decision on one invoice line."""

    __tablename__ = "line_decision"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_line_id: Mapped[int] = mapped_column(ForeignKey("invoice_line.id"), unique=True)
    decision: Mapped[str] = mapped_column(String(20))
    approved_amount: Mapped[Decimal | None] = mapped_column(Money)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime] = created_at_column()

    invoice_line: Mapped[InvoiceLine] = relationship(back_populates="decision")


class ClaimKindTotal(Base):
    """A claim's lines summed for one cost kind, kept so that the outage reports read a few
    rows a claim rather than every line with its decision (issue 13: the national report
    over 315,000 lines). Derived data only: services.claim_totals writes it, in the same
    transaction, when a claim is issued and whenever a decision on its lines changes (under
    the claim's row lock), always by summing the lines again, never by adding a difference.
    Approved counts final decisions only; awaiting is what is claimed on the other lines."""

    __tablename__ = "claim_kind_total"

    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    lines: Mapped[int] = mapped_column(Integer)
    claimed: Mapped[Decimal] = mapped_column(Money)
    approved: Mapped[Decimal] = mapped_column(Money)
    awaiting: Mapped[Decimal] = mapped_column(Money)
    #: Hours of the kind's lines (staff time or locum cover; other kinds may carry admin time,
    #: which the reports leave out) and appointments lost.
    hours: Mapped[Decimal] = mapped_column(Fixed(2))
    appointments: Mapped[int] = mapped_column(Integer)


class SendOutcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"


class InvoiceSend(Base):
    """One attempt to email an issued invoice to its ICB: whom it went to, the message id
    the ICB can quote back, its size, and whether the mail server took it (with the server's
    answer when it did not). Rows are only ever added: re-sending adds another."""

    __tablename__ = "invoice_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    sent_at: Mapped[datetime] = created_at_column()
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    to_address: Mapped[str] = mapped_column(String(254))
    #: The copy addresses, comma-separated, as on the message's Cc header.
    cc_addresses: Mapped[str] = mapped_column(String(600), default="")
    subject: Mapped[str] = mapped_column(String(200))
    attachment_name: Mapped[str] = mapped_column(String(200))
    message_id: Mapped[str] = mapped_column(String(250))
    #: The whole message as sent, in bytes (attachment encoded), and the attachment's own.
    size_bytes: Mapped[int] = mapped_column(Integer)
    attachment_bytes: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20), default=SendOutcome.SENT)
    #: The mail server's refusal, or why it could not be reached; blank when sent.
    error: Mapped[str] = mapped_column(Text, default="")

    invoice: Mapped[Invoice] = relationship()
    sent_by: Mapped[User | None] = relationship()


class ClaimMessage(Base):
    """A note on a claim: a practice's answer to a query, or a reviewer's follow-up."""

    __tablename__ = "claim_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
