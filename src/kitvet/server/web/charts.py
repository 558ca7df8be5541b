"""Charts drawn on the server as inline SVG (no JavaScript, no CDN); every label is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup, escape

from kitvet.model import STATUSES

COLOURS = {"ban": "#b3261e", "review": "#c77c02", "monitor": "#2f6fb0", "allow": "#3a7d44"}


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">'
            f"<title>{escape(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def status_bars(rows: Sequence[tuple[str, dict[str, int]]], *, title: str) -> Markup:
    """Stacked horizontal bars: one row per institution, segments by status."""
    label_w, bar_w, row_h, top = 190, 420, 30, 34
    width = label_w + bar_w + 60
    height = top + row_h * max(1, len(rows)) + 10
    peak = max([sum(c.values()) for _, c in rows] + [1])
    body = []
    x = label_w
    for status in STATUSES:  # legend
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{COLOURS[status]}"/>'
                    f'<text x="{x + 16}" y="17" class="legend">{status}</text>')
        x += 90
    if not rows:
        body.append(f'<text x="{label_w}" y="{top + 18}">no findings</text>')
    for i, (label, counts) in enumerate(rows):
        y = top + i * row_h
        short = label if len(label) <= 26 else label[:25] + "…"
        body.append(f'<text x="{label_w - 8}" y="{y + 18}" text-anchor="end">'
                    f"{escape(short)}</text>")
        x0 = float(label_w)
        for status in STATUSES:
            n = int(counts.get(status, 0))
            if not n:
                continue
            w = bar_w * n / peak
            body.append(f'<rect x="{x0:.1f}" y="{y + 4}" width="{w:.1f}" height="{row_h - 10}" '
                        f'fill="{COLOURS[status]}"><title>{escape(label)}: {n} {status}'
                        f"</title></rect>")
            x0 += w
        body.append(f'<text x="{x0 + 6:.1f}" y="{y + 18}">{sum(counts.values())}</text>')
    return _svg(width, height, title, body)


def burndown(points: Sequence[Any], *, title: str, due: str | None = None) -> Markup:
    """Hosts remaining (and affected) at each review, oldest left."""
    width, height, left, right, top, bottom = 640, 260, 50, 20, 20, 50
    pw, ph = width - left - right, height - top - bottom
    body = [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" class="axis"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" class="axis"/>']
    if not points:
        body.append(f'<text x="{left + 10}" y="{top + 30}">no progress recorded yet</text>')
        return _svg(width, height, title, body)
    peak = max([p.affected for p in points] + [1])
    n = len(points)

    def xy(i: int, v: int) -> tuple[float, float]:
        x = left + (pw * i / (n - 1) if n > 1 else pw / 2)
        return x, top + ph - ph * v / peak

    for series, cls in (("affected", "line-affected"), ("remaining", "line-remaining")):
        pts = " ".join("{:.1f},{:.1f}".format(*xy(i, getattr(p, series))) for i, p in enumerate(points))
        body.append(f'<polyline points="{pts}" class="{cls}" fill="none"/>')
    for i, p in enumerate(points):
        x, y = xy(i, p.remaining)
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" class="dot-remaining">'
                    f"<title>{escape(p.at[:16])}: {p.remaining} of {p.affected} remaining"
                    f"</title></circle>")
    body.append(f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>'
                f'<text x="{left - 6}" y="{top + ph}" text-anchor="end">0</text>'
                f'<text x="{left}" y="{height - 28}">{escape(points[0].at[:10])}</text>'
                f'<text x="{left + pw}" y="{height - 28}" text-anchor="end">'
                f"{escape(points[-1].at[:10])}</text>"
                f'<text x="{left}" y="{height - 8}" class="legend">'
                f'<tspan class="key-remaining">━ hosts remaining</tspan>  '
                f'<tspan class="key-affected">╌ hosts affected</tspan>'
                + (f"  · remove by {escape(due)}" if due else "") + "</text>")
    return _svg(width, height, title, body)
