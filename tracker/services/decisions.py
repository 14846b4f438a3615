"""An ICB reviewer's decisions on a claim's lines, and which of them are final. A module of
its own so that review (which records decisions) and claim_totals (which sums what they
approve, and which review calls) can both ask it without importing each other."""

from __future__ import annotations

from enum import StrEnum

from tracker.presentation import decision_tag


class Decision(StrEnum):
    APPROVED = "approved"
    PART_APPROVED = "part_approved"
    QUERIED = "queried"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return DECISION_LABELS[self]

    @property
    def is_final(self) -> bool:
        return self is not Decision.QUERIED


DECISION_LABELS = {decision: decision_tag(decision.value).label for decision in Decision}
FINAL_DECISIONS = tuple(d.value for d in Decision if d.is_final)
