"""Draws a chart (bot/services/charts.py) as SVG on the server: no build step, no chart library in the browser.

Stacked bars for counts per day, lines for rates and times per week (a week
with nothing to measure breaks the line). Every point carries a <title>, so a
pointer over it shows the number; the legend names every series.
"""
from __future__ import annotations

import math
from typing import List, Optional, Sequence
from xml.sax.saxutils import escape, quoteattr

from bot.services.charts import Chart

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 16, 78
# Distinguishable for the common colour-blindness types (Okabe-Ito).
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#999999", "#F0E442")
NO_DATA = {"vi": "Chưa có dữ liệu trong khoảng thời gian này", "en": "No data in this period yet"}


def nice_ticks(low: float, high: float, count: int = 5) -> List[float]:
    """Round axis values covering low..high (1, 2 or 5 times a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    ticks, value = [], first
    while value < high + step * 0.999:
        ticks.append(round(value, 10))
        value += step
    return ticks


def _fmt(value: float, unit: str = "") -> str:
    text = str(int(value)) if float(value).is_integer() else f"{value:.1f}"
    return text + ("%" if unit == "%" else "")


def render(chart: Chart, language: str = "vi") -> str:
    values = [v for s in chart.series for v in s.values if v is not None]
    if chart.kind == "stacked":
        totals = [sum(s.values[i] or 0 for s in chart.series) for i in range(len(chart.labels))]
        data_high = max(totals, default=0)
    else:
        data_high = max(values, default=0)
    has_data = any(v for v in values) if chart.kind == "stacked" else bool(values)
    low = chart.y_min if chart.y_min is not None else min(values + [0])
    high = chart.y_max if chart.y_max is not None else max(data_high, 1)
    ticks = nice_ticks(low, high)
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(chart.labels), 1)
    slot = plot_w / n

    def y(value: float) -> float:
        return TOP + plot_h - (value - low) / (high - low) * plot_h

    def x(i: int) -> float:
        return LEFT + slot * (i + 0.5)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
           f'height="{HEIGHT}" role="img" aria-label={quoteattr(chart.title)} font-family="sans-serif" '
           f'font-size="11" data-chart={quoteattr(chart.id)}>',
           f"<title>{escape(chart.title)}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>']
    for tick in ticks:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                   f'stroke="{"#888" if tick == 0 else "#e3e3e3"}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end" fill="#555">'
                   f"{escape(_fmt(tick, chart.unit))}</text>")
    every = max(1, math.ceil(n / 12))
    for i, name in enumerate(chart.labels):
        if i % every == 0:
            out.append(f'<text x="{x(i):.1f}" y="{TOP + plot_h + 16}" text-anchor="middle" fill="#555">'
                       f"{escape(name)}</text>")
    if not has_data:
        out.append(f'<text x="{LEFT + plot_w / 2:.1f}" y="{TOP + plot_h / 2:.1f}" text-anchor="middle" '
                   f'fill="#777" class="no-data">{escape(NO_DATA.get(language, NO_DATA["vi"]))}</text>')
    elif chart.kind == "stacked":
        out.extend(_bars(chart, x, y, slot))
    else:
        out.extend(_lines(chart, x, y))
    out.extend(_legend(chart.series))
    out.append("</svg>")
    return "\n".join(out)


def _bars(chart: Chart, x, y, slot: float) -> List[str]:
    parts, width = [], max(2.0, min(28.0, slot * 0.7))
    for i, name in enumerate(chart.labels):
        base = 0.0
        for k, series in enumerate(chart.series):
            value = series.values[i] or 0
            if not value:
                continue
            top, bottom = y(base + value), y(base)
            parts.append(f'<rect class="bar" x="{x(i) - width / 2:.1f}" y="{top:.1f}" width="{width:.1f}" '
                         f'height="{bottom - top:.1f}" fill="{COLOURS[k % len(COLOURS)]}">'
                         f"<title>{escape(f'{name} · {series.name}: {_fmt(value)}')}</title></rect>")
            base += value
    return parts


def _lines(chart: Chart, x, y) -> List[str]:
    parts = []
    for k, series in enumerate(chart.series):
        colour = COLOURS[k % len(COLOURS)]
        for run in _runs(series.values):
            points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in run)
            if len(run) > 1:
                parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for i, value in enumerate(series.values):
            if value is not None:
                parts.append(f'<circle class="point" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3.5" fill="{colour}">'
                             f"<title>{escape(f'{chart.labels[i]} · {series.name}: {_fmt(value, chart.unit)}')}"
                             "</title></circle>")
    return parts


def _runs(values: Sequence[Optional[float]]):
    run = []
    for i, value in enumerate(values):
        if value is None:
            if run:
                yield run
            run = []
        else:
            run.append((i, value))
    if run:
        yield run


def _legend(series) -> List[str]:
    parts, cx, cy = [], LEFT, HEIGHT - 36
    for k, s in enumerate(series):
        width = 18 + 6.2 * len(s.name)
        if cx + width > WIDTH - RIGHT:
            cx, cy = LEFT, cy + 16
        parts.append(f'<rect x="{cx}" y="{cy - 9}" width="10" height="10" fill="{COLOURS[k % len(COLOURS)]}"/>')
        parts.append(f'<text x="{cx + 14}" y="{cy}" fill="#333" class="legend">{escape(s.name)}</text>')
        cx += width + 12
    return parts
