"""Accessible charts drawn on the server as SVG: no JavaScript, no inline styles.

Pure functions: plain values in, markup out. Pages always repeat the figures in a table, so
the SVG is labelled as an image with a one-sentence summary for screen readers.

    svg = bar_chart("Cost by kind", [Bar("Staff time", Decimal("120.50")), ...])
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import count

from markupsafe import Markup, escape

from tracker.presentation import format_money

#: NHS.UK palette: blue, dark blue, aqua green, warm yellow, purple, grey.
PALETTE = ("#005eb8", "#003087", "#00a499", "#ffb81c", "#330072", "#768692")
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str
    value: Decimal
    #: a second, lighter bar drawn under the first (e.g. approved against claimed)
    secondary: Decimal | None = None


def bar_chart(
    title: str,
    bars: Sequence[Bar],
    *,
    value_text: Callable[[Decimal], str] = format_money,
    width: int = 640,
    label_width: int = 190,
    row_height: int = 36,
    legend: tuple[str, str] | None = None,
    chart_id: str | None = None,
) -> Markup:
    """A horizontal bar chart. `legend` names the primary and secondary series when bars
    carry a secondary value."""
    chart_id = chart_id or f"chart-{next(_ids)}"
    values = [b.value for b in bars] + [b.secondary for b in bars if b.secondary is not None]
    top = max([v for v in values if v is not None] + [Decimal(0)])
    value_space = 110
    plot = width - label_width - value_space
    legend_height = 28 if legend else 0
    height = legend_height + max(1, len(bars)) * row_height + 8
    summary = "; ".join(f"{b.label}: {value_text(b.value)}" for b in bars) or "No figures"
    parts = [
        f'<svg class="app-chart" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(summary)}</desc>',
    ]
    if legend:
        parts.append(_legend(legend, label_width))
    for index, bar in enumerate(bars):
        y = legend_height + index * row_height
        has_secondary = bar.secondary is not None
        bar_height = (row_height - 12) / (2 if has_secondary else 1)
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height / 2 + 5:.1f}" '
            f'text-anchor="end">{escape(_shorten(bar.label))}</text>'
        )
        parts.append(
            _rect(label_width, y + 6, _length(bar.value, top, plot), bar_height, PALETTE[0])
        )
        end = label_width + _length(bar.value, top, plot)
        if has_secondary:
            assert bar.secondary is not None
            parts.append(
                _rect(
                    label_width,
                    y + 6 + bar_height,
                    _length(bar.secondary, top, plot),
                    bar_height,
                    PALETTE[2],
                )
            )
            end = max(end, label_width + _length(bar.secondary, top, plot))
        parts.append(
            f'<text x="{end + 6:.1f}" y="{y + row_height / 2 + 5:.1f}">'
            f"{escape(value_text(bar.value))}</text>"
        )
    parts.append(
        f'<line x1="{label_width}" y1="{legend_height}" x2="{label_width}" '
        f'y2="{height - 8}" stroke="#4c6272" stroke-width="1"/>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))


def _length(value: Decimal, top: Decimal, plot: int) -> float:
    if top <= 0 or value <= 0:
        return 0.0
    return max(2.0, float(value / top) * plot)


def _rect(x: float, y: float, w: float, h: float, colour: str) -> str:
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{colour}"/>'


def _legend(names: tuple[str, str], x: int) -> str:
    first, second = names
    return (
        f'{_rect(x, 6, 14, 14, PALETTE[0])}<text x="{x + 20}" y="18">{escape(first)}</text>'
        f"{_rect(x + 180, 6, 14, 14, PALETTE[2])}"
        f'<text x="{x + 200}" y="18">{escape(second)}</text>'
    )


def _shorten(label: str, limit: int = 24) -> str:
    return label if len(label) <= limit else label[: limit - 1] + "…"
