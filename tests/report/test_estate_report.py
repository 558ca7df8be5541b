"""``kitvet estate report``: per institution, class and status (classes never summed), the
trend, campaigns and burndowns, exceptions expiring, hosts not reporting — in HTML, JSON, CSV,
XLSX and PDF, with hostile names escaped in each."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest


def _json(kv, *args: str) -> dict:
    return json.loads(kv("estate", "report", "--format", "json", *args))


def test_json_counts_per_institution_class_and_status(history):
    doc = _json(history)
    assert doc["kitvet_estate_report"] == "1.0.0"
    insts = {i["institution"]: i for i in doc["institutions"]}
    assert set(insts) == {"Agency", "Parliament", "+Ops <b>Unit</b>"}
    # ag-1 still has xz-utils (a banned, confirmed-malicious build); pa-1 was cleaned
    assert insts["Agency"]["by_class"]["confirmed-malicious"] == {"ban": 1}
    assert "confirmed-malicious" not in insts["Parliament"]["by_class"]
    # Kaspersky is a high-risk vendor, never counted as confirmed malicious
    assert insts["Parliament"]["by_class"]["high-risk-vendor"]["review"] == 2
    assert doc["totals_by_class"]["confirmed-malicious"]["ban"] == 1
    assert doc["classes"] == ["confirmed-malicious", "high-risk-vendor"]
    # ag-silent reported once, on 2026-11-01: 30 days before the pinned today
    assert [(h["host_id"], h["days_silent"]) for h in doc["silent_hosts"]] == [("ag-silent", 30)]
    assert insts["Agency"]["hosts"] == 2 and insts["Agency"]["hosts_reporting"] == 1


def test_trend_campaign_and_exceptions(history):
    doc = _json(history)
    days = {p["day"]: p["by_class"] for p in doc["trend"]}
    assert list(days) == ["2026-11-01", "2026-11-27", "2026-12-01"]
    assert days["2026-11-01"]["confirmed-malicious"]["ban"] == 4  # xz + liblzma on 2 hosts
    assert days["2026-11-27"]["confirmed-malicious"]["ban"] == 1
    camp = doc["campaigns"][0]
    assert camp["subject_id"] == "xz-utils-backdoor-2024"
    assert {p["institution"]: p["remaining"] for p in camp["institutions"]} == {
        "Agency": 1, "Parliament": 0}
    assert [b["remaining"] for b in camp["burndown"]] == [2, 1]  # at the start, then
    exc = doc["exceptions"]
    assert [(e["subject_id"], e["expires"], e["days_left"]) for e in exc] == [
        ("kaspersky-lab", "2026-12-10", 9)]
    # --since moves the trend's start; --expiring-days narrows what is listed
    later = _json(history, "--since", "2026-11-15", "--expiring-days", "5")
    assert [p["day"] for p in later["trend"]] == ["2026-11-15", "2026-11-27", "2026-12-01"]
    assert later["trend"][0]["by_class"]["confirmed-malicious"]["ban"] == 4
    assert later["exceptions"] == []


def test_institution_scopes_every_part(history):
    doc = _json(history, "--institution", "Parliament")
    assert doc["scope"] == ["Parliament"]
    assert [i["institution"] for i in doc["institutions"]] == ["Parliament"]
    assert doc["silent_hosts"] == []  # ag-silent is the Agency's
    assert [p["institution"] for p in doc["campaigns"][0]["institutions"]] == ["Parliament"]
    assert "Agency" not in json.dumps(doc)
    assert doc["trend"][-1]["by_class"].get("confirmed-malicious") is None
    assert "no institution 'Nowhere'" in history("estate", "report", "--institution",
                                                  "Nowhere", code=2)


def test_html_is_self_contained_with_charts_and_escaped(history, hostile):
    html = history("estate", "report")
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|src=\"http|href=\"http|@import", html)
    assert "&lt;script&gt;alert" in html
    assert "+Ops &lt;b&gt;Unit&lt;/b&gt;" in html and "<b>Unit</b>" not in html
    # one section per class, each with its own chart; a trend and a burndown are drawn
    assert html.count('<section class="class"') == 2
    assert html.count("<svg") >= 5
    assert "findings present per day" in html and "hosts remaining at each review" in html
    assert "ag-silent" in html and "kaspersky-lab" in html


def test_csv_is_safe_for_spreadsheets(history, hostile):
    text = history("estate", "report", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    sections = {r["section"] for r in rows}
    assert sections == {"summary", "trend", "campaign", "burndown", "exception", "silent-host"}
    insts = {r["institution"] for r in rows if r["section"] == "summary"}
    assert "'+Ops <b>Unit</b>" in insts  # a leading + would be a formula
    assert not any(c.startswith(("=", "+", "-", "@")) for r in rows for c in r.values() if c)
    exc = next(r for r in rows if r["section"] == "exception")
    assert exc["reason"] == "'" + hostile["reason"].replace("\x1b", "\\x1b")
    agency = [r for r in rows if r["section"] == "summary" and r["institution"] == "Agency"]
    assert {r["finding_class"] for r in agency} == {"Confirmed malicious", "High-risk vendor"}


def test_xlsx_has_real_types_and_no_formula(history, tmp_path):
    from datetime import date, datetime

    from openpyxl import load_workbook

    out = tmp_path / "estate.xlsx"
    history("estate", "report", "--format", "xlsx", "-o", str(out))
    with zipfile.ZipFile(out) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets"))
    assert "<f>" not in xml and "<f " not in xml  # no cell is a formula
    wb = load_workbook(out)
    assert wb.sheetnames == ["About", "Summary", "Trend", "Campaigns", "Burndown",
                             "Exceptions due", "Hosts not reporting"]
    summary = list(wb["Summary"].iter_rows(values_only=True))
    assert summary[0][:4] == ("institution", "hosts", "hosts_reporting", "finding_class")
    ops = next(r for r in summary if r[0] == "+Ops <b>Unit</b>")
    assert ops[1] == 1 and isinstance(ops[5], int)
    trend = list(wb["Trend"].iter_rows(values_only=True))
    assert isinstance(trend[1][0], datetime | date)
    assert wb["Exceptions due"]["H2"].value.startswith("@SUM(1+1)")
    assert wb["Exceptions due"]["H2"].data_type == "s"
    silent = list(wb["Hosts not reporting"].iter_rows(values_only=True))[1]
    assert silent[1] == "ag-silent" and isinstance(silent[3], datetime) and silent[4] == 30
    exc = list(wb["Exceptions due"].iter_rows(values_only=True))[1]
    assert exc[4] == 9 and exc[3].date() == date(2026, 12, 10)


def test_binary_formats_need_a_file(history):
    assert "-o FILE" in history("estate", "report", "--format", "pdf", code=2)
    assert "not a date" in history("estate", "report", "--since", "yesterday", code=2)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_pdf_renders_with_charts(history, hostile, tmp_path):
    from PIL import Image

    out = tmp_path / "estate.pdf"
    history("estate", "report", "--format", "pdf", "-o", str(out))
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "Confirmed malicious" in text and "High-risk vendor" in text
    flat = re.sub(r"\s+", "", text)  # table cells wrap
    assert '<script>alert("host")</script>' in flat  # shown as text, never markup
    assert re.search(r"ag-?silent", flat) and "Hosts not reporting" in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(out), str(tmp_path / "page")],
                   check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages
    # the charts are drawn: the ban colour of the bars and lines is on the pages
    ban = (0xB3, 0x26, 0x1E)
    seen = 0
    for p in pages:
        img = Image.open(p).convert("RGB")
        seen += sum(n for n, rgb in img.getcolors(1 << 20) or []
                    if all(abs(a - b) < 24 for a, b in zip(rgb, ban, strict=True)))
    assert seen > 200


def test_every_format_is_registered():
    from kitvet.cli.reports import FORMATS
    from kitvet.report.estate import ESTATE_FORMATS

    assert set(FORMATS) == set(ESTATE_FORMATS)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def test_every_option_is_documented():
    import click

    from kitvet.cli.reports import report

    docs = DOCS.read_text()
    for p in report.params:
        if isinstance(p, click.Option) and p.name != "estate_path":
            assert f"`{max(p.opts, key=len)}`" in docs, p.name
