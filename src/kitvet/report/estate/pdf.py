"""The estate report as PDF: the HTML page rendered by WeasyPrint, without a browser."""

from __future__ import annotations

from kitvet.report.estate.html import render as render_html
from kitvet.report.estate.interface import EstateReportFormat
from kitvet.report.estate.model import EstateReport
from kitvet.report.weasy import html_to_pdf


class PdfFormat(EstateReportFormat):
    """The HTML page as PDF, rendered without a browser (charts included)."""

    name = "pdf"
    description = "The HTML page as PDF, rendered without a browser (charts included)."
    media_type = "application/pdf"
    suffix = ".pdf"

    def render(self, report: EstateReport) -> bytes:
        """The report as a PDF document."""
        return html_to_pdf(render_html(report))
