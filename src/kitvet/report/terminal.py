"""Terminal report: a summary and a table of findings (rich)."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from kitvet.model.finding import CLASS_LABELS
from kitvet.model.risk import FLAGGED_STATUSES
from kitvet.report.interface import ReportFormat
from kitvet.report.model import ReportModel, dated

STATUS_STYLE = {"ban": "bold red", "review": "yellow", "monitor": "cyan", "allow": "green"}


def summary_lines(model: ReportModel) -> list[str]:
    """The summary as rich-markup lines (also used by ``kitvet demo``)."""
    lines = [
        f"[bold]{escape(model.title)}[/]: {model.hosts} hosts, {model.software_items} software "
        f"items, {model.devices} devices; policy [bold]{escape(model.policy)}[/]; lists "
        + ", ".join(escape(f"{rl['name']} {rl['version']}") for rl in model.lists),
    ]
    if not model.findings:
        lines.append("findings: none")
    hosts = model.hosts_by_class
    for cls, s in model.by_class.items():
        lines.append(f"{escape(CLASS_LABELS.get(cls, cls))}: [bold red]{s['ban']} ban[/], "
                     f"[yellow]{s['review']} review[/], [cyan]{s['monitor']} monitor[/] on "
                     f"{hosts.get(cls, 0)} hosts")
    if model.skipped:
        lines.append(f"[dim]{len(model.skipped)} records skipped (see --format json)[/]")
    return lines


def render(model: ReportModel, *, width: int = 160, color: bool = False) -> str:
    """The review as text for a terminal."""
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=color, no_color=not color,
                      highlight=False)
    for line in summary_lines(model):
        console.print(line)
    if model.by_institution_class:
        inst = Table(title="Findings per institution and class", title_justify="left")
        inst.add_column("institution")
        inst.add_column("class")
        for st in FLAGGED_STATUSES:
            inst.add_column(st, justify="right", style=STATUS_STYLE[st])
        for name, classes in model.by_institution_class.items():
            for cls, counts in classes.items():
                inst.add_row(escape(name), escape(CLASS_LABELS.get(cls, cls)),
                             *(str(counts.get(st, 0)) for st in FLAGGED_STATUSES))
        console.print(inst)
    for cls, items in model.sections():
        t = Table(title=f"{CLASS_LABELS.get(cls, cls)}: {len(items)} finding"
                        f"{'s' if len(items) != 1 else ''}", title_justify="left",
                  show_lines=False)
        for col in ("status", "institution", "host", "item", "subject", "evidence", "authorities"):
            t.add_column(col, overflow="fold")
        for f in items:
            item = f["name"] + (f" {f['version']}" if f.get("version") else "")
            auth = "; ".join(f"{a['label']}: {a['authority']} ({dated(a)})"
                             + ("" if a["verified"] else " [unverified]")
                             for a in f["assertions"][:3])
            if len(f["assertions"]) > 3:
                auth += f"; +{len(f['assertions']) - 3} more"
            if f["exculpatory"]:
                auth += "; beside: " + "; ".join(
                    f"{a['label']}: {a['authority']} ({dated(a)})"
                    for a in f["exculpatory"])
            t.add_row(f"[{STATUS_STYLE.get(f['status'], '')}]{f['status']}[/]",
                      escape(f["institution"] or ""), escape(f["hostname"] or f["host_id"]),
                      escape(item), escape(f["subject_name"] or ""),
                      escape(f["explanation"] or ""), escape(auth))
        console.print(t)
    if not model.findings:
        console.print("[green]No findings.[/]")
    return buf.getvalue()


class TerminalFormat(ReportFormat):
    """A summary and a table of findings, for a terminal."""

    name = "table"
    description = "A summary and a table of findings, for a terminal."

    def render(self, model: ReportModel) -> str:
        """The report as text."""
        return render(model)
