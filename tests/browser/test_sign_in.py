import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_practice_manager_signs_in_and_sees_a_populated_dashboard(page) -> None:
    page.goto("/")
    expect(page).to_have_url("/login?next=/")
    sign_in(page, "manager@example.org")
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_text("Riverside Medical Centre").first).to_be_visible()
    expect(page.get_by_test_id("not-invoiced")).not_to_have_text("£0.00")
    screenshot(page, "dashboard-manager")


def test_wrong_password_is_shown_next_to_the_field(page) -> None:
    page.goto("/login")
    page.get_by_label("Email").fill("manager@example.org")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#password-error")).to_contain_text("Incorrect email or password")
    expect(page.get_by_label("Email")).to_have_value("manager@example.org")
