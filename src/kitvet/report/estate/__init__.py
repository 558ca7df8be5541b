"""Estate reports: the whole estate (or some institutions) for auditors and managers.

The estate builds an :class:`~kitvet.report.estate.model.EstateReport`; each format here is one
small module over it. Another package adds a format through the
``kitvet.estate_report_formats`` entry point group (see :mod:`kitvet.plugins`).
"""

from __future__ import annotations

from kitvet.errors import ReportError
from kitvet.plugins import Registry
from kitvet.report.estate.interface import EstateReportFormat
from kitvet.report.estate.model import EstateReport

#: format name -> "module:Class" (an EstateReportFormat)
ESTATE_FORMATS: Registry[EstateReportFormat] = Registry("kitvet.estate_report_formats", {
    "html": "kitvet.report.estate.html:HtmlFormat",
    "json": "kitvet.report.estate.jsonfmt:JsonFormat",
    "csv": "kitvet.report.estate.tabular:CsvFormat",
    "xlsx": "kitvet.report.estate.xlsx:XlsxFormat",
    "pdf": "kitvet.report.estate.pdf:PdfFormat",
}, kind=EstateReportFormat, what="estate report format", error=ReportError)


def estate_format(name: str) -> EstateReportFormat:
    """The estate report format registered under ``name``."""
    return ESTATE_FORMATS.create(name)


def render_estate(report: EstateReport, fmt: str) -> bytes:
    """The report in ``fmt`` as bytes."""
    return estate_format(fmt).render(report)


__all__ = ["ESTATE_FORMATS", "EstateReport", "EstateReportFormat", "estate_format",
           "render_estate"]
