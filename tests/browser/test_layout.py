import pytest
from playwright.sync_api import expect

from tests.browser.conftest import page_width, sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("path", ["/", "/incidents", "/invoices", "/practice/rate-card"])
def test_pages_fit_a_phone_screen_without_sideways_scrolling(page, path: str) -> None:
    """WCAG 1.4.10 reflow: at 375 px wide only data tables scroll, never the page."""
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "manager@example.org")
    page.goto(path)
    expect(page.locator("h1")).to_be_visible()
    assert page_width(page) <= 375


def test_the_demo_incident_fits_a_phone_screen(page) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "manager@example.org")
    page.goto("/incidents")
    page.get_by_role("link", name="CrowdStrike / EMIS outage 19–20 July 2024").first.click()
    expect(page.get_by_role("heading", name="Costs", exact=True)).to_be_visible()
    assert page_width(page) <= 375
