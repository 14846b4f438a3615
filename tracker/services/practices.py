"""Practices: creating and editing one, with the rules that go with it.

An administrator adds or edits a practice; its own staff edit their contact, bank and VAT
details. Either way the sort code is stored one way, the change is audited, and the
practice's draft invoices follow (VAT registration decides whether VAT is charged; the ICB
is who is invoiced). A new practice starts with the default rate card.
"""

from __future__ import annotations

import re
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

#: The most registered patients one practice's list may hold: well above the largest lists
#: in NHS England's "Patients Registered at a GP Practice" (most practices register 4,000 to
#: 20,000 patients; about 4% over 20,000: July 2020 spotlight report,
#: https://digital.nhs.uk/data-and-information/publications/statistical/patients-registered-at-a-gp-practice),
#: leaving room for merged practices, so only a slip of the finger is refused.
MAX_LIST_SIZE = 150_000
#: A whole number of patients, with or without thousands commas: 8450 or 8,450.
LIST_SIZE = re.compile(r"^([0-9]+|[0-9]{1,3}(,[0-9]{3})+)$")


def parse_list_size(text: str | None) -> int | None:
    """The number of patients typed ("8,450"), or None when blank or not a whole number."""
    cleaned = (text or "").strip()
    if not LIST_SIZE.match(cleaned) or len(cleaned) > 12:
        return None
    return int(cleaned.replace(",", ""))


def list_size_problem(text: str | None) -> str | None:
    """What is wrong with a typed list size, or None (a blank is fine: not known yet)."""
    if not (text or "").strip():
        return None
    size = parse_list_size(text)
    if size is None:
        return "Enter the list size as a whole number of patients, like 8,450"
    if size < 1:
        return "Enter a list size of at least 1 patient"
    if size > MAX_LIST_SIZE:
        return (
            f"Enter a list size of at most {MAX_LIST_SIZE:,} patients: "
            "check the number for an extra figure"
        )
    return None


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
