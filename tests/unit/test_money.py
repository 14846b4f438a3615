from decimal import Decimal

import pytest

from tracker.presentation import format_money, format_number
from tracker.services.money import parse_decimal, to_pence


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.005", "0.01"), ("0.015", "0.02"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("1", "1.00")],
)
def test_rounds_half_pennies_up_away_from_zero(value: str, expected: str) -> None:
    assert to_pence(Decimal(value)) == Decimal(expected)


def test_money_is_shown_in_pounds_with_thousands_separators() -> None:
    assert format_money(Decimal("1234.5")) == "£1,234.50"
    assert format_money(Decimal("-12")) == "-£12.00"
    assert format_money(Decimal("1234567.891")) == "£1,234,567.89"


def test_numbers_drop_trailing_zeros() -> None:
    assert format_number(Decimal("6.50")) == "6.5"
    assert format_number(Decimal("14.38")) == "14.38"
    assert format_number(Decimal("1000.00")) == "1,000"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("£1,234.50", Decimal("1234.50")),
        (" 6.5 ", Decimal("6.5")),
        ("abc", None),
        ("", None),
        ("NaN", None),
        ("Infinity", None),
        ("14.38%", Decimal("14.38")),
        ("12,08", None),  # a decimal comma is refused, never read as 1,208
        ("1,2345", None),
        ("1,,000", None),
        ("1,234,567.5", Decimal("1234567.5")),
    ],
)
def test_parses_what_people_type(text: str, expected: Decimal | None) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["-0", "-0.00", "-£0", "-0,000"])
def test_a_negative_zero_is_read_as_zero(text: str) -> None:
    """Typed "-0" passed every "not negative" check and printed as "-£0.00" on the invoice."""
    value = parse_decimal(text)
    assert value == 0 and not value.is_signed()
    assert format_money(to_pence(value * Decimal("6.5"))) == "£0.00"
