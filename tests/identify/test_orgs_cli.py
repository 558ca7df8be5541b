"""``kitvet orgs`` and ``kitvet identify --suggest``: what a reviewer reads and exports."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.cli.orgs import orgs
from kitvet.identify import graph as og

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture(autouse=True)
def bundled_graph_only(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("KITVET_ORGS", str(tmp_path / "none"))
    og.configure(None)
    yield
    og.configure(None)


def _run(*args: str) -> str:
    r = CliRunner().invoke(main, list(args))
    assert r.exit_code == 0, r.output
    return r.output


def test_show_lists_names_blocks_and_sourced_relations_of_the_family() -> None:
    doc = json.loads(_run("orgs", "show", "Huawei Device Co., Ltd.", "--format", "json"))
    assert doc["organisation"] == "huawei-device"
    doc = json.loads(_run("orgs", "show", "huawei", "--format", "json"))
    fam = {f["id"]: f for f in doc["family"]}
    assert len(fam["huawei-device"]["ieee_blocks"]) == 510
    assert fam["huawei-device"]["path"].startswith("Huawei Device Co., Ltd. → a subsidiary of")
    [rel] = [r for r in fam["honor-device"]["relations"] if r["type"] == "subsidiary"]
    assert rel["valid_to"] == "2020-11" and rel["reference_url"].startswith("https://")
    assert {"usb.ids", "pci.ids"} <= {n["registry"] for n in fam["huawei"]["names"]}
    table = _run("orgs", "show", "hytera")
    assert "Sepura Limited" in table and "urgentcomm.com" in table


def test_show_of_an_unknown_organisation_is_one_line_exit_2() -> None:
    r = CliRunner().invoke(main, ["orgs", "show", "no-such-company"])
    assert r.exit_code == 2 and len(r.output.strip().splitlines()) == 1


def test_graph_exports_json_and_dot_that_graphviz_reads(tmp_path: Path) -> None:
    doc = json.loads(_run("orgs", "graph", "--format", "json"))
    assert doc["kitvet_orgs_graph"] == "1.0.0"
    assert any(r["type"] == "former-owner" for r in doc["relations"])
    out = tmp_path / "orgs.dot"
    _run("orgs", "graph", "--format", "dot", "-o", str(out))
    text = out.read_text()
    assert '"huawei-device" -> "huawei"' in text and "style=dashed" in text
    dot = shutil.which("dot")
    if dot:  # Graphviz itself parses it
        subprocess.run([dot, "-Tsvg", str(out), "-o", str(tmp_path / "o.svg")], check=True)


def test_coverage_counts_registry_entries_per_vendor_as_relations_stood() -> None:
    now = {v["subject"]: v for v in json.loads(
        _run("orgs", "coverage", "--format", "json", "--on", "2026-12-01"))["vendors"]}
    assert now["huawei"]["MA-L"] == 1669 and now["zte"]["MA-L"] == 418
    assert now["kaspersky-lab"]["MA-M"] == 1 and now["hytera"]["MA-S"] == 1
    before = {v["subject"]: v for v in json.loads(
        _run("orgs", "coverage", "--format", "json", "--on", "2019-06-01"))["vendors"]}
    assert before["huawei"]["MA-L"] == 1669 + 38  # Honor was still Huawei's
    assert "honor-device" in before["huawei"]["family"]
    assert "honor-device" not in now["huawei"]["family"]


def test_sign_writes_a_signature_the_graph_loader_accepts(tmp_path: Path) -> None:
    key = tmp_path / "key.pem"
    _run("lists", "keygen", "--private-key", str(key), "--public-dir", str(tmp_path / "keys"))
    ours = tmp_path / "ours.yaml"
    shutil.copy(Path(__file__).parent / "fixtures" / "orgs-small.yaml", ours)
    assert "signed" in _run("orgs", "sign", str(ours), "--key", str(key))
    import os

    os.environ["KITVET_TRUSTED_KEYS"] = str(tmp_path / "keys")
    try:
        g = og.load_graph([ours])
    finally:
        del os.environ["KITVET_TRUSTED_KEYS"]
    assert g.signed_by[-1] is not None and "acme" in g.organisations


def test_suggest_only_suggests_and_json_says_why_a_mac_is_unknown() -> None:
    doc = json.loads(_run("identify", "--suggest", "--format", "json",
                          "publisher:HIKVISION DIGITAL TECHNOLOGY LIMITED",
                          "mac:02:00:00:00:00:01"))
    first, mac = doc["items"]
    # a suggestion is not an attribution: the name stays "as reported", in no database
    assert [a["org_id"] for a in first["attributions"]] == [None]
    assert any(s["organisation"] == "hikvision" for s in first["suggestions"])
    assert "locally administered" in mac["why_unknown"]


def test_every_orgs_command_is_documented() -> None:
    text = (DOCS / "organisations.md").read_text()
    for name in orgs.commands:
        assert f"kitvet orgs {name}" in text, name
    assert "kitvet identify --suggest" in text
