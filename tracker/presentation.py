"""How figures, dates, quantities and states read, on screen, in the PDF and in Excel alike.

A leaf module: it imports only the standard library, never another part of the project, so
templates, services and documents can all use it without importing one another (and
building a document never drags in Flask or the models).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
_PENNY = Decimal("0.01")

# --- money and numbers ----------------------------------------------------------------------


def format_money(value: Decimal | None) -> str:
    """£1,234.56 (and -£12.00), in the en_GB style. Halves round away from zero, the rule of
    services.money.to_pence. Written out here rather than through Babel's format_currency,
    which gives the same text (tests/unit/test_presentation.py compares them) at 20 times
    the cost: it parses the locale on every call, and a 50-line invoice page formats a few
    hundred amounts (issue 13)."""
    if value is None:
        return ""
    pence = Decimal(value).quantize(_PENNY, rounding=ROUND_HALF_UP)
    return ("-" if pence.is_signed() else "") + f"£{abs(pence):,.2f}"


def format_rate(value: Decimal) -> str:
    """A unit rate as money; a rate finer than a penny is shown in full, never rounded."""
    if value == value.quantize(_PENNY):
        return format_money(value)
    sign = "-" if value < 0 else ""
    return f"{sign}£{format_number(abs(value))}"


def format_number(value: Decimal | None) -> str:
    """6.5, 1,000, 14.38: no trailing zeros, thousands separated."""
    if value is None:
        return ""
    normalised = Decimal(value).normalize()
    if normalised == normalised.to_integral_value():
        normalised = normalised.quantize(Decimal(1))
    return f"{normalised:,f}"  # Babel's en_GB format_decimal, unquantised (see format_money)


def format_fixed(value: Decimal | None) -> str:
    """1,234.50: a figure to two places (halves up), thousands separated, so a column of
    computed figures (per 1,000 patients) lines up."""
    if value is None:
        return ""
    # Babel's en_GB format_decimal with "#,##0.00", written out (see format_money)
    return f"{Decimal(value).quantize(_PENNY, rounding=ROUND_HALF_UP):,.2f}"


def format_percent(value: Decimal | None) -> str:
    return "" if value is None else f"{format_number(value)}%"


# --- quantities with units ------------------------------------------------------------------

#: unit -> (singular, plural), as a line's unit column reads.
UNIT_LABELS = {
    "hour": ("hour", "hours"),
    "session": ("session", "sessions"),
    "appointment": ("appointment", "appointments"),
    "item": ("item", "items"),
    "day": ("day", "days"),
}
#: Units written short in a line's working ("6.5 h × £20.00").
SHORT_UNITS = {"hour": "h"}


def unit_label(unit: str, quantity: Decimal, short: bool = False) -> str:
    """hours, session, appointments: plural unless the quantity is one (or minus one)."""
    if short and unit in SHORT_UNITS:
        return SHORT_UNITS[unit]
    singular, plural = UNIT_LABELS.get(unit, (unit, unit))
    return singular if abs(quantity) == 1 else plural


#: Hours typed as h:mm are stored to this many places (4:10 is 4.1667 hours).
_MINUTE_PLACES = Decimal("0.0001")


def minutes_to_hours(minutes: int) -> Decimal:
    """A whole number of minutes as hours, to 4 places: 250 -> 4.1667. The one rule by which
    a time typed as h:mm is stored, so the minutes can be read back exactly."""
    return (Decimal(minutes) / 60).quantize(_MINUTE_PLACES, rounding=ROUND_HALF_UP)


def whole_minutes(hours: Decimal) -> int | None:
    """The whole number of minutes `hours` stands for (4.1667 -> 250, 6.5 -> 390), or None
    when it is no whole number of minutes (4.1234)."""
    minutes = (Decimal(hours) * 60).to_integral_value(rounding=ROUND_HALF_UP)
    return int(minutes) if minutes_to_hours(int(minutes)) == Decimal(hours) else None


def clock_minutes(quantity: Decimal, unit: str) -> int | None:
    """The minutes of an hour quantity that only h:mm shows exactly (4.1667 = 4:10), or None
    for any quantity 2 decimals show exactly (6.5 hours, 2 sessions)."""
    if unit != "hour" or quantity == quantity.quantize(_PENNY):
        return None
    return whole_minutes(quantity)


def clock_text(minutes: int) -> str:
    """250 minutes as h:mm, "4:10", as typed into an hours box."""
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}:{rest:02d}"


def quantity_figure(quantity: Decimal, unit: str) -> str:
    """The figure of a quantity without its unit: "6.5", "2", or "4 h 10 min" for hours only
    minutes show exactly."""
    minutes = clock_minutes(quantity, unit)
    if minutes is None:
        return format_number(quantity)
    sign = "-" if minutes < 0 else ""
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours} h {rest} min"


def quantity_text(quantity: Decimal, unit: str, short: bool = False) -> str:
    """6.5 hours, 1 session, 38 appointments (short: 6.5 h, for a line's working); hours typed
    as h:mm that 2 decimals cannot show read "4 h 10 min" either way."""
    if clock_minutes(quantity, unit) is not None:
        return quantity_figure(quantity, unit)
    return f"{format_number(quantity)} {unit_label(unit, quantity, short)}"


# --- dates and times ------------------------------------------------------------------------


def utc_to_london(utc: datetime) -> datetime:
    """Convert naive UTC (as stored) to a naive Europe/London wall-clock time."""
    return utc.replace(tzinfo=UTC).astimezone(LONDON).replace(tzinfo=None)


def long_date(value: date | datetime | None) -> str:
    """19 July 2024."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def short_date(value: date | datetime | None) -> str:
    """2 Dec 2026: for a table's narrow date column, where a long month breaks mid-word."""
    if value is None:
        return ""
    return f"{value.day} {value:%b %Y}"


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


def period_text(starts_utc: datetime, ends_utc: datetime | None) -> str:
    """When something ran, in London time: "19 July 2024 at 7:10am to 20 July 2024 at
    1:00pm", or "from 19 July 2024 at 7:10am, not yet ended"."""
    if ends_utc is None:
        return f"from {london_datetime(starts_utc)}, not yet ended"
    return f"{london_datetime(starts_utc)} to {london_datetime(ends_utc)}"


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


# --- files ----------------------------------------------------------------------------------

FILE_KINDS = {"application/pdf": "PDF", "image/png": "PNG image", "image/jpeg": "JPEG image"}


def file_size(size_bytes: int) -> str:
    """12 KB: kilobytes rounded up, so a small file never reads as 0 KB."""
    return f"{math.ceil(size_bytes / 1024)} KB"


def size_text(size: int) -> str:
    """An upload limit: 10 MB, 2.5 MB, 195 KB (never 0 KB)."""
    if size >= 1024 * 1024:
        megabytes = size / (1024 * 1024)
        return f"{megabytes:.0f} MB" if megabytes == int(megabytes) else f"{megabytes:.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def file_kind(content_type: str) -> str:
    """PDF, PNG image, JPEG image (else the subtype in capitals)."""
    return FILE_KINDS.get(content_type, content_type.rsplit("/", 1)[-1].upper())


# --- labels and NHS.UK tag colours for states -----------------------------------------------


class Tag(NamedTuple):
    """An NHS.UK tag: its text and its colour (nhsuk-tag--<colour>)."""

    label: str
    colour: str


#: An invoice's payment state (services.payments.PaymentState values).
PAYMENT_STATE_TAGS = {
    "draft": Tag("Draft", "grey"),
    "unpaid": Tag("Issued", "blue"),
    "part_paid": Tag("Part-paid", "yellow"),
    "paid": Tag("Paid", "green"),
    "settled": Tag("Settled", "green"),
    "overdue": Tag("Overdue", "red"),
    "cancelled": Tag("Cancelled", "grey"),
    "credit_note": Tag("Credit note", "purple"),
}
#: A reviewer's decision on one claim line (services.review.Decision values).
DECISION_TAGS = {
    "approved": Tag("Approved", "green"),
    "part_approved": Tag("Part-approved", "yellow"),
    "queried": Tag("Queried", "orange"),
    "rejected": Tag("Rejected", "red"),
}
NOT_DECIDED = Tag("Not decided", "grey")
#: Where a claim's review has got to (models.ReviewStatus values); a cancelled claim is withdrawn.
REVIEW_STATUS_TAGS = {
    "new": Tag("New", "white"),
    "in_review": Tag("In review", "blue"),
    "decided": Tag("Decided", "green"),
}
WITHDRAWN = Tag("Withdrawn", "grey")
#: A practice's figure outside its ICB's Tukey fences (services.peers).
OUTLIER_TAGS = {"high": Tag("High outlier", "red"), "low": Tag("Low outlier", "blue")}

#: Where a two-step claim's sign-off has got to, when it says more than its review status
#: (services.review.sign_off_tag_key gives the key).
SIGN_OFF_TAGS = {
    "sent_back": Tag("Sent back", "orange"),
    "to_recommend": Tag("Decided, to recommend", "aqua-green"),
    "recommended": Tag("Awaiting authorisation", "purple"),
    "authorised": Tag("Authorised", "green"),
}
#: An incident's status (models.IncidentStatus values).
INCIDENT_STATUS_TAGS = {"open": Tag("Open", "blue"), "closed": Tag("Closed", "grey")}
#: What a cost kind is called (models.CostKind values).
COST_KIND_LABELS = {
    "staff": "Staff time",
    "locum": "Locum cover",
    "appointments": "Lost appointments",
    "expense": "Other expenses",
}


def decision_tag(value: str | None) -> Tag:
    return DECISION_TAGS[value] if value else NOT_DECIDED


def claim_tag(status: str, review_status: str, sign_off: str | None = None) -> Tag:
    """A claim (an issued or cancelled invoice): withdrawn, else where its sign-off has got
    to (a SIGN_OFF_TAGS key) when given, else its review status."""
    if status == "cancelled":
        return WITHDRAWN
    return SIGN_OFF_TAGS.get(sign_off or "", REVIEW_STATUS_TAGS[review_status])


def outlier_tag(direction: str) -> Tag:
    return OUTLIER_TAGS[direction]


def incident_status_tag(status: str) -> Tag:
    return INCIDENT_STATUS_TAGS[status]


def cost_kind_label(kind: str) -> str:
    return COST_KIND_LABELS.get(kind, kind)


def shortened(text: str, limit: int = 60) -> str:
    """Text cut to `limit` characters with an ellipsis, to name a line in a sentence."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def details_text(rows: Iterable[tuple[str, str]]) -> str:
    """A line's kind details in one line, as every invoice view prints them:
    "Locum: Dr A Khan · Locum invoice: LOC-1234"."""
    return " · ".join(f"{label}: {value}" for label, value in rows)
