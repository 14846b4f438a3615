"""Text in our PDFs in the scripts people write their names in: which font draws each
character, how wide a string is, right-to-left lines in reading order, and what cannot be
printed at all.

Fonts (tracker/fonts/, see its README): DejaVu Sans (regular and bold) draws Latin, Greek,
Cyrillic, Hebrew and Arabic; Droid Sans Fallback draws Chinese, Japanese and Korean. The
fallback is a 3.4 MB file, so it is parsed and embedded only when some text needs it
(`fallback`): a document in Latin script alone never loads it and its bytes do not change.
There is no bold face of the fallback: a bold run of Chinese is drawn in the regular
fallback. A string is drawn as runs, each in the first font of its chain that has a glyph
for the character (a cached set of each font's cmap codepoints).

Right to left (Unicode Standard Annex #9, the Unicode Bidirectional Algorithm,
https://www.unicode.org/reports/tr9/): text is stored and wrapped in logical order (the
order typed), then each wrapped line is reordered into visual order (UAX #9 rule L2 is
applied per line, "Dr דוד כהן (locum)" keeps "Dr" first and the Hebrew reads right to
left) with the paragraph's base direction from its first strong character (rules P2-P3).
Arabic letters are first shaped into their joined presentation forms, which DejaVu Sans
draws (PDF text has no shaping engine).

Characters neither font draws (emoji, private-use and unassigned code points) are
refused where they are typed (services.text.printable_problem); text stored before that
rule prints them as "?" (REPLACEMENT), never as an empty box.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

import arabic_reshaper
from bidi import get_display
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR = "DejaVuSans"
BOLD = "DejaVuSans-Bold"
FALLBACK = "DroidSansFallback"
_FILES = {
    REGULAR: "DejaVuSans.ttf",
    BOLD: "DejaVuSans-Bold.ttf",
    FALLBACK: "DroidSansFallback.ttf",
}
#: Drawn in place of a stored character no font has (typing one is refused).
REPLACEMENT = "?"

#: Letters written right to left (Hebrew, Arabic, Syriac, Thaana, NKo... and their
#: presentation forms): a line without any is drawn exactly as before.
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc\U00010800-\U00010fff]")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff]")
#: Not drawn: format characters (bidi marks, zero-width joiners: general category Cf) and
#: variation selectors; they shape or order text but have no glyph of their own.
_VARIATION = re.compile(r"[\ufe00-\ufe0f\U000e0100-\U000e01ef]")


@cache
def register_fonts() -> None:
    """Register DejaVu Sans once per process (parsing both faces costs ~20 ms)."""
    for name in (REGULAR, BOLD):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / _FILES[name])))


@cache
def fallback() -> str:
    """The fallback font's name, registering it on first use (~70 ms to parse). Its one
    face also serves for bold and italic in paragraph markup (<b> around Chinese)."""
    pdfmetrics.registerFont(TTFont(FALLBACK, str(FONT_DIR / _FILES[FALLBACK])))
    for bold in (0, 1):
        for italic in (0, 1):
            addMapping(FALLBACK, bold, italic, FALLBACK)
    return FALLBACK


@cache
def _codepoints(name: str) -> frozenset[int]:
    """The characters a font has a glyph for (its cmap)."""
    if name == FALLBACK:
        fallback()
    else:
        register_fonts()
    font = pdfmetrics.getFont(name)
    return frozenset(font.face.charToGlyph)  # type: ignore[attr-defined]


@cache
def _characters(name: str) -> frozenset[str]:
    """The characters a font draws, as characters: `_characters(font).issuperset(text)`
    tells in one C-speed step whether the font draws the whole string."""
    return frozenset(map(chr, _codepoints(name)))


def _ignorable(char: str) -> bool:
    return unicodedata.category(char) == "Cf" or _VARIATION.match(char) is not None


def _font_for(char: str, font: str) -> str | None:
    """The first font of `font`'s chain that draws `char` (bold falls back to regular, then
    to the fallback), or None when none does. Private-use and unassigned code points are
    never drawn: what they would show depends on the font, not on what was meant. Nor is
    anything beyond the Basic Multilingual Plane (DejaVu's emoticons such as U+1F600):
    reportlab writes their text layer cut to 16 bits, so copied or searched text, and
    pdftotext, read U+1F60 "ὠ" where 😀 was drawn."""
    code = ord(char)
    if code > 0xFFFF:
        return None
    if code in _codepoints(font):
        return font
    if font == BOLD and code in _codepoints(REGULAR):
        return REGULAR
    if unicodedata.category(char) in ("Co", "Cn", "Cs"):
        return None
    return FALLBACK if code in _codepoints(FALLBACK) else None


def unprintable(text: str) -> list[str]:
    """The characters of `text` that no font of ours draws, each once, in order."""
    found: list[str] = []
    for char in text:
        if char.isascii() or char in found or _ignorable(char):
            continue
        if _font_for(char, REGULAR) is None:
            found.append(char)
    return found


def runs(text: str, font: str) -> list[tuple[str, str]]:
    """`text` as (run, font) pieces, each drawn by one font; ignorable characters go and
    undrawable ones become REPLACEMENT. Plain ASCII text is one run in `font`."""
    if text.isascii() or _characters(font).issuperset(text):
        return [(text, font)] if text else []
    pieces: list[tuple[str, str]] = []
    for char in text:
        if _ignorable(char):
            continue
        chosen = _font_for(char, font)
        if chosen is None:
            char, chosen = REPLACEMENT, font
        if pieces and pieces[-1][1] == chosen:
            pieces[-1] = (pieces[-1][0] + char, chosen)
        else:
            pieces.append((char, chosen))
    return pieces


def simple(text: str, font: str) -> bool:
    """Whether `text` is drawn by `font` alone, left to right, exactly as typed."""
    return text.isascii() or (runs(text, font) == [(text, font)] and not _RTL.search(text))


def markup(line: str, font: str) -> str:
    """One visual-order line as paragraph markup (platypus): escaped, with each run that
    another font draws in a <font face> tag."""
    return "".join(
        escape(run) if name == font else f'<font face="{name}">{escape(run)}</font>'
        for run, name in runs(line, font)
    )


@lru_cache(maxsize=16_384)
def width(text: str, font: str, size: float) -> float:
    """The width of `text` drawn at `size`, across its runs (stringWidth for one font).
    Kept for the strings seen last: a document measures the same amounts, dates, labels
    and words again and again (to wrap, to fit, to align right), and an invoice's layout
    measured each several times (issue 13)."""
    if text.isascii():
        return pdfmetrics.stringWidth(text, font, size)
    return sum(pdfmetrics.stringWidth(run, name, size) for run, name in runs(text, font))


@cache
def _reshaper(ligatures: bool) -> arabic_reshaper.ArabicReshaper:
    # vowel marks (harakat) are kept, as typed: DejaVu Sans draws them as combining marks
    return arabic_reshaper.ArabicReshaper(
        configuration={"support_ligatures": ligatures, "delete_harakat": False}
    )


_ARABIC_FORM = re.compile(r"[\ufb50-\ufdff\ufe70-\ufeff]")


def shape(text: str) -> str:
    """Arabic letters in their joined (initial, medial, final) presentation forms, in
    logical order; with ligatures where DejaVu Sans has them all. A form DejaVu Sans lacks
    is left as the letter typed (drawn unjoined rather than as "?"). Other text is
    unchanged."""
    if not _ARABIC.search(text):
        return text
    covered = _codepoints(REGULAR)
    shaped: str = _reshaper(True).reshape(text)
    if all(ord(char) in covered or not _ARABIC_FORM.match(char) for char in shaped):
        return shaped
    plain: str = _reshaper(False).reshape(text)
    if len(plain) != len(text):  # not one form per letter: keep the letters as typed
        return text
    return "".join(
        form if ord(form) in covered else typed for form, typed in zip(plain, text, strict=True)
    )


def base_direction(paragraph: str) -> str:
    """ "R" when the paragraph's first strong character is right to left, else "L"
    (UAX #9 rules P2 and P3)."""
    for char in paragraph:
        kind = unicodedata.bidirectional(char)
        if kind == "L":
            return "L"
        if kind in ("R", "AL"):
            return "R"
    return "L"


def visual(line: str, base: str = "L") -> str:
    """A line of logical-order text in the order it is drawn, left to right (UAX #9 rules
    L1-L2 for one line); a line without right-to-left letters is returned as it is."""
    if not _RTL.search(line):
        return line
    ordered: str = get_display(line, base_dir=base)
    return ordered


def visual_lines(lines: Iterable[str], paragraph: str) -> list[str]:
    """Wrapped lines of one paragraph in visual order, with the paragraph's direction."""
    if not _RTL.search(paragraph):
        return list(lines)
    base = base_direction(paragraph)
    return [visual(line, base) for line in lines]


def draw(
    canvas: Canvas,
    x: float,
    y: float,
    text: str,
    font: str,
    size: float,
    align: str = "l",
) -> None:
    """Draw one line of visual-order text at (x, y): "l" from x, "r" ending at x, "c"
    centred on x. The canvas's font is `font` at `size` before and after. Text that one
    font draws alone is drawn by exactly the calls it always was (same bytes)."""
    pieces = runs(text, font)
    if len(pieces) <= 1 and (not pieces or pieces[0] == (text, font)):
        if align == "l":
            canvas.drawString(x, y, text)
        elif align == "r":
            canvas.drawRightString(x, y, text)
        else:
            canvas.drawCentredString(x, y, text)
        return
    total = sum(pdfmetrics.stringWidth(run, name, size) for run, name in pieces)
    left = x if align == "l" else x - total if align == "r" else x - total / 2
    for run, name in pieces:
        canvas.setFont(name, size)
        canvas.drawString(left, y, run)
        left += pdfmetrics.stringWidth(run, name, size)
    canvas.setFont(font, size)


class PageText(PDFTextObject):
    """A text object for a whole page's text: one object, not one a string (most of what
    reportlab spends on a short string is making and writing its own text object). Each
    string is still its own BT ... ET block, as canvas.drawString writes it, so readers
    that take a block for a run of text (pypdf, assistive technology) read what they read
    before; the font and colour carry over from one block to the next (they are graphics
    state). `put` also skips the cursor advance textOut works out by measuring the string
    again: each string is placed by its own origin (draw_in)."""

    def start(self) -> None:
        """End the block before and begin the next; its text matrix starts afresh."""
        if self._code:  # type: ignore[attr-defined]
            self._code.append("ET BT")  # type: ignore[attr-defined]

    def put(self, text: str) -> None:
        self._code.append(self._formatText(text))  # type: ignore[attr-defined]


def draw_in(
    page_text: PageText, at: tuple[float, float], text: str, font: str, size: float, align: str
) -> None:
    """As draw, at `at` (x, y), into the page's text object. Its font is `font` at `size`
    before and after; runs in another font follow on from the one before (a PDF viewer
    advances the text position past each string it shows)."""
    x, y = at
    pieces = runs(text, font)
    if not pieces:
        return
    if align != "l":
        total = width(text, font, size)
        x = x - total if align == "r" else x - total / 2
    page_text.start()
    page_text.setTextOrigin(x, y)
    for run, name in pieces:
        if name != font:
            page_text.setFont(name, size)
        page_text.put(run)
        if name != font:
            page_text.setFont(font, size)
