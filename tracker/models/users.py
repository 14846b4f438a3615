"""Users, their memberships of practices or an ICB, and login attempts for throttling."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from enum import StrEnum
from functools import cache

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models.base import Base, created_at_column, utcnow
from tracker.models.directory import Icb, Practice


class NotifyPreference(StrEnum):
    """How a user hears about events on claims by email (services.notifications)."""

    EACH = "each"  # an email per event
    DIGEST = "digest"  # one email a day listing the day's events (the default)
    OFF = "off"

    @property
    def label(self) -> str:
        return NOTIFY_LABELS[self]


NOTIFY_LABELS = {
    NotifyPreference.EACH: "An email for each event",
    NotifyPreference.DIGEST: "One email a day listing the day's events",
    NotifyPreference.OFF: "No emails",
}


class Role(StrEnum):
    PRACTICE_MANAGER = "practice_manager"
    FINANCE = "finance"
    ICB_REVIEWER = "icb_reviewer"
    #: The second tier of two-step sign-off: authorises or sends back what a reviewer
    #: recommends (CQRS Local's "Approver – Tier 2"; see services.sign_off).
    ICB_FINANCE_APPROVER = "icb_finance_approver"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PRACTICE_MANAGER: "Practice manager",
    Role.FINANCE: "Finance",
    Role.ICB_REVIEWER: "ICB reviewer",
    Role.ICB_FINANCE_APPROVER: "ICB finance approver",
}
ROLE_LABELS_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]
#: werkzeug's default (scrypt); the test suite lowers the cost.
PASSWORD_HASH_METHOD = "scrypt"
PRACTICE_ROLES = frozenset({Role.PRACTICE_MANAGER, Role.FINANCE})
#: Roles held at an ICB (a membership with an icb_id): both read the ICB's claims.
ICB_ROLES = frozenset({Role.ICB_REVIEWER, Role.ICB_FINANCE_APPROVER})


# Flask-Login ships no type hints, so mypy sees UserMixin as Any and refuses it as a base;
# User's own columns and methods are fully typed
class User(UserMixin, Base):  # type: ignore[misc]
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = created_at_column()
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Raised to end every session of the user at once (sign-out, new password, deactivation):
    #: a session remembers the version it signed in with and is refused once it differs.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: How the user hears about events on claims by email (migration 0013).
    notify: Mapped[str] = mapped_column(
        String(10), default=NotifyPreference.DIGEST, server_default=NotifyPreference.DIGEST.value
    )

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def get_id(self) -> str:
        """What the session cookie names the user by: the id and the session version, so a
        cookie saved before the version was raised no longer signs anyone in (OWASP ASVS
        4.0.3 3.3.1 and 3.3.3: sessions end on logout and, if chosen, on a password change)."""
        return session_token(self.id, self.session_version or 0)

    def set_password(self, password: str) -> None:
        """Store a hash of `password`, and end every session signed in with the old one."""
        self.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)
        self.end_sessions()

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def end_sessions(self) -> None:
        """Sign the user out everywhere: every session holds the old version. Two raises at
        once may both write the same new value; each still differs from every older one."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def roles(self) -> set[Role]:
        return {Role(m.role) for m in self.memberships}

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def practices(self) -> list[Practice]:
        return sorted(
            (m.practice for m in self.memberships if m.practice is not None),
            key=lambda p: p.name,
        )

    @property
    def icb(self) -> Icb | None:
        return next((m.icb for m in self.memberships if m.icb is not None), None)

    def role_for_practice(self, practice_id: int) -> Role | None:
        for membership in self.memberships:
            if membership.practice_id == practice_id:
                return Role(membership.role)
        return None

    def __repr__(self) -> str:
        return f"<User {self.email}>"


SESSION_TOKEN = re.compile(r"([0-9]{1,18}):([0-9]{1,18})")


def session_token(user_id: int, session_version: int) -> str:
    """The user id as a session stores it: `"<id>:<session version>"`."""
    return f"{user_id}:{session_version}"


def parse_session_token(token: str) -> tuple[int, int] | None:
    """(user id, session version) from a session's token, or None for anything else (a cookie
    from before session versions, or one tampered with)."""
    match = SESSION_TOKEN.fullmatch(token)
    return (int(match[1]), int(match[2])) if match else None


def check_password_or_dummy(user: User | None, password: str) -> bool:
    """Check `password` against the user's hash, or against a dummy hash of the same method
    when there is no such user, so both answers cost one hash check (OWASP ASVS 4.0.3 2.2.1
    and the Authentication Cheat Sheet: no account enumeration by response time). True only
    for a real user's right password."""
    if user is None:
        check_password_hash(_dummy_hash(PASSWORD_HASH_METHOD), password)
        return False
    return user.check_password(password)


@cache
def _dummy_hash(method: str) -> str:
    """A hash of a random password by `method`, made once per process."""
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


class Membership(Base):
    """A user's role at one practice, or (for ICB_ROLES) at one ICB."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "practice_id", "icb_id", name="uq_membership"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    practice_id: Mapped[int | None] = mapped_column(ForeignKey("practice.id"), index=True)
    icb_id: Mapped[int | None] = mapped_column(ForeignKey("icb.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))

    user: Mapped[User] = relationship(back_populates="memberships")
    practice: Mapped[Practice | None] = relationship()
    icb: Mapped[Icb | None] = relationship()


class LoginAttempt(Base):
    """A failed sign-in, kept in the database so throttling holds across workers and hosts."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    remote_addr: Mapped[str] = mapped_column(String(64), index=True)
    attempted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
