"""Every report format keeps the finding classes apart: own sections, own counts."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from kitvet.match import review_snapshots
from kitvet.model import Assertion, Host, Identifier, RiskList, Snapshot, Subject
from kitvet.model.risk import ListSet
from kitvet.policy import load_profile
from kitvet.report import build, render

KINDS = {"evil": "confirmed-malicious-version", "maker": "high-risk-vendor",
         "kev": "known-exploited-vulnerability", "oldos": "end-of-life"}


@pytest.fixture(scope="module")
def model():
    subjects = tuple(
        Subject(id=sid, name=f"Subject {sid}",
                identifiers=(Identifier("publisher", f"{sid} corp"),),
                assertions=(Assertion(authority=f"Authority {sid}", kind=kind, instrument="I",
                                      date="2024-01-01"),))
        for sid, kind in KINDS.items())
    lists = ListSet((RiskList("classes", "tests", "1", "2026-01-01", subjects=subjects),))
    snaps = []
    for n, inst in enumerate(("Parliament", "Agency")):
        s = Snapshot(host=Host(host_id=f"pc-{n}", institution=inst, platform="windows"))
        for sid in KINDS if n == 0 else ("oldos", "kev"):
            s.add_software(name=f"{sid} app", version="1", publisher=f"{sid} corp")
        snaps.append(s)
    return build(review_snapshots(snaps, lists, load_profile("default")))


def test_model_counts_per_class(model):
    assert model.by_class == {
        "confirmed-malicious": {"ban": 1, "review": 0, "monitor": 0, "allow": 0},
        "high-risk-vendor": {"ban": 0, "review": 1, "monitor": 0, "allow": 0},
        "vulnerability": {"ban": 0, "review": 2, "monitor": 0, "allow": 0},
        # ended in 2024: past the 90-day grace of the bundled profiles
        "end-of-life": {"ban": 0, "review": 2, "monitor": 0, "allow": 0}}
    assert model.hosts_by_class == {"confirmed-malicious": 1, "high-risk-vendor": 1,
                                    "vulnerability": 2, "end-of-life": 2}


def test_json_has_class_per_finding_and_counts(model):
    doc = json.loads(render(model, "json"))
    assert doc["kitvet_report"] == "1.2.0"
    assert doc["summary"]["by_class"]["end-of-life"]["review"] == 2
    assert {f["subject_id"]: f["finding_class"] for f in doc["findings"]} == {
        "evil": "confirmed-malicious", "maker": "high-risk-vendor", "kev": "vulnerability",
        "oldos": "end-of-life"}


def test_csv_rows_are_grouped_by_class(model):
    rows = list(csv.DictReader(io.StringIO(render(model, "csv"))))
    classes = [r["finding_class"] for r in rows]
    assert classes == ["confirmed-malicious", "high-risk-vendor", "vulnerability",
                       "vulnerability", "end-of-life", "end-of-life"]


def test_sarif_tags_each_rule_and_result_with_its_class(model):
    run = json.loads(render(model, "sarif"))["runs"][0]
    tags = {r["id"]: r["properties"]["tags"] for r in run["tool"]["driver"]["rules"]}
    assert tags["oldos"] == ["end-of-life"] and tags["maker"] == ["high-risk-vendor"]
    kev = next(r for r in run["results"] if r["ruleId"] == "kev")
    assert kev["properties"]["findingClass"] == "vulnerability"
    assert kev["message"]["text"].startswith("REVIEW (Vulnerable version): ")


def test_html_has_one_section_per_class_with_own_counts(model):
    page = render(model, "html")
    sections = re.findall(r'<section class="class" id="c-([a-z-]+)">(.*?)</section>', page,
                          re.S)
    assert [c for c, _ in sections] == ["confirmed-malicious", "high-risk-vendor",
                                        "vulnerability", "end-of-life"]
    body = dict(sections)
    assert "Subject oldos" in body["end-of-life"] and "Subject oldos" not in body["vulnerability"]
    assert "Subject maker" not in body["end-of-life"]
    # the vulnerable section's own cards: 2 review, and a chart of its own
    assert re.search(r'class="card s-review"><b>2</b>review', body["vulnerability"])
    assert body["vulnerability"].count("<svg") == 1
    assert "not an accusation" in body["end-of-life"]


def test_terminal_prints_a_table_per_class(model):
    text = render(model, "table")
    assert "End of life: 0 ban, 2 review, 0 monitor on 2 hosts" in text
    titles = [line.strip() for line in text.splitlines() if re.match(r"\s*\w.*: \d finding", line)]
    assert titles == ["Confirmed malicious: 1 finding", "High-risk vendor: 1 finding",
                      "Vulnerable version: 2 findings", "End of life: 2 findings"]
