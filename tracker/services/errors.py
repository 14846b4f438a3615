"""Domain errors: raised by services, shown by views next to the field they concern."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the change. `field` names the form field it belongs to."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
