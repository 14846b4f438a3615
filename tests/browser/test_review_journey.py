"""Journey 7: the ICB reviewer decides lines of a claim, the practice sees the query at once
(the demo ICB signs off in two steps, so the part-approval waits for authorisation: see
test_sign_off_journey) and answers it, the reviewer reads the answer; then the outage
report."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_reviewer_part_approves_and_queries_practice_answers(page) -> None:
    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Claims to review").first.click()
    expect(page.get_by_role("heading", name="Claims to review")).to_be_visible()
    page.get_by_label("Review status").select_option("new")
    page.get_by_role("button", name="Apply filters").click()
    screenshot(page, "review-claims-list")
    row = page.get_by_test_id("claims").locator("tr", has_text="Riverside Medical Centre").first
    row.get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Claim Y09901\d{8}$"))).to_be_visible()
    claim_url = page.url

    # part-approve line 1
    page.get_by_test_id("line-1").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Part-approved").check()
    page.get_by_label("Amount approved").fill("100.00")
    page.get_by_label("Reason").fill("Overtime premium agreed for half the hours only.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("line-1")).to_contain_text("Part-approved")
    expect(page.get_by_test_id("line-1")).to_contain_text("£100.00")

    # query line 2, forgetting the reason first
    page.get_by_test_id("line-2").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Queried").check()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Give a reason")
    page.get_by_label("Reason").fill("Please send the rota showing who worked the extra hours.")
    page.get_by_role("button", name="Save decision").click()
    expect(page.get_by_test_id("line-2")).to_contain_text("Queried")
    expect(page.get_by_test_id("approved")).to_contain_text("Not decided yet")
    screenshot(page, "review-claim-decided-lines")
    feedback_url = claim_url.replace("/review/claims/", "/claims/") + "/feedback"
    page.context.clear_cookies()

    # the practice manager sees the query, not yet the part-approval, and answers the query
    sign_in(page, "manager@example.org")
    page.goto(feedback_url)
    expect(page.get_by_test_id("line-1")).to_contain_text("Not decided")
    expect(page.get_by_test_id("line-1")).not_to_contain_text("Overtime premium agreed")
    expect(page.get_by_test_id("line-2")).to_contain_text("Queried")
    expect(page.get_by_test_id("line-2")).to_contain_text("Please send the rota")
    screenshot(page, "review-practice-feedback")
    page.get_by_test_id("line-2").get_by_role("link", name=re.compile("Answer the query")).click()
    page.get_by_label("Your answer").fill("Rota attached: Siân and Zoë covered reception 7–19 h.")
    page.get_by_label("Attach evidence").set_input_files(
        files=[
            {
                "name": "rota.png",
                "mimeType": "image/png",
                "buffer": b"\x89PNG\r\n\x1a\n" + b"\x00" * 32,
            }
        ]
    )
    page.get_by_role("button", name="Send answer").click()
    expect(page.get_by_test_id("line-2")).to_contain_text("Rota attached")
    page.context.clear_cookies()

    # the reviewer sees the answer and its file
    sign_in(page, "reviewer@example.org")
    page.goto(claim_url)
    expect(page.get_by_test_id("line-2")).to_contain_text("Rota attached: Siân and Zoë")
    expect(page.get_by_test_id("line-2").get_by_role("link", name="rota.png")).to_be_visible()
    screenshot(page, "review-claim-with-answer")


def test_reviewer_opens_the_outage_report(page) -> None:
    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Reports").first.click()
    page.get_by_role("link", name=re.compile("North Central London")).first.click()
    expect(page.get_by_test_id("by-practice")).to_be_visible()
    # the demo's five claiming practices (each test has its own copy of the demo data)
    expect(page.get_by_test_id("practices-claiming")).to_have_text("5")
    expect(page.get_by_test_id("by-practice")).to_contain_text("Archway Family Practice")
    screenshot(page, "report-icb")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download PDF")).click()
    assert download.value.suggested_filename.endswith(".pdf")
