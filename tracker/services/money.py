"""The one rounding rule and the reading of typed amounts. How money is shown (screen, PDF,
Excel) is tracker.presentation's format_money."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from tracker.presentation import minutes_to_hours

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")


def to_pence(value: Decimal) -> Decimal:
    """Round to the penny, halves away from zero (ROUND_HALF_UP), as on every cost line."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


#: Commas only as thousands separators: "1,234.50" is £1,234.50; "12,08" is not a number.
THOUSANDS = re.compile(r"^-?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
#: Figures only, as people write them: Decimal() would also read "1e3" (1,000), "1_000",
#: "Infinity", "NaN" and other scripts' digits, none of which anyone means when typing
#: hours or pounds.
PLAIN = re.compile(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)$")
#: The most figures read before and after the point. Every limit in the app is far below
#: 15 figures of pounds, and with at most 15 on each side every check (quantize to the
#: penny, compare with a maximum) stays inside Decimal's 28-digit precision: 28 typed
#: digits used to raise InvalidOperation there, a 500. Longer is refused with a message.
MAX_WHOLE_FIGURES = 15
MAX_DECIMAL_FIGURES = 15
#: The longest text a number field keeps (the forms' length limit for typed amounts).
MAX_TYPED_NUMBER = 40
#: What exponent or special notation looks like, to say why it was refused.
NOT_FIGURES = re.compile(r"^[-+]?(\d*\.?\d*e[-+]?\d+|inf(inity)?|s?nan)$", re.IGNORECASE)


def _cleaned(text: str) -> str:
    return str(text).strip().replace("£", "").replace("%", "").strip()


def parse_decimal(text: str | None) -> Decimal | None:
    """Read a user-typed number such as "£1,234.50" or "6.5"; None when it is not one.

    A comma is accepted only between groups of three digits, so a decimal comma ("12,08")
    or a slip of the finger is refused rather than silently multiplied by a hundred.
    Only figures are read: "1e3", "Infinity" and "NaN" are refused (see `PLAIN`). "-0" is
    read as 0: a negative zero would pass the "not negative" checks and print as "-£0.00".
    """
    if text is None:
        return None
    cleaned = _cleaned(text)
    if not cleaned:
        return None
    if "," in cleaned:
        if not THOUSANDS.match(cleaned):
            return None
        cleaned = cleaned.replace(",", "")
    if not PLAIN.match(cleaned) or too_many_figures(cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return abs(value) if value.is_zero() else value


def too_many_figures(text: str | None) -> bool:
    """Whether a number typed in figures has more than MAX_WHOLE_FIGURES before the point
    or MAX_DECIMAL_FIGURES after it (parse_decimal refuses it; the message says why)."""
    cleaned = _cleaned(str(text or "")).replace(",", "").lstrip("+-")
    whole, _, fraction = cleaned.partition(".")
    return len(whole.lstrip("0")) > MAX_WHOLE_FIGURES or len(fraction) > MAX_DECIMAL_FIGURES


def not_in_figures(text: str | None) -> bool:
    """Whether `text` is a number in exponent or special notation ("1e3", "2.5E-1",
    "Infinity", "NaN"), which parse_decimal refuses: the message can then say so."""
    return bool(text) and bool(NOT_FIGURES.match(_cleaned(str(text))))


def with_figures_hint(message: str, text: str | None) -> str:
    """A field's "enter it as a number" message, saying what was wrong when the number was
    typed in exponent or special notation: "Enter hours as a number, like 6.5 (not 1e3)"."""
    if not_in_figures(text):
        return f"{message} (not {_cleaned(str(text))[:20]})"
    if text and PLAIN.match(_cleaned(str(text)).replace(",", "")) and too_many_figures(text):
        return f"{message} (that has too many figures)"
    return message


class ClockError(ValueError):
    """Hours typed as h:mm that are not a time: the message says what to type instead."""


#: h:mm as typed: hours, a colon and exactly two figures of minutes.
CLOCK = re.compile(r"^([0-9]{1,7}):([0-9]{2})$")


def parse_clock_hours(text: str | None) -> Decimal | None:
    """Hours typed as h:mm ("4:10" is 4 hours 10 minutes, 4.1667 hours to 4 places), or None
    when the text has no colon (it is then read as a decimal). Raises ClockError when it has
    a colon but is not h:mm with minutes 00 to 59.

    Minutes matter: a locum session of 4 hours 10 minutes typed as 4.17 hours is mispriced,
    and 4:10 cannot be written exactly in 2 decimals.
    """
    if text is None or ":" not in text:
        return None
    typed = text.strip()
    match = CLOCK.match(typed)
    if match is None:
        before, _, after = typed.partition(":")
        if not before.strip():
            raise ClockError("Enter the hours before the colon, like 0:30")
        if after.isdigit() and len(after) == 1:
            raise ClockError(f"Enter the minutes as 2 figures, like {before.strip()}:0{after}")
        raise ClockError("Enter hours and minutes as h:mm, like 4:10")
    minutes = int(match.group(2))
    if minutes > 59:
        raise ClockError("Minutes must be 00 to 59, like 4:10")
    return minutes_to_hours(int(match.group(1)) * 60 + minutes)
