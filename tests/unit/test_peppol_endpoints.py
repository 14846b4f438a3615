"""Peppol electronic addresses as the settings forms check them (tracker.services.peppol)."""

from __future__ import annotations

import pytest

from tracker.services.peppol import (
    endpoint_problem,
    gs1_check_digit,
    is_valid_gln,
    normalise_endpoint,
)


def test_the_gs1_check_digit() -> None:
    """GS1's worked example: 629104150021 has check digit 3 (gs1.org, "How to calculate a
    check digit manually"); a wrong last digit or length is refused."""
    assert gs1_check_digit("629104150021") == 3
    assert is_valid_gln("6291041500213")
    assert is_valid_gln("5000112637922")
    assert not is_valid_gln("5000112637923")
    assert not is_valid_gln("500011263792")  # 12 digits
    assert not is_valid_gln("50001126379X2")


@pytest.mark.parametrize(
    ("scheme", "identifier", "problem"),
    [
        (None, None, None),
        ("0088", "5099999000011", None),
        ("9932", "GB123456789", None),
        ("9932", "GB123456789012", None),
        ("0060", "123456789", None),
        ("0088", None, "Enter the identifier for this scheme, or choose no scheme"),
        (None, "5099999000011", "Choose the scheme this identifier belongs to"),
        ("0088", "5099999000012", "Enter a GLN: 13 digits ending in the GS1 check digit"),
        ("9932", "123456789", "Enter a UK VAT number"),
        ("0060", "12345678", "Enter a DUNS number"),
        ("0192", "123456785", "Choose one of the schemes listed"),
    ],
)
def test_endpoint_problems(scheme: str | None, identifier: str | None, problem: str | None) -> None:
    found = endpoint_problem(scheme, identifier)
    assert found == problem if problem is None else (found or "").startswith(problem)


def test_typed_identifiers_are_normalised() -> None:
    assert normalise_endpoint(" gb 123 4567 89 ") == "GB123456789"
    assert normalise_endpoint("5099-9990-00011") == "5099999000011"
    assert normalise_endpoint("  ") is None
    assert normalise_endpoint(None) is None
