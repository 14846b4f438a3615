"""Practices: creating and editing one, with the rules that go with it.

An administrator adds or edits a practice; its own staff edit their contact, bank and VAT
details. Either way the sort code is stored one way, the change is audited, and the
practice's draft invoices follow (VAT registration decides whether VAT is charged; the ICB
is who is invoiced). A new practice starts with the default rate card.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.orm import Session

from tracker.models import Practice
from tracker.services import audit, cost_lines, invoicing
from tracker.services.directory import check_unique_practice_code
from tracker.services.rates import seed_rate_card

#: Fields whose change alters what a draft invoice charges or whom it is addressed to.
DRAFT_FIELDS = ("vat_number", "icb_id")


def normalise_sort_code(value: str | None) -> str | None:
    """A sort code as printed on invoices, 30-94-57, however it was typed (309457, 30-94-57).
    Anything that is not six digits is left as typed for the form's check to refuse."""
    if not value:
        return value
    digits = value.replace("-", "").replace(" ", "")
    if len(digits) != 6 or not digits.isdigit():
        return value
    return f"{digits[:2]}-{digits[2:4]}-{digits[4:]}"


def _apply(practice: Practice, details: Mapping[str, Any]) -> None:
    """Copy the given values onto the practice's columns (other keys are ignored)."""
    columns = {attr.key for attr in inspect(Practice).column_attrs} - {"id"}
    for name, value in details.items():
        if name in columns:
            setattr(practice, name, value)
    practice.bank_sort_code = normalise_sort_code(practice.bank_sort_code)


def _follow_up(
    session: Session, practice: Practice, changes: dict[str, list[Any]], user_id: int | None
) -> None:
    if "vat_number" in changes:
        # expenses priced for the old registration would otherwise keep (or lack) the VAT
        cost_lines.reprice_expenses_for_vat(session, practice, user_id)
    if any(name in changes for name in DRAFT_FIELDS):
        invoicing.refresh_practice_drafts(session, practice.id)


def save_practice(
    session: Session, practice: Practice | None, details: Mapping[str, Any], *, user_id: int
) -> Practice:
    """Add a practice (with the default rate card) or change one, as an administrator.
    Raises Invalid when another practice has the ODS code."""
    check_unique_practice_code(
        session, str(details.get("ods_code") or ""), practice.id if practice else None
    )
    is_new = practice is None
    before = audit.snapshot(practice) if practice is not None else {}
    practice = practice or Practice()
    _apply(practice, details)
    session.add(practice)
    session.flush()
    if is_new:
        seed_rate_card(session, practice)
    changes = audit.diff(before, audit.snapshot(practice))
    audit.record(
        session,
        user_id=user_id,
        entity=practice,
        action="create" if is_new else "update",
        practice_id=practice.id,
        changes=changes,
        summary=f"Practice {practice.ods_code} saved",
    )
    if not is_new:
        _follow_up(session, practice, changes, user_id)
    return practice


def update_details(
    session: Session, practice: Practice, details: Mapping[str, Any], *, user_id: int
) -> None:
    """A practice's own staff change its address, contact, bank or VAT details."""
    before = audit.snapshot(practice)
    _apply(practice, details)
    changes = audit.diff(before, audit.snapshot(practice))
    audit.record(
        session,
        user_id=user_id,
        entity=practice,
        action="update",
        practice_id=practice.id,
        summary="Practice details changed",
        changes=changes,
    )
    _follow_up(session, practice, changes, user_id)
