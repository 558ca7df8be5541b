"""The estate report as one self-contained HTML page: inline SVG charts, no script, no
network fetch; every estate-supplied string escaped (and control characters shown)."""

from __future__ import annotations

from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from kitvet.lists.format import printable
from kitvet.report import charts
from kitvet.report.estate.interface import EstateReportFormat
from kitvet.report.estate.model import EstateReport
from kitvet.report.estate.tabular import class_label

#: Silent hosts listed on the page (all are in the CSV, XLSX and JSON forms).
MAX_HOSTS_SHOWN = 200


def _finalize(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and not isinstance(value, Markup):
        return printable(value)
    return value


def environment() -> Environment:
    """The Jinja environment of kitvet's report templates (autoescaped, control characters
    shown as escapes)."""
    from kitvet.model import STATUSES
    from kitvet.report.html import CLASS_ABOUT

    env = Environment(loader=PackageLoader("kitvet.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      trim_blocks=True, lstrip_blocks=True, finalize=_finalize)
    env.globals.update(STATUSES=STATUSES, CLASS_ABOUT=CLASS_ABOUT)
    return env


def _sections(r: EstateReport) -> list[dict[str, Any]]:
    from kitvet.report.html import CLASS_ABOUT

    out = []
    for cls in r.classes:
        label = class_label(cls)
        rows: list[dict[str, Any]] = [
            {"institution": i.institution, "hosts": i.hosts, "counts": i.by_class.get(cls, {}),
             "unresolved": i.unresolved_by_class.get(cls, 0)}
            for i in r.institutions if any(i.by_class.get(cls, {}).values())]
        points = [(p.day, p.by_class.get(cls, {})) for p in r.trend]
        out.append({
            "cls": cls, "label": label, "about": CLASS_ABOUT.get(cls, ""),
            "totals": r.by_class(cls), "rows": rows,
            "unresolved": sum(x["unresolved"] for x in rows),
            "chart": charts.status_bars([(x["institution"], x["counts"]) for x in rows],
                                        title=f"{label}: live findings by institution and status"),
            "trend": charts.trend(points, title=f"{label}: findings present per day by status")
            if len(points) > 1 else None,
        })
    return out


def render(r: EstateReport) -> str:
    """The report as one HTML page."""
    campaigns = [{"c": c, "chart": charts.burndown(
        [(b.at, b.affected, b.remaining) for b in c.burndown],
        title=f"{c.subject_name}: hosts remaining at each review", due=c.remove_due)}
        for c in r.campaigns]
    return environment().get_template("estate.html.j2").render(
        r=r, sections=_sections(r), campaigns=campaigns, max_hosts=MAX_HOSTS_SHOWN,
        open_campaigns=sum(1 for c in r.campaigns if c.closed_at is None))


class HtmlFormat(EstateReportFormat):
    """One self-contained HTML page with charts (inline SVG)."""

    name = "html"
    description = "One self-contained HTML page with charts (inline SVG)."
    media_type = "text/html; charset=utf-8"
    suffix = ".html"

    def render(self, report: EstateReport) -> bytes:
        """The report as UTF-8 HTML."""
        return render(report).encode("utf-8")
