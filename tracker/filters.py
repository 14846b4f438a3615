"""Jinja filters and globals: every page formats money, dates, quantities, file sizes and
state tags the same way, through tracker.presentation (templates get no service modules)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import Flask, g
from flask_login import current_user

from tracker import presentation
from tracker.documents.report_data import PEER_MEASURES, PEER_NOTE, SPREAD_ROWS


def mask_account(value: str | None) -> str:
    """Show only the last two characters of a bank detail: ******12."""
    if not value:
        return ""
    return "•" * max(len(value) - 2, 0) + value[-2:]


def csp_nonce() -> str:
    """This request's script nonce, made on first use (an error raised before any view, such
    as a too-large upload, still gets a page whose script runs)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


FILTERS: dict[str, Callable[..., Any]] = {
    "money": presentation.format_money,
    "number": presentation.format_number,
    "percent": presentation.format_percent,
    "date": presentation.long_date,
    "short_date": presentation.short_date,
    "datetime": presentation.london_datetime,
    "london": presentation.utc_to_london,
    "masked": mask_account,
    "quantity": presentation.quantity_text,
    "file_size": presentation.file_size,
    "file_kind": presentation.file_kind,
    "kind_label": presentation.cost_kind_label,
    "decision_tag": presentation.decision_tag,
    "claim_tag": presentation.claim_tag,
    "incident_status_tag": presentation.incident_status_tag,
    "outlier_tag": presentation.outlier_tag,
}


#: What the comparison with peers prints wherever it appears (templates/reports/_peers.html).
GLOBALS: dict[str, Any] = {
    "peer_measures": PEER_MEASURES,
    "peer_note": PEER_NOTE,
    "spread_rows": SPREAD_ROWS,
}


def register(app: Flask) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    app.jinja_env.globals.update(GLOBALS)

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        from tracker.access import current_practice, switchable_practices
        from tracker.navigation import navigation_items

        practice = current_practice() if current_user.is_authenticated else None
        return {
            "cspNonce": csp_nonce(),
            "current_practice": practice,
            "nav_items": navigation_items() if current_user.is_authenticated else [],
            "switchable_practices": switchable_practices,
        }
