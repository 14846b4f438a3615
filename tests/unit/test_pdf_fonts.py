"""Names in the scripts people write them in (issue 10): the fallback font for Chinese,
Japanese and Korean, right-to-left lines in reading order, and what cannot be printed.
The PDFs are read back with pypdf (which fonts a page embeds) and pdftotext (which puts
visual-order right-to-left text back into logical order: so a line drawn in the wrong
order reads back reversed). Pure: no database."""

from __future__ import annotations

import io
import shutil
import subprocess
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.pdfbase import pdfmetrics

from tests.documents_fixtures import SUPPLIER, make_document, make_lines
from tracker.documents import fonts
from tracker.documents.claim_pack import (
    CoveringStatement,
    StatementIncident,
    build_claim_pack,
)
from tracker.documents.fonts import BOLD, FALLBACK, REGULAR, REPLACEMENT
from tracker.documents.pdf import build_invoice_pdf, fit, wrap
from tracker.documents.report_data import Figures, KindRow, OutageReport, PracticeRow
from tracker.documents.report_pdf import build_report_pdf
from tracker.services.text import printable_problem

CHINESE = "王小明"
HEBREW = "דוד כהן"
ARABIC = "محمد أحمد"
POLISH = "Łukasz Wójcik-Żółć"
#: bidi embedding marks pdftotext puts around right-to-left runs
MARKS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e"))


def embedded_fonts(data: bytes) -> set[str]:
    names = set()
    for page in PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            names.add(str(font.get_object()["/BaseFont"]).split("+")[-1])
    return names


def pdftotext(data: bytes) -> str:
    tool = shutil.which("pdftotext")
    assert tool, "pdftotext (poppler-utils) is needed: .ci/run installs it"
    out = subprocess.run([tool, "-", "-"], input=data, capture_output=True, check=True)
    return " ".join(out.stdout.decode().translate(MARKS).split())


def named_document(*names: str):
    lines = list(make_lines(12))
    for index, name in enumerate(names):
        lines[index] = replace(lines[index], description=f"Extra hours: {name}")
    return make_document(12, lines=tuple(lines))


# --- runs, widths, order -------------------------------------------------------------------


def test_latin_text_is_one_run_in_its_own_font():
    assert fonts.runs(f"Zoë {POLISH}", REGULAR) == [(f"Zoë {POLISH}", REGULAR)]
    assert fonts.runs(HEBREW, BOLD) == [(HEBREW, BOLD)]
    assert fonts.width(POLISH, REGULAR, 9) == pdfmetrics.stringWidth(POLISH, REGULAR, 9)


def test_chinese_is_drawn_in_the_fallback_and_bold_uses_its_regular_face():
    assert fonts.runs(f"Dr {CHINESE} (locum)", REGULAR) == [
        ("Dr ", REGULAR),
        (CHINESE, FALLBACK),
        (" (locum)", REGULAR),
    ]
    assert fonts.runs(f"{CHINESE}≠", BOLD) == [(CHINESE, FALLBACK), ("≠", BOLD)]
    assert fonts.runs("김민준 ひらがな", REGULAR) == [
        ("김민준", FALLBACK),
        (" ", REGULAR),
        ("ひらがな", FALLBACK),
    ]


def test_a_width_is_the_sum_of_its_runs():
    text = f"Dr {CHINESE}"
    expected = pdfmetrics.stringWidth("Dr ", REGULAR, 9) + pdfmetrics.stringWidth(
        CHINESE, FALLBACK, 9
    )
    assert fonts.width(text, REGULAR, 9) == pytest.approx(expected)
    assert fonts.width(CHINESE, REGULAR, 9) == pytest.approx(27.0)  # a full em each


def test_stored_text_no_font_draws_prints_a_visible_replacement():
    assert fonts.runs("A\U0001f984B\ue000", REGULAR) == [(f"A{REPLACEMENT}B{REPLACEMENT}", REGULAR)]
    # marks that only order text (here bidi isolates, which DejaVu has no glyph for) are
    # not drawn at all, nor refused
    assert fonts.runs("Ana \u2067דוד\u2069", REGULAR) == [("Ana דוד", REGULAR)]
    assert fonts.unprintable("Ana \u2067דוד\u2069\U000e0101") == []


def test_a_mixed_line_keeps_its_latin_first_and_its_hebrew_right_to_left():
    """UAX #9: "Dr" (strong L) sets the paragraph left to right; the Hebrew run is drawn
    reversed so that it reads right to left; the neutral brackets stay with the Latin."""
    assert fonts.visual(f"Dr {HEBREW} (locum)", "L") == "Dr ןהכ דוד (locum)"
    assert fonts.base_direction(f"{HEBREW} (locum)") == "R"
    assert fonts.base_direction("123 Dr") == "L"
    assert fonts.visual("Riverside Surgery", "L") == "Riverside Surgery"


def test_right_to_left_text_is_wrapped_in_logical_order_then_each_line_reordered():
    text = "שעות נוספות רופאה תורנית משמרת בוקר"
    lines = wrap(text, REGULAR, 9, fonts.width("שעות נוספות רופאה", REGULAR, 9))
    # each line holds the words in the order typed (the first words on the first line),
    # drawn right to left
    assert "".join(reversed(lines[0])) == "שעות נוספות רופאה"
    assert ["".join(reversed(line)) for line in lines[1:]] == ["תורנית משמרת", "בוקר"]


def test_arabic_is_shaped_into_joined_forms_that_dejavu_draws():
    shaped = fonts.shape(ARABIC)
    assert shaped != ARABIC and all("\ufe70" <= c <= "\ufeff" or c == " " for c in shaped)
    assert fonts.runs(shaped, REGULAR) == [(shaped, REGULAR)]
    # the Allah ligature U+FDF2 is not in DejaVu Sans: letters are joined one by one instead
    assert "\ufdf2" not in fonts.shape("عبد الله")
    assert fonts.unprintable(fonts.shape("عبد الله")) == []


def test_a_cut_line_keeps_its_reading_order():
    cut = fit(f"{HEBREW} {HEBREW} {HEBREW}", REGULAR, 9, fonts.width(HEBREW, REGULAR, 9) + 12)
    assert cut.startswith("…")  # the end of a right-to-left line is on the left
    assert cut.endswith("דוד")


# --- what can be printed ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [CHINESE, HEBREW, ARABIC, POLISH, "Nuala Ní Bhriain", "Ангелина", "ひらがな 김민준", "❤ €"],
)
def test_the_scripts_people_write_names_in_can_be_printed(text):
    assert fonts.unprintable(text) == []
    assert printable_problem("Name", text) is None


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Smile 😀", ["😀"]),
        ("🦄🦄 unicorn 🚑", ["🦄", "🚑"]),
        ("private \ue000", ["\ue000"]),
        ("unassigned \u0378", ["\u0378"]),
        ("Devanagari नमस्ते", list("नमस्ते")),
    ],
)
def test_characters_no_font_draws_are_named(text, found):
    assert fonts.unprintable(text) == found


def test_the_message_names_the_characters_and_says_what_to_do():
    assert printable_problem("Title", "Outage 😀") == (
        "Title contains “😀” (grinning face), which can't be printed on an invoice or claim pack: "
        "remove it or write it in words"
    )
    message = printable_problem("Notes", "🦄🚑🎉🎂")
    assert message is not None
    assert (
        "“🦄” (unicorn face), “🚑” (ambulance), “🎉” (party popper) and others" in message
        and "remove them" in message
    )


# --- the documents -----------------------------------------------------------------------------


def test_a_chinese_name_on_the_invoice_is_drawn_in_the_fallback_font():
    data = build_invoice_pdf(named_document(CHINESE))
    assert embedded_fonts(data) == {REGULAR, BOLD, FALLBACK}
    assert f"Extra hours: {CHINESE}" in pdftotext(data)


def test_a_latin_only_invoice_does_not_embed_the_fallback():
    data = build_invoice_pdf(named_document(POLISH, "Zoë Hughes"))
    assert embedded_fonts(data) == {REGULAR, BOLD}
    assert f"Extra hours: {POLISH}" in pdftotext(data)


def test_hebrew_and_arabic_names_on_the_invoice_read_in_order():
    doc = named_document(f"Dr {HEBREW} (locum)", ARABIC)
    doc = replace(doc, supplier=replace(SUPPLIER, name=f"מרפאת {HEBREW}"))
    data = build_invoice_pdf(doc)
    text = pdftotext(data)
    assert f"Extra hours: Dr {HEBREW} (locum)" in text
    assert f"מרפאת {HEBREW}" in text  # the practice's name, first page and footers
    # Arabic reads back as the shaped (presentation) forms, in logical order
    assert f"Extra hours: {fonts.shape(ARABIC)}" in text
    assert embedded_fonts(data) == {REGULAR, BOLD}


def test_a_stored_emoji_prints_as_a_question_mark():
    doc = replace(named_document(), notes="Signed off 🦄 by the manager")
    assert "Signed off ? by the manager" in pdftotext(build_invoice_pdf(doc))


def test_the_claim_pack_prints_every_script():
    invoice = build_invoice_pdf(named_document())
    statement = CoveringStatement(
        document_title="Invoice",
        number="A8100120240007",
        issue_date="1 August 2024",
        practice=f"{CHINESE} Surgery (A81001)",
        practice_address=("12 Mill Lane",),
        icb="NHS North East and North Cumbria ICB",
        icb_address=("Sunderland",),
        total="£100.00",
        po_reference="PO-1",
        event_name="EMIS outage",
        event_started="19 July 2024",
        event_description="The clinical system was down.",
        summary="The practice claims its costs.",
        incidents=(
            StatementIncident(
                f"Outage reported by Dr {HEBREW}", "19 July", "EMIS Web", "", "", ARABIC
            ),
        ),
        by_kind=(("Staff time", "1", "£100.00"), ("Total", "1", "£100.00")),
        contacts=(f"{POLISH}, practice manager",),
    )
    pack = build_claim_pack(invoice, statement, [], 10_000_000)
    text = pdftotext(pack)
    assert "Covering statement for invoice A8100120240007" in text
    assert f"Incident 1: Outage reported by Dr {HEBREW}" in text
    assert f"{CHINESE} Surgery (A81001)" in text
    assert f"{POLISH}, practice manager" in text
    assert FALLBACK in embedded_fonts(pack)


def test_the_report_prints_practice_names_in_every_script():
    figures = Figures(claims=1, lines=1, claimed=Decimal("10.00"), approved=Decimal("5.00"))
    names = [f"{CHINESE} Practice", f"מרפאת {HEBREW}", POLISH]
    report = OutageReport(
        event_id=1,
        event_name=f"EMIS outage {CHINESE}",
        event_started_on=date(2024, 7, 19),
        scope="NHS North East ICB (QHM)",
        national=False,
        generated_on=date(2024, 8, 1),
        totals=figures,
        practices_claiming=3,
        by_kind=[KindRow("staff", "Staff time", figures)],
        by_practice=[PracticeRow(f"A8100{i}", n, "QHM", figures) for i, n in enumerate(names)],
    )
    data = build_report_pdf(report)
    text = pdftotext(data)
    for name in names:
        assert text.count(name) == 2, name  # the chart's label and the table's row
    assert f"Outage report · EMIS outage {CHINESE}" in text  # the footer
    assert FALLBACK in embedded_fonts(data)
