"""The interface of an estate report format: an :class:`EstateReport` in, a document out."""

from __future__ import annotations

from kitvet.report.estate.model import EstateReport


class EstateReportFormat:
    """One output format of the estate report."""

    #: Format name used by ``--format`` and in download URLs.
    name: str = ""
    #: One line for the docs and ``--help``.
    description: str = ""
    #: Media type of the document (the server's downloads send it).
    media_type: str = "application/octet-stream"
    #: File name suffix, with its dot.
    suffix: str = ""

    def render(self, report: EstateReport) -> bytes:
        """The report as a document."""
        raise NotImplementedError
