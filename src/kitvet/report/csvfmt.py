"""CSV report, safe to open in a spreadsheet.

Cells that a spreadsheet would read as a formula (starting with ``= + - @``, or tab / carriage
return, per OWASP's CSV-injection guidance) are prefixed with a single quote.
"""

from __future__ import annotations

import csv
import io

from kitvet.report.interface import ReportFormat
from kitvet.report.model import ReportModel, dated

COLUMNS = (
    "finding_class", "status", "institution", "hostname", "host_id", "item_type", "name", "version", "publisher",
    "package_type", "path", "vendor_id", "product_id", "mac", "subject_id", "subject_name",
    "rule", "explanation", "assertions", "exculpatory", "source", "location", "finding_id",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    """A cell value a spreadsheet will show as text, never evaluate."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _assertions(items: list[dict]) -> str:
    return " | ".join(
        f"{a['label']}: {a['authority']}, {a['instrument']}, {dated(a)}"
        + ("" if a["verified"] else " (unverified)")
        for a in items
    )


def render(model: ReportModel) -> str:
    """The findings as CSV, one row per finding, class by class (never interleaved)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for f in (f for _cls, items in model.sections() for f in items):
        row = {**f, "assertions": _assertions(f["assertions"]),
               "exculpatory": _assertions(f["exculpatory"])}
        w.writerow([safe_cell(row.get(c)) for c in COLUMNS])
    return buf.getvalue()


class CsvFormat(ReportFormat):
    """One row per finding, safe to open in a spreadsheet."""

    name = "csv"
    description = "One row per finding, safe to open in a spreadsheet."

    def render(self, model: ReportModel) -> str:
        """The report as text."""
        return render(model)
