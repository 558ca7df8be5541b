"""Self-contained HTML report: no network fetches, every host-supplied string escaped.

Findings are grouped by institution and status; a stacked bar chart (inline SVG) shows the
counts per institution.
"""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from kitvet import __version__
from kitvet.model.finding import CLASS_LABELS
from kitvet.model.risk import FLAGGED_STATUSES, STATUSES
from kitvet.report.interface import ReportFormat
from kitvet.report.model import ReportModel

#: What each class means, under its heading (a reader must not take one for another).
CLASS_ABOUT = {
    "confirmed-malicious": "Builds, packages or files shown to be malicious.",
    "incident": "Signs that an attack has already happened on the host.",
    "high-risk-vendor": "What authorities said of the makers: listings, warnings, orders. "
                        "An allegation is not a confirmation.",
    "vulnerability": "Installed versions with published vulnerabilities (known-exploited ones "
                     "first): dangerous, not an accusation against the maker. Update them.",
    "end-of-life": "Releases their makers no longer support: no more security fixes. "
                   "Dangerous, not an accusation against the maker. Upgrade them.",
}

STATUS_COLOR = {"ban": "#c0392b", "review": "#d68910", "monitor": "#2874a6", "allow": "#1e8449"}


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("kitvet.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=lambda v: "" if v is None else v,  # a missing field prints nothing, not "None"
    )
    env.globals.update(STATUSES=STATUSES, FLAGGED_STATUSES=FLAGGED_STATUSES,
                       STATUS_COLOR=STATUS_COLOR, version=__version__)
    return env


def bar_chart(by_institution: dict[str, dict[str, int]], *, width: int = 640) -> dict:
    """Geometry of a horizontal stacked bar chart (rendered as SVG by the template)."""
    bar_h, gap, label_w = 22, 8, 200
    top = max((sum(c.values()) for c in by_institution.values()), default=0) or 1
    scale = (width - label_w - 60) / top
    bars = []
    for i, (name, counts) in enumerate(by_institution.items()):
        x: float = label_w
        segs = []
        for st in STATUSES:
            n = counts.get(st, 0)
            if n:
                segs.append({"x": x, "w": max(n * scale, 2), "status": st, "n": n,
                             "color": STATUS_COLOR[st]})
                x += n * scale
        bars.append({"y": i * (bar_h + gap), "name": name, "segs": segs,
                     "total": sum(counts.values()), "end": x})
    return {"width": width, "height": max(len(bars), 1) * (bar_h + gap), "bar_h": bar_h,
            "label_w": label_w, "bars": bars}


def render(model: ReportModel, *, expand: bool = False) -> str:
    """The review as one HTML page (``expand``: assertions shown open, for print/PDF).

    Each finding class has its own section, counts and chart (classes are never summed)."""
    sections = []
    for cls, items in model.sections():
        groups: dict[str, dict[str, list]] = {}
        per_inst: dict[str, dict[str, int]] = {}
        for f in items:
            inst = f["institution"] or "(no institution)"
            groups.setdefault(inst, {}).setdefault(f["status"], []).append(f)
            counts = per_inst.setdefault(inst, {})
            counts[f["status"]] = counts.get(f["status"], 0) + 1
        sections.append({"cls": cls, "label": CLASS_LABELS.get(cls, cls),
                         "about": CLASS_ABOUT.get(cls, ""), "count": len(items),
                         "by_status": model.by_class[cls],
                         "hosts": model.hosts_by_class.get(cls, 0),
                         "groups": dict(sorted(groups.items())),
                         "chart": bar_chart(dict(sorted(per_inst.items())))})
    template = _env().get_template("report.html.j2")
    return template.render(m=model, sections=sections, expand=expand)


class HtmlFormat(ReportFormat):
    """One self-contained HTML page with charts."""

    name = "html"
    description = "One self-contained HTML page with charts."

    def render(self, model: ReportModel) -> str:
        """The report as text."""
        return render(model)
