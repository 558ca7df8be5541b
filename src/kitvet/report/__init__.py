"""Reports: one small module per output format over the shared :class:`ReportModel`.

To add a format: write ``kitvet/report/<fmt>.py`` with a
:class:`~kitvet.report.interface.ReportFormat` subclass and add it to :data:`FORMATS` (another
package adds its own through the ``kitvet.report_formats`` entry point group, see
:mod:`kitvet.plugins`).
"""

from __future__ import annotations

from kitvet.errors import ReportError
from kitvet.plugins import Registry
from kitvet.report.interface import ReportFormat
from kitvet.report.model import ReportModel, build

#: format name -> "module:Class" (a ReportFormat)
FORMATS: Registry[ReportFormat] = Registry("kitvet.report_formats", {
    "table": "kitvet.report.terminal:TerminalFormat",
    "json": "kitvet.report.jsonfmt:JsonFormat",
    "csv": "kitvet.report.csvfmt:CsvFormat",
    "html": "kitvet.report.html:HtmlFormat",
    "sarif": "kitvet.report.sarif:SarifFormat",
    "pdf": "kitvet.report.pdf:PdfFormat",
}, kind=ReportFormat, what="report format", error=ReportError)


def report_format(name: str) -> ReportFormat:
    """The report format registered under ``name``."""
    return FORMATS.create(name)


def render_bytes(model: ReportModel, fmt: str) -> bytes:
    """Render the model in ``fmt`` as bytes (every format, binary ones included)."""
    return report_format(fmt).render_bytes(model)


def render(model: ReportModel, fmt: str) -> str:
    """Render the model in ``fmt`` (a text format)."""
    return report_format(fmt).render(model)


__all__ = ["FORMATS", "ReportFormat", "ReportModel", "build", "render", "render_bytes",
           "report_format"]
