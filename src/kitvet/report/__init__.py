"""Reports: one small module per output format over the shared :class:`ReportModel`.

To add a format: write ``kitvet/report/<fmt>.py`` with ``render(model) -> str`` and add it
to :data:`FORMATS`.
"""

from __future__ import annotations

import importlib

from kitvet.errors import ReportError
from kitvet.report.model import ReportModel, build

#: format name -> module with render(model: ReportModel) -> str
FORMATS: dict[str, str] = {
    "table": "kitvet.report.terminal",
    "json": "kitvet.report.jsonfmt",
    "csv": "kitvet.report.csvfmt",
    "html": "kitvet.report.html",
    "sarif": "kitvet.report.sarif",
}


def render(model: ReportModel, fmt: str) -> str:
    """Render the model in ``fmt``."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    return importlib.import_module(FORMATS[fmt]).render(model)


__all__ = ["FORMATS", "ReportModel", "build", "render"]
