"""Journey: the ICB part-approves one line and rejects the other; finance credits what was
not approved in one step, records the ICB's payment of the approved amount, and the invoice
reads Settled with nothing outstanding (issue 11)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_part_approved_claim_is_credited_paid_and_settled(page) -> None:
    # the reviewer decides Riverside's appointments claim (£1,710.00 and £141.00)
    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Claims to review").first.click()
    page.get_by_label("Review status").select_option("new")
    page.get_by_role("button", name="Apply filters").click()
    appointments = re.compile(r"Y09901\d{4}0002")  # Riverside's second invoice
    row = page.get_by_test_id("claims").locator("tr", has_text=appointments).first
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Claim Y09901\d{8}$"))).to_be_visible()
    claim_id = page.url.rstrip("/").split("/")[-1]
    page.get_by_test_id("line-1").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Part-approved").check()
    page.get_by_label("Amount approved").fill("1500.00")
    page.get_by_label("Reason").fill("Agreed for 50 of the 57 appointments cancelled.")
    page.get_by_role("button", name="Save decision").click()
    page.get_by_test_id("line-2").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Rejected").check()
    page.get_by_label("Reason").fill("Nurse appointments were rebooked the same week.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("approved")).to_contain_text("£1,500.00")
    page.context.clear_cookies()

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
