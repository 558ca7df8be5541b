"""Charts the reports draw themselves: inline SVG, no script, no CDN; every label escaped.

Colours and fonts are attributes (not CSS classes) so the same SVG looks the same in a
browser, in a PDF rendered without one, and pasted into another document.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from kitvet.lists.format import printable
from kitvet.model import STATUSES

COLOURS = {"ban": "#b3261e", "review": "#c77c02", "monitor": "#2f6fb0", "allow": "#3a7d44"}
FONT = 'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11"'


def _e(text: object) -> Markup:
    """``text`` escaped for SVG, control characters shown as escapes."""
    return escape(printable(str(text)))


def _svg(width: int, height: int, title: str, body: list[str], css: str = "chart") -> Markup:
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{css}" role="img" '
            f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" {FONT}>'
            f"<title>{_e(title)}</title>")
    return Markup(head + "".join(body) + "</svg>")


def _short(label: str, n: int = 28) -> str:
    return label if len(label) <= n else label[:n - 1] + "…"


def _legend(x: int, y: int, statuses: Sequence[str] = STATUSES) -> list[str]:
    out = []
    for status in statuses:
        out.append(f'<rect x="{x}" y="{y}" width="11" height="11" fill="{COLOURS[status]}"/>'
                   f'<text x="{x + 15}" y="{y + 10}">{status}</text>')
        x += 80
    return out


def status_bars(rows: Sequence[tuple[str, dict[str, int]]], *, title: str) -> Markup:
    """Stacked horizontal bars: one row per institution, one segment per status."""
    label_w, bar_w, row_h, top = 190, 400, 26, 28
    width = label_w + bar_w + 60
    height = top + row_h * max(1, len(rows)) + 8
    peak = max([sum(c.values()) for _, c in rows] + [1])
    body = _legend(label_w, 4)
    if not rows:
        body.append(f'<text x="{label_w}" y="{top + 16}">no findings</text>')
    for i, (label, counts) in enumerate(rows):
        y = top + i * row_h
        body.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
                    f"{_e(_short(label))}</text>")
        x0 = float(label_w)
        for status in STATUSES:
            n = int(counts.get(status, 0))
            if not n:
                continue
            w = max(bar_w * n / peak, 1.5)
            body.append(f'<rect x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
                        f'fill="{COLOURS[status]}"><title>{_e(label)}: {n} {status}'
                        f"</title></rect>")
            x0 += w
        body.append(f'<text x="{x0 + 5:.1f}" y="{y + 15}">{sum(counts.values())}</text>')
    return _svg(width, height, title, body)


def _frame(width: int, height: int, left: int, top: int, pw: int, ph: int, peak: int,
           first: str, last: str) -> list[str]:
    axis = 'stroke="#566573" stroke-width="1"'
    return [f'<line x1="{left}" y1="{top + ph}" x2="{left + pw}" y2="{top + ph}" {axis}/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + ph}" {axis}/>',
            f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
            f'<text x="{left - 6}" y="{top + ph}" text-anchor="end">0</text>',
            f'<text x="{left}" y="{top + ph + 16}">{_e(first)}</text>',
            f'<text x="{left + pw}" y="{top + ph + 16}" text-anchor="end">{_e(last)}</text>']


def trend(points: Sequence[tuple[str, dict[str, int]]], *, title: str) -> Markup:
    """Findings present per day, one line per status (``points``: (day, status -> n))."""
    width, height, left, right, top, bottom = 640, 220, 46, 16, 26, 40
    pw, ph = width - left - right, height - top - bottom
    statuses = [s for s in STATUSES if any(c.get(s, 0) for _d, c in points)] or ["ban"]
    body = _legend(left, 4, statuses)
    if not points:
        body.append(f'<text x="{left + 10}" y="{top + 30}">no reviews in this period</text>')
        return _svg(width, height, title, body)
    peak = max([c.get(s, 0) for _d, c in points for s in statuses] + [1])
    n = len(points)
    body += _frame(width, height, left, top, pw, ph, peak, points[0][0], points[-1][0])

    def xy(i: int, v: int) -> tuple[float, float]:
        x = left + (pw * i / (n - 1) if n > 1 else pw / 2)
        return x, top + ph - ph * v / peak

    for s in statuses:
        pts = " ".join("{:.1f},{:.1f}".format(*xy(i, c.get(s, 0)))
                       for i, (_d, c) in enumerate(points))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{COLOURS[s]}" '
                    f'stroke-width="2"/>')
        for i, (d, c) in enumerate(points):
            x, y = xy(i, c.get(s, 0))
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{COLOURS[s]}">'
                        f"<title>{_e(d)}: {c.get(s, 0)} {s}</title></circle>")
    return _svg(width, height, title, body)


def burndown(points: Sequence[tuple[str, int, int]], *, title: str, due: str | None = None
             ) -> Markup:
    """Hosts remaining (solid) and affected (dashed) at each review (``points``: (at,
    affected, remaining)), oldest left; the axis starts at zero."""
    width, height, left, right, top, bottom = 640, 220, 46, 16, 14, 56
    pw, ph = width - left - right, height - top - bottom
    if not points:
        return _svg(width, height, title,
                    [f'<text x="{left + 10}" y="{top + 30}">no progress recorded yet</text>'])
    peak = max([p[1] for p in points] + [1])
    n = len(points)
    first, last = points[0][0][:10], points[-1][0][:10]
    if first == last:  # reviews of one day: show the times
        first, last = points[0][0][:16].replace("T", " "), points[-1][0][:16].replace("T", " ")
    body = _frame(width, height, left, top, pw, ph, peak, first, last)

    def xy(i: int, v: int) -> tuple[float, float]:
        x = left + (pw * i / (n - 1) if n > 1 else pw / 2)
        return x, top + ph - ph * v / peak

    for idx, colour, dash in ((1, "#7f8c8d", ' stroke-dasharray="5,4"'), (2, "#b3261e", "")):
        pts = " ".join("{:.1f},{:.1f}".format(*xy(i, int(p[idx]))) for i, p in enumerate(points))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" '
                    f'stroke-width="2"{dash}/>')
    for i, p in enumerate(points):
        x, y = xy(i, p[2])
        body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#b3261e">'
                    f"<title>{_e(p[0][:16])}: {p[2]} of {p[1]} remaining</title></circle>")
    body.append(f'<text x="{left}" y="{height - 10}">'
                f'<tspan fill="#b3261e">━ hosts remaining</tspan>  '
                f'<tspan fill="#7f8c8d">╌ hosts affected</tspan>'
                + (f"  · remove by {_e(due)}" if due else "") + "</text>")
    return _svg(width, height, title, body)
