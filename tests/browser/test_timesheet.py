"""The timesheet page in the browser: several people's time at once, on a desktop and on a
phone at 375 px, without the page scrolling sideways."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import page_width, screenshot, sign_in

pytestmark = pytest.mark.browser


def _open_timesheet(page) -> None:
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Incidents", exact=True).first.click()
    page.locator("table a").first.click()
    page.get_by_role("link", name="Enter a timesheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enter a timesheet")


@pytest.mark.parametrize("width", [375, 1280])
def test_the_timesheet_fits_the_screen_and_saves_every_row(page, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    _open_timesheet(page)
    assert page_width(page) <= width
    screenshot(page, f"timesheet-{width}")

    page.get_by_label("Staff member or role, row 1").fill("Amy Patel, receptionist")
    page.get_by_label("Description, row 1").fill("Phoning patients to rebook")
    page.get_by_label("Start, row 1").fill("17:30")
    page.get_by_label("Finish, row 1").fill("20:00")
    page.get_by_label("Staff member or role, row 2").fill("Ben Okafor, HCA")
    page.get_by_label("Description, row 2").fill("Paper records for the afternoon clinic")
    page.get_by_label("Hours, row 2").fill("-3")
    page.get_by_role("button", name="Save timesheet", exact=True).click()

    # nothing saved; the message is next to the box, named by row and column; input kept
    expect(page.locator("#row-2-quantity-error")).to_contain_text("Hours must be more than 0")
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Row 2, Hours:")
    expect(page.get_by_label("Description, row 1")).to_have_value("Phoning patients to rebook")
    assert page_width(page) <= width
    screenshot(page, f"timesheet-error-{width}")

    # more rows without JavaScript's help: a post that keeps what was typed
    page.get_by_role("button", name="Add 5 more rows").click()
    expect(page.get_by_test_id("timesheet-row")).to_have_count(10)
    expect(page.get_by_label("Hours, row 2")).to_have_value("-3")
    page.get_by_role("button", name="Remove row 3").click()
    expect(page.get_by_test_id("timesheet-row")).to_have_count(9)

    page.get_by_label("Hours, row 2").fill("3:30")
    page.get_by_role("button", name="Save timesheet", exact=True).click()
    expect(page.get_by_role("status").first).to_contain_text("2 staff-time lines added")
    expect(page.locator("#kind-staff + .app-table-wrap")).to_contain_text("Amy Patel")
    expect(page.locator("#kind-staff + .app-table-wrap")).to_contain_text("Ben Okafor")
