"""Charts as server-side SVG: pure functions from numbers to SVG markup (a string), for a closed
network — no script, no font, no image and no stylesheet is fetched from anywhere.

Every text is escaped (unit names and rule titles are data); the markup is well-formed XML, so a
chart can be inlined in a page or saved as an .svg file as it is. Labels are Chinese.
"""
from __future__ import annotations

import html
import math
from typing import Sequence

SVG_NS = "http://www.w3.org/2000/svg"  # the SVG namespace name: an identifier, never fetched
WIDTH = 720
FONT = "font-family=\"'Microsoft YaHei','PingFang SC','Noto Sans CJK SC',sans-serif\""
LIGHT_COLOURS = (("红", "#d9534f"), ("黄", "#f0ad4e"), ("绿", "#5cb85c"))
BAR = "#337ab7"
PREVIOUS = "#999999"
AXIS = "#cccccc"


def _e(text) -> str:
    """Text and attribute values, escaped for XML."""
    return html.escape("" if text is None else str(text), quote=True)


def _short(text: str, limit: int) -> str:
    text = "" if text is None else str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def nice_step(top: float, ticks: int = 4) -> int:
    """A round step (1, 2, 5 × 10ⁿ) so that ``ticks`` steps reach at least ``top``."""
    raw = max(top, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw:
            return max(1, int(m * power))
    return max(1, int(10 * power))


def _open(width: int, height: int, title: str, css_class: str) -> list[str]:
    return [f'<svg xmlns="{SVG_NS}" viewBox="0 0 {width} {height}" width="100%" '
            f'style="max-width:{width}px" role="img" aria-label="{_e(title)}" class="jishi-chart {css_class}" {FONT}>',
            f"<title>{_e(title)}</title>",
            f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" font-size="14" font-weight="bold">{_e(title)}</text>']


def _empty(width: int, height: int, title: str, css_class: str) -> str:
    parts = _open(width, height, title, css_class)
    parts.append(f'<text x="{width / 2:.0f}" y="{height / 2 + 10:.0f}" text-anchor="middle" font-size="12" '
                 f'fill="#777777">{_e("本期无数据")}</text>')
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(points: Sequence[tuple[str, int]], previous: Sequence[int] | None = None, *,
                title: str = "调整干部人数月度趋势", unit: str = "人") -> str:
    """Vertical bars per period (label, value); ``previous`` (same length) is drawn as a dashed line
    with points: the same month a year earlier (同比)."""
    width, height = WIDTH, 260
    if not points:
        return _empty(width, 120, title, "chart-trend")
    left, right, top, bottom = 44, 16, 44, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [int(v or 0) for _label, v in points]
    prev = [int(v or 0) for v in previous] if previous is not None else None
    step = nice_step(max(values + (prev or []) + [1]))
    ymax = step * 4
    n = len(points)
    slot = plot_w / n
    bar_w = max(2.0, min(36.0, slot * 0.6))

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / ymax

    parts = _open(width, height, title, "chart-trend")
    # legend
    parts.append(f'<rect x="{left}" y="27" width="10" height="10" fill="{BAR}"/>'
                 f'<text x="{left + 14}" y="36" font-size="11">{_e("本期")}</text>')
    if prev is not None:
        parts.append(f'<line x1="{left + 60}" y1="32" x2="{left + 78}" y2="32" stroke="{PREVIOUS}" '
                     f'stroke-dasharray="4 2" stroke-width="2"/>'
                     f'<text x="{left + 82}" y="36" font-size="11">{_e("去年同期")}</text>')
    parts.append(f'<text x="{width - right}" y="36" text-anchor="end" font-size="11" fill="#777777">'
                 f'{_e("单位：" + unit)}</text>')
    for i in range(5):  # grid and y labels
        v = step * i
        parts.append(f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" stroke="{AXIS}" '
                     f'stroke-width="{1 if i == 0 else 0.5}"/>'
                     f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="10">{v}</text>')
    every = max(1, math.ceil(n / 12))
    for i, ((label, _v), v) in enumerate(zip(points, values)):
        cx = left + slot * (i + 0.5)
        tip = f"{label}：{v}{unit}" + (f"（去年同期 {prev[i]}{unit}）" if prev is not None else "")
        parts.append(f'<g class="bar"><title>{_e(tip)}</title>'
                     f'<rect x="{cx - bar_w / 2:.1f}" y="{y(v):.1f}" width="{bar_w:.1f}" '
                     f'height="{top + plot_h - y(v):.1f}" fill="{BAR}"/></g>')
        if v and n <= 24:
            parts.append(f'<text x="{cx:.1f}" y="{y(v) - 3:.1f}" text-anchor="middle" font-size="10">{v}</text>')
        if i % every == 0:
            parts.append(f'<text x="{cx:.1f}" y="{top + plot_h + 16}" text-anchor="middle" font-size="10">'
                         f"{_e(label)}</text>")
    if prev is not None:
        coords = " ".join(f"{left + slot * (i + 0.5):.1f},{y(v):.1f}" for i, v in enumerate(prev))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="{PREVIOUS}" stroke-width="2" '
                     f'stroke-dasharray="4 2"/>')
        for i, v in enumerate(prev):
            parts.append(f'<circle cx="{left + slot * (i + 0.5):.1f}" cy="{y(v):.1f}" r="2.5" fill="{PREVIOUS}"/>')
    parts.append("</svg>")
    return "".join(parts)


def _hbars(rows: Sequence[tuple[str, Sequence[tuple[str, str, int]], str]], title: str, css_class: str,
           legend: Sequence[tuple[str, str]] = (), label_chars: int = 14) -> str:
    """Horizontal (stacked) bars: rows of (label, [(segment name, colour, value)], tooltip)."""
    width = WIDTH
    row_h, top, left, right = 22, 48 if legend else 32, 12 + 13 * label_chars, 60
    height = top + row_h * len(rows) + 12
    plot_w = width - left - right
    top_value = max([sum(v for _n, _c, v in segs) for _l, segs, _t in rows] + [1])
    parts = _open(width, height, title, css_class)
    x = left
    for name, colour in legend:
        parts.append(f'<rect x="{x}" y="27" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{x + 14}" y="36" font-size="11">{_e(name)}</text>')
        x += 60
    for i, (label, segments, tip) in enumerate(rows):
        y = top + row_h * i
        parts.append(f'<g class="row"><title>{_e(tip)}</title>'
                     f'<text x="{left - 6}" y="{y + 15}" text-anchor="end" font-size="11">'
                     f"{_e(_short(label, label_chars))}</text>")
        x = float(left)
        total = 0
        for name, colour, value in segments:
            w = plot_w * value / top_value
            if value:
                parts.append(f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" fill="{colour}">'
                             f"<title>{_e(f'{label} {name}：{value}')}</title></rect>")
            x += w
            total += value
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" font-size="11">{total}</text></g>')
    parts.append(f'<line x1="{left}" y1="{top - 2}" x2="{left}" y2="{top + row_h * len(rows)}" stroke="{AXIS}"/>')
    parts.append("</svg>")
    return "".join(parts)


def lights_chart(rows: Sequence[tuple[str, dict]], *, title: str = "各单位红黄绿灯案例数") -> str:
    """Stacked bars of 红 / 黄 / 绿 per unit: rows of (unit name, {"红": n, "黄": n, "绿": n})."""
    if not rows:
        return _empty(WIDTH, 120, title, "chart-lights")
    bars = []
    for label, counts in rows:
        segs = [(f"{name}灯", colour, int(counts.get(name, 0) or 0)) for name, colour in LIGHT_COLOURS]
        tip = f"{label}：" + "，".join(f"{n} {v}" for n, _c, v in segs)
        bars.append((label, segs, tip))
    return _hbars(bars, title, "chart-lights", legend=[(f"{n}灯", c) for n, c in LIGHT_COLOURS])


def rule_hits_chart(items: Sequence[tuple[str, str, int]], *, title: str = "命中最多的规则（前 10 条）") -> str:
    """Horizontal bars of (rule code, rule title, cases hit), most first."""
    if not items:
        return _empty(WIDTH, 120, title, "chart-rules")
    bars = [(f"{code} {name}", [("命中", BAR, int(n or 0))], f"{code} {name}：{n} 人") for code, name, n in items]
    return _hbars(bars, title, "chart-rules", label_chars=20)
