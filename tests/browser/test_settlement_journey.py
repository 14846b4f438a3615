"""Journey: the ICB part-approves one line and rejects the other; finance credits what was
not approved in one step, records the ICB's payment of the approved amount, and the invoice
reads Settled with nothing outstanding (issue 11)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import decide_appointments_claim, screenshot, sign_in

pytestmark = pytest.mark.browser


def test_part_approved_claim_is_credited_paid_and_settled(page) -> None:
    claim_id = decide_appointments_claim(page)  # £1,500.00 approved of £1,851.00

    # finance credits the £351.00 not approved, in one step
    sign_in(page, "finance@example.org")
    page.goto(f"/invoices/{claim_id}")
    expect(page.get_by_test_id("approved")).to_have_text("£1,500.00")
    screenshot(page, "settlement-decided-invoice")
    page.get_by_role("button", name="Credit £351.00 not approved by the ICB").click()
    expect(page.get_by_text(re.compile(r"Credit note Y09901CN\d{8} issued"))).to_be_visible()
    expect(page.get_by_test_id("credited")).to_have_text("£351.00")
    expect(page.get_by_test_id("outstanding")).to_contain_text("£1,500.00")

    # the ICB pays what it approved
    page.get_by_label("Amount received").fill("1500.00")
    page.get_by_label("Remittance reference").fill("NCL ICB BACS 90555")
    page.get_by_role("button", name="Record payment").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Settled")
    expect(page.get_by_test_id("outstanding")).to_contain_text("£0.00")
    expect(page.get_by_test_id("amount-paid")).to_have_text("£1,500.00")
    screenshot(page, "settlement-settled-invoice")

    # the credit note itemises the two lines with the reviewer's reasons
    page.get_by_test_id("credit-notes").get_by_role("link").first.click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Credit note")
    expect(page.locator("main")).to_contain_text("Nurse appointments were rebooked")
    screenshot(page, "settlement-credit-note")

    # the register lists it as settled
    page.goto("/invoices?status=settled")
    expect(page.locator("table")).to_contain_text("Settled")
    screenshot(page, "settlement-register")

    # the practice's dashboard: claimed vs approved vs credited vs paid
    page.goto("/")
    expect(page.get_by_test_id("approved")).to_be_visible()
    screenshot(page, "settlement-dashboard")
