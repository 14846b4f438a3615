"""Users, their memberships of practices or an ICB, and login attempts for throttling."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, DateTime, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from tracker.models.base import Base, created_at_column, utcnow
from tracker.models.directory import Icb, Practice


class Role(StrEnum):
    PRACTICE_MANAGER = "practice_manager"
    FINANCE = "finance"
    ICB_REVIEWER = "icb_reviewer"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS = {
    Role.PRACTICE_MANAGER: "Practice manager",
    Role.FINANCE: "Finance",
    Role.ICB_REVIEWER: "ICB reviewer",
}
ROLE_LABELS_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]
#: werkzeug's default (scrypt); the test suite lowers the cost.
PASSWORD_HASH_METHOD = "scrypt"
PRACTICE_ROLES = frozenset({Role.PRACTICE_MANAGER, Role.FINANCE})


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

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, method=PASSWORD_HASH_METHOD)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

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


class Membership(Base):
    """A user's role at one practice, or (for reviewers) at one ICB."""

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
