"""One wording for quantities, rates, file sizes and state tags, wherever they are shown;
and the invoice's groups and subtotals worked out once, on the document."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from babel.numbers import format_currency, format_decimal
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.documents_fixtures import OUTAGE, TELEPHONY, make_document
from tracker import presentation as p
from tracker.services import costing
from tracker.services.money import to_pence

D = Decimal


@pytest.mark.parametrize(
    ("quantity", "unit", "text", "short"),
    [
        (D("6.5"), "hour", "6.5 hours", "6.5 h"),
        (D("1"), "hour", "1 hour", "1 h"),
        (D("1"), "session", "1 session", "1 session"),
        (D("2"), "session", "2 sessions", "2 sessions"),
        (D("38"), "appointment", "38 appointments", "38 appointments"),
        (D("-1"), "item", "-1 item", "-1 item"),
        (D("3"), "fortnight", "3 fortnight", "3 fortnight"),
    ],
)
def test_quantity_text_reads_the_same_on_screen_and_in_the_working(
    quantity: Decimal, unit: str, text: str, short: str
) -> None:
    assert p.quantity_text(quantity, unit) == text
    assert p.quantity_text(quantity, unit, short=True) == short


def test_the_working_uses_the_short_quantity_text() -> None:
    assert costing.staff_time(D("6.5"), D("20")).working.startswith("6.5 h × £20.00")
    assert costing.locum_cover(D("1"), D("357")).working.startswith("1 session × £357.00")


@pytest.mark.parametrize("value", ["0.005", "-0.005", "2.675", "1234.565", "0.004"])
def test_money_is_shown_rounded_as_the_cost_rules_round(value: str) -> None:
    assert p.format_money(D(value)) == p.format_money(to_pence(D(value)))
    assert p.format_money(D("0.005")) == "£0.01"


def test_a_rate_finer_than_a_penny_is_shown_in_full() -> None:
    assert p.format_rate(D("14.375")) == "£14.375"
    assert p.format_rate(D("14.30")) == "£14.30"
    assert p.format_rate(D("-0.125")) == "-£0.125"


def test_file_sizes_round_up_to_whole_kilobytes() -> None:
    assert p.file_size(1) == "1 KB"
    assert p.file_size(1024) == "1 KB"
    assert p.file_size(1025) == "2 KB"
    assert p.file_kind("image/jpeg") == "JPEG image"
    assert p.file_kind("application/vnd.ms-excel") == "VND.MS-EXCEL"


def test_states_have_one_label_and_colour() -> None:
    assert p.PAYMENT_STATE_TAGS["overdue"] == p.Tag("Overdue", "red")
    assert p.decision_tag("part_approved") == p.Tag("Part-approved", "yellow")
    assert p.decision_tag(None) == p.Tag("Not decided", "grey")
    assert p.claim_tag("cancelled", "decided") == p.Tag("Withdrawn", "grey")
    assert p.claim_tag("issued", "in_review") == p.Tag("In review", "blue")
    assert p.claim_tag("issued", "decided", "recommended") == p.Tag(
        "Awaiting authorisation", "purple"
    )
    assert p.claim_tag("issued", "decided", None) == p.Tag("Decided", "green")
    assert p.claim_tag("cancelled", "decided", "authorised") == p.Tag("Withdrawn", "grey")
    assert p.incident_status_tag("closed") == p.Tag("Closed", "grey")


def test_groups_and_subtotals_are_computed_once_on_the_document() -> None:
    doc = make_document(20)
    costs, capacity = doc.sections
    assert [incident.title for incident in costs.incidents] == [OUTAGE, TELEPHONY]
    assert [incident.title for incident in capacity.incidents] == [OUTAGE, TELEPHONY]
    assert [group.kind_label for group in doc.incidents[0].kinds] == [
        "Staff time",
        "Locum cover",
        "Other expenses",
    ]
    assert [group.kind_label for group in doc.incidents[2].kinds] == ["Lost appointments"]
    assert [line for group in doc.groups for line in group.lines] == list(doc.lines)
    assert [g.first_of_incident for g in doc.groups] == [True, False, False] * 2 + [True] * 2
    assert sum((g.net for g in doc.groups), D(0)) == doc.net_total
    assert sum((i.vat for i in doc.incidents), D(0)) == doc.vat_total
    assert sum((i.total for i in doc.incidents), D(0)) == doc.total
    staff = doc.groups[0]
    assert staff.total == sum((line.total for line in staff.lines), D(0))


def test_a_document_without_lines_has_no_groups() -> None:
    doc = make_document(0)
    assert doc.groups == () and doc.incidents == ()


def test_a_short_date_fits_a_narrow_column() -> None:
    """The register's dates: the month abbreviated, so "25 November 2026" does not break
    inside "November" in a nine-column table."""
    assert p.short_date(date(2026, 11, 25)) == "25 Nov 2026"
    assert p.short_date(date(2027, 1, 1)) == "1 Jan 2027"
    assert p.short_date(None) == ""


_AMOUNTS = st.decimals(
    min_value=Decimal("-1e15"), max_value=Decimal("1e15"), allow_nan=False, places=None
).filter(lambda value: abs(value.as_tuple().exponent) <= 12)


@settings(max_examples=500, deadline=None)
@given(_AMOUNTS)
def test_money_and_numbers_read_exactly_as_babel_writes_them_in_en_gb(value: Decimal) -> None:
    """format_money, format_number and format_fixed write the en_GB style by hand, for
    speed; Babel (the reference) must agree to the character, negative zero and half
    pennies included."""
    pence = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert p.format_money(value) == format_currency(pence, "GBP", locale="en_GB")
    normalised = value.normalize()
    if normalised == normalised.to_integral_value():
        normalised = normalised.quantize(Decimal(1))
    babel = format_decimal(normalised, locale="en_GB", decimal_quantization=False)
    assert p.format_number(value) == babel
    fixed = format_decimal(pence, format="#,##0.00", locale="en_GB", decimal_quantization=False)
    assert p.format_fixed(value) == fixed


@pytest.mark.parametrize("value", ["-0.00", "-0.004", "0.005", "-1234567.895", "1E+3"])
def test_money_edges_read_as_babel_writes_them(value: str) -> None:
    pence = Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert p.format_money(Decimal(value)) == format_currency(pence, "GBP", locale="en_GB")
    fixed = format_decimal(pence, format="#,##0.00", locale="en_GB", decimal_quantization=False)
    assert p.format_fixed(Decimal(value)) == fixed
