"""The interface every report format implements: the shared :class:`ReportModel` in, a
document out.

A text format implements :meth:`ReportFormat.render`; a binary one (PDF) sets ``binary`` and
implements :meth:`ReportFormat.render_bytes`, and is written only to a file.
"""

from __future__ import annotations

from kitvet.errors import ReportError
from kitvet.report.model import ReportModel


class ReportFormat:
    """One output format of a review report."""

    #: Format name used by ``--format`` (e.g. "json", "sarif").
    name: str = ""
    #: One line for the docs and ``--help``.
    description: str = ""
    #: True for a format whose output is bytes (written only to a file).
    binary: bool = False

    def render(self, model: ReportModel) -> str:
        """The report as text."""
        raise ReportError(f"{self.name} is a binary format: write it to a file with -o")

    def render_bytes(self, model: ReportModel) -> bytes:
        """The report as bytes (UTF-8 text for a text format)."""
        return self.render(model).encode("utf-8")
