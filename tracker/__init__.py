"""Outage Claims: GP practices cost up an IT outage and invoice their ICB.

This package's own module imports nothing, so importing a service or a document builder
does not import Flask or the models; the application factory is tracker.app_factory.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """The Flask application (see tracker.app_factory.create_app), imported only when asked
    for, so `from tracker import create_app` keeps working for app.py, the tests and bench."""
    from tracker.app_factory import create_app as factory

    return factory(test_config)
