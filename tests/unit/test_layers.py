"""The package's layers hold at run time: building a document or costing a line loads
neither Flask nor the models, and the presentation module stands on its own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter, so modules the test session already loaded do not count."""
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_pdf_and_costing_import_neither_flask_nor_the_models() -> None:
    result = _run(
        "import tracker.documents.pdf, tracker.services.costing, sys; "
        "assert 'flask' not in sys.modules and 'tracker.models' not in sys.modules, "
        "sorted(m for m in sys.modules if m.startswith(('flask', 'tracker.models')))"
    )
    assert result.returncode == 0, result.stderr


def test_excel_builders_and_report_pdf_stay_light_too() -> None:
    result = _run(
        "import tracker.documents.xlsx, tracker.documents.report_pdf, "
        "tracker.documents.report_xlsx, sys; "
        "assert not [m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'flask_login', 'werkzeug', 'sqlalchemy')], sorted(sys.modules)"
    )
    assert result.returncode == 0, result.stderr


def test_presentation_imports_nothing_else_of_the_project() -> None:
    result = _run(
        "import tracker.presentation, sys; "
        "print(sorted(m for m in sys.modules if m.startswith('tracker')))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['tracker', 'tracker.presentation']"


def test_create_app_is_still_importable_from_the_package() -> None:
    from tracker import create_app

    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert {"incidents", "invoices", "review", "reports"} <= set(app.blueprints)
