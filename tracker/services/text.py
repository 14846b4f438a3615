"""The rules every piece of typed text obeys, wherever it is stored: it fits its column, it
holds no control characters, and every character can be printed on our documents.

Both rules exist because the two databases disagree. PostgreSQL refuses text longer than a
VARCHAR column and any NUL byte (with an error, which was a 500), while SQLite stores both
without a word; Excel (openpyxl) refuses the other C0 control characters when an export is
built, long after the text was saved. Checking here, before anything is written, gives the
same answer with a message on both databases. The forms (tracker.forms.AppForm) and the
services call the same functions, so a limit or a message is worded once.

OWASP ASVS 4.0.3 V5.1.3 (validate input against an allow list of characters or a length),
V5.1.4 (structured data is checked for length and characters); Unicode general category Cc
(C0 U+0000-U+001F, DEL U+007F, C1 U+0080-U+009F) is what "control character" means here.

Printable: the invoice, claim pack and report PDFs draw text in DejaVu Sans with Droid Sans
Fallback for Chinese, Japanese and Korean (tracker.documents.fonts). A character neither has
(most emoji, private-use and unassigned code points) would print as an empty box, so it is
refused where it is typed, with the character named, instead of surprising an ICB later.
"""

from __future__ import annotations

import re
import unicodedata

from tracker.models import MAX_INTEGER

#: Any control character: none belongs in a one-line field (a name, a reference, a title).
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: In a multi-line field (a textarea), tab and line breaks are text; the rest are not.
#: Browsers send a textarea's line breaks as CR LF (HTML: "normalize newlines"), so CR stays.
CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def control_problem(noun: str, text: str | None, *, multiline: bool = False) -> str | None:
    """The message when `text` holds a character nobody can type into the field, or None."""
    if not text:
        return None
    found = (CONTROL_MULTILINE if multiline else CONTROL).search(text)
    if found is None:
        return None
    if found.group() in "\t\r\n":
        return f"{noun} must be on one line: remove the tabs and line breaks"
    return f"{noun} contains a control character that cannot be stored: type it again"


def printable_problem(noun: str, text: str | None) -> str | None:
    """The message when `text` holds characters our documents cannot print, or None."""
    if not text or text.isascii():
        return None
    # imported here: the fonts (reportlab) are loaded on the first text beyond ASCII, not
    # when the application starts
    from tracker.documents.fonts import unprintable

    found = unprintable(text)
    if not found:
        return None
    shown = ", ".join(_named(char) for char in found[:3]) + (" and others" if found[3:] else "")
    it = "it" if len(found) == 1 else "them"
    return (
        f"{noun} contains {shown}, which can't be printed on an invoice or claim pack: "
        f"remove {it} or write {it} in words"
    )


def _named(char: str) -> str:
    """A character as shown in a message, with its Unicode name, which says what it is where
    the browser has no glyph for it either: “🦄” (unicorn face)."""
    name = unicodedata.name(char, "").lower() or f"U+{ord(char):04X}"
    return f"“{char}” ({name})"


def length_problem(noun: str, text: str | None, limit: int | None) -> str | None:
    """The message when `text` is longer than `limit` characters, or None."""
    if text is None or limit is None or len(text) <= limit:
        return None
    return f"{noun} must be {limit:,} characters or fewer (you entered {len(text):,})"


def text_problem(
    noun: str, text: str | None, limit: int | None, *, multiline: bool = False
) -> str | None:
    """The first problem with a typed text: a control character, one that cannot be
    printed, then its length."""
    return (
        control_problem(noun, text, multiline=multiline)
        or printable_problem(noun, text)
        or length_problem(noun, text, limit)
    )


#: A whole number as sent in a link or a choice: ASCII figures only (str.isdigit would take
#: "²" and other scripts' digits, which int() then refuses or misreads).
WHOLE = re.compile(r"^[0-9]{1,10}$")


def parse_id(text: object) -> int | None:
    """A record id or page number from a query string or a choice: a whole number from 1 to
    the largest an INTEGER column holds, or None for anything else (blank, "-1", "1e3",
    "99999999999999999999"). Larger numbers name nothing, and sent to PostgreSQL they were
    an error (a 500); the callers treat None as "not given"."""
    if isinstance(text, int) and not isinstance(text, bool):
        number = text
    elif isinstance(text, str) and WHOLE.match(text.strip()):
        number = int(text.strip())
    else:
        return None
    return number if 1 <= number <= MAX_INTEGER else None
