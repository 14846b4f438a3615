"""Journeys 2 and 3 in the browser: log an outage, cost it up, attach a receipt."""

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tracker.demo import receipt_pdf
from tracker.presentation import format_money
from tracker.services import costing

pytestmark = pytest.mark.browser


def test_manager_logs_an_incident_costs_it_up_and_attaches_a_receipt(page) -> None:
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Incidents", exact=True).first.click()
    page.get_by_role("link", name="Log an incident").click()
    page.get_by_label("Title").fill("Phones and internet down after BT fault")
    page.get_by_label("Outage event").select_option(label="Not part of a wider outage")
    page.get_by_label("Start date").fill("2024-10-26")
    page.get_by_label("Start time").fill("23:00")
    page.get_by_label("End date").fill("2024-10-27")
    page.get_by_label("End time").fill("03:00")
    page.get_by_label("Telephony").check()
    page.get_by_label("Internet").check()
    page.get_by_label("Impact on the practice").fill("No phones overnight; out-of-hours diverted.")
    page.get_by_role("button", name="Log incident").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Phones and internet down")
    # the clocks went back during the outage: 23:00 BST to 03:00 GMT is five hours
    expect(page.get_by_test_id("duration")).to_have_text("5 hours")

    # staff time, prefilled from the rate card (Band 2 receptionist)
    page.get_by_role("link", name="Staff time", exact=True).click()
    expect(page.get_by_label("Hourly rate")).to_have_value("12.08")
    page.get_by_label("Description").fill("Calling patients to rebook")
    page.get_by_label("Hours", exact=True).fill("-4")
    page.get_by_role("button", name="Add cost").click()
    expect(page.locator("#quantity-error")).to_contain_text("Hours must be more than 0")
    expect(page.get_by_label("Description")).to_have_value("Calling patients to rebook")
    screenshot(page, "incident-staff-line-error")
    page.get_by_label("Hours", exact=True).fill("4")
    page.get_by_role("button", name="Add cost").click()
    expect(page.get_by_test_id("subtotal-staff")).to_be_visible()

    page.get_by_role("link", name="Locum cover", exact=True).click()
    page.get_by_label("Locum's name").fill("Dr Siân O'Brien")
    page.get_by_label("Description").fill("Locum GP session for the backlog")
    page.get_by_label("Sessions or hours").fill("1")
    page.get_by_label("Yes: the locum pays into the NHS Pension Scheme", exact=False).check()
    page.get_by_role("button", name="Add cost").click()

    page.get_by_role("link", name="Lost appointments", exact=True).click()
    page.get_by_label("Description").fill("GP appointments cancelled")
    page.get_by_label("Number of appointments lost or cancelled").fill("10")
    page.get_by_role("button", name="Add cost").click()

    page.get_by_role("link", name="Other expenses", exact=True).click()
    page.get_by_label("Supplier").fill("Currys")
    page.get_by_label("Description").fill("4G router for the reception phones")
    page.get_by_label("Net amount").fill("20.00")
    page.get_by_label("VAT paid").fill("4.00")
    pdf = receipt_pdf(
        "Currys", "C-1", date(2024, 10, 27), [("4G router", Decimal("20.00"))], Decimal("4.00")
    )
    page.get_by_label("Evidence").set_input_files(
        files=[{"name": "currys-receipt.pdf", "mimeType": "application/pdf", "buffer": pdf}]
    )
    screenshot(page, "incident-expense-form")
    page.get_by_role("button", name="Add cost").click()

    # 26 October 2024: NI 13.8% on overtime (no pension on overtime); the locum pays into the
    # scheme, so 14.38% of 90% of the fee
    staff = costing.staff_time(
        Decimal(4), Decimal("12.08"), overtime_pct=Decimal(50), ni_pct=Decimal("13.8")
    ).total
    assert staff == Decimal("82.48")  # £72.48 gross + £10.00 NI (72.48 x 0.138 = 10.002)
    locum = costing.locum_cover(
        Decimal(1),
        Decimal("357.00"),
        "session",
        pays_into_scheme=True,
        pension_pct=Decimal("14.38"),
    ).total
    assert locum == Decimal("403.20")  # £357 + 14.38% of £321.30 = £46.20
    appointments = costing.lost_appointments(Decimal(10), Decimal("45.00")).total
    expense = Decimal("24.00")
    expect(page.get_by_test_id("kind-total-staff")).to_have_text(format_money(staff))
    expect(page.get_by_test_id("kind-total-locum")).to_have_text(format_money(locum))
    expect(page.get_by_test_id("kind-total-appointments")).to_have_text(format_money(appointments))
    expect(page.get_by_test_id("kind-total-expense")).to_have_text(format_money(expense))
    total = staff + locum + appointments + expense
    expect(page.get_by_test_id("incident-total")).to_have_text(format_money(total))
    expect(page.get_by_role("img", name="Cost by kind")).to_be_visible()
    expect(page.get_by_text("1 file", exact=True)).to_be_visible()
    screenshot(page, "incident-detail-costed")

    page.get_by_role("link", name="4G router for the reception phones", exact=True).click()
    with page.expect_download() as download:
        page.get_by_role("link", name="currys-receipt.pdf").click()
    assert download.value.suggested_filename == "currys-receipt.pdf"
    screenshot(page, "incident-line-evidence")


def test_demo_incident_and_rate_card(page) -> None:
    sign_in(page, "manager@example.org")
    page.goto("/incidents")
    screenshot(page, "incidents-list")
    page.get_by_role("link", name="CrowdStrike / EMIS outage 19–20 July 2024").click()
    expect(page.get_by_test_id("duration")).to_have_text("1 day 5 hours 50 minutes")
    screenshot(page, "incident-detail-demo")
    # the rate-card links fill in their rate; GP time already includes on-costs
    page.get_by_role("link", name="Staff time", exact=True).click()
    page.get_by_role("link", name="GP patient-contact time (includes on-costs): £268.00").click()
    expect(page.get_by_label("Hourly rate")).to_have_value("268")
    expect(page.get_by_label("A rate that already includes on-costs", exact=False)).to_be_checked()
    expect(page.get_by_label("Staff member or role")).to_have_value(
        "GP patient-contact time (includes on-costs)"
    )
    page.goto("/practice/rate-card")
    expect(page.get_by_text("Unit Costs of Health and Social Care 2024").first).to_be_visible()
    # every figure is shown whole, none clipped by its "£" and unit
    clipped = page.eval_on_selector_all(
        ".app-rate-card input.nhsuk-input",
        "els => els.filter(e => e.scrollWidth > e.clientWidth).map(e => e.id + '=' + e.value)",
    )
    assert clipped == []
    screenshot(page, "rate-card")
