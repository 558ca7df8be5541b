"""``kitvet lists import --format osv``: records, folder trees and zips become a list whose
malicious versions are banned under every bundled profile, and only those versions."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists.format import read_document, validate_document
from kitvet.lists.osv_import import import_osv

OSV = Path(__file__).parent / "fixtures" / "osv"


def _run(*args: str):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def test_folder_tree_imports_good_records_and_names_the_rest() -> None:
    doc, report = import_osv(OSV)
    validate_document(doc, file="osv")
    ids = {s["id"] for s in doc["subjects"]}
    assert ids == {"mal-2099-101", "mal-2099-102", "mal-2099-103", "mal-2099-104",
                   "mal-2099-201", "mal-2099-202", "mal-2099-301", "mal-2099-401",
                   "mal-2099-501", "mal-2099-601", "mal-2099-701"}
    assert {(s.file, s.reason.split(":")[0]) for s in report.skipped} == {
        ("bad/MAL-2099-901.json", "affected[0].ranges[0].events[1]"),
        ("bad/not-json.json", "not JSON")}
    assert [s.record_id for s in report.withdrawn] == ["MAL-2099-105"]
    assert [(s.record_id, s.reason.split(" ")[0]) for s in report.unknown_ecosystems] == [
        ("MAL-2099-902", "'Conda'")]
    assert [s.record_id for s in report.not_imported] == ["GHSA-kvkv-kvkv-kvkv"]
    assert report.read == 16 and report.imported == 11


def test_subject_carries_the_record_evidence() -> None:
    doc, _ = import_osv(OSV / "npm" / "MAL-2099-101.json")
    [s] = doc["subjects"]
    assert s["name"] == "kv-fsevents-demo (npm)" and s["kind"] == "product-version"
    assert s["aliases"] == ["MAL-2099-101", "GHSA-aaaa-bbbb-cccc"]
    purl, name = s["identifiers"]
    assert purl == {"kind": "purl", "value": "pkg:npm/kv-fsevents-demo",
                    "version_range": "vers:npm/>=1.0.0|<1.2.11",
                    "source": "OSV MAL-2099-101 affected[0] (MAL-2099-101.json)",
                    "label": "npm package kv-fsevents-demo"}
    assert name["kind"] == "package_name" and name["package_types"] == ["npm"]
    [a] = s["assertions"]
    assert a["kind"] == "confirmed-malicious-version"
    assert a["authority"] == ("OpenSSF Malicious Packages, reported by OpenSSF: Package "
                              "Analysis, Example Analyst")
    assert a["authority_id"] == "ossf-malicious-packages" and a["date"] == "2024-03-01"
    assert a["reference_url"] == "https://osv.dev/vulnerability/MAL-2099-101"
    assert a["scope"] == "kv-fsevents-demo (npm): 1.0.0 <= v < 1.2.11"
    assert "GHSA-aaaa-bbbb-cccc" in a["note"] and "https://example.invalid/kv-fsevents-demo" \
        in a["note"] and "ossf-package-analysis" in a["note"]
    assert a["verified"] is False  # kitvet's authors did not check it: profiles decide


def test_record_without_published_is_dated_by_modified_and_says_so() -> None:
    doc, _ = import_osv(OSV / "go" / "MAL-2099-401.json")
    [a] = doc["subjects"][0]["assertions"]
    assert a["date"] == "2024-03-05" and "no publication date" in a["date_note"]


def test_zip_and_newest_copy_wins_and_withdrawal_removes(tmp_path: Path) -> None:
    z = tmp_path / "all.zip"
    newer = json.loads((OSV / "npm/MAL-2099-103.json").read_text())
    newer["modified"] = "2025-01-01T00:00:00Z"
    newer["affected"][0]["versions"] = ["1.0.0", "1.0.1"]
    gone = json.loads((OSV / "npm/MAL-2099-101.json").read_text())
    gone["withdrawn"] = "2025-02-02T00:00:00Z"
    with zipfile.ZipFile(z, "w") as zf:
        zf.write(OSV / "npm/MAL-2099-101.json", "MAL-2099-101.json")
        zf.writestr("withdrawn/MAL-2099-101.json", json.dumps(gone))
        zf.write(OSV / "npm/MAL-2099-103.json", "a/MAL-2099-103.json")
        zf.writestr("b/MAL-2099-103.json", json.dumps(newer))
    doc, report = import_osv(z)
    [s] = doc["subjects"]
    assert s["identifiers"][0]["versions"] == ["1.0.0", "1.0.1"]
    assert [w.record_id for w in report.withdrawn] == ["MAL-2099-101"]
    assert doc["version"] == "2025-01-01T00:00:00Z"


def test_cli_import_reports_and_writes_a_valid_list(tmp_path: Path) -> None:
    out = tmp_path / "mal.yaml"
    r = _run("lists", "import", str(OSV), "-o", str(out))
    assert r.exit_code == 0, r.output
    assert "skipped bad/MAL-2099-901.json: affected[0].ranges[0].events[1]" in r.output
    assert "unknown ecosystem in bad/MAL-2099-902.json (MAL-2099-902): 'Conda'" in r.output
    assert "withdrawn MAL-2099-105" in r.output
    assert "16 records read: 11 imported, 2 malformed, 1 withdrawn" in r.output
    doc = read_document(out)
    validate_document(doc, file=out.name)
    assert doc["name"] == "osv-malicious" and len(doc["subjects"]) == 11


def test_cli_import_sniffs_a_single_record(tmp_path: Path) -> None:
    out = tmp_path / "one.yaml"
    r = _run("lists", "import", str(OSV / "pypi/MAL-2099-201.json"), "-o", str(out),
             "--name", "one")
    assert r.exit_code == 0, r.output
    assert read_document(out)["name"] == "one"


def test_cli_import_nothing_importable_is_an_error(tmp_path: Path) -> None:
    src = tmp_path / "bad"
    shutil.copytree(OSV / "bad", src)
    r = _run("lists", "import", str(src), "--format", "osv", "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and "no record could be imported" in r.output
    assert not (tmp_path / "x.yaml").exists()


def _bom(tmp_path: Path) -> Path:
    comps = [("kv-fsevents-demo", None, "1.2.10"), ("kv-fsevents-demo", None, "1.2.11"),
             ("connect-kit", "@kv-scope", "1.1.7"), ("connect-kit", "@kv-scope", "1.1.4"),
             ("kv-logger", "org.kvexample", "2.0.2"), ("kv-logger", "org.kvexample", "2.0.10")]
    types = {"@kv-scope": "npm", "org.kvexample": "maven", None: "npm"}
    components = []
    for name, group, version in comps:
        ns = (group.replace("@", "%40") + "/") if group else ""
        c = {"type": "library", "name": name, "version": version,
             "purl": f"pkg:{types[group]}/{ns}{name}@{version}"}
        if group:
            c["group"] = group
        components.append(c)
    components.append({"type": "library", "name": "Kv_Stealer.Lib", "version": "0.0.1",
                       "purl": "pkg:pypi/kv-stealer.lib@0.0.1"})
    p = tmp_path / "bom.cdx.json"
    p.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                             "components": components}))
    return p


@pytest.mark.parametrize("profile", ["default", "us-federal", "eu-institutions"])
def test_malicious_version_is_banned_and_the_version_before_is_not(
        tmp_path: Path, profile: str) -> None:
    lst = tmp_path / "mal.yaml"
    assert _run("lists", "import", str(OSV), "-o", str(lst)).exit_code == 0
    r = _run("review", str(_bom(tmp_path)), "--list", str(lst), "--allow-unsigned",
             "--profile", profile, "--format", "json", "--no-eol", "--fail-on", "ban")
    assert r.exit_code == 1, r.output
    report = json.loads(r.output[r.output.index("{"):])
    found = {(f["name"], f["version"]): f for f in report["findings"]}
    assert set(found) == {("kv-fsevents-demo", "1.2.10"), ("@kv-scope/connect-kit", "1.1.7"),
                          ("kv-logger", "2.0.2"), ("Kv_Stealer.Lib", "0.0.1")}
    for f in found.values():
        assert f["status"] == "ban" and f["finding_class"] == "confirmed-malicious"
    assert "vers:npm/>=1.1.5|<=1.1.7" in found[("@kv-scope/connect-kit", "1.1.7")]["explanation"]


def test_osquery_npm_and_python_packages_match_by_name(tmp_path: Path) -> None:
    lst = tmp_path / "mal.yaml"
    assert _run("lists", "import", str(OSV), "-o", str(lst)).exit_code == 0
    log = tmp_path / "results.log"
    head = {"hostIdentifier": "dev1", "calendarTime": "Tue Mar  5 12:00:00 2024 UTC",
            "unixTime": 1709640000, "action": "snapshot"}
    log.write_text("\n".join(json.dumps(x) for x in [
        {**head, "name": "pack_inventory_npm_packages",
         "snapshot": [{"name": "@kv-scope/connect-kit", "version": "1.1.6",
                       "path": "/srv/app/node_modules/@kv-scope/connect-kit"},
                      {"name": "@kv-scope/connect-kit", "version": "1.1.8", "path": "/srv/b"}]},
        {**head, "name": "pack_inventory_python_packages",
         "snapshot": [{"name": "kv_stealer_lib", "version": "2.0", "path": "/usr/lib/py3"}]},
    ]) + "\n")
    r = _run("review", str(log), "--list", str(lst), "--allow-unsigned", "--format", "json",
             "--no-eol")
    report = json.loads(r.output[r.output.index("{"):])
    assert {(f["name"], f["subject_id"], f["status"]) for f in report["findings"]} == {
        ("@kv-scope/connect-kit", "mal-2099-102", "ban"),
        ("kv_stealer_lib", "mal-2099-201", "ban")}
