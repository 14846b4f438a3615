"""All models, importable from one place so Alembic and the app see the whole schema."""

from tracker.cost_kinds import COST_KIND_LABELS, CostKind
from tracker.models.audit import AuditEntry
from tracker.models.base import (
    MAX_INTEGER,
    Base,
    Fixed,
    Money,
    rows_updated,
    string_length,
    table_of,
    utcnow,
)
from tracker.models.directory import Icb, Practice, is_valid_practice_code
from tracker.models.incidents import (
    SYSTEMS,
    CostLine,
    Evidence,
    Incident,
    IncidentStatus,
    OutageEvent,
    RateCardItem,
)
from tracker.models.invoices import (
    ClaimMessage,
    DocumentKind,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineDecision,
    NumberSeries,
    Payment,
    ReviewStatus,
)
from tracker.models.users import (
    PRACTICE_ROLES,
    ROLE_LABELS_CHOICES,
    LoginAttempt,
    Membership,
    Role,
    User,
)

__all__ = [
    "COST_KIND_LABELS",
    "MAX_INTEGER",
    "PRACTICE_ROLES",
    "ROLE_LABELS_CHOICES",
    "SYSTEMS",
    "AuditEntry",
    "Base",
    "ClaimMessage",
    "CostKind",
    "CostLine",
    "DocumentKind",
    "Evidence",
    "Fixed",
    "Icb",
    "Incident",
    "IncidentStatus",
    "Invoice",
    "InvoiceLine",
    "InvoiceStatus",
    "LineDecision",
    "LoginAttempt",
    "Membership",
    "Money",
    "NumberSeries",
    "OutageEvent",
    "Payment",
    "Practice",
    "RateCardItem",
    "ReviewStatus",
    "Role",
    "User",
    "is_valid_practice_code",
    "rows_updated",
    "string_length",
    "table_of",
    "utcnow",
]
