"""Dates and times: stored as naive UTC, shown and entered in Europe/London."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


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


def utc_to_london(utc: datetime) -> datetime:
    """Convert naive UTC to a naive Europe/London wall-clock time."""
    return utc.replace(tzinfo=UTC).astimezone(LONDON).replace(tzinfo=None)


def today_in_london() -> date:
    return datetime.now(UTC).astimezone(LONDON).date()


def long_date(value: date | datetime | None) -> str:
    """19 July 2024."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def short_time(value: datetime) -> str:
    """9:05am, 2:30pm (the GOV.UK / NHS style)."""
    hour = value.hour % 12 or 12
    suffix = "am" if value.hour < 12 else "pm"
    return f"{hour}:{value:%M}{suffix}"


def london_datetime(utc: datetime | None) -> str:
    """19 July 2024 at 9:05am, for a naive UTC timestamp."""
    if utc is None:
        return ""
    local = utc_to_london(utc)
    return f"{long_date(local)} at {short_time(local)}"


def duration_text(delta: timedelta) -> str:
    """1 day 4 hours 30 minutes, for elapsed (not wall-clock) time."""
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = []
    for amount, word in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if amount:
            parts.append(f"{amount} {word}{'' if amount == 1 else 's'}")
    return " ".join(parts) or "0 minutes"
