"""Where to send the user after a form that carries a `next` address (sign-in, practice switch).

One rule for every `next`, so no page can be made into an open redirect (OWASP ASVS 4.0.3
5.1.5: "URL redirects and forwards only allow destinations which appear on an allow list";
OWASP Unvalidated Redirects and Forwards Cheat Sheet). The allow list here is "a path on this
site": browsers read `//host`, `/\\host` and `\\\\host` as another site, and drop tabs and
newlines anywhere in a URL, so those are refused rather than cleaned up.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit, urlunsplit

from flask import redirect, url_for
from werkzeug.wrappers import Response


def safe_next_path(target: str | None) -> str | None:
    """`target` as a path on this site, or None when it is missing or could leave the site.

    Backslashes count as slashes (as browsers treat them); any control character is refused
    outright, because browsers strip tabs and newlines before they parse (`/\\t/evil.example`
    is `//evil.example` to them). What is left must start with exactly one slash (`//host`
    and `///host` name another site) and parse with no scheme and no host.
    """
    if not target or any(unicodedata.category(char) == "Cc" for char in target):
        return None
    normalised = target.replace("\\", "/")
    if not normalised.startswith("/") or normalised.startswith("//"):
        return None
    try:
        parts = urlsplit(normalised)
    except ValueError:
        return None
    if parts.scheme or parts.netloc or not parts.path.startswith("/"):
        return None
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def redirect_to_next(target: str | None) -> Response:
    """Redirect to `target` when it is a path on this site, else to the dashboard."""
    return redirect(safe_next_path(target) or url_for("main.dashboard"))
