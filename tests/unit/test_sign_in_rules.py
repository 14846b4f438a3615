"""The pure sign-in rules: where `next` may send the user, and the password policy."""

from __future__ import annotations

import pytest

from tracker.redirects import safe_next_path


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/", "/"),
        ("/?", "/"),
        ("/incidents/7?tab=costs#line-3", "/incidents/7?tab=costs#line-3"),
        ("/a:b", "/a:b"),
        ("/back\\slash", "/back/slash"),
        (None, None),
        ("", None),
        ("incidents", None),
        ("//evil.example", None),
        ("////evil.example/steal", None),
        ("///evil.example", None),
        ("/\\evil.example", None),
        ("\\/evil.example", None),
        ("\\\\evil.example", None),
        ("/\t/evil.example", None),
        ("/\r\n/evil.example", None),
        ("/\x00", None),
        ("/\x7f", None),
        ("/\u0085/evil.example", None),
        (" /", None),
        ("https://evil.example/", None),
        ("HTTPS:/evil.example", None),
        ("javascript:alert(1)", None),
        ("//[", None),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(target: str | None, expected: str | None) -> None:
    assert safe_next_path(target) == expected
