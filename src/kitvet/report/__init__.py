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


#: formats whose output is bytes, written only to a file
BINARY_FORMATS: dict[str, str] = {"pdf": "kitvet.report.pdf:render_pdf"}


def render_bytes(model: ReportModel, fmt: str) -> bytes:
    """Render the model in ``fmt`` as bytes (every format, binary ones included)."""
    if fmt in BINARY_FORMATS:
        module, fn = BINARY_FORMATS[fmt].split(":")
        return getattr(importlib.import_module(module), fn)(model)
    return render(model, fmt).encode("utf-8")


def render(model: ReportModel, fmt: str) -> str:
    """Render the model in ``fmt``."""
    if fmt in BINARY_FORMATS:
        raise ReportError(f"{fmt} is a binary format: write it to a file with -o")
    if fmt not in FORMATS:
        raise ReportError(f"unknown report format {fmt!r} (known: {', '.join(FORMATS)})")
    return importlib.import_module(FORMATS[fmt]).render(model)


__all__ = ["BINARY_FORMATS", "FORMATS", "ReportModel", "build", "render", "render_bytes"]
