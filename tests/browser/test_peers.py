"""Comparison with peers in the browser: the practice manager gives the list size; the
reviewer sees the practice that stands out, on the claim and in the ICB's report, on a phone
screen too."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import page_width, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_the_manager_gives_the_list_size(page) -> None:
    sign_in(page, "manager@example.org")
    page.goto("/practice/settings")
    size = page.get_by_label("Registered list size")
    expect(size).to_have_value("11240")
    size.fill("11,2400")
    page.get_by_role("button", name="Save practice details").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("whole number of patients")
    expect(page.get_by_label("Registered list size")).to_have_value("11,2400")
    page.get_by_label("Registered list size").fill("11,310")
    page.get_by_role("button", name="Save practice details").click()
    expect(page.get_by_text("Your practice details have been saved")).to_be_visible()
    expect(page.get_by_label("Registered list size")).to_have_value("11310")


def test_the_reviewer_sees_the_outlier_on_a_phone(page) -> None:
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "reviewer@example.org")
    page.goto("/review")
    row = page.get_by_test_id("claims").locator("tr", has_text="Tufnell Park Surgery").first
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Claim Y09905"))).to_be_visible()
    spread = page.get_by_test_id("peer-spread")
    expect(spread.get_by_test_id("spread-claimed")).to_contain_text("High outlier")
    expect(page.get_by_test_id("peers-compared")).to_contain_text("5 practices compared")
    assert page_width(page) <= 375
    screenshot(page, "review-claim-peers-phone")
    page.goto("/reports/")
    page.get_by_role("link", name=re.compile("CrowdStrike")).first.click()
    peers = page.get_by_test_id("peers")
    expect(peers.locator("tr", has_text="Tufnell Park Surgery")).to_contain_text("High outlier")
    assert page_width(page) <= 375
    screenshot(page, "report-peers-phone")
