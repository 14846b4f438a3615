"""Declarative base, exact-decimal column type and shared column helpers."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, CursorResult, DateTime, MetaData, String, Table, Update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def table_of(model: type[Base]) -> Table:
    """The model's Table, for core UPDATE/INSERT statements that bypass the ORM (conditional
    updates whose row count is checked). SQLAlchemy types `__table__` as any FromClause;
    every model here is mapped to a Table, which the isinstance check confirms."""
    table = model.__table__
    assert isinstance(table, Table)
    return table


def rows_updated(session: Session, statement: Update) -> int:
    """Run a conditional UPDATE and say how many rows it changed. `Session.execute` is typed
    as returning a plain Result; for an UPDATE it is a CursorResult, which has the count."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return result.rowcount


#: The largest value an INTEGER column (every id) holds on PostgreSQL; SQLite's is larger. A
#: typed or linked id above it names nothing, and sent to PostgreSQL it is an error.
MAX_INTEGER = 2**31 - 1


def string_length(model: type[Base], name: str) -> int | None:
    """How many characters the model's column `name` holds: the VARCHAR length declared on
    it, or None when the model has no such column or it is unbounded TEXT. The forms take
    their limits from here (tracker.forms.AppForm), so a limit is declared once, on the
    column, and PostgreSQL (which refuses longer text) and SQLite (which would store it) are
    never reached with text that does not fit."""
    column = table_of(model).columns.get(name)
    if column is None or not isinstance(column.type, String):
        return None
    length: int | None = column.type.length
    return length


class Fixed(TypeDecorator[Decimal]):
    """A Decimal with a fixed number of places, stored as a scaled integer.

    SQLite has no exact decimal type (NUMERIC is stored as a float), so money is kept as
    integer pence on every database. SUM() and COALESCE() keep this type, so aggregates
    come back as Decimal pounds too.
    """

    impl = BigInteger
    cache_ok = True

    def __init__(self, places: int = 2) -> None:
        super().__init__()
        self.places = places
        self._scale = Decimal(10) ** places
        self._quantum = Decimal(1).scaleb(-places)

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("Fixed columns take Decimal, never float")
        scaled = Decimal(value) * self._scale
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / self._scale).quantize(self._quantum)

    def process_literal_param(self, value: Any, dialect: Any) -> str:
        return str(self.process_bind_param(value, dialect))

    @property
    def python_type(self) -> type:
        return Decimal


#: Pounds and pence.
Money = Fixed(2)


def utcnow() -> datetime:
    """Current time in UTC, timezone-naive, as stored in every timestamp column."""
    return datetime.now(UTC).replace(tzinfo=None)


def created_at_column() -> Mapped[datetime]:
    return mapped_column(DateTime, default=utcnow, nullable=False)
