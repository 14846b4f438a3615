"""Peppol electronic addresses (EN 16931 BT-34 for the practice, BT-49 for the ICB): the
schemes offered and how each identifier is checked before it is saved.

The schemes are codes of the Electronic Address Scheme (EAS) code list that Peppol BIS
Billing 3.0 uses for cbc:EndpointID/@schemeID (OpenPeppol, "Peppol BIS Billing 3.0", code
list EAS, https://docs.peppol.eu/poacc/billing/3.0/codelist/eas/). Peppol checks a GLN's
check digit itself (rule PEPPOL-COMMON-R040), so a wrong one here would make every e-invoice
fail at the access point.
"""

from __future__ import annotations

import re

GLN = "0088"
DUNS = "0060"
UK_VAT = "9932"

#: (EAS code, label) offered in the settings forms, NHS's own first: NHS bodies identify
#: themselves in e-procurement by GS1 Global Location Numbers (NHS eProcurement Strategy).
SCHEMES: tuple[tuple[str, str], ...] = (
    (GLN, "0088: GS1 Global Location Number (GLN)"),
    (UK_VAT, "9932: UK VAT number"),
    (DUNS, "0060: DUNS number"),
)
SCHEME_CODES = frozenset(code for code, _ in SCHEMES)

_GLN = re.compile(r"^[0-9]{13}$")
_DUNS = re.compile(r"^[0-9]{9}$")
#: GB and 9 digits, or 12 for a VAT group's branch (HMRC, VAT Notice 700/1, section 2.2 "VAT
#: registration number").
_UK_VAT = re.compile(r"^GB([0-9]{9}|[0-9]{12})$")


def normalise_endpoint(value: str | None) -> str | None:
    """What people type ("5012 3456 78900", "gb 123 4567 89") as it is stored: spaces and
    hyphens dropped, letters upper-case; blank as None."""
    if value is None:
        return None
    cleaned = re.sub(r"[\s-]", "", value).upper()
    return cleaned or None


def gs1_check_digit(digits: str) -> int:
    """The GS1 check digit of the digits before it: from the right, weights 3, 1, 3, ...;
    the digit that makes the weighted sum a multiple of ten (GS1 General Specifications,
    section 7.9.1 "Standard check digit calculations for GS1 data structures",
    https://www.gs1.org/services/how-calculate-check-digit-manually)."""
    total = sum(
        int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(reversed(digits))
    )
    return (10 - total % 10) % 10


def is_valid_gln(value: str) -> bool:
    """A GS1 Global Location Number: 13 digits, the last the GS1 check digit of the others."""
    return bool(_GLN.match(value)) and gs1_check_digit(value[:-1]) == int(value[-1])


def endpoint_problem(scheme: str | None, identifier: str | None) -> str | None:
    """Why a (scheme, identifier) pair cannot be saved, or None when it can. Both blank is
    fine (no electronic address yet); one without the other is not."""
    if not scheme and not identifier:
        return None
    if not identifier:
        return "Enter the identifier for this scheme, or choose no scheme"
    if not scheme:
        return "Choose the scheme this identifier belongs to"
    if scheme not in SCHEME_CODES:
        return "Choose one of the schemes listed"
    if scheme == GLN and not is_valid_gln(identifier):
        return "Enter a GLN: 13 digits ending in the GS1 check digit, like 5012345678900"
    if scheme == UK_VAT and not _UK_VAT.match(identifier):
        return "Enter a UK VAT number: GB then 9 or 12 digits, like GB123456789"
    if scheme == DUNS and not _DUNS.match(identifier):
        return "Enter a DUNS number: 9 digits, like 123456789"
    return None
