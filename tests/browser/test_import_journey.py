"""Importing a spreadsheet in the browser: download the staff-time template, fill it in
with openpyxl, upload it, see the bad row in the preview, upload the corrected file, import,
and find the lines and totals on the incident."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in
from tracker.columns import columns
from tracker.presentation import format_money

pytestmark = pytest.mark.browser

HEADERS = [c.name for c in columns("staff")]


def fill(template: Path, rows: list[dict[str, object]], out: Path) -> Path:
    book = load_workbook(template)
    sheet = book.worksheets[0]
    for offset, row in enumerate(rows):
        for name, value in row.items():
            sheet.cell(4 + offset, HEADERS.index(name) + 1).value = value
    book.save(out)
    return out


def test_manager_imports_a_timesheet_fixes_a_bad_row_and_sees_the_totals(
    page, tmp_path: Path
) -> None:
    sign_in(page, "manager@example.org")
    page.get_by_role("link", name="Incidents", exact=True).first.click()
    page.locator("table a").first.click()
    incident_url = page.url
    before = page.get_by_test_id("incident-total").inner_text()

    page.get_by_role("link", name="Import costs from a spreadsheet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import costs from a spreadsheet")
    page.get_by_text("Staff time: 10 columns").click()
    with page.expect_download() as download_info:
        page.get_by_test_id("template-staff-xlsx").click()
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)
    screenshot(page, "import-page")

    good = {
        "Staff member or role": "Receptionist (Band 2)",
        "Description": "Phoning patients to rebook",
        "Date": date(2024, 7, 19),
        "Hours": 4,
        "Hourly rate": 12.08,
        "Paid as": "Overtime",
        "Overtime premium": 50,
    }
    night = {
        **good,
        "Description": "Night shift on paper records",
        "Hours": None,
        "Start": "22:00",
        "Finish": "06:30",
        "Paid as": "Extra hours at the normal rate",
    }
    bad = {**good, "Description": "Typing up paper notes", "Hourly rate": "twelve pounds"}
    first = fill(template, [good, bad, night], tmp_path / "timesheet.xlsx")

    page.get_by_label("Staff time").check()
    page.get_by_label("Spreadsheet").set_input_files(str(first))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("row-counts")).to_have_text("3 read: 2 valid, 1 with problems")
    bad_cell = page.locator('tr[data-row="5"][data-error-column="Hourly rate"]')
    expect(bad_cell).to_contain_text("Enter the hourly rate as an amount, like 18.66")
    expect(bad_cell).to_contain_text("twelve pounds")
    expect(page.get_by_role("button", name="Import only the 2 valid rows")).to_be_visible()
    screenshot(page, "import-preview-with-a-bad-row")

    fixed = fill(template, [good, {**bad, "Hourly rate": "£12.08"}, night], tmp_path / "fixed.xlsx")
    page.get_by_label("Spreadsheet").set_input_files(str(fixed))
    page.get_by_role("button", name="Check the file").click()
    expect(page.get_by_test_id("row-counts")).to_have_text("3 read: 3 valid, 0 with problems")
    expect(page.locator('tr[data-row="6"]')).to_contain_text("Hours from 22:00 to 06:30 (next day)")
    total = page.get_by_test_id("import-total").inner_text()
    screenshot(page, "import-preview-valid")
    page.get_by_role("button", name=f"Import 3 costs: {total}").click()

    expect(page).to_have_url(incident_url + "#costs")
    expect(page.get_by_text("3 costs imported from fixed.xlsx.")).to_be_visible()
    expect(page.get_by_role("link", name="Typing up paper notes", exact=True)).to_be_visible()
    expect(
        page.get_by_role("link", name="Night shift on paper records", exact=True)
    ).to_be_visible()
    amount = Decimal(total.replace("£", "").replace(",", ""))
    old = Decimal(before.replace("£", "").replace(",", ""))
    expect(page.get_by_test_id("incident-total")).to_have_text(format_money(old + amount))
    expect(page.get_by_text("Imported 3 costs (Staff time) from fixed.xlsx")).to_be_visible()
    screenshot(page, "import-done")
