"""Domain errors mapped to responses once, for every view.

A service refuses with `NotFound` (404) or `Conflict` (409) and a message; a view that has
nothing better to do lets it propagate and this handler renders the error page with that
message. `Invalid` belongs beside a form field, so views catch it and show it there; one that
escapes anyway is answered 422 with its message rather than a 500.
"""

from __future__ import annotations

from flask import Flask, render_template, request

from tracker.extensions import db_session
from tracker.services.errors import Conflict, DomainError, NotFound, Unavailable

TITLES: dict[type[DomainError], str] = {
    NotFound: "Page not found",
    Conflict: "This cannot be done now",
    Unavailable: "Sorry, there is a problem with the service",
}


def register(app: Flask) -> None:
    """Install the handler for every `DomainError` on `app`."""
    app.register_error_handler(DomainError, render_domain_error)


def render_domain_error(error: DomainError) -> tuple[str, int]:
    """The error page for a refusal: nothing the request did is kept."""
    db_session().rollback()
    title = next(
        (title for kind, title in TITLES.items() if isinstance(error, kind)),
        "Check what you entered",
    )
    html = render_template(
        "errors/error.html",
        code=error.http_status,
        title=title,
        message=error.message,
        back_url=_same_site_referrer(),
    )
    return html, error.http_status


def _same_site_referrer() -> str | None:
    """The page the refused form was on, so the user can go straight back to it; never a
    link to another site."""
    referrer = request.referrer or ""
    return referrer if referrer.startswith(request.host_url) else None
