"""Journey: the ICB part-approves Riverside's appointments claim; finance credits what was not
approved, then records the ICB's remittance paying the approved amount and the other open
invoice in one payment; the claim reads Settled with nothing outstanding, and the statement
of account shows the remittance, as a page and as a PDF (issue 11)."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import decide_appointments_claim, screenshot, sign_in

pytestmark = pytest.mark.browser
REFERENCE = "NCL ICB BACS 90555"


def test_a_remittance_settles_the_claim_and_shows_on_the_statement(page, tmp_path: Path) -> None:
    claim_id = decide_appointments_claim(page)
    sign_in(page, "finance@example.org")
    page.goto(f"/invoices/{claim_id}")
    claim_number = page.get_by_test_id("invoice-number").inner_text()
    page.get_by_role("button", name="Credit £351.00 not approved by the ICB").click()
    expect(page.get_by_test_id("outstanding")).to_contain_text("£1,500.00")

    # the ICB's payment run pays the approved £1,500.00 and the other invoice's £521.67
    page.get_by_role("link", name="Remittances", exact=True).click()
    page.get_by_test_id("record-remittance").click()
    open_invoices = page.get_by_test_id("open-invoices")
    expect(open_invoices).to_contain_text(claim_number)
    expect(open_invoices.get_by_test_id("outstanding").first).to_contain_text("£521.67")
    page.get_by_label("The ICB's remittance reference").fill(REFERENCE)
    page.get_by_label("Amount received").fill("2000.00")
    page.get_by_label(f"Allocate to invoice {claim_number}").fill("1500.00")
    other = re.compile(r"Allocate to invoice Y09901\d{4}0001")
    page.get_by_label(other).fill("521.67")
    page.get_by_role("button", name="Record remittance").click()
    # it does not add up: said beside the amount, with the difference, and nothing lost
    expect(page.locator("#amount-error")).to_contain_text(
        "£2,021.67: £21.67 more than the £2,000.00 received"
    )
    expect(page.get_by_label(f"Allocate to invoice {claim_number}")).to_have_value("1500.00")
    screenshot(page, "remittance-does-not-add-up")
    page.get_by_label("Amount received").fill("2021.67")
    page.get_by_role("button", name="Record remittance").click()
    expect(page.get_by_text(f"Remittance {REFERENCE} of £2,021.67 recorded")).to_be_visible()
    expect(page.get_by_test_id("allocations")).to_contain_text("£1,500.00")
    expect(page.get_by_test_id("allocations")).to_contain_text("Settled")
    screenshot(page, "remittance-recorded")

    # the claim is settled, its payment linked to the remittance
    page.get_by_test_id("allocations").get_by_role("link", name=claim_number).click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Settled")
    expect(page.get_by_test_id("outstanding")).to_contain_text("£0.00")
    expect(page.get_by_test_id("payment-remittance")).to_have_text(f"Remittance {REFERENCE}")

    # the statement of account shows it, as a page and as a PDF
    page.get_by_test_id("payment-remittance").click()
    page.get_by_test_id("statement-link").click()
    entries = page.get_by_test_id("statement-entries")
    expect(entries).to_contain_text(REFERENCE)
    expect(entries).to_contain_text("Credit note")
    expect(page.get_by_test_id("statement-balance")).to_have_text("£0.00")
    screenshot(page, "statement-of-account")
    with page.expect_download() as download:
        page.get_by_test_id("statement-pdf").click()
    saved = tmp_path / "statement.pdf"
    download.value.save_as(saved)
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(saved).pages)
    assert "Statement of account" in text and REFERENCE in text and claim_number in text
    assert "Balance due £0.00" in text
