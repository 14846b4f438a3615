"""The "Be ready for an outage" page in the browser: found from the dashboard, each form
downloaded as a PDF, readable on a phone without sideways scrolling."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import page_width, screenshot, sign_in
from tests.unit.test_paper_forms import layout_text

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("width", [375, 1280])
def test_a_manager_downloads_the_paper_forms_before_an_outage(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Be ready for an outage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Be ready for an outage")
    assert page_width(page) <= width
    screenshot(page, f"be-ready-{width}")
    with page.expect_download() as download:
        page.get_by_role("link", name="Staff timesheet (PDF, A4 landscape)").click()
    assert download.value.suggested_filename.startswith("staff-timesheet-")
    text = layout_text(Path(download.value.path()).read_bytes())
    assert "Staff timesheet" in text and "Riverside Medical Centre" in text

    # and from an incident's page, with its title printed
    page.get_by_role("link", name="Incidents", exact=True).first.click()
    page.locator("table a").first.click()
    title = page.title().split(" – ")[0]
    page.get_by_text("Paper forms for this incident").click()
    assert page_width(page) <= width
    with page.expect_download() as download:
        page.get_by_role("link", name="Outage log (PDF)").click()
    printed = " ".join(layout_text(Path(download.value.path()).read_bytes()).split())
    assert f"Incident: {title}" in printed
