from decimal import Decimal
from io import BytesIO
from pathlib import Path

import pytest

from tracker.charts import Bar, bar_chart
from tracker.services import evidence
from tracker.services.errors import DomainError

PDF = b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 40


def test_chart_is_labelled_and_escapes_labels() -> None:
    svg = bar_chart(
        "Cost by kind",
        [Bar("Staff <time>", Decimal("120.50")), Bar("Locum", Decimal("0"))],
        chart_id="c1",
    )
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Cost by kind</title>' in svg
    assert "Staff &lt;time&gt;: £120.50; Locum: £0.00" in svg
    assert "<time>" not in svg
    assert svg.count("<rect") == 2
    assert 'width="0.0"' in svg  # a zero bar is drawn with no length


def test_chart_with_secondary_bars_and_legend() -> None:
    svg = bar_chart(
        "Claimed and approved",
        [Bar("Alpha", Decimal("100"), Decimal("80"))],
        legend=("Claimed", "Approved"),
    )
    assert "Claimed" in svg and "Approved" in svg
    assert svg.count("<rect") == 4  # two legend keys and two bars


def test_empty_chart() -> None:
    assert "No figures" in bar_chart("Nothing", [])


@pytest.mark.parametrize(
    ("content", "mime"),
    [(PDF, "application/pdf"), (PNG, "image/png"), (JPEG, "image/jpeg"), (EXE, None)],
)
def test_type_is_read_from_the_content(content: bytes, mime: str | None) -> None:
    found = evidence.sniff(content)
    assert (found[0] if found else None) == mime


def test_prepare_refuses_an_executable_named_pdf(tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="must be a PDF, PNG or JPEG") as error:
        evidence.prepare(tmp_path, "receipt.pdf", BytesIO(EXE), 1000)
    assert error.value.field == "evidence"
    assert list(tmp_path.iterdir()) == []


def test_prepare_refuses_an_over_size_file_and_keeps_nothing(tmp_path: Path) -> None:
    big = PDF + b"0" * 200_000
    with pytest.raises(DomainError, match="smaller than 195 KB"):
        evidence.prepare(tmp_path, "big.pdf", BytesIO(big), 200_000)
    assert list(tmp_path.iterdir()) == []


def test_prepare_refuses_an_empty_file(tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="empty"):
        evidence.prepare(tmp_path, "empty.pdf", BytesIO(b""), 1000)


def test_prepare_stores_under_a_random_name(tmp_path: Path) -> None:
    prepared = evidence.prepare(tmp_path, "C:\\Users\\pm\\Zoë's receipt.pdf", BytesIO(PDF), 1000)
    assert prepared.original_filename == "Zoë's receipt.pdf"
    assert prepared.path.parent == tmp_path
    assert prepared.path.name.endswith(".pdf") and "receipt" not in prepared.path.name
    assert prepared.path.read_bytes() == PDF
    assert prepared.size_bytes == len(PDF)
    assert evidence.path_of(tmp_path, prepared.path.name) == prepared.path
    with pytest.raises(ValueError):
        evidence.path_of(tmp_path, "../../etc/passwd")


def test_size_text() -> None:
    assert evidence.size_text(10 * 1024 * 1024) == "10 MB"
    assert evidence.size_text(1536 * 1024) == "1.5 MB"
    assert evidence.size_text(2048) == "2 KB"
