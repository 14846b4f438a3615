"""Journey: the ICB part-approves one line and rejects the other, the reviewer recommends and
the approver authorises (the demo ICB signs off in two steps); finance credits what was not
approved in one step, records the ICB's payment of the approved amount, and the invoice reads
Settled with nothing outstanding; the practice manager then reads, on the incident's page,
each cost's invoice, the ICB's decision and reason, and what was credited (issues 11 and 14)."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import decide_appointments_claim, page_width, screenshot, sign_in

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
    expect(page.get_by_test_id("claims-by-icb")).to_contain_text("North Central London")
    expect(page.get_by_test_id("approved")).to_be_visible()
    screenshot(page, "settlement-dashboard")
    page.context.clear_cookies()

    # the practice manager reads what became of each cost on the incident's page
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Incidents", exact=True).first.click()
    page.get_by_role("link", name="CrowdStrike / EMIS outage 19–20 July 2024").first.click()
    gp = page.locator("tr", has_text="GP appointments cancelled").locator(".app-claim")
    nurse = page.locator("tr", has_text="Nurse appointments cancelled").locator(".app-claim")
    expect(gp.get_by_test_id("line-invoice")).to_have_text(re.compile(r"Y09901\d{4}0002"))
    expect(gp.get_by_test_id("line-payment-state")).to_have_text("Settled")
    expect(gp.get_by_test_id("line-decision")).to_contain_text("Part-approved")
    expect(gp.get_by_test_id("line-decision")).to_contain_text("£1,500.00 approved")
    expect(gp.get_by_test_id("line-decision")).to_contain_text("Agreed for 50 of the 57")
    expect(gp.get_by_test_id("line-credit")).to_contain_text("Credited £210.00 by Y09901CN")
    expect(nurse.get_by_test_id("line-decision")).to_contain_text("Rejected")
    expect(nurse.get_by_test_id("line-decision")).to_contain_text("rebooked the same week")
    expect(nurse.get_by_test_id("line-credit")).to_contain_text("Credited £141.00")
    screenshot(page, "settlement-incident-lines")
    # the invoice it is on, one click away
    gp.get_by_test_id("line-invoice").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Settled")
    expect(page.get_by_test_id("outstanding")).to_contain_text("£0.00")


def test_the_demo_telephony_incident_reads_on_a_phone(page) -> None:
    """The demo's decided telephony claims, on a phone: each cost a card, nothing off-screen."""
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, "manager@example.org")
    page.goto("/incidents")
    page.get_by_role("link", name="Telephone lines down: cloud telephony outage").click()
    phones = page.locator("tr", has_text="Pay-as-you-go mobile phones").locator(".app-claim")
    expect(phones.get_by_test_id("line-decision")).to_contain_text("Rejected")
    expect(phones.get_by_test_id("line-decision")).to_contain_text("The phones stay")
    phones.scroll_into_view_if_needed()
    box = phones.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert page_width(page) <= 375
    screenshot(page, "settlement-incident-phone")
