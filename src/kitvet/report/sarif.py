"""SARIF 2.1.0 report: one rule per subject, one result per finding."""

from __future__ import annotations

import json
from typing import Any

from kitvet import __version__
from kitvet.model.finding import CLASS_LABELS
from kitvet.report.interface import ReportFormat
from kitvet.report.model import ReportModel, dated

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVEL = {"ban": "error", "review": "warning", "monitor": "note", "allow": "none"}


def render(model: ReportModel) -> str:
    """The findings as a SARIF 2.1.0 log."""
    rules: dict[str, dict] = {}
    results: list[dict[str, Any]] = []
    for f in (f for _cls, items in model.sections() for f in items):
        if f["subject_id"] not in rules:
            accuse = "; ".join(f"{a['label']} ({a['authority']}, {dated(a)})"
                               for a in f["assertions"])
            rules[f["subject_id"]] = {
                "id": f["subject_id"],
                "name": f["subject_name"],
                "shortDescription": {"text": f["subject_name"]},
                "fullDescription": {"text": accuse or f["subject_name"]},
                "properties": {"tags": [f.get("finding_class") or "unclassified"],
                               "findingClass": f.get("finding_class"),
                               "assertions": f["assertions"], "exculpatory": f["exculpatory"]},
            }
        file, _, line = (f.get("location") or f.get("source") or f["host_id"]).rpartition(":")
        region = {"startLine": int(line)} if line.isdigit() and file else None
        loc: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": file if region else
                                                          (f.get("location") or f["host_id"])}}}
        if region:
            loc["physicalLocation"]["region"] = region
        loc["logicalLocations"] = [{"name": f["hostname"] or f["host_id"], "kind": "host"}]
        results.append({
            "ruleId": f["subject_id"],
            "level": _LEVEL.get(f["status"], "note"),
            "message": {"text": f"{f['status'].upper()} "
                                f"({CLASS_LABELS.get(f.get('finding_class') or '', 'unclassified')})"
                                f": {f['name']} on "
                                f"{f['hostname'] or f['host_id']} — {f['explanation']}"},
            "locations": [loc],
            "partialFingerprints": {"kitvetFinding/v1": f["finding_id"]},
            "properties": {"findingClass": f.get("finding_class"),
                           "status": f["status"], "rule": f["rule"], "institution":
                           f["institution"], "matched": f["matched"]},
        })
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kitvet", "version": __version__,
                                "rules": list(rules.values())}},
            "results": results,
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


class SarifFormat(ReportFormat):
    """SARIF 2.1.0 for code-scanning dashboards."""

    name = "sarif"
    description = "SARIF 2.1.0 for code-scanning dashboards."

    def render(self, model: ReportModel) -> str:
        """The report as text."""
        return render(model)
