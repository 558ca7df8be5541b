"""PDF reports are the HTML report printed by real Chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.report.pdf import find_chromium

SMALL = str(Path(__file__).parents[1] / "cli" / "fixtures" / "estate-small.json")
pytestmark = pytest.mark.browser


@pytest.mark.skipif(find_chromium() is None, reason="Chromium not installed (Debian package chromium)")
def test_pdf_report_prints_findings_and_open_assertions(tmp_path):
    out = tmp_path / "report.pdf"
    r = CliRunner().invoke(main, ["review", SMALL, "--format", "pdf", "-o", str(out),
                                  "--fail-on", "none"])
    assert r.exit_code == 0, r.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-") and len(data) > 10_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert "xz-utils" in text and "Agency" in text
        # assertions are printed open: the authority behind the Kaspersky finding is on paper
        assert "European Commission" in text


def test_pdf_needs_an_output_file():
    r = CliRunner().invoke(main, ["review", SMALL, "--format", "pdf"])
    assert r.exit_code == 2 and "-o FILE" in r.output


def test_pdf_without_chromium_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KITVET_CHROMIUM", str(tmp_path / "no-such-chromium"))
    r = CliRunner().invoke(main, ["review", SMALL, "--format", "pdf", "-o", str(tmp_path / "r.pdf")])
    assert r.exit_code == 2
    assert "PDF reports need Chromium" in r.output
    assert not (tmp_path / "r.pdf").exists()
