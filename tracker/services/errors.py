"""Domain errors by kind: raised by services, mapped once to a response by the web layer.

- `Invalid`: what was typed breaks a rule; shown next to `field` (or atop the form), 422.
- `Conflict`: the record's state forbids the change (already issued, decided, paid), 409.
- `NotFound`: the thing asked for does not exist or is outside the caller's scope, 404.
- `Unavailable`: the server cannot do it now (a folder it cannot write), 503; nothing is
  saved, the form keeps what was typed, and the cause is logged for the administrator.

Services raise one of the four; `DomainError` is their common base for code that treats
every refusal alike.
"""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the change. `field` names the form field it belongs to."""

    http_status = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class Invalid(DomainError):
    """The input breaks a rule: show the message beside its field and keep what was typed."""

    http_status = 422


class Conflict(DomainError):
    """The record's current state forbids the change, for example a line already invoiced."""

    http_status = 409


class NotFound(DomainError):
    """The record does not exist, or the caller may not know that it does."""

    http_status = 404


class Unavailable(DomainError):
    """The server cannot do this now, through no fault of the input (storage unwritable or
    full): say so beside `field`, save nothing, keep the form; the cause is logged."""

    http_status = 503
