"""Issue 14, proposed outage events in the browser: a practice manager proposes an outage
from the incident form and logs the incident under it at once; the ICB's reviewer finds the
proposal counted in the review area and merges it into the event it duplicates; the
manager's incident is then under that event, its history saying so."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tracker.demo import DEMO_EVENT

pytestmark = pytest.mark.browser

PROPOSED = "EMIS Web down again, 19 July 2024 afternoon"


def test_manager_proposes_an_event_and_the_reviewer_merges_it(page) -> None:
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Incidents", exact=True).first.click()
    page.get_by_role("link", name="Log an incident").click()
    page.get_by_role("link", name="Propose an outage event").click()
    page.get_by_label("Name").fill(DEMO_EVENT.upper())
    page.get_by_label("Date it started").fill("2024-07-19")
    page.get_by_label("EMIS Web").check()
    page.get_by_role("button", name="Propose outage event").click()
    # the name is the demo's CrowdStrike event's: the page points to it, keeping the input
    expect(page.locator("#name-error")).to_contain_text("There is already an outage event")
    expect(page.get_by_test_id("existing-event").get_by_role("link")).to_have_text(DEMO_EVENT)
    expect(page.get_by_label("Date it started")).to_have_value(re.compile("2024"))
    page.get_by_label("Name").fill(PROPOSED)
    page.get_by_label("What happened").fill("EMIS Web failed again after lunch.")
    page.get_by_role("button", name="Propose outage event").click()

    # back on the incident form, the proposal chosen
    expect(page.get_by_text(f"“{PROPOSED}” is proposed")).to_be_visible()
    expect(page.get_by_label("Outage event").locator("option:checked")).to_have_text(
        f"{PROPOSED} (proposed by you)"
    )
    page.get_by_label("Title").fill("EMIS Web down in the afternoon")
    page.get_by_label("Start date").fill("2024-07-19")
    page.get_by_label("Start time").fill("13:30")
    page.get_by_label("End date").fill("2024-07-19")
    page.get_by_label("End time").fill("17:00")
    page.get_by_label("EMIS Web").check()
    page.get_by_label("Impact on the practice").fill("Afternoon surgery on paper.")
    page.get_by_role("button", name="Log incident").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("EMIS Web down in the afternoon")
    expect(page.get_by_test_id("event-state")).to_have_text("Proposed, waiting for your ICB")
    incident_url = page.url
    screenshot(page, "propose-incident")
    page.context.clear_cookies()

    sign_in(page, "reviewer@example.org")
    page.get_by_role("link", name="Claims to review").first.click()
    page.get_by_test_id("proposed-events").get_by_role("link").click()
    waiting = page.get_by_test_id("waiting-proposals")
    expect(waiting).to_contain_text("Riverside Walk broadband outage")  # the demo's
    waiting.locator("tr", has_text=PROPOSED).get_by_role("link", name="Confirm or merge").click()
    page.get_by_role("link", name="Merge into an existing event").click()
    page.get_by_label("Merge it into").select_option(label=DEMO_EVENT)
    screenshot(page, "propose-merge")
    page.get_by_role("button", name="Merge into this event").click()
    expect(page.get_by_text("1 incident and 0 invoices moved")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(DEMO_EVENT)
    page.context.clear_cookies()

    sign_in(page, "manager@example.org")
    page.goto(incident_url)
    expect(page.get_by_role("link", name=DEMO_EVENT)).to_be_visible()
    expect(page.get_by_text(f"Outage event merged by the ICB: now “{DEMO_EVENT}”")).to_be_visible()
    page.goto("/outage-events")
    expect(page.get_by_test_id("own-proposals")).to_contain_text(f"Merged into {DEMO_EVENT}")
