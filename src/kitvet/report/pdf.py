"""PDF report: the HTML report printed by headless Chromium (the same page, charts included).

Chromium is found as ``$KITVET_CHROMIUM``, ``chromium``, ``chromium-browser`` or
``google-chrome`` on PATH; without one, a clear :class:`ReportError` says what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kitvet.errors import ReportError
from kitvet.report.interface import ReportFormat
from kitvet.report.model import ReportModel

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--no-pdf-header-footer",
)


def find_chromium() -> str | None:
    """Path of a Chromium binary, or None."""
    env = os.environ.get("KITVET_CHROMIUM")
    if env:
        return env if Path(env).exists() else shutil.which(env)
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_pdf(model: ReportModel, *, timeout: float = 120.0) -> bytes:
    """The HTML report printed to PDF."""
    from kitvet.report.html import render as render_html

    chromium = find_chromium()
    if chromium is None:
        raise ReportError("PDF reports need Chromium (Debian/Ubuntu package 'chromium'); "
                          "install it or set KITVET_CHROMIUM, or use --format html")
    with tempfile.TemporaryDirectory(prefix="kitvet-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_text(render_html(model, expand=True), encoding="utf-8")
        cmd = [chromium, *FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}",
               page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise ReportError(f"Chromium could not print the report: {e}") from e
        if not out.exists() or out.stat().st_size == 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ReportError(f"Chromium could not print the report: {err[0]}")
        return out.read_bytes()


class PdfFormat(ReportFormat):
    """The HTML report printed to PDF by Chromium (written only to a file)."""

    name = "pdf"
    description = "The HTML report printed to PDF by Chromium (written only to a file)."
    binary = True

    def render_bytes(self, model: ReportModel) -> bytes:
        """The report as a PDF document."""
        return render_pdf(model)
