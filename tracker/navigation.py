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
    if audience == "reviewer":
        return bool(current_user.is_admin or current_user.has_role(Role.ICB_REVIEWER))
    return False


def navigation_items() -> list[dict[str, object]]:
    items = []
    current_area = (request.endpoint or "").split(".")[0]
    for endpoint, label, audience in NAV:
        if not _may_see(audience):
            continue
        items.append(
            {
                "href": url_for(endpoint),
                "text": label,
                "active": endpoint.split(".")[0] == current_area,
            }
        )
    return items
