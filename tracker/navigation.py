"""The header navigation, by role. Areas appear once their blueprint is registered."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user

from tracker.models import Role

#: (endpoint, label, who sees it)
NAV = (
    ("main.dashboard", "Dashboard", "all"),
    ("incidents.index", "Incidents", "practice"),
    ("invoices.index", "Invoices", "practice"),
    ("invoices.remittances_list", "Remittances", "finance"),
    ("review.index", "Claims to review", "reviewer"),
    ("reports.index", "Reports", "reviewer"),
    ("practices.settings", "Practice settings", "practice"),
    ("admin.index", "Administration", "admin"),
)


def _may_see(audience: str) -> bool:
    if audience == "all":
        return True
    # current_user is an untyped proxy (see stubs/flask_login); bool() states what it yields
    if audience == "admin":
        return bool(current_user.is_admin)
    if audience == "practice":
        return bool(current_user.has_role(Role.PRACTICE_MANAGER, Role.FINANCE))
    if audience == "finance":
        return bool(current_user.has_role(Role.FINANCE))
    if audience == "reviewer":
        return bool(current_user.is_admin or current_user.has_role(Role.ICB_REVIEWER))
    return False


#: Pages of an area that belong to another item of the navigation: (endpoint prefix, item).
SECTIONS = (("invoices.remittance", "invoices.remittances_list"),)


def _active_item(endpoint: str) -> str | None:
    """The navigation item of the page shown: its own section's, else its area's."""
    for prefix, item in SECTIONS:
        if endpoint.startswith(prefix):
            return item
    area = endpoint.split(".")[0]
    claimed = {item for _, item in SECTIONS}
    return next((e for e, _, _ in NAV if e.split(".")[0] == area and e not in claimed), None)


def navigation_items() -> list[dict[str, object]]:
    items = []
    active = _active_item(request.endpoint or "")
    for endpoint, label, audience in NAV:
        if not _may_see(audience):
            continue
        items.append({"href": url_for(endpoint), "text": label, "active": endpoint == active})
    return items
