"""The shared reading of typed text, amounts and ids (issue 12, defects 4 and 6): the rules
every form and service applies, so both databases see only what fits."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.models import MAX_INTEGER
from tracker.services.money import parse_decimal, to_pence, with_figures_hint
from tracker.services.text import control_problem, length_problem, parse_id, text_problem


@pytest.mark.parametrize(
    "text", ["9" * 28, "1" + "0" * 15, "0." + "0" * 16 + "1", "1e30", "1E-999999999", "١٢٣"]
)
def test_numbers_too_long_or_not_in_figures_are_not_read(text: str) -> None:
    assert parse_decimal(text) is None


def test_the_message_says_a_number_has_too_many_figures() -> None:
    message = with_figures_hint("Enter the amount as a number, like 1250.00", "9" * 28)
    assert message == "Enter the amount as a number, like 1250.00 (that has too many figures)"
    assert parse_decimal("9" * 15 + ".99") == Decimal("999999999999999.99")


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=60))
def test_whatever_is_read_can_be_rounded_to_the_penny(text: str) -> None:
    """What parse_decimal returns never breaks the checks after it (28 digits raised
    InvalidOperation in quantize: a 500)."""
    value = parse_decimal(text)
    if value is not None:
        assert to_pence(value) == to_pence(value)
        assert value.quantize(Decimal("0.0001")) is not None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        (" 42 ", 42),
        (str(MAX_INTEGER), MAX_INTEGER),
        (str(MAX_INTEGER + 1), None),
        ("99999999999999999999", None),
        ("0", None),
        ("-1", None),
        ("1e3", None),
        ("²", None),
        ("", None),
        (None, None),
        (7, 7),
    ],
)
def test_ids_and_pages_are_whole_numbers_a_column_holds(text: object, expected: int | None) -> None:
    assert parse_id(text) == expected


def test_control_characters() -> None:
    assert control_problem("Title", "EMIS\x00 down") == (
        "Title contains a control character that cannot be stored: type it again"
    )
    assert control_problem("Title", "two\nlines") == (
        "Title must be on one line: remove the tabs and line breaks"
    )
    assert control_problem("Cause", "two\r\nlines\tand a tab", multiline=True) is None
    assert control_problem("Cause", "bell\x07", multiline=True) is not None
    assert control_problem("Cause", "C1 \x85", multiline=True) is not None
    assert control_problem("Title", "Zoë’s — café ✓") is None


def test_lengths() -> None:
    assert length_problem("Staff role", "x" * 81, 80) == (
        "Staff role must be 80 characters or fewer (you entered 81)"
    )
    assert length_problem("Staff role", "x" * 80, 80) is None
    assert length_problem("Notes", "x" * 9, None) is None
    assert text_problem("Title", "\x00" + "x" * 300, 200) == control_problem("Title", "\x00")
