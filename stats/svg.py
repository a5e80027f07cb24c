"""Inline SVG charts: no script, no external resource, readable without colour.

Each chart is decorative for screen readers' purposes only in the sense that
the same figures are in the table that follows it (`aria-describedby`).
Suppressed values are drawn as an empty dashed outline, not as zero.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape

from stats.format import is_missing

BLUE_FRANCE = "#000091"
RED_MARIANNE = "#c9191e"
GREY = "#666666"
WIDTH, HEIGHT = 720, 300
MARGIN_LEFT, MARGIN_BOTTOM, MARGIN_TOP = 56, 48, 16


@dataclass(frozen=True)
class Series:
    name: str
    values: list  # float or None/NaN when suppressed
    colour: str = BLUE_FRANCE


def nice_ceiling(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(chart_id: str, title: str, labels: list[str], series: list[Series], table_id: str) -> str:
    """Grouped vertical bars, one group per label."""
    values = [v for s in series for v in s.values if not is_missing(v)]
    top = nice_ceiling(max(values, default=0))
    plot_w, plot_h = WIDTH - MARGIN_LEFT - 8, HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    group_w = plot_w / max(len(labels), 1)
    bar_w = group_w * 0.8 / max(len(series), 1)
    parts = [_open(chart_id, title, table_id), *_axis(top, plot_w, plot_h)]
    for i, label in enumerate(labels):
        x0 = MARGIN_LEFT + i * group_w + group_w * 0.1
        for j, s in enumerate(series):
            x = x0 + j * bar_w
            value = s.values[i]
            if is_missing(value):
                parts.append(
                    f'<rect x="{x:.1f}" y="{MARGIN_TOP + plot_h - 12:.1f}" width="{bar_w - 1:.1f}" height="12" '
                    f'fill="none" stroke="{GREY}" stroke-dasharray="2 2"/>'
                )
                continue
            h = plot_h * value / top
            parts.append(
                f'<rect x="{x:.1f}" y="{MARGIN_TOP + plot_h - h:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{s.colour}"/>'
            )
        parts.append(
            f'<text x="{x0 + group_w * 0.4:.1f}" y="{HEIGHT - MARGIN_BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11">{escape(label)}</text>'
        )
    parts.append(_legend(series))
    parts.append("</svg>")
    return "".join(parts)


def _open(chart_id: str, title: str, table_id: str) -> str:
    return (
        f'<svg id="{chart_id}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title" aria-describedby="{table_id}" '
        f'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="Marianne, Arial, sans-serif">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
    )


def _axis(top: float, plot_w: float, plot_h: float) -> list[str]:
    parts = []
    for k in range(5):
        value = top * k / 4
        y = MARGIN_TOP + plot_h - plot_h * k / 4
        parts.append(
            f'<line x1="{MARGIN_LEFT}" x2="{MARGIN_LEFT + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#dddddd"/>'
            f'<text x="{MARGIN_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_tick(value)}</text>'
        )
    return parts


def _tick(value: float) -> str:
    from stats.format import decimal, integer

    return integer(value) if float(value).is_integer() else decimal(value)


def _legend(series: list[Series]) -> str:
    parts = []
    x = MARGIN_LEFT
    for s in series:
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 18}" width="12" height="12" fill="{s.colour}"/>'
            f'<text x="{x + 16}" y="{HEIGHT - 8}" font-size="12">{escape(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return "".join(parts)
