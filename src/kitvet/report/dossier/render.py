"""The dossier laid out: one HTML page (assertions for and against side by side) and its PDF
rendered without a browser."""

from __future__ import annotations

from kitvet.report import charts
from kitvet.report.dossier.model import Dossier
from kitvet.report.estate.html import environment
from kitvet.report.estate.tabular import class_label
from kitvet.report.model import KIND_LABELS
from kitvet.report.weasy import html_to_pdf


def render_html(d: Dossier, *, digest: str, key_id: str) -> str:
    """The dossier as one self-contained HTML page."""
    campaigns = [{"c": c, "chart": charts.burndown(
        [(b.at, b.affected, b.remaining) for b in c.burndown],
        title=f"{d.subject_name}: hosts remaining at each review", due=c.remove_due)}
        for c in d.campaigns]
    exposure = charts.status_bars([(e.institution, e.by_status) for e in d.exposure],
                                  title=f"{d.subject_name}: live findings by institution")
    return environment().get_template("dossier.html.j2").render(
        d=d, dec=d.decision, campaigns=campaigns, exposure_chart=exposure, digest=digest,
        key_id=key_id, kind_labels=KIND_LABELS,
        class_label=class_label(d.finding_class) if d.finding_class else "")


def render_pdf(d: Dossier, *, digest: str, key_id: str) -> bytes:
    """The dossier as a PDF document."""
    return html_to_pdf(render_html(d, digest=digest, key_id=key_id))
