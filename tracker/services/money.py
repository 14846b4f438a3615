"""The one rounding rule and the reading of typed amounts. How money is shown (screen, PDF,
Excel) is tracker.presentation's format_money."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
ZERO = Decimal("0.00")


def to_pence(value: Decimal) -> Decimal:
    """Round to the penny, halves away from zero (ROUND_HALF_UP), as on every cost line."""
    return Decimal(value).quantize(PENNY, rounding=ROUND_HALF_UP)


#: Commas only as thousands separators: "1,234.50" is £1,234.50; "12,08" is not a number.
THOUSANDS = re.compile(r"^-?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_decimal(text: str | None) -> Decimal | None:
    """Read a user-typed number such as "£1,234.50" or "6.5"; None when it is not one.

    A comma is accepted only between groups of three digits, so a decimal comma ("12,08")
    or a slip of the finger is refused rather than silently multiplied by a hundred.
    """
    if text is None:
        return None
    cleaned = str(text).strip().replace("£", "").replace("%", "").strip()
    if not cleaned:
        return None
    if "," in cleaned:
        if not THOUSANDS.match(cleaned):
            return None
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
