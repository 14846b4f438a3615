"""Sign-in rules: checking a password, throttling failed attempts, the password policy and
ending sessions.

Throttling is kept in the database so that every worker and host sees the same count, and is
counted so that concurrent attempts cannot slip past it: each attempt is written (and
committed) before it counts the attempts in the window, itself included, so of N attempts at
once the k-th to commit sees at least k and at most `limit` are ever checked.
"""

from __future__ import annotations

import itertools
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from tracker.models import LoginAttempt, User, utcnow
from tracker.models.users import check_password_or_dummy
from tracker.services.errors import DomainError, Invalid

WINDOW = timedelta(minutes=1)

#: OWASP ASVS 4.0.3 2.1.1 (at least 12 characters, runs of spaces counted as one) and 2.1.2
#: (at least 64 allowed, more than 128 refused).
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 128
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent.parent / "data" / "common-passwords.txt"
#: Words of this service that a password must not be built from (NIST SP 800-63B 5.1.1.2).
SERVICE_WORDS = ("outageclaims", "outage")


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for this account or from this address in the last minute."""

    http_status = 429


@dataclass(frozen=True)
class ThrottleLimits:
    """Failed sign-ins allowed in a minute: for one account from one address (the tight one,
    which is what an attacker meets), for one account from anywhere (looser, so an attacker
    elsewhere cannot lock the real user out, yet a guesser spread over many addresses is
    still stopped), and from one address over all accounts (password spraying)."""

    per_pair: int
    per_account: int
    per_address: int


def normalise_email(email: str) -> str:
    return email.strip().lower()


# --- signing in --------------------------------------------------------------------------


def sign_in(
    session: Session, email: str, password: str, remote_addr: str, limits: ThrottleLimits
) -> User | None:
    """The active user with this email and password, or None (never saying which was wrong).

    Raises `TooManyAttempts` before checking the password when the attempt is over a limit.
    Commits: the attempt must be visible to concurrent attempts before this one counts.
    A refused (throttled) attempt is taken back, so an attacker's flood from one address does
    not count towards the account's looser limit; a failure stays in the window; a success
    clears its own address's failures for the account.
    """
    account, address = normalise_email(email)[:254], remote_addr[:64]
    # a plain row, not an ORM object: a success from the same address may delete it at any
    # moment, and nothing here reads it back
    attempt_id = session.execute(
        insert(LoginAttempt).values(email=account, remote_addr=address).returning(LoginAttempt.id)
    ).scalar_one()
    _forget_old_attempts(session)
    session.commit()
    if _over_limit(session, account, address, limits):
        session.execute(delete(LoginAttempt).where(LoginAttempt.id == attempt_id))
        session.commit()
        raise TooManyAttempts("Too many attempts. Wait a minute, then try again.")
    user = authenticate(session, email, password)
    if user is not None:
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == account, LoginAttempt.remote_addr == address
            )
        )
    return user


def _over_limit(session: Session, account: str, address: str, limits: ThrottleLimits) -> bool:
    """Whether the attempts in the window, this one included, are over any limit."""
    recent = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.attempted_at > utcnow() - WINDOW)
    )
    by_account = recent.where(LoginAttempt.email == account)
    counts = (
        (by_account.where(LoginAttempt.remote_addr == address), limits.per_pair),
        (by_account, limits.per_account),
        (recent.where(LoginAttempt.remote_addr == address), limits.per_address),
    )
    return any(int(session.scalar(stmt) or 0) > limit for stmt, limit in counts)


def _forget_old_attempts(session: Session) -> None:
    """Keep the table small: attempts older than an hour no longer count for anything."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < utcnow() - WINDOW * 60))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with this email and password, or None.

    Exactly one password hash is checked whether the address is unknown, the account inactive
    or the password wrong, so the answer takes as long either way (OWASP ASVS 4.0.3 2.2.1;
    Authentication Cheat Sheet, "Authentication and Error Messages").
    """
    # annotated: SQLAlchemy 2.1's Session.scalar overloads type the result as Any
    user: User | None = session.scalar(
        select(User).where(func.lower(User.email) == normalise_email(email))
    )
    if not check_password_or_dummy(user, password) or user is None or not user.active:
        return None
    return user


def email_taken(session: Session, email: str, except_user_id: int | None = None) -> bool:
    stmt = select(User.id).where(func.lower(User.email) == normalise_email(email))
    if except_user_id is not None:
        stmt = stmt.where(User.id != except_user_id)
    return session.scalar(stmt) is not None


# --- sessions and passwords --------------------------------------------------------------


def sign_out_everywhere(user: User) -> None:
    """End every session of the user, this one included (OWASP ASVS 4.0.3 3.3.1: a saved
    session cookie must not work after sign-out)."""
    user.end_sessions()


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change the user's own password; every session of theirs ends (ASVS 3.3.3), so the
    caller signs the current one in again. Raises Invalid next to the field at fault."""
    if not user.check_password(current_password):
        raise Invalid("Your current password is not right", "current_password")
    check_password_policy(new_password, email=user.email, name=user.name, field="new_password")
    user.set_password(new_password)


def check_password_policy(
    password: str, *, email: str = "", name: str = "", field: str = "password"
) -> None:
    """Raise Invalid (next to `field`) when `password_problem` finds one."""
    problem = password_problem(password, email=email, name=name)
    if problem:
        raise Invalid(problem, field)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why this password is refused, or None: the one password policy of the service.

    NIST SP 800-63B 5.1.1.2 and the NCSC password guidance: a minimum length and a check
    against passwords known to be common, repetitive or sequential, or built from words of
    this context (the user's email address and name, the service's name); no composition
    rules (no "one digit, one capital"). Lengths follow OWASP ASVS 4.0.3 2.1.1 and 2.1.2.
    """
    length = len(re.sub(" {2,}", " ", password))  # ASVS 2.1.1: a run of spaces counts once
    if length < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    if length > MAX_PASSWORD_LENGTH:
        return f"Password must be {MAX_PASSWORD_LENGTH} characters or fewer"
    lowered = password.casefold()
    if _is_common(lowered):
        return (
            "This is one of the most common passwords, so it is easy to guess. "
            "Try three random words instead"
        )
    if _is_repetitive_or_sequential(lowered):
        return "Do not use repeated or sequential characters, like aaaa or 1234"
    if _built_from_context(lowered, email=email, name=name):
        return "Do not base your password on your email address, your name or this service's name"
    return None


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list (lower case), read once: see scripts/build_common_passwords.py."""
    text = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


def _is_common(lowered: str) -> bool:
    """On the list as typed, or once the digits and punctuation around it are taken off
    (`password123456`, `!!sunshine!!`), or as a repeated list entry (`passwordpassword`)."""
    core = lowered.strip(string.digits + string.punctuation + string.whitespace)
    candidates = {lowered, core, _repeated_unit(lowered), _repeated_unit(core)}
    return bool(candidates & common_passwords())


def _repeated_unit(text: str) -> str:
    """The shortest piece that `text` is a repetition of (`abcabc` -> `abc`)."""
    for size in range(1, len(text) // 2 + 1):
        if len(text) % size == 0 and text[:size] * (len(text) // size) == text:
            return text[:size]
    return text


KEYBOARD_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


def _predictable_step(a: str, b: str) -> bool:
    """The same key again, the next or previous character, or the neighbouring key."""
    if abs(ord(a) - ord(b)) <= 1 or {a, b} == {"0", "9"}:
        return True
    return any(
        a in row and b in row and abs(row.index(a) - row.index(b)) == 1 for row in KEYBOARD_ROWS
    )


def _is_repetitive_or_sequential(lowered: str) -> bool:
    """Few distinct characters (`abababababab`), or at most two jumps between runs of
    repeated or sequential characters (`aaaaaaaaaaaa`, `1234567890ab`, `qwertyuiop12`)."""
    if len(set(lowered)) < 5:
        return True
    jumps = sum(1 for a, b in itertools.pairwise(lowered) if not _predictable_step(a, b))
    return jumps <= 2


def _alnum(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKC", text).casefold() if ch.isalnum())


def _built_from_context(lowered: str, *, email: str, name: str) -> bool:
    """Contains the user's email address (or a part of its name of 4 or more letters), a word
    of 4 or more letters of their name, or the service's name, ignoring case and punctuation."""
    local = email.split("@")[0]
    words = [_alnum(email), _alnum(local), _alnum(name), *SERVICE_WORDS]
    words += [_alnum(part) for part in _split_words(local)]
    words += [_alnum(part) for part in _split_words(name)]
    haystack = _alnum(lowered)
    return any(len(word) >= 4 and word in haystack for word in words)


def _split_words(text: str) -> list[str]:
    return "".join(ch if ch.isalnum() else " " for ch in text).split()
