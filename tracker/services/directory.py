"""The ICB directory, practices and user accounts: loading and saving with their rules."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from tracker.models import ICB_ROLES, Icb, Membership, Practice, Role, User, string_length
from tracker.services import audit, sign_off
from tracker.services.accounts import check_password_policy, email_taken, normalise_email
from tracker.services.errors import Invalid
from tracker.services.text import text_problem

ICB_CSV = Path(__file__).resolve().parent.parent / "data" / "icbs.csv"


def reference_icbs(csv_path: Path = ICB_CSV) -> list[dict[str, str]]:
    """The ICB directory as shipped (ods_code, ons_code, name, region): what `init-db` loads,
    and so the only rows a restore may replace (see tracker.services.restore)."""
    with csv_path.open(newline="", encoding="utf-8") as handle:
        return [
            {key: row[key] for key in ("ods_code", "ons_code", "name", "region")}
            for row in csv.DictReader(handle)
        ]


def load_icbs(session: Session, csv_path: Path = ICB_CSV) -> int:
    """Add the ICBs of the reference file that are not in the directory yet.

    Existing rows are left alone: an administrator may have renamed or retired them.
    """
    known = set(session.scalars(select(Icb.ods_code)))
    added = 0
    for row in reference_icbs(csv_path):
        if row["ods_code"] in known:
            continue
        session.add(Icb(**row))
        added += 1
    return added


def check_unique_practice_code(session: Session, ods_code: str, practice_id: int | None) -> None:
    stmt = select(Practice.id).where(Practice.ods_code == ods_code)
    if practice_id is not None:
        stmt = stmt.where(Practice.id != practice_id)
    if session.scalar(stmt) is not None:
        raise Invalid(f"A practice with ODS code {ods_code} already exists", "ods_code")


def check_unique_icb_code(session: Session, ods_code: str, icb_id: int | None) -> None:
    stmt = select(Icb.id).where(Icb.ods_code == ods_code)
    if icb_id is not None:
        stmt = stmt.where(Icb.id != icb_id)
    if session.scalar(stmt) is not None:
        raise Invalid(f"An ICB with ODS code {ods_code} already exists", "ods_code")


@dataclass
class UserDetails:
    name: str
    email: str
    role: str | None
    practice_ids: list[int]
    icb_id: int | None
    is_admin: bool = False
    active: bool = True
    password: str | None = None


def save_user(session: Session, user: User | None, details: UserDetails) -> User:
    """Create or update a user and replace their memberships. Never deletes a user.

    A new password must pass the password policy (`accounts.password_problem`), whether it
    comes from the admin form or the command line; setting one, or deactivating the user,
    ends every session they have."""
    for noun, field in (("Name", "name"), ("Email address", "email")):
        if problem := text_problem(noun, getattr(details, field), string_length(User, field)):
            raise Invalid(problem, field)  # the command line has no form to check it first
    if email_taken(session, details.email, user.id if user else None):
        raise Invalid("A user with this email address already exists", "email")
    if user is None and not details.password:
        raise Invalid("Enter a password for the new user", "password")
    if details.password:
        check_password_policy(details.password, email=details.email, name=details.name)
    if user is None:
        user = User(email="", name="", password_hash="")
        session.add(user)
    was_active = user.active is not False
    user.name = details.name
    user.email = normalise_email(details.email)
    user.is_admin = details.is_admin
    user.active = details.active
    if details.password:
        user.set_password(details.password)  # ends the user's sessions (a reset by an admin)
    elif was_active and not details.active:
        user.end_sessions()  # deactivated: signed out everywhere, for good if reactivated
    set_memberships(user, details.role, details.practice_ids, details.icb_id)
    return user


def set_memberships(
    user: User, role: str | None, practice_ids: Iterable[int], icb_id: int | None
) -> None:
    """Make the user's memberships exactly these, keeping the rows that already match."""
    wanted: set[tuple[int | None, int | None, str]] = set()
    if role and Role(role) in ICB_ROLES:
        wanted.add((None, icb_id, role))
    elif role:
        wanted |= {(practice_id, None, role) for practice_id in practice_ids}
    for membership in list(user.memberships):
        key = (membership.practice_id, membership.icb_id, membership.role)
        if key in wanted:
            wanted.discard(key)
        else:
            user.memberships.remove(membership)
    for practice_id, member_icb_id, member_role in sorted(wanted, key=str):
        user.memberships.append(
            Membership(practice_id=practice_id, icb_id=member_icb_id, role=member_role)
        )


def save_icb(session: Session, icb: Icb | None, details: Mapping[str, Any], *, user_id: int) -> Icb:
    """Add an ICB to the directory or change one, audited. Raises Invalid when another ICB
    has the ODS code. A blank payables code is stored as none."""
    check_unique_icb_code(session, str(details.get("ods_code") or ""), icb.id if icb else None)
    is_new = icb is None
    before = audit.snapshot(icb) if icb is not None else {}
    icb = icb or Icb()
    columns = {attr.key for attr in inspect(Icb).column_attrs} - {"id"}
    for name, value in details.items():
        if name in columns:
            setattr(icb, name, value)
    icb.payables_code = icb.payables_code or None
    session.add(icb)
    session.flush()
    if not is_new and before.get("two_step_sign_off") != icb.two_step_sign_off:
        sign_off.follow_icb_setting(session, icb.id, icb.two_step_sign_off)
    audit.record(
        session,
        user_id=user_id,
        entity=icb,
        action="create" if is_new else "update",
        changes=audit.diff(before, audit.snapshot(icb)),
        summary=f"ICB {icb.ods_code} saved",
    )
    return icb
