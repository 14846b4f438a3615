"""The NHS directory: integrated care boards and the GP practices that invoice them."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tracker.models.base import Base, created_at_column

PRACTICE_ODS_PATTERN = re.compile(r"^[A-Z][0-9]{5}$")
PLACEHOLDER_PRACTICE_CODES = {"V81999", "V81998"}
ICB_ODS_PATTERN = re.compile(r"^[A-Z0-9]{3}$")


def is_valid_practice_code(code: str) -> bool:
    """A GP practice ODS code: one upper-case letter and five digits, not a placeholder."""
    return bool(PRACTICE_ODS_PATTERN.match(code)) and code not in PLACEHOLDER_PRACTICE_CODES


class Icb(Base):
    """An integrated care board. Editable: ICBs merge, rename and retire."""

    __tablename__ = "icb"

    id: Mapped[int] = mapped_column(primary_key=True)
    ods_code: Mapped[str] = mapped_column(String(3), unique=True)
    ons_code: Mapped[str | None] = mapped_column(String(9))
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(100))
    #: 4-character code given by the ICB for its NHS Shared Business Services address.
    payables_code: Mapped[str | None] = mapped_column(String(4))
    #: Free-text invoice address; when blank it is derived from the payables code.
    invoice_address: Mapped[str | None] = mapped_column(Text)
    invoice_email: Mapped[str | None] = mapped_column(String(254))
    #: Peppol electronic address (EN 16931 BT-49 on the practice's e-invoices): the scheme
    #: from the EAS code list (e.g. 0088 for a GS1 GLN) and the identifier; blank when unknown.
    endpoint_scheme: Mapped[str | None] = mapped_column(String(4))
    endpoint_id: Mapped[str | None] = mapped_column(String(50))
    retired: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Two-step sign-off (migration 0011): a reviewer recommends a claim's decisions and an
    #: ICB finance approver authorises them before the practice sees them. A claim takes the
    #: setting in force when it is issued (Invoice.two_step_sign_off).
    two_step_sign_off: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), nullable=False
    )
    #: Days a claim may wait for the ICB before the work queue flags it (default 30, the
    #: NHS's Better Payment Practice Code period; see services.work_queue).
    review_target_days: Mapped[int] = mapped_column(
        Integer, default=30, server_default="30", nullable=False
    )
    created_at: Mapped[datetime] = created_at_column()

    practices: Mapped[list[Practice]] = relationship(back_populates="icb")

    @property
    def payables_address(self) -> str | None:
        """The address invoices go to, or None when the ICB has not given one yet."""
        if self.invoice_address and self.invoice_address.strip():
            return self.invoice_address.strip()
        if self.payables_code:
            return f"{self.ods_code} Payables {self.payables_code}\nPO Box 312\nLS11 1HP"
        return None

    def __repr__(self) -> str:
        return f"<Icb {self.ods_code}>"


class Practice(Base):
    """A GP practice: the supplier on every invoice."""

    __tablename__ = "practice"

    id: Mapped[int] = mapped_column(primary_key=True)
    ods_code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    icb_id: Mapped[int] = mapped_column(ForeignKey("icb.id"), index=True)
    pcn_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    bank_account_name: Mapped[str | None] = mapped_column(String(100))
    bank_sort_code: Mapped[str | None] = mapped_column(String(8))
    bank_account_number: Mapped[str | None] = mapped_column(String(8))
    remittance_email: Mapped[str | None] = mapped_column(String(254))
    #: The local medical committee, copied on every invoice sent to the ICB by email (the
    #: BMA's advice after the outage); blank when the practice has not given one.
    lmc_email: Mapped[str | None] = mapped_column(String(254))
    #: Peppol electronic address (EN 16931 BT-34, the seller's): EAS scheme and identifier.
    endpoint_scheme: Mapped[str | None] = mapped_column(String(4))
    endpoint_id: Mapped[str | None] = mapped_column(String(50))
    payment_terms_days: Mapped[int] = mapped_column(default=30)
    #: Registered list size: the patients registered at the practice (NHS England's "Patients
    #: Registered at a GP Practice" counts them monthly). It scales the ICB's peer comparison
    #: (services.peers: figures per 1,000 patients); None until the practice gives it.
    list_size: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()

    icb: Mapped[Icb] = relationship(back_populates="practices")

    @property
    def has_bank_details(self) -> bool:
        return bool(self.bank_account_name and self.bank_sort_code and self.bank_account_number)

    def __repr__(self) -> str:
        return f"<Practice {self.ods_code}>"
