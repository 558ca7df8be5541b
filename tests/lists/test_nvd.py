"""NVD CVE API 2.0 configurations as CPE applicability by version."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.errors import ListError
from kitvet.lists import load_list
from kitvet.lists.format import document_to_list, validate_document
from kitvet.lists.nvd import cpe_prefix, nvd_to_document

NVD = Path(__file__).parent / "fixtures" / "nvd"


def test_cves_become_versioned_cpe_subjects_and_bad_records_are_skipped() -> None:
    doc, skipped = nvd_to_document([NVD])
    validate_document(doc, file="nvd")
    rl = document_to_list(doc)
    assert [s.id for s in rl.subjects] == ["cve-2021-41773", "cve-2021-42013", "cve-2021-44228"]
    httpd = rl.subject("cve-2021-42013")
    assert httpd is not None and httpd.aliases == ("CVE-2021-42013",)
    by_value = {i.value: i for i in httpd.identifiers if i.value.endswith("http_server:")}
    assert [i.versions for i in httpd.identifiers if i.value in by_value] == [("2.4.49",),
                                                                             ("2.4.50",)]
    # the platform of an AND configuration (vulnerable: false) is not a subject's identifier
    assert not any("linux_kernel" in i.value for i in httpd.identifiers)
    a = httpd.assertions[0]
    assert (a.kind, a.citation, a.date, a.authority_id) == (
        "vulnerable-version", "CVE-2021-42013", "2021-10-07", "us-nist-nvd")
    log4j = rl.subject("cve-2021-44228")
    assert log4j is not None
    assert [i.version_range for i in log4j.identifiers] == [
        "vers:generic/>=2.0.1|<2.3.1", "vers:generic/>=2.4.0|<2.12.2",
        "vers:generic/>=2.13.0|<2.15.0"]
    assert [s.line() for s in skipped] == [
        "nvdcve-2.0-httpd-log4j.json: CVE-2026-0001: no configurations (NVD has not analysed "
        "which products it affects): unknown products",
        "nvdcve-2.0-httpd-log4j.json: CVE-2026-0002 configurations[0].nodes[0].cpeMatch[0]: "
        "criteria 'apache http server 2.4' is not a CPE 2.3 name of a product",
        "nvdcve-2.0-httpd-log4j.json: CVE-2026-0002 configurations[0].nodes[0].cpeMatch[1]: "
        "version bound '2.0 beta' is not a version",
        "nvdcve-2.0-httpd-log4j.json: CVE-2026-0002: no vulnerable CPE match kitvet can use"]


def test_cpe_prefix() -> None:
    assert cpe_prefix("cpe:2.3:a:apache:http_server:2.4.49:*:*:*:*:*:*:*") == (
        "cpe:2.3:a:apache:http_server:", "2.4.49")
    assert cpe_prefix("cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*") == ("cpe:2.3:a:apache:log4j:",
                                                                    None)
    assert cpe_prefix("cpe:2.3:a:*:http_server:1:*:*:*:*:*:*:*") is None
    assert cpe_prefix("cpe:/a:apache:http_server:2.4.49") is None


def test_a_file_that_is_not_nvd_is_skipped_and_none_at_all_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("{nope")
    (tmp_path / "b.json").write_text(json.dumps({"something": 1}))
    with pytest.raises(ListError, match="no NVD CVE API 2.0 JSON found"):
        nvd_to_document([tmp_path])
    (tmp_path / "c.json").write_text((NVD / "nvdcve-2.0-httpd-log4j.json").read_text())
    doc, skipped = nvd_to_document([tmp_path])
    assert len(doc["subjects"]) == 3
    assert [s.line() for s in skipped][:2] == [
        "a.json: file: not JSON (Expecting property name enclosed in double quotes: line 1 "
        "column 2 (char 1))", "b.json: file: not NVD CVE API 2.0 JSON"]


def test_cli_import_nvd(tmp_path: Path) -> None:
    out = tmp_path / "nvd.yaml"
    r = CliRunner().invoke(main, ["lists", "import", str(NVD / "nvdcve-2.0-httpd-log4j.json"),
                                  "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "3 CVEs with CPE applicability, 4 skipped" in r.output
    assert "skipped nvdcve-2.0-httpd-log4j.json: CVE-2026-0001" in r.output
    assert len(load_list(out, allow_unsigned=True).subjects) == 3


def test_running_on_context_limits_platforms_or_says_it_was_not_checked() -> None:
    """An AND configuration's ``vulnerable: false`` matches are where the product must run:
    operating systems kitvet can tell from host facts become platforms; hardware cannot be
    checked from inventory, and the identifier and scope say so."""
    doc, skipped = nvd_to_document([NVD])
    httpd = document_to_list(doc).subject("cve-2021-42013")
    assert httpd is not None
    netapp = [i for i in httpd.identifiers if "netapp" in i.value]
    assert [(i.platforms, i.label) for i in netapp] == [(
        ("linux",), "CVE-2021-42013 (NVD CPE configuration; running on/with linux "
                    "linux_kernel)")]
    # the unconditioned httpd matches stay unconditioned
    assert all(i.platforms == () for i in httpd.identifiers if "http_server" in i.value)
    doc, skipped = nvd_to_document([NVD.parent / "nvd-context"])
    assert skipped == []
    validate_document(doc, file="nvd")
    rv = document_to_list(doc).subject("cve-2019-1653")
    assert rv is not None
    firmware = [i for i in rv.identifiers if i.value == "cpe:2.3:o:cisco:rv320_firmware:"]
    assert [(i.platforms, i.versions) for i in firmware] == [((), ("1.4.2.15",)),
                                                             ((), ("1.4.2.17",))]
    assert firmware[0].label.endswith("running on/with cisco rv320 (not checked))")
    (agent,) = [i for i in rv.identifiers if i.value == "cpe:2.3:a:example:agent:"]
    assert agent.platforms == ("macos", "windows")
    assert "cpe:2.3:a:example:agent <3.2.1 (running on/with microsoft windows, apple macos)" \
        in rv.assertions[0].scope
