"""Vulnerable by version: NVD CPE applicability and OSV-style ranges joined to KEV by CVE.

The issue's case: Apache httpd 2.4.49 is known exploited (CVE-2021-41773, CVE-2021-42013, due
2021-11-17); 2.2.22 and 2.4.51 are not — and KEV alone, which gives no versions, flags none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main

HERE = Path(__file__).parent
LISTS = HERE.parent / "lists" / "fixtures"
NMAP = HERE / "fixtures" / "nmap-httpd.xml"
CDX = HERE / "fixtures" / "log4j.cdx.json"
KEV = LISTS / "kev-httpd.json"


@pytest.fixture
def nvd_list(tmp_path: Path) -> Path:
    out = tmp_path / "nvd.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(LISTS / "nvd"), "--format", "nvd",
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    return out


def _review(*args: str) -> tuple[list[dict], str]:
    r = CliRunner().invoke(main, ["review", *args, "--allow-unsigned", "--no-eol",
                                  "--format", "json", "--fail-on", "none"])
    assert r.exit_code == 0, r.output
    out = r.stdout
    return json.loads(out[out.index("{"):])["findings"], r.stderr


def test_httpd_2_4_49_is_known_exploited_with_its_due_date(nvd_list: Path) -> None:
    findings, _ = _review(str(NMAP), "--list", str(nvd_list), "--kev", str(KEV))
    got = {(f["hostname"], f["version"], f["subject_id"]): f for f in findings}
    assert set(got) == {("web-249.example.org", "2.4.49", "cve-2021-41773"),
                        ("web-249.example.org", "2.4.49", "cve-2021-42013"),
                        ("web-250.example.org", "2.4.50", "cve-2021-42013")}
    f = got[("web-249.example.org", "2.4.49", "cve-2021-42013")]
    assert (f["finding_class"], f["status"]) == ("vulnerability", "review")
    kev = [a for a in f["assertions"] if a["kind"] == "known-exploited-vulnerability"]
    assert [(a["date"], a["due_date"]) for a in kev] == [("2021-11-03", "2021-11-17")]
    assert "Known ransomware campaign use: Known" in kev[0]["scope"]
    assert "version 2.4.49 is listed version 2.4.49" in f["explanation"]


def test_without_kev_the_versions_still_match_but_are_not_known_exploited(nvd_list: Path,
                                                                         monkeypatch) -> None:
    monkeypatch.delenv("KITVET_KEV", raising=False)
    monkeypatch.setenv("KITVET_DATA_DIR", str(nvd_list.parent / "data"))
    findings, _ = _review(str(NMAP), "--list", str(nvd_list))
    assert {f["version"] for f in findings} == {"2.4.49", "2.4.50"}
    assert {f["status"] for f in findings} == {"monitor"}  # vulnerable-version: monitor
    assert not any(a["kind"] == "known-exploited-vulnerability"
                   for f in findings for a in f["assertions"])


def test_kev_alone_is_never_a_finding_and_is_shown_apart_on_request(tmp_path: Path) -> None:
    kev_list = tmp_path / "kev.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(KEV), "-o", str(kev_list)])
    assert r.exit_code == 0, r.output
    findings, err = _review(str(NMAP), "--list", str(kev_list), "--kev", str(KEV),
                            "--kev-unchecked")
    assert findings == []  # not 2.2.22, not even 2.4.49: KEV says nothing of versions
    assert "Products listed in KEV, version not checked (not findings): 4" in err
    assert "web-222.example.org  Apache httpd 2.2.22  ~ Apache HTTP Server" in err


def test_cpe_ranges_of_a_cyclonedx_component(nvd_list: Path) -> None:
    findings, _ = _review(str(CDX), "--list", str(nvd_list), "--kev", str(KEV))
    assert [(f["name"], f["version"], f["subject_id"]) for f in findings] == [
        ("log4j-core", "2.14.1", "cve-2021-44228")]
    kev = [a for a in findings[0]["assertions"] if a["kind"] == "known-exploited-vulnerability"]
    assert kev[0]["due_date"] == "2021-12-24"


def test_long_feeds_match_package_urls_and_cpes_as_short_ones_do() -> None:
    """Feeds of many identifiers are looked up by prefix (an index); the matches are those
    of a short list, namespace prefixes and case included."""
    from kitvet.match import review_snapshots
    from kitvet.model import Host, Snapshot
    from kitvet.model.risk import Assertion, Identifier, ListSet, RiskList, Subject
    from kitvet.policy import load_profile

    snap = Snapshot(host=Host(host_id="h1", platform="linux"))
    for n, (purl, cpe, version) in enumerate([
            ("pkg:npm/@evil/pkg@1.0.0", None, "1.0.0"),
            ("pkg:deb/debian/xz-utils@5.6.1-1?arch=amd64", None, "5.6.1-1"),
            ("pkg:deb/debian/xz-utils-extra@5.6.1-1", None, "5.6.1-1"),
            (None, "cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*", "2.4.49")]):
        snap.add_software(source="test", location=f"t:{n}", name=f"item{n}", version=version,
                          purl=purl, cpe=cpe, package_type=(purl or "pkg:generic").split(
                              ":")[1].split("/")[0] if purl else None)

    def subject(sid: str, kind: str, value: str) -> Subject:
        return Subject(id=sid, name=sid, kind="product-version",
                       identifiers=(Identifier(kind=kind, value=value),),
                       assertions=(Assertion(authority="A", kind="vulnerable-version",
                                             instrument=sid),))

    wanted = [subject("ns", "purl", "pkg:npm/@evil"), subject("xz", "purl",
                                                              "pkg:deb/debian/XZ-utils"),
              subject("httpd", "cpe", "cpe:2.3:a:apache:http_server:")]
    noise = [subject(f"n{n}", "purl", f"pkg:deb/debian/xz-{n}") for n in range(20)] + [
        subject(f"c{n}", "cpe", f"cpe:2.3:a:apache:http_{n}:") for n in range(20)]
    for subjects in (wanted, wanted + noise):
        rl = RiskList(name="f", publisher="p", version="1", date="2026-01-01",
                      subjects=tuple(subjects))
        got = review_snapshots([snap], ListSet((rl,)), load_profile("default"))
        assert sorted((f["subject_id"], f["name"]) for f in got.findings.to_pylist()) == [
            ("httpd", "item3"), ("ns", "item0"), ("xz", "item1")]


def test_a_product_vulnerable_only_running_on_linux_is_not_flagged_on_windows() -> None:
    """NetApp Cloud Backup is affected by CVE-2021-42013 only running on Linux (NVD's AND
    configuration): the same CPE is a finding on a Linux host, none on a Windows host."""
    from kitvet.lists.format import document_to_list
    from kitvet.lists.nvd import nvd_to_document
    from kitvet.match import review_snapshots
    from kitvet.model import Host, Snapshot
    from kitvet.model.risk import ListSet
    from kitvet.policy import load_profile

    doc, _ = nvd_to_document([LISTS / "nvd"])
    snaps = []
    for host, platform in (("lin", "linux"), ("win", "windows")):
        s = Snapshot(host=Host(host_id=host, hostname=host, platform=platform))
        s.add_software(host_id=host, source="cyclonedx", location="bom.json#0",
                       name="cloud_backup", version="1.0", publisher="NetApp",
                       cpe="cpe:2.3:a:netapp:cloud_backup:-:*:*:*:*:*:*:*")
        snaps.append(s)
    found = review_snapshots(snaps, ListSet((document_to_list(doc),)),
                             load_profile("default")).findings.to_pylist()
    assert [(f["host_id"], f["subject_id"]) for f in found] == [("lin", "cve-2021-42013")]
