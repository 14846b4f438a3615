import io
import re

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import screenshot, sign_in

pytestmark = pytest.mark.browser


def test_finance_issues_an_invoice_and_downloads_both_files(page) -> None:
    sign_in(page, "finance@example.org")
    # Canal Street's costs are not invoiced in the demo (Riverside's are)
    page.get_by_label("Working as").select_option(label="Canal Street Surgery (Y09902)")
    page.get_by_role("button", name="Switch").click()
    page.get_by_role("link", name="Invoices", exact=True).click()
    page.get_by_role("link", name="New invoice").click()
    expect(page.get_by_role("heading", name="New invoice")).to_be_visible()
    page.get_by_text("of this incident").first.check()
    page.get_by_role("button", name="Preview invoice").click()
    expect(page.get_by_role("heading", name="Draft invoice")).to_be_visible()
    expect(page.get_by_text("Check before you issue")).to_be_visible()
    page.get_by_label("Purchase-order or reference number").fill("NCL-PO-9001")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_text("Invoice details saved.")).to_be_visible()
    total = page.get_by_test_id("invoice-total").inner_text()
    screenshot(page, "invoice-draft")
    page.get_by_role("button", name="Issue invoice").click()
    expect(page.get_by_test_id("invoice-state")).to_have_text("Issued")
    number = page.get_by_test_id("invoice-number").inner_text()
    assert re.fullmatch(r"Y09902\d{8}", number), number  # an SBS-valid number
    screenshot(page, "invoice-issued")

    with page.expect_download() as pdf_download:
        page.get_by_test_id("download-pdf").click()
    pdf = PdfReader(pdf_download.value.path())
    text = " ".join(" ".join(p.extract_text() for p in pdf.pages).split())
    assert number in text and total in text and "NCL-PO-9001" in text

    with page.expect_download() as xlsx_download:
        page.get_by_test_id("download-xlsx").click()
    with open(xlsx_download.value.path(), "rb") as handle:
        workbook = load_workbook(io.BytesIO(handle.read()))
    cells = [c.value for row in workbook["Invoice"].iter_rows() for c in row]
    assert number in cells
