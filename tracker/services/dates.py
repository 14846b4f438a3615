"""Dates and times: stored as naive UTC, entered in Europe/London. How they are shown
(long_date, london_datetime, ...) is tracker.presentation's."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tracker.presentation import LONDON, utc_to_london

__all__ = ["LONDON", "NonexistentLocalTime", "london_to_utc", "today_in_london", "utc_to_london"]


class NonexistentLocalTime(ValueError):
    """A clock time skipped when the clocks go forward (e.g. 01:30 on the last Sunday of March)."""


def london_to_utc(local: datetime) -> datetime:
    """Convert a naive Europe/London wall-clock time to naive UTC.

    An ambiguous time (the repeated hour in October) is read as the first occurrence (BST);
    a time that does not exist (the skipped hour in March) is refused.
    """
    aware = local.replace(tzinfo=LONDON, fold=0)
    round_trip = aware.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None)
    if round_trip != local:
        raise NonexistentLocalTime(f"{local:%H:%M} does not exist on {local:%d %B %Y} in the UK")
    return aware.astimezone(UTC).replace(tzinfo=None)


def today_in_london() -> date:
    return datetime.now(UTC).astimezone(LONDON).date()
