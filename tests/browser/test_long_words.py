"""The longest text each field allows, as one unbroken word, never makes a page wider than
the screen (issue 12, defect 7; WCAG 2.2 SC 1.4.10 Reflow): long words wrap, and only a data
table too wide for a phone scrolls, inside its own box, never the page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ARTIFACTS, page_width, sign_in

pytestmark = pytest.mark.browser

#: The limits the services enforce today, used when a field does not state its own maxlength.
LIMITS = {
    "title": 200,
    "systems_other": 200,
    "cause": 5000,
    "supplier_reference": 100,
    "impact": 5000,
    "description": 500,
    "staff_role": 120,
    "locum_name": 120,
    "locum_invoice_ref": 120,
    "supplier": 120,
    "po_reference": 60,
    "notes": 2000,
    "reason": 2000,
    "body": 4000,
    "address": 500,
    "bank_account_name": 100,
    "name": 200,
    "pcn_name": 200,
}
WIDTHS = (1280, 375)
#: What sticks out past the right edge: the innermost elements, to say where to look.
OFFENDERS_JS = """() => {
  const edge = document.documentElement.clientWidth + 1;
  const out = (el) => el.getBoundingClientRect().right > edge;
  return [...document.querySelectorAll("body *")]
    .filter((el) => out(el) && ![...el.children].some(out))
    .map((el) => `${el.parentElement.tagName}>${el.tagName}.${el.className}`)
    .slice(0, 5);
}"""
#: Pages whose picture is kept (test-artifacts/) to look at: the ones the defect was found on.
PICTURED = ("/invoices/", "/review/claims/", "/incidents/")


def _fill_longest(page, *names: str) -> None:
    """Type the longest unbroken word each named field takes (its maxlength, else LIMITS)."""
    for name in names:
        field = page.locator(f"main [name='{name}']").first
        limit = field.get_attribute("maxlength") or LIMITS[name]
        field.fill("W" * int(limit))


def _save(page, button: str) -> None:
    page.get_by_role("button", name=button).click()
    page.wait_for_load_state()
    errors = page.locator(".nhsuk-error-summary")
    assert errors.count() == 0, f"{page.url}: {errors.inner_text()}"


def _add_cost(page, incident_url: str, kind: str, texts: tuple[str, ...], **values: str) -> None:
    page.goto(f"{incident_url}/costs/new/{kind}")
    _fill_longest(page, *texts)
    for name, value in values.items():
        field = page.locator(f"main [name='{name}']")
        if field.first.get_attribute("type") == "radio":
            field.and_(page.locator(f"[value='{value}']")).check()
        else:
            field.first.fill(value)
    _save(page, "Add cost")


def _record_everything_long(page) -> dict[str, list[str]]:
    """Fill every free-text field with its longest word, as each role (the administrator
    names the event and the manager's practice); the pages to check."""
    sign_in(page, "admin@example.org")
    page.goto("/outage-events/new")
    _fill_longest(page, "name", "description")
    page.locator("main [name='started_on']").fill("2024-07-19")
    _save(page, "Save outage event")
    page.goto("/admin/practices")
    page.locator("main tr", has_text="Riverside").get_by_role("link", name="Edit").click()
    _fill_longest(page, "name", "pcn_name")
    _save(page, "Save practice")
    page.context.clear_cookies()

    sign_in(page, "manager@example.org")
    page.goto("/practice/settings")
    _fill_longest(page, "address", "bank_account_name")
    _save(page, "Save practice details")
    page.goto("/incidents/new")
    _fill_longest(page, "title", "cause", "supplier_reference", "impact")
    page.locator("main [name='outage_event_id']").select_option(index=1)
    page.locator("main [name='start_date']").fill("2024-07-19")
    page.locator("main [name='start_time']").fill("06:10")
    page.locator("main [name='systems'][value='other']").check()
    _fill_longest(page, "systems_other")
    _save(page, "Log incident")
    incident_url = page.url
    _add_cost(page, incident_url, "staff", ("staff_role", "description"), quantity="2")
    _add_cost(
        page,
        incident_url,
        "locum",
        ("locum_name", "locum_invoice_ref", "description"),
        quantity="1",
        unit="session",
        locum_pension="none",
    )
    _add_cost(page, incident_url, "appointments", ("description",), quantity="3")
    _add_cost(page, incident_url, "expense", ("supplier", "description"), net_amount="10")
    page.goto("/invoices/new")
    incident_id = incident_url.rsplit("/", 1)[-1]
    page.locator(f"main [name='incident_ids'][value='{incident_id}']").check()
    page.get_by_role("button", name="Preview invoice").click()
    _fill_longest(page, "po_reference", "notes")
    _save(page, "Save details")
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Issued")
    invoice_url = page.url
    claim_id = re.search(r"/invoices/(\d+)", invoice_url).group(1)
    page.context.clear_cookies()

    sign_in(page, "reviewer@example.org")
    claim_url = f"/review/claims/{claim_id}"
    for position, decision in ((1, "Queried"), (2, "Rejected")):
        page.goto(claim_url)
        decide = page.get_by_test_id(f"line-{position}").get_by_role("link", name="Decide")
        decide_url = decide.get_attribute("href")
        decide.click()
        page.get_by_label(decision).check()
        _fill_longest(page, "reason")
        _save(page, "Save decision")
    page.context.clear_cookies()

    sign_in(page, "manager@example.org")
    page.goto(f"/claims/{claim_id}/feedback")
    page.get_by_test_id("line-1").get_by_role("link", name=re.compile("Answer the query")).click()
    _fill_longest(page, "body")
    _save(page, "Send answer")
    page.context.clear_cookies()
    return {
        "manager@example.org": [
            "/",
            incident_url,
            "/incidents",
            invoice_url,
            "/invoices",
            f"/claims/{claim_id}/feedback",
            "/outage-events",
        ],
        "reviewer@example.org": ["/", "/review", claim_url, decide_url, "/reports/"],
    }


def _too_wide(page, urls: list[str]) -> dict[str, int]:
    """The pages wider than the viewport at each width, with what sticks out and how wide
    they are. Each page loads once and is laid out again at each width."""
    wide = {}
    for url in urls:
        page.goto(url)
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            scroll = page_width(page)
            if scroll > width:
                wide[f"{width} px {url} {page.evaluate(OFFENDERS_JS)}"] = scroll
            path = urlsplit(url).path
            if any(part in path for part in PICTURED) or scroll > width:
                ARTIFACTS.mkdir(exist_ok=True)  # the viewport: a full page of 2,000 W's is slow
                name = re.sub(r"\W+", "-", path).strip("-")
                page.screenshot(path=str(ARTIFACTS / f"long-words-{width}-{name}.png"))
    return wide


def test_the_longest_words_never_widen_a_page(page) -> None:
    pages = _record_everything_long(page)
    sign_in(page, "reviewer@example.org")
    page.goto("/reports/")
    report = page.locator("main a[href*='/reports/events/'][href*='/icbs/']").first
    pages["reviewer@example.org"].append(report.get_attribute("href"))
    wide: dict[str, int] = {}
    for user, urls in pages.items():
        page.context.clear_cookies()
        sign_in(page, user)
        wide |= {f"{user}, {where}": px for where, px in _too_wide(page, urls).items()}
    assert wide == {}, "\n".join(f"{where} is {px} px wide" for where, px in sorted(wide.items()))
