"""JSON report, schema-versioned (``kitvet_report``)."""

from __future__ import annotations

import json

from kitvet.report.interface import ReportFormat
from kitvet.report.model import REPORT_SCHEMA_VERSION, ReportModel, generator


def render(model: ReportModel) -> str:
    """The review as a JSON document."""
    doc = {
        "kitvet_report": REPORT_SCHEMA_VERSION,
        "generator": generator(),
        "generated_at": model.generated_at,
        "policy": model.policy,
        "lists": model.lists,
        "summary": {
            "hosts": model.hosts,
            "hosts_with_findings": model.hosts_with_findings,
            "software_items": model.software_items,
            "devices": model.devices,
            "findings": len(model.findings),
            "by_status": model.by_status,
            "by_class": model.by_class,
            "by_institution": model.by_institution,
            "skipped": len(model.skipped),
        },
        "findings": model.findings,
        "skipped": model.skipped,
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


class JsonFormat(ReportFormat):
    """JSON with a schema version (kitvet_report)."""

    name = "json"
    description = "JSON with a schema version (kitvet_report)."

    def render(self, model: ReportModel) -> str:
        """The report as text."""
        return render(model)
