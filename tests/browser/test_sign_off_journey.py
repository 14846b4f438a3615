"""Journey 9, second tier (issue 14): the reviewer works a claim from the work queue and
recommends it; the practice sees nothing of the decisions yet; the ICB finance approver,
whose queue counts the claims waiting, first tries to send it back without a reason, then
authorises it; the practice then sees the decisions and the approved total."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_reviewer_recommends_approver_authorises_practice_sees_the_decision(page) -> None:
    # the reviewer's queue: Riverside's first claim is assigned to them
    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name=re.compile("Work queue")).first.click()
    page.get_by_label("Assigned to me").check()
    page.get_by_role("button", name="Show").click()
    screenshot(page, "sign-off-reviewer-queue")
    queue = page.get_by_test_id("review-queue")
    expect(queue).to_contain_text("Tufnell Park Surgery")
    expect(queue).to_contain_text("Over 30 days")  # the demo's oldest claim
    queue.locator("tr", has_text="Riverside Medical Centre").get_by_role("link").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Claim Y09901\d{8}$"))).to_be_visible()
    claim_url = page.url

    # part-approve line 1, approve the rest, recommend
    page.get_by_test_id("line-1").get_by_role("link", name=re.compile("Decide")).click()
    page.get_by_label("Part-approved").check()
    page.get_by_label("Amount approved").fill("100.00")
    page.get_by_label("Reason").fill("Overtime agreed for the morning only.")
    page.get_by_role("button", name="Save decision").click()
    page.get_by_role("button", name="Approve all undecided lines in full").click()
    expect(page.get_by_test_id("sign-off")).to_contain_text("Every line has a final decision")
    page.get_by_role("button", name="Recommend for authorisation").click()
    expect(page.get_by_text(re.compile(r"Claim Y09901\d{8} recommended"))).to_be_visible()
    expect(page.get_by_test_id("lines")).not_to_contain_text("Change")
    approved = page.get_by_test_id("approved").inner_text().split(" ")[0]
    screenshot(page, "sign-off-recommended")
    page.context.clear_cookies()

    # the practice: still in review, no decision shown
    sign_in(page, "manager@example.org")
    feedback_url = claim_url.replace("/review/claims/", "/claims/") + "/feedback"
    page.goto(feedback_url)
    expect(page.get_by_test_id("awaiting-release")).to_be_visible()
    expect(page.get_by_test_id("line-1")).to_contain_text("Not decided")
    expect(page.locator("main")).not_to_contain_text("Overtime agreed for the morning")
    screenshot(page, "sign-off-practice-before")
    page.context.clear_cookies()

    # the approver: the queue counts what waits; send back needs a reason; authorise
    sign_in(page, "approver@example.org")
    expect(page.get_by_test_id("queue-count").first).to_have_text(re.compile(r"^2"))
    page.get_by_role("link", name=re.compile("Work queue")).first.click()
    sign_off = page.get_by_test_id("sign-off-queue")
    expect(sign_off).to_contain_text("Camden Town Medical Practice")
    screenshot(page, "sign-off-approver-queue")
    sign_off.locator("tr", has_text="Riverside Medical Centre").get_by_role("link").click()
    page.get_by_role("button", name="Send back to the reviewers").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Say why")
    screenshot(page, "sign-off-send-back-needs-a-reason")
    page.get_by_role("button", name=f"Authorise {approved}").click()
    expect(page.get_by_text("the practice now sees the ICB's decisions")).to_be_visible()
    expect(page.get_by_test_id("authorised")).to_contain_text("Tomás Ó Briain")
    screenshot(page, "sign-off-authorised")
    page.context.clear_cookies()

    # the practice sees the decisions and the approved total
    sign_in(page, "manager@example.org")
    page.goto(feedback_url)
    expect(page.get_by_test_id("line-1")).to_contain_text("Part-approved")
    expect(page.get_by_test_id("line-1")).to_contain_text("Overtime agreed for the morning only.")
    expect(page.get_by_test_id("approved")).to_contain_text(approved)
    screenshot(page, "sign-off-practice-after")
