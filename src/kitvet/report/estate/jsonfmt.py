"""The estate report as JSON, schema-versioned (``kitvet_estate_report``)."""

from __future__ import annotations

import json

from kitvet.report.estate.interface import EstateReportFormat
from kitvet.report.estate.model import ESTATE_REPORT_SCHEMA_VERSION, EstateReport


def render(report: EstateReport) -> str:
    """The report as a JSON document."""
    doc = {"kitvet_estate_report": ESTATE_REPORT_SCHEMA_VERSION, **report.to_dict()}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


class JsonFormat(EstateReportFormat):
    """JSON with a schema version (kitvet_estate_report)."""

    name = "json"
    description = "JSON with a schema version (kitvet_estate_report)."
    media_type = "application/json"
    suffix = ".json"

    def render(self, report: EstateReport) -> bytes:
        """The report as UTF-8 JSON."""
        return render(report).encode("utf-8")
