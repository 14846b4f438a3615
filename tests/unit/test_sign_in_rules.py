"""The pure sign-in rules: where `next` may send the user, and the password policy."""

from __future__ import annotations

import pytest

from tracker.models.users import parse_session_token, session_token
from tracker.redirects import safe_next_path
from tracker.services.accounts import (
    COMMON_PASSWORDS_FILE,
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    common_passwords,
    password_problem,
)


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


def test_the_shipped_common_password_list_is_small_and_lower_case() -> None:
    assert COMMON_PASSWORDS_FILE.stat().st_size < 100_000
    words = common_passwords()
    assert len(words) > 5000
    assert all(word == word.lower() and len(word) >= 8 for word in words)
    assert {"password", "qwertyuiop", "1234567890"} <= words


@pytest.mark.parametrize(
    "password",
    [
        "x",
        "aaaaaaaaaa",
        "1234567890",
        "a" * (MIN_PASSWORD_LENGTH - 1),
        "ab" + " " * 10,  # a run of spaces counts as one (ASVS 2.1.1)
        "x" * (MAX_PASSWORD_LENGTH + 1),
        "aaaaaaaaaaaa",
        "abababababab",
        "123456789012",
        "1234abcd5678",
        "qwertyuiopasdf",
        "PASSWORD123456",
        "!!iloveyou!!!!",
        "passwordpassword",
        "Sunshine-2024!!",
        "priya.shah@example.org",
        "PriyaShah2024!!",
        "outage-claims-2024",
    ],
)
def test_weak_passwords_are_refused(password: str) -> None:
    assert password_problem(password, email="priya.shah@example.org", name="Priya Shah")


@pytest.mark.parametrize(
    "password",
    [
        "correct-horse-battery",
        "kettle orbit lantern",
        "Zoë-Łódź-fjord-7",
        "x" * 3 + "correct horse" + "x" * (MAX_PASSWORD_LENGTH - 16),
    ],
)
def test_good_passwords_pass(password: str) -> None:
    assert password_problem(password, email="priya.shah@example.org", name="Priya Shah") is None


@pytest.mark.parametrize(
    ("token", "expected"),
    [("12:3", (12, 3)), ("12", None), ("12:", None), ("²:1", None), ("1:2:3", None)],
)
def test_a_session_names_its_user_by_id_and_session_version(
    token: str, expected: tuple[int, int] | None
) -> None:
    assert parse_session_token(token) == expected
    if expected:
        assert session_token(*expected) == token
