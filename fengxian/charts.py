"""Small server-side SVG charts for the staff dashboard: a horizontal bar chart and a trend
line. No JavaScript, no external service. Each chart carries a <title> and a <desc> listing
every value (read by screen readers), prints its numbers as text, and links each bar (or the
whole line) to the admin list behind it."""

from __future__ import annotations

import itertools

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from couriers.figures import chinese_number

_ids = itertools.count(1)

BAR_HEIGHT = 22
BAR_GAP = 6
LABEL_WIDTH = 130
BAR_WIDTH = 300
VALUE_WIDTH = 60
FONT_SIZE = 12  # px, .chart in static/css/dashboard.css


def text_width(text: str) -> float:
    """About how wide `text` is drawn: a Chinese character (or full-width sign) is one em,
    Latin letters and digits a bit over half one."""
    return sum(FONT_SIZE if ord(ch) > 0x2E7F else FONT_SIZE * 0.62 for ch in text)


def _frame(title: str, desc: str, width: int, height: int, body: str, css: str) -> SafeString:
    n = next(_ids)
    return mark_safe(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="chart-{n}-title chart-{n}-desc">'
        f'<title id="chart-{n}-title">{escape(title)}</title>'
        f'<desc id="chart-{n}-desc">{escape(desc)}</desc>{body}</svg>'
    )


def bar_chart(title: str, bars: list[tuple[str, int, str]]) -> SafeString:
    """Horizontal bars: (label, value, url) each; the longest bar is the largest value."""
    peak = max((value for _, value, _ in bars), default=0) or 1
    # The label column is as wide as the longest label (「行村党群服务站（4号）」 was cut off).
    label_width = max([LABEL_WIDTH] + [round(text_width(label)) + 12 for label, _, _ in bars])
    value_width = max(
        [VALUE_WIDTH] + [round(text_width(chinese_number(v))) + 12 for _, v, _ in bars]
    )
    parts = []
    for i, (label, value, url) in enumerate(bars):
        y = i * (BAR_HEIGHT + BAR_GAP)
        length = max(round(BAR_WIDTH * value / peak), 1 if value else 0)
        middle = y + BAR_HEIGHT / 2 + 5
        bar = (
            f'<text class="chart-label" x="{label_width - 8}" y="{middle}" '
            f'text-anchor="end">{escape(label)}</text>'
            f'<rect class="chart-bar" x="{label_width}" y="{y}" width="{length}" '
            f'height="{BAR_HEIGHT}"></rect>'
            f'<text class="chart-value" x="{label_width + length + 6}" y="{middle}">'
            f"{chinese_number(value)}</text>"
        )
        if url:
            bar = f'<a href="{escape(url)}" aria-label="{escape(label)}：{value}">{bar}</a>'
        parts.append(bar)
    height = max(len(bars) * (BAR_HEIGHT + BAR_GAP), BAR_HEIGHT)
    desc = "；".join(f"{label}：{value}" for label, value, _ in bars) or "暂无数据"
    width = label_width + BAR_WIDTH + value_width
    return _frame(title, desc, width, height, "".join(parts), "chart-bars")


def line_chart(title: str, points: list[tuple[str, int]], url: str = "") -> SafeString:
    """A trend line over (label, value) points in order, e.g. cumulative totals by day."""
    width, height, left, right, top, bottom = 520, 200, 50, 20, 20, 30
    inner_w, inner_h = width - left - right, height - top - bottom
    peak = max((value for _, value in points), default=0) or 1
    step = inner_w / max(len(points) - 1, 1)

    def xy(i: int, value: int) -> tuple[float, float]:
        return left + i * step, top + inner_h - inner_h * value / peak

    coords = [xy(i, value) for i, (_, value) in enumerate(points)]
    parts = [
        f'<line class="chart-axis" x1="{left}" y1="{top + inner_h}" x2="{left + inner_w}" '
        f'y2="{top + inner_h}"></line>',
        f'<text class="chart-label" x="{left - 6}" y="{top + 5}" text-anchor="end">{peak}</text>',
        f'<text class="chart-label" x="{left - 6}" y="{top + inner_h}" text-anchor="end">0</text>',
    ]
    if coords:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
        parts.append(f'<polyline class="chart-line" points="{path}"></polyline>')
        for (label, value), (x, y) in zip(points, coords, strict=True):
            parts.append(
                f'<circle class="chart-dot" cx="{x:.1f}" cy="{y:.1f}" r="3">'
                f"<title>{escape(label)}：{value}</title></circle>"
            )
        ticks = sorted({0, len(points) // 2, len(points) - 1})
        for i in ticks:
            x = coords[i][0]
            parts.append(
                f'<text class="chart-label" x="{x:.1f}" y="{height - 8}" '
                f'text-anchor="middle">{escape(points[i][0])}</text>'
            )
        last_x, last_y = coords[-1]
        parts.append(
            f'<text class="chart-value" x="{last_x - 4:.1f}" y="{last_y - 8:.1f}" '
            f'text-anchor="end">{points[-1][1]}</text>'
        )
    body = "".join(parts)
    if url:
        body = f'<a href="{escape(url)}" aria-label="{escape(title)}">{body}</a>'
    if points:
        desc = f"从 {points[0][0]} 到 {points[-1][0]}：" + "；".join(
            f"{label} {value}" for label, value in points
        )
    else:
        desc = "暂无数据"
    return _frame(title, desc, width, height, body, "chart-line-chart")
