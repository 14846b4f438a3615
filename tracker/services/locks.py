"""Holding rows for the rest of a transaction, the same way on PostgreSQL and SQLite.

A rule such as "a cost line on an issued invoice is never changed" is only as good as the
moment it is checked. Read first and write later, and another transaction can commit in
between: a line is edited after its invoice froze it, a claim is completed from decisions
that are no longer all there. So every write that depends on a row's state first *holds*
the row, and checks the state in the same statement that takes the hold:

- PostgreSQL: ``SELECT id ... WHERE <state> ORDER BY id FOR NO KEY UPDATE``. A row another
  transaction is changing is waited for, and under READ COMMITTED the WHERE clause is then
  evaluated again on the row as committed, so a row that left the state meanwhile is not
  held (nor returned). Rows are locked in id order, so two transactions holding overlapping
  sets queue rather than deadlock. NO KEY UPDATE is the lock an ordinary UPDATE takes: it
  excludes other holders and writers but lets foreign keys to the row be checked.
- SQLite: there are no row locks; one writer at a time holds the database's write lock
  until it commits. Python's sqlite3 (legacy transaction control, as SQLAlchemy leaves it)
  runs reads outside a transaction and opens one (BEGIN DEFERRED) just before the first
  INSERT, UPDATE or DELETE, which then waits for the write lock (busy_timeout, set in
  app_factory._sqlite_pragmas). So a no-op ``UPDATE ... WHERE <state> RETURNING id`` takes
  the write lock, evaluates the state on committed data, and keeps every row of the
  database held until the transaction ends; every read after it is current. No central
  BEGIN IMMEDIATE is needed: the holding statement is the transaction's first write, or
  comes after one that already took the lock.

After holding, the caller re-reads whatever it loaded before (``populate_existing`` or
``Session.refresh``): objects loaded before the hold may be stale.

Lock order, to keep PostgreSQL free of deadlocks: cost lines before invoices. Issuing holds
the draft's cost lines, then claims the invoice row; editing or deleting a line holds it,
then the drafts that copy it.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from tracker.models import Base, table_of


def hold(session: Session, model: type[Base], *where: ColumnElement[bool]) -> list[int]:
    """Hold, until the transaction ends, the rows of `model` that meet `where` now, and
    return their ids in order. A row that stops meeting `where` while this waits for it is
    not held. Pending ORM changes are flushed first (they come before the hold)."""
    table = table_of(model)
    if session.get_bind().dialect.name == "postgresql":
        locking = select(table.c.id).where(*where).order_by(table.c.id)
        return list(session.scalars(locking.with_for_update(key_share=True)))
    unchanged = {column.key: column for column in table.columns if column.onupdate is not None}
    touch = update(table).where(*where).values(id=table.c.id, **unchanged)
    return sorted(session.scalars(touch.returning(table.c.id)))


def hold_one(session: Session, model: type[Base], row_id: int) -> bool:
    """Hold one row by id; False when it no longer exists."""
    return bool(hold(session, model, table_of(model).c.id == row_id))
