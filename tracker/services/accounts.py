"""Sign-in rules: checking a password, throttling failed attempts and ending sessions.

Throttling is kept in the database so that every worker and host sees the same count, and is
counted so that concurrent attempts cannot slip past it: each attempt is written (and
committed) before it counts the attempts in the window, itself included, so of N attempts at
once the k-th to commit sees at least k and at most `limit` are ever checked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.models import LoginAttempt, User, utcnow
from tracker.models.users import check_password_or_dummy
from tracker.services.errors import DomainError

WINDOW = timedelta(minutes=1)


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
    attempt = LoginAttempt(email=normalise_email(email)[:254], remote_addr=remote_addr[:64])
    session.add(attempt)
    _forget_old_attempts(session)
    session.commit()
    if _over_limit(session, attempt, limits):
        session.delete(attempt)
        session.commit()
        raise TooManyAttempts("Too many attempts. Wait a minute, then try again.")
    user = authenticate(session, email, password)
    if user is not None:
        session.execute(
            delete(LoginAttempt).where(
                LoginAttempt.email == attempt.email, LoginAttempt.remote_addr == attempt.remote_addr
            )
        )
    return user


def _over_limit(session: Session, attempt: LoginAttempt, limits: ThrottleLimits) -> bool:
    """Whether the attempts in the window, this one included, are over any limit."""
    recent = (
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.attempted_at > utcnow() - WINDOW)
    )
    by_account = recent.where(LoginAttempt.email == attempt.email)
    counts = (
        (by_account.where(LoginAttempt.remote_addr == attempt.remote_addr), limits.per_pair),
        (by_account, limits.per_account),
        (recent.where(LoginAttempt.remote_addr == attempt.remote_addr), limits.per_address),
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


# --- sessions -------------------------------------------------------------------------------


def sign_out_everywhere(user: User) -> None:
    """End every session of the user, this one included (OWASP ASVS 4.0.3 3.3.1: a saved
    session cookie must not work after sign-out)."""
    user.end_sessions()
