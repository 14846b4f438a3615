"""Jinja filters and globals: every page formats money and dates the same way."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Flask, current_app
from flask_login import current_user

from tracker.services.costing import UNIT_LABELS
from tracker.services.dates import london_datetime, long_date, utc_to_london
from tracker.services.money import format_money, format_number, format_percent


def mask_account(value: str | None) -> str:
    """Show only the last two characters of a bank detail: ******12."""
    if not value:
        return ""
    return "•" * max(len(value) - 2, 0) + value[-2:]


def quantity_text(quantity: Decimal, unit: str) -> str:
    """6.5 hours, 1 session, 38 appointments."""
    singular, plural = UNIT_LABELS.get(unit, (unit, unit))
    if unit == "hour":
        singular, plural = "hour", "hours"
    return f"{format_number(quantity)} {singular if abs(quantity) == 1 else plural}"


def register(app: Flask) -> None:
    app.add_template_filter(format_money, "money")
    app.add_template_filter(format_number, "number")
    app.add_template_filter(format_percent, "percent")
    app.add_template_filter(long_date, "date")
    app.add_template_filter(london_datetime, "datetime")
    app.add_template_filter(utc_to_london, "london")
    app.add_template_filter(mask_account, "masked")
    app.add_template_filter(quantity_text, "quantity")

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        from tracker import csp_nonce
        from tracker.access import current_practice, switchable_practices
        from tracker.navigation import navigation_items

        practice = current_practice() if current_user.is_authenticated else None
        return {
            "cspNonce": csp_nonce(),
            "current_practice": practice,
            "nav_items": navigation_items() if current_user.is_authenticated else [],
            "has_endpoint": has_endpoint,
            "switchable_practices": switchable_practices,
        }


def has_endpoint(endpoint: str) -> bool:
    """Whether an area is installed, so templates link to it only when it exists."""
    return endpoint in current_app.view_functions
