"""Sign-in rules: password checks and throttling of failed attempts, kept in the database
so that every worker and host sees the same count."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tracker.models import LoginAttempt, User, utcnow
from tracker.models.users import check_password_or_dummy

WINDOW = timedelta(minutes=1)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def recent_failures(session: Session, email: str, remote_addr: str) -> tuple[int, int]:
    """Failed attempts in the last minute: (for this account, from this address)."""
    since = utcnow() - WINDOW
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.attempted_at > since)
    by_email = session.scalar(recent.where(LoginAttempt.email == normalise_email(email)))
    by_addr = session.scalar(recent.where(LoginAttempt.remote_addr == remote_addr))
    return int(by_email or 0), int(by_addr or 0)


def is_throttled(session: Session, email: str, remote_addr: str, limit: int) -> bool:
    by_email, by_addr = recent_failures(session, email, remote_addr)
    return by_email >= limit or by_addr >= limit


def record_failure(session: Session, email: str, remote_addr: str) -> None:
    session.add(LoginAttempt(email=normalise_email(email)[:254], remote_addr=remote_addr[:64]))
    # keep the table small: old attempts no longer count for anything
    session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at < utcnow() - WINDOW * 60))


def clear_failures(session: Session, email: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.email == normalise_email(email)))


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


def sign_out_everywhere(user: User) -> None:
    """End every session of the user, this one included (OWASP ASVS 4.0.3 3.3.1: a saved
    session cookie must not work after sign-out)."""
    user.end_sessions()
