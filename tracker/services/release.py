"""Whether the practice may see the ICB's decisions on a claim yet: the one rule (in Python
and in SQL) every practice-facing page, file and sum asks. A module of its own so that
payments and review can both ask it without importing each other."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ColumnElement, false, or_

from tracker.models import Invoice


def decisions_released(invoice: Invoice) -> bool:
    """Whether the practice sees the ICB's decisions on this claim. A claim sent to a
    one-step ICB shows each decision as it is made; one sent to a two-step ICB shows them
    once an ICB finance approver has authorised them, as CQRS Local pays a claim only after
    its Tier 2 approval (NHS England, "Calculating Quality Reporting Service (CQRS)",
    https://www.england.nhs.uk/long-read/calculating-quality-reporting-service-cqrs/; CQRS
    Local user roles, https://welcome.cqrs.nhs.uk/icb-regional-commissioners/local-claims/
    user-roles-for-commissioners). Every place a practice sees a decision, the approved
    amount or what is left to credit asks this, or its SQL twin `released_condition`."""
    return not invoice.two_step_sign_off or invoice.authorised_at is not None


def released_condition(rows: type[Invoice] = Invoice) -> ColumnElement[bool]:
    """decisions_released as a WHERE clause on `rows` (Invoice or an alias of it), for sums
    in SQL: change both."""
    return or_(rows.two_step_sign_off == false(), rows.authorised_at.is_not(None))


def approved_for_practice(invoice: Invoice) -> Decimal | None:
    """The approved total as the practice sees it: None until the decisions are released."""
    return invoice.approved_total if decisions_released(invoice) else None
