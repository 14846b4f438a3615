"""The header navigation, by role. Areas appear once their blueprint is registered."""

from __future__ import annotations

from flask import request, url_for
from flask_login import current_user
from markupsafe import Markup

from tracker.access import claim_icb_ids
from tracker.extensions import db_session
from tracker.models import ICB_ROLES, Role
from tracker.services.work_queue import waiting_for

#: (endpoint, label, who sees it)
NAV = (
    ("main.dashboard", "Dashboard", "all"),
    ("incidents.index", "Incidents", "practice"),
    ("invoices.index", "Invoices", "practice"),
    ("invoices.remittances_list", "Remittances", "finance"),
    ("review.index", "Claims to review", "reviewer"),
    ("queue.index", "Work queue", "icb"),
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
        return bool(current_user.is_admin or current_user.has_role(*ICB_ROLES))
    if audience == "icb":
        return bool(current_user.has_role(*ICB_ROLES))
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


def _queue_label(label: str) -> Markup:
    """The work queue's link with what waits for the user, counted in one query: claims to
    sign off for an approver, claims assigned to them for a reviewer."""
    count = waiting_for(
        db_session(),
        claim_icb_ids(),
        user_id=current_user.id,
        approver=bool(current_user.has_role(Role.ICB_FINANCE_APPROVER)),
    )
    if not count:
        return Markup.escape(label)
    return Markup(
        '{} <span class="app-nav-count" data-testid="queue-count">{}'
        '<span class="nhsuk-u-visually-hidden"> waiting for you</span></span>'
    ).format(label, count)


def navigation_items() -> list[dict[str, object]]:
    items = []
    active = _active_item(request.endpoint or "")
    for endpoint, label, audience in NAV:
        if not _may_see(audience):
            continue
        item: dict[str, object] = {
            "href": url_for(endpoint),
            "text": label,
            "active": endpoint == active,
        }
        if endpoint == "queue.index":
            item["html"] = _queue_label(label)
        items.append(item)
    return items
