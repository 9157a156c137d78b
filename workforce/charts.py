"""Server-side SVG line charts for the manager pages (no scripts, no network)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

W, H, LEFT, RIGHT, TOP, BOTTOM = 900, 260, 48, 12, 12, 36


@dataclass(frozen=True)
class Series:
    """A named line; NaN values leave a gap. ``step`` draws a staircase (staff levels)."""

    label: str
    values: Sequence[float]
    color: str
    step: bool = False
    dashed: bool = False


def _nice_max(value: float) -> float:
    if value <= 0 or math.isnan(value):
        return 1.0
    mag = 10 ** math.floor(math.log10(value))
    return float(next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= value))


def line_chart(title: str, labels: Sequence[str], series: Sequence[Series],
               y_label: str = "") -> str:
    """An accessible SVG chart: labelled axes, legend, one <path> per series."""
    n = max((len(s.values) for s in series), default=0)
    finite = [v for s in series for v in s.values if not math.isnan(v)]
    top = _nice_max(max(finite, default=0.0))
    pw, ph = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: float) -> float:
        return LEFT + (pw * i / max(n - 1, 1) if n > 1 else pw / 2)

    def y(v: float) -> float:
        return TOP + ph * (1 - v / top)

    parts = [f'<svg class="chart" viewBox="0 0 {W} {H}" role="img" '
             f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>"]
    for k in range(5):
        v = top * k / 4
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" font-size="11" '
                     f'text-anchor="end">{v:g}</text>')
    ticks = max(1, n // 8)
    for i in range(0, n, ticks):
        parts.append(f'<text x="{x(i):.1f}" y="{H - BOTTOM + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(labels[i])}</text>')
    if y_label:
        parts.append(f'<text x="12" y="{TOP + ph / 2:.1f}" font-size="11" '
                     f'transform="rotate(-90 12 {TOP + ph / 2:.1f})" text-anchor="middle">'
                     f"{escape(y_label)}</text>")
    for s in series:
        d: list[str] = []
        pen = "M"
        for i, v in enumerate(s.values):
            if math.isnan(v):
                pen = "M"
                continue
            if s.step and pen == "L":
                d.append(f"L{x(i):.1f},{float(d[-1].split(',')[1]):.1f}")
            d.append(f"{pen}{x(i):.1f},{y(v):.1f}")
            pen = "L"
        dash = ' stroke-dasharray="5,4"' if s.dashed else ""
        parts.append(f'<path class="series" data-label="{escape(s.label)}" d="{" ".join(d)}" '
                     f'fill="none" stroke="{s.color}" stroke-width="2"{dash}/>')
    for k, s in enumerate(series):
        lx = LEFT + 10 + 170 * k
        parts.append(f'<rect x="{lx}" y="{H - 14}" width="14" height="4" fill="{s.color}"/>'
                     f'<text x="{lx + 18}" y="{H - 9}" font-size="11">{escape(s.label)}</text>')
    parts.append("</svg>")
    return "".join(parts)
