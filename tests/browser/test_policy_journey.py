"""Issue 14, part A in the browser: a practice manager sees the ICB's cap beside the locum
form and is warned (not refused) when a line is over it; the ICB's reviewer approves in one
step the lines of a claim that pass the automatic checks, and part-approves at the cap the
line that is over it."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_manager_sees_the_cap_while_adding_a_locum_line(page) -> None:
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Incidents").first.click()
    page.get_by_role("link", name="CrowdStrike / EMIS outage 19–20 July 2024").first.click()
    page.get_by_role("link", name="Locum cover", exact=True).click()
    panel = page.get_by_test_id("policy-panel")
    expect(panel).to_contain_text("What your ICB reimburses for this outage")
    expect(panel).to_contain_text("Locum cover: up to £340.00 a session and £81.60 an hour.")
    screenshot(page, "policy-locum-form")
    page.get_by_label("Locum's name").fill("Dr Amara Okafor")
    page.get_by_label("Description").fill("Locum GP session for the Monday backlog")
    page.get_by_label("Date of the cost").fill("2024-07-22")
    page.get_by_label("Sessions or hours").fill("1")
    page.get_by_label("No: through an agency", exact=False).check()
    page.get_by_role("button", name="Add cost").click()
    # saved, with a warning that names the cap and what the line comes to at it
    expect(
        page.get_by_text("£357.00 a session is over the cap of £340.00 a session").first
    ).to_be_visible()
    row = page.locator("tr", has_text="Locum GP session for the Monday backlog")
    expect(row.locator("[data-flag=over_cap]")).to_contain_text("at the cap the line is £340.00")
    screenshot(page, "policy-locum-warning")


def test_reviewer_approves_the_lines_that_pass_and_part_approves_one_at_the_cap(page) -> None:
    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Claims to review").first.click()
    row = page.get_by_test_id("claims").locator("tr", has_text="Tufnell Park Surgery")
    expect(row).to_contain_text("9 lines")
    row.get_by_role("link").first.click()
    expect(page.get_by_test_id("flagged-count")).to_have_text("9 lines flagged")
    screenshot(page, "policy-claim-flags")

    page.get_by_role(
        "button", name=re.compile(r"^Approve the \d+ undecided lines? that pass the checks")
    ).click()
    expect(
        page.get_by_text(re.compile(r"\d+ lines? that pass the checks approved in full\."))
    ).to_be_visible()
    lines = page.get_by_test_id("lines")
    expect(lines.locator("tr", has_text="Reception team")).to_contain_text("Approved")
    flagged = lines.locator("tr", has_text="Locum GP cover for the backlog clinic")
    expect(flagged).to_contain_text("Not decided")

    page.get_by_role("button", name="Part-approve 1 line at the cap (£340.00)").click()
    evening = lines.locator("tr", has_text="Locum GP evening session")
    expect(evening).to_contain_text("Part-approved")
    expect(evening).to_contain_text("£340.00 approved")
    expect(evening).to_contain_text(
        "Locum sessions capped at £340.00 a session by NHS North Central London Integrated "
        "Care Board's policy for CrowdStrike global IT outage, 19 July 2024 v2."
    )
    expect(flagged).to_contain_text("Not decided")  # over the cap and without evidence
    expect(page.get_by_test_id("bulk-actions")).to_have_count(0)
    screenshot(page, "policy-claim-bulk-decided")
