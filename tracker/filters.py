"""Jinja filters and globals: every page formats money, dates, quantities, file sizes and
state tags the same way, through tracker.presentation (templates get no service modules)."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, current_app, g
from flask_login import current_user
from jinja2 import Template
from markupsafe import Markup

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


#: How many rendered components a process keeps (a header per user, practice and area of
#: the site is a few KB): past it the cache starts again.
COMPONENT_CACHE_SIZE = 512
#: Stands for the CSRF token in a cached component; the page puts its own token in its place.
CSRF_PLACEHOLDER = "__csrf_token__"


def _component_template(app: Flask, name: str) -> Template:
    templates: dict[str, Template] = app.extensions.setdefault("nhsuk_component_templates", {})
    if name not in templates:
        templates[name] = app.jinja_env.from_string(
            f'{{% from "nhsuk/components/{name}/macro.jinja" import {name} %}}'
            f"{{{{ {name}(params) }}}}"
        )
    return templates[name]


def nhsuk_component(name: str, params: Mapping[str, Any]) -> Markup:
    """An NHS.UK design-system component (header, footer) rendered once per set of
    parameters and kept: these macros depend on nothing but their parameters, and the
    header alone costed several milliseconds a page (20 calls of the attributes macro),
    for the same HTML on every page a user opens in one area of the site (issue 13)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    cache: dict[tuple[str, str], Markup] = app.extensions.setdefault("nhsuk_components", {})
    key = (name, json.dumps(params, sort_keys=True, default=str))
    rendered = cache.get(key)
    if rendered is None:
        if len(cache) >= COMPONENT_CACHE_SIZE:
            cache.clear()
        rendered = Markup(_component_template(app, name).render(params=params))
        cache[key] = rendered
    return rendered


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
            "nhsuk_component": nhsuk_component,
            "csrf_placeholder": CSRF_PLACEHOLDER,
        }
