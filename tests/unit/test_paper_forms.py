"""The paper forms read back: each form's column headings are its import template's columns
(tracker.columns), in the same order, with the practice's name and ODS code on it."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from tracker.columns import Column, columns, incident_columns
from tracker.cost_kinds import CostKind
from tracker.documents.paper_forms import FORMS, FORMS_BY_KEY, Header, build_paper_forms

PRACTICE = Header("Riverside Medical Centre", "F84001")
INCIDENT = Header(
    "Riverside Medical Centre",
    "F84001",
    incident_title="CrowdStrike / EMIS outage",
    incident_dates="19 July 2024 at 7:10am to 20 July 2024 at 1:00pm",
)
#: Each form and the columns its boxes must be: the template's, or the incident form's.
EXPECTED = {
    "outage-log": incident_columns(),
    "staff-timesheet": columns(CostKind.STAFF),
    "locum-sessions": columns(CostKind.LOCUM),
    "cancelled-appointments": columns(CostKind.APPOINTMENTS),
    "expenses": columns(CostKind.EXPENSE),
}


def layout_text(pdf: bytes) -> str:
    result = subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return result.stdout.decode()


def printed_headings(text: str, expected: tuple[Column, ...]) -> list[str]:
    """The column headings as printed, read back from `pdftotext -layout`: a heading wraps
    onto more lines inside its own column, so each word is given to the column it starts
    under. The columns' left edges are where each heading's first word is found on the
    heading line, searched left to right in the expected order (so a column out of order,
    or missing, is not found). The headings end where the hints begin."""
    lines = text.splitlines()
    top, starts = _first_line_with(lines, [column.name.split()[0] for column in expected])
    end, _ = _first_line_with(lines, [column.hint.split()[0] for column in expected])
    return _by_column(lines[top:end], starts)


def printed_hints(text: str, expected: tuple[Column, ...]) -> list[str]:
    """The hints printed under the headings, read back as printed_headings reads them (in
    their own smaller type, so their own left edges), down to the example row."""
    lines = text.splitlines()
    begin, starts = _first_line_with(lines, [column.hint.split()[0] for column in expected])
    end = next(i for i in range(begin, len(lines)) if lines[i].lstrip().startswith("e.g."))
    return _by_column(lines[begin:end], starts)


def _first_line_with(lines: list[str], words: list[str]) -> tuple[int, list[int]]:
    """The first line holding `words` in this order, and where each starts on it."""
    for number, line in enumerate(lines):
        starts = _starts(line, words)
        if starts is not None:
            return number, starts
    raise AssertionError(f"no line has {words} in this order")


def _by_column(lines: list[str], starts: list[int]) -> list[str]:
    """The words of `lines`, each given to the column it starts under, joined per column."""
    words: list[list[str]] = [[] for _ in starts]
    for line in lines:
        for match in re.finditer(r"\S+", line):
            column = max(i for i, start in enumerate(starts) if start <= match.start() + 2)
            words[column].append(match.group())
    return [" ".join(found) for found in words]


def _starts(line: str, words: list[str]) -> list[int] | None:
    """Where each word is found on `line`, searched left to right in order; None unless
    every one is found."""
    starts, position = [], 0
    for word in words:
        found = re.search(rf"(?<!\S){re.escape(word)}(?!\S)", line[position:])
        if found is None:
            return None
        starts.append(position + found.start())
        position += found.end()
    return starts


def row_numbers(text: str) -> list[int]:
    """The row numbers printed down the left of a form's table (a tally row's type after)."""
    printed = re.findall(r"(?m)^ *(\d+)(?: +(?:GP|Nurse|HCA|Other clinician))? *$", text)
    return [int(number) for number in printed]


@pytest.mark.parametrize("key", list(EXPECTED))
def test_each_forms_headings_are_its_template_columns_in_order(key: str) -> None:
    form = FORMS_BY_KEY[key]
    expected = EXPECTED[key]
    assert form.columns == expected
    text = layout_text(build_paper_forms([form], PRACTICE))
    assert printed_headings(text, expected) == [column.name for column in expected]
    # each heading has its hint under it, and says when the column may be left blank
    assert printed_hints(text, expected) == [
        column.hint + ("" if column.required else " (optional)") for column in expected
    ]
    assert "Riverside Medical Centre" in text and "ODS code F84001" in text
    assert form.title in text


def test_a_column_out_of_order_is_caught() -> None:
    staff = FORMS_BY_KEY["staff-timesheet"]
    text = layout_text(build_paper_forms([staff], PRACTICE))
    swapped = list(staff.columns)
    swapped[2], swapped[3] = swapped[3], swapped[2]
    with pytest.raises(AssertionError):
        assert printed_headings(text, tuple(swapped)) == [c.name for c in swapped]


def test_the_forms_as_one_pdf_landscape_where_the_columns_need_it() -> None:
    pdf = build_paper_forms(FORMS, INCIDENT)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == len(FORMS) == 5
    for page, form in zip(pages, FORMS, strict=True):
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (width > height) == form.landscape
        assert sorted((round(width), round(height))) == [595, 842]  # A4
        text = " ".join(page.extract_text().split())
        assert form.title in text
        assert "CrowdStrike / EMIS outage" in text and "19 July 2024 at 7:10am" in text
        assert "Riverside Medical Centre" in text and "F84001" in text
    assert {form.key for form in FORMS if form.landscape} == {
        "staff-timesheet",
        "locum-sessions",
        "cancelled-appointments",
    }
    # the same input gives the same bytes
    assert build_paper_forms(FORMS, INCIDENT) == pdf


def test_the_forms_say_how_they_are_typed_in_and_have_rows_for_a_busy_day() -> None:
    for form in FORMS:
        text = " ".join(layout_text(build_paper_forms([form], PRACTICE)).split())
        assert "Fill in during the outage" in text
        if form.key != "outage-log":
            assert "type it in afterwards with Import on the incident page" in text
            assert "same columns in the same order" in text
        numbers = row_numbers(layout_text(build_paper_forms([form], PRACTICE)))
        assert numbers == list(range(1, len(numbers) + 1))
        busy_day = 12 if form.key in ("outage-log", "cancelled-appointments") else 15
        assert len(numbers) >= busy_day, form.key


def test_the_tally_prints_each_appointment_type_in_turn() -> None:
    text = layout_text(build_paper_forms([FORMS_BY_KEY["cancelled-appointments"]], PRACTICE))
    printed = re.findall(r"(?m)^\s*\d+\s+(GP|Nurse|HCA|Other clinician)\b", text)
    assert printed[:4] == ["GP", "Nurse", "HCA", "Other clinician"]
    assert len(printed) % 4 == 0 and len(printed) >= 8


def test_names_of_any_length_and_characters_print_inside_the_header() -> None:
    long_name = "The Very Long Named Health Centre & Branch Surgery of Little Snoring-on-Sea <b>"
    pdf = build_paper_forms(FORMS, Header(long_name, "Y12345", "Zoë's outage\tagain", None))
    text = " ".join(layout_text(pdf).split())
    assert "Little Snoring-on-Sea <b>" in text and "Zoë's outage again" in text


def test_names_in_other_scripts_print_in_reading_order() -> None:
    """The practice's and the incident's names go through the same text drawing as the
    invoice: Chinese in the fallback font, Hebrew in reading order (pdftotext puts right-to-left
    text back in typed order, so a reversed drawing would read back reversed)."""
    pdf = build_paper_forms(FORMS[:1], Header("上海路诊所", "Y12345", "תקלה במערכת", None))
    text = " ".join(layout_text(pdf).split())
    assert "上海路诊所" in text and "תקלה במערכת" in text
    fonts = {
        str(font.get("/BaseFont"))
        for page in PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert any("Droid" in name for name in fonts), fonts
