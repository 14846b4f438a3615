"""Finance downloads an issued invoice and the register as CSV for Xero, from the links a
user sees, and the file adds up to the invoice shown on the page (issue 10)."""

import csv
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def _rows(path: str) -> list[dict[str, str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_finance_downloads_csv_for_xero_from_the_invoice_and_the_register(page) -> None:
    sign_in(page, "finance@example.org")
    page.get_by_role("link", name="Invoices", exact=True).click()
    exports = page.get_by_test_id("register-accounts-exports")
    expect(exports).to_contain_text("for Xero (credit notes)")
    screenshot(page, "register-accounts-exports")
    with page.expect_download() as register_download:
        exports.get_by_role("link", name="for Xero (invoices)").click()
    register_rows = _rows(register_download.value.path())
    assert register_rows and all(row["*InvoiceNumber"] for row in register_rows)

    number = register_rows[0]["*InvoiceNumber"]
    page.get_by_role("link", name=number).first.click()
    expect(page.get_by_test_id("invoice-number")).to_have_text(number)
    links = page.get_by_test_id("accounts-exports")
    expect(links).to_contain_text("CSV for Xero")
    screenshot(page, "invoice-accounts-exports")
    total = page.get_by_test_id("invoice-total").inner_text()
    with page.expect_download() as download:
        links.get_by_role("link", name="CSV for Xero").click()
    assert download.value.suggested_filename == f"{number}-xero.csv"
    rows = _rows(download.value.path())
    owed = sum(Decimal(r["*UnitAmount"]) + Decimal(r["TaxAmount"]) for r in rows)
    assert f"£{owed:,.2f}" == total
