"""Charts drawn as SVG on the server: the same markup goes into pages and (through WeasyPrint) PDFs.

No JavaScript, no external fonts: text uses the page's font stack (Noto Sans CJK in PDFs). Every label
is escaped. Values are Decimals or ints; a chart never does money arithmetic, only proportions.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

PALETTE = ["#b4232a", "#0b5cad", "#1f7a3f", "#a86100", "#6b4fa0", "#2d8c8c"]


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[Decimal | int | float]
    color: str = ""


def _num(value) -> float:
    # Proportions for drawing only; the figures shown as text are formatted from the Decimals.
    return float(value or 0)


def _label(value) -> str:
    if isinstance(value, Decimal):
        if value >= 10000:
            # Chinese readers count large sums in 万 (ten thousand); English readers in thousands.
            if (get_language() or "zh").startswith("zh"):
                return f"{value / 10000:,.1f}万"
            return f"{value / 1000:,.1f}k"
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str = "",
    width: int = 720,
    bar_height: int = 14,
    label_width: int = 110,
) -> SafeString:
    """Horizontal grouped bars, one group per category (e.g. allocated vs. spent by city)."""
    group_gap = 10
    legend_height = 22
    top = (24 if title else 0) + legend_height
    group_height = bar_height * len(series) + group_gap
    height = top + group_height * len(categories) + 10
    chart_width = width - label_width - 90
    peak = max((_num(v) for s in series for v in s.values), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>')
    x = label_width
    for index, s in enumerate(series):
        color = s.color or PALETTE[index % len(PALETTE)]
        parts.append(f'<rect x="{x}" y="{top - 18}" width="12" height="12" fill="{color}"/>')
        parts.append(f'<text x="{x + 16}" y="{top - 8}" font-size="12">{escape(s.name)}</text>')
        x += 30 + 13 * len(s.name)
    for row, category in enumerate(categories):
        y = top + row * group_height
        parts.append(
            f'<text x="{label_width - 6}" y="{y + bar_height * len(series) / 2 + 4}" font-size="12" '
            f'text-anchor="end">{escape(str(category))}</text>'
        )
        for index, s in enumerate(series):
            value = s.values[row]
            length = max(_num(value) / peak * chart_width, 0)
            color = s.color or PALETTE[index % len(PALETTE)]
            by = y + index * bar_height
            parts.append(
                f'<rect x="{label_width}" y="{by}" width="{length:.1f}" height="{bar_height - 2}" fill="{color}"/>'
            )
            parts.append(
                f'<text x="{label_width + length + 4:.1f}" y="{by + bar_height - 4}" font-size="11">'
                f"{escape(_label(value))}</text>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def column_chart(
    labels: Sequence[str], values: Sequence[int | Decimal], *, title: str = "", width: int = 480, height: int = 220
) -> SafeString:
    """Vertical columns (e.g. how many allocations fall in each utilisation band)."""
    top = 24 if title else 6
    bottom = 26
    plot_height = height - top - bottom
    peak = max((_num(v) for v in values), default=0) or 1
    slot = width / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
    ]
    if title:
        parts.append(f'<text x="0" y="16" font-size="14" font-weight="bold">{escape(title)}</text>')
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = _num(value) / peak * (plot_height - 14)
        x = index * slot + slot * 0.15
        y = top + plot_height - h
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{PALETTE[1]}"/>')
        middle = x + slot * 0.35
        parts.append(
            f'<text x="{middle:.1f}" y="{y - 3:.1f}" font-size="11" text-anchor="middle">{escape(_label(value))}</text>'
        )
        parts.append(
            f'<text x="{middle:.1f}" y="{height - 8}" font-size="11" text-anchor="middle">{escape(str(label))}</text>'
        )
    parts.append(f'<line x1="0" y1="{top + plot_height}" x2="{width}" y2="{top + plot_height}" stroke="#9fb3c8"/>')
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text is escaped above


def progress_bar(fraction: Decimal, *, width: int = 240, height: int = 14) -> SafeString:
    """A utilisation bar, 0–100 %."""
    share = min(max(_num(fraction), 0.0), 1.0)
    return mark_safe(  # noqa: S308 - only numbers are interpolated
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" role="img" '
        f'aria-label="{share * 100:.1f}%"><rect width="{width}" height="{height}" rx="7" fill="#e4e7eb"/>'
        f'<rect width="{share * width:.1f}" height="{height}" rx="7" fill="{PALETTE[2]}"/></svg>'
    )
