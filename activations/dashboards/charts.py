"""Charts drawn on the server as inline SVG: no JavaScript, no network.

Every function returns SVG markup (``markupsafe.Markup``) that scales to the
width of its container (``viewBox`` + ``width=100%``). Text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

#: one colour per series, colour-blind friendly (Okabe-Ito, then Tableau tones)
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#7F7F7F",
    "#8C564B",
    "#17BECF",
    "#BCBD22",
    "#1F3A93",
)
AXIS = "#9aa3ad"
GRID = "#e6e9ed"
TEXT = "#44505c"

Formatter = Callable[[float], str]


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (low <= 0 <= high is kept when given)."""
    if high <= low:
        high = low + 1.0
    raw = (high - low) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    ticks = [round(math.floor(low / step) * step, 10)]
    while ticks[-1] < high - step * 1e-9 or len(ticks) < 2:
        ticks.append(round(ticks[-1] + step, 10))
    return ticks


def _svg(width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg" '
        f'preserveAspectRatio="xMidYMid meet">'
        f"<title>{escape(label)}</title>{''.join(body)}</svg>"
    )


def _text(
    x: float,
    y: float,
    text: str,
    *,
    anchor: str = "start",
    size: int = 11,
    fill: str = TEXT,
    weight: str = "normal",
    cls: str = "",
) -> str:
    class_attr = f' class="{cls}"' if cls else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" '
        f'fill="{fill}" font-weight="{weight}"{class_attr}>{escape(text)}</text>'
    )


def empty(label: str, message: str, *, width: int = 640, height: int = 120) -> Markup:
    return _svg(
        width,
        height,
        [
            f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" rx="8" '
            f'fill="#f7f8fa" stroke="{GRID}"/>',
            _text(width / 2, height / 2 + 4, message, anchor="middle", size=13),
        ],
        label,
    )


def stacked_columns(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    *,
    label: str,
    fmt: Formatter,
    width: int = 640,
    height: int = 300,
) -> Markup:
    """Vertical stacked columns: one column per category, one stack segment per series."""
    if not categories or not series:
        return empty(label, "No data yet", width=width, height=min(height, 160))
    left, right, top, bottom = 64, 12, 12, 28
    totals = [sum(max(s[1][i], 0) for s in series) for i in range(len(categories))]
    ticks = nice_ticks(0, max(totals) or 1)
    top_value = ticks[-1]
    plot_h = height - top - bottom
    plot_w = width - left - right
    slot = plot_w / len(categories)
    bar_w = min(56.0, slot * 0.62)

    def y(value: float) -> float:
        return top + plot_h - plot_h * value / top_value

    body: list[str] = []
    for tick in ticks:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y(tick) + 4, fmt(tick), anchor="end", size=10))
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - bar_w) / 2
        base = 0.0
        for j, (name, values) in enumerate(series):
            value = max(values[i], 0)
            if value <= 0:
                continue
            y_top, y_base = y(base + value), y(base)
            body.append(
                f'<rect x="{x:.1f}" y="{y_top:.1f}" width="{bar_w:.1f}" '
                f'height="{max(y_base - y_top, 0.5):.1f}" fill="{color(j)}">'
                f"<title>{escape(category)} · {escape(name)}: {escape(fmt(value))}</title></rect>"
            )
            base += value
        body.append(
            _text(
                x + bar_w / 2,
                y(totals[i]) - 4,
                fmt(totals[i]),
                anchor="middle",
                size=10,
                weight="600",
            )
        )
        body.append(_text(x + bar_w / 2, height - 10, category, anchor="middle", size=11))
    body.append(
        f'<line x1="{left}" x2="{width - right}" y1="{y(0):.1f}" y2="{y(0):.1f}" stroke="{AXIS}"/>'
    )
    return _svg(width, height, body, label)


def funnel(
    steps: Sequence[tuple[str, float]], *, label: str, fmt: Formatter, width: int = 640
) -> Markup:
    """Horizontal bars, widest first, with the conversion from the previous step."""
    if not steps or not steps[0][1]:
        return empty(label, "No newsletter activity yet")
    row_h, gap, left = 34, 12, 170
    height = len(steps) * (row_h + gap) + 4
    plot_w = width - left - 120
    first = steps[0][1] or 1
    body: list[str] = []
    for i, (name, value) in enumerate(steps):
        y = i * (row_h + gap) + 2
        w = max(plot_w * value / first, 2)
        body.append(_text(left - 10, y + row_h / 2 + 4, name, anchor="end", size=12))
        body.append(
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row_h}" rx="4" '
            f'fill="{color(0)}" fill-opacity="{1 - i * 0.17:.2f}"/>'
        )
        note = fmt(value)
        if i > 0 and steps[i - 1][1]:
            note += f"  ({value / steps[i - 1][1]:.1%} of previous)"
        body.append(_text(left + w + 8, y + row_h / 2 + 4, note, size=12, weight="600"))
    return _svg(width, height, body, label)


def line(
    points: Sequence[tuple[str, float]],
    *,
    label: str,
    fmt: Formatter,
    width: int = 640,
    height: int = 200,
) -> Markup:
    """A line over ordered points (x labels shown at the ends and the middle)."""
    if not points:
        return empty(label, "No data yet", height=height)
    left, right, top, bottom = 56, 14, 12, 26
    values = [v for _, v in points]
    ticks = nice_ticks(min(0, min(values)), max(values) or 1, 4)
    low, high = ticks[0], ticks[-1]
    plot_w, plot_h = width - left - right, height - top - bottom

    def xy(i: int, v: float) -> tuple[float, float]:
        x = left + (plot_w * i / (len(points) - 1) if len(points) > 1 else plot_w / 2)
        return x, top + plot_h - plot_h * (v - low) / (high - low)

    body: list[str] = []
    for tick in ticks:
        _, ty = xy(0, tick)
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, ty + 4, fmt(tick), anchor="end", size=10))
    coords = [xy(i, v) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coords)
    area = f"{coords[0][0]:.1f},{xy(0, low)[1]:.1f} {path} {coords[-1][0]:.1f},{xy(0, low)[1]:.1f}"
    body.append(f'<polygon points="{area}" fill="{color(0)}" fill-opacity="0.10"/>')
    body.append(f'<polyline points="{path}" fill="none" stroke="{color(0)}" stroke-width="2"/>')
    for i in sorted({0, len(points) // 2, len(points) - 1}):
        x, _ = coords[i]
        anchor = "start" if i == 0 else "end" if i == len(points) - 1 else "middle"
        body.append(_text(x, height - 8, points[i][0], anchor=anchor, size=10))
    x, y = coords[-1]
    body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color(0)}"/>')
    return _svg(width, height, body, label)


def paired_bars(
    groups: Sequence[tuple[str, float, float, str]],
    *,
    label: str,
    fmt: Formatter,
    width: int = 640,
) -> Markup:
    """For each A/B test: two horizontal bars (A and B) and the verdict on the right."""
    if not groups:
        return empty(label, "No A/B test yet")
    row_h, left, right = 15, 210, 130
    block = 2 * row_h + 18
    height = len(groups) * block + 4
    top_value = max(max(a, b) for _, a, b, _ in groups) or 1
    plot_w = width - left - right
    body: list[str] = []
    for i, (name, a, b, verdict) in enumerate(groups):
        y = i * block + 4
        short = name if len(name) <= 32 else name[:31] + "…"
        body.append(_text(left - 10, y + row_h + 4, short, anchor="end", size=11, weight="600"))
        for j, (variant, value) in enumerate((("A", a), ("B", b))):
            yy = y + j * (row_h + 2)
            w = max(plot_w * value / top_value, 1.5)
            body.append(
                f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="{row_h}" rx="3" '
                f'fill="{color(j)}"/>'
            )
            body.append(_text(left + w + 6, yy + row_h - 3, f"{variant}  {fmt(value)}", size=10))
        body.append(
            _text(
                width - 4,
                y + row_h + 4,
                verdict,
                anchor="end",
                size=11,
                weight="600",
                fill="#1b7f3b" if verdict.startswith("winner") else TEXT,
            )
        )
    return _svg(width, height, body, label)


def intervals(
    items: Sequence[tuple[str, float | None, float | None, float | None]],
    *,
    label: str,
    fmt: Formatter,
    width: int = 640,
    notes: Sequence[tuple[str, str]] = (),
) -> Markup:
    """A forest plot: each item's estimate with its interval, around a zero line.

    notes: (name, text) rows drawn under the plot with the text instead of a point,
    e.g. a program with no control group."""
    shown = [
        (name, float(est), float(lo), float(hi))
        for name, est, lo, hi in items
        if est is not None and lo is not None and hi is not None
    ]
    if not shown and not notes:
        return empty(label, "No treated and control groups yet")
    row_h, left, right, top = 26, 170, 16, 8
    plot_h = len(shown) * row_h + 26 if shown else 0
    height = top + plot_h + len(notes) * row_h + (8 if notes else 0)
    ticks = (
        nice_ticks(min(0.0, *(i[2] for i in shown)), max(0.0, *(i[3] for i in shown)), 5)
        if shown
        else []
    )
    lo, hi = (ticks[0], ticks[-1]) if ticks else (0.0, 1.0)
    plot_w = width - left - right

    def x(v: float) -> float:
        return left + plot_w * (v - lo) / (hi - lo)

    body: list[str] = []
    bottom = top + len(shown) * row_h
    for tick in ticks:
        body.append(
            f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{top}" y2="{bottom}" '
            f'stroke="{GRID}"/>'
        )
        body.append(_text(x(tick), bottom + 16, fmt(tick), anchor="middle", size=10))
    body.append(
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{top}" y2="{bottom}" '
        f'stroke="{AXIS}" stroke-dasharray="4 3"/>'
    )
    for i, (name, estimate, low_v, high_v) in enumerate(shown):
        cy = top + i * row_h + row_h / 2
        c = "#1b7f3b" if low_v > 0 else "#b3261e" if high_v < 0 else color(0)
        body.append(_text(left - 10, cy + 4, name, anchor="end", size=11))
        body.append(
            f'<line x1="{x(low_v):.1f}" x2="{x(high_v):.1f}" y1="{cy:.1f}" '
            f'y2="{cy:.1f}" stroke="{c}" stroke-width="2"/>'
        )
        for end in (low_v, high_v):
            body.append(
                f'<line x1="{x(end):.1f}" x2="{x(end):.1f}" y1="{cy - 5:.1f}" '
                f'y2="{cy + 5:.1f}" stroke="{c}" stroke-width="2"/>'
            )
        body.append(
            f'<circle cx="{x(estimate):.1f}" cy="{cy:.1f}" r="4.5" fill="{c}">'
            f"<title>{escape(name)}: {escape(fmt(estimate))} "
            f"[{escape(fmt(low_v))}, {escape(fmt(high_v))}]</title></circle>"
        )
    if not shown:
        body.clear()
    for i, (name, note) in enumerate(notes):
        cy = top + plot_h + 8 + i * row_h + row_h / 2
        body.append(_text(left - 10, cy + 4, name, anchor="end", size=11))
        body.append(_text(left, cy + 4, note, size=11, fill=AXIS, cls="note"))
    return _svg(width, height, body, label)


def columns(
    items: Sequence[tuple[str, float]],
    *,
    label: str,
    fmt: Formatter,
    width: int = 640,
    height: int = 200,
) -> Markup:
    """Simple vertical columns with their value on top."""
    if not items or not any(v for _, v in items):
        return empty(label, "No data yet", height=height)
    return stacked_columns(
        [name for name, _ in items],
        [(label, [v for _, v in items])],
        label=label,
        fmt=fmt,
        width=width,
        height=height,
    )
