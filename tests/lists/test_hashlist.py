"""File-hash indicators: plain hash lists, MISP/STIX hashes, and the findings they give over
the files inventories carry (osquery hash, Amcache, CycloneDX)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists.format import read_document, validate_document
from kitvet.lists.hashlist import hash_kind, hashlist_to_document

MD5 = "44d88612fea8a8f36de82e1278abb02f"  # EICAR test file
SHA1 = "3395856ce81f2b7382dee72602f798b642f14140"
SHA256 = "6f1e3c0b8a2d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789ab"  # made up
LIST = f"""# kv IOC list (LOKI hash-iocs.txt style)
{MD5};EICAR test file
{SHA1.upper()} EICAR test file
{SHA256},Dropper of campaign KV-1
not-a-hash;broken line
0123456789abcdef0123456789abcdef0;a 33-digit value
"""


def _run(*args: str):
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def test_hash_kinds_by_length() -> None:
    assert [hash_kind(h) for h in (MD5, SHA1, SHA256, "abc", "x" * 32)] == [
        "md5", "sha1", "sha256", None, None]


def test_lines_group_by_description_and_bad_lines_are_named() -> None:
    doc, skipped = hashlist_to_document(LIST, file="iocs.txt", name="kv-iocs",
                                        authority="CERT-KV", date="2026-12-01")
    validate_document(doc, file="iocs.txt")
    eicar, dropper = doc["subjects"]
    assert eicar["id"] == "kv-iocs-eicar-test-file" and eicar["kind"] == "file-hash"
    assert dropper["id"].startswith("kv-iocs-")
    assert [(i["kind"], i["value"]) for i in eicar["identifiers"]] == [("md5", MD5),
                                                                       ("sha1", SHA1)]
    assert dropper["identifiers"] == [{"kind": "sha256", "value": SHA256, "source": "iocs.txt"}]
    [a] = eicar["assertions"]
    assert a["authority"] == "CERT-KV" and a["kind"] == "confirmed-malicious-version"
    assert a["instrument"] == "hash list iocs.txt: EICAR test file" and a["verified"] is False
    assert [s.line for s in skipped] == [5, 6]


def _inventory(tmp_path: Path) -> Path:
    """osquery's hash table on one host: the EICAR file and a clean one."""
    head = {"hostIdentifier": "ws-9", "calendarTime": "Tue Dec  1 12:00:00 2026 UTC",
            "unixTime": 1796126400, "action": "snapshot", "name": "pack_inventory_hash"}
    rows = [{"path": "C:\\Users\\kv\\Downloads\\eicar.com", "directory": "C:\\Users\\kv",
             "md5": MD5, "sha1": SHA1, "sha256": ""},
            {"path": "C:\\Windows\\notepad.exe", "directory": "C:\\Windows",
             "md5": "0" * 32, "sha1": "1" * 40, "sha256": "2" * 64}]
    p = tmp_path / "results.log"
    p.write_text(json.dumps({**head, "snapshot": rows}) + "\n")
    return p


@pytest.mark.parametrize(("extra", "status"), [((), "monitor"), (("--verified",), "ban")])
def test_hash_list_flags_the_file_it_names(tmp_path: Path, extra: tuple[str, ...],
                                           status: str) -> None:
    src, lst = tmp_path / "iocs.txt", tmp_path / "iocs.yaml"
    src.write_text(LIST)
    r = _run("lists", "import", str(src), "-o", str(lst), "--authority", "CERT-KV",
             "--date", "2026-12-01", *extra)
    assert r.exit_code == 0, r.output
    assert "skipped line 5: 'not-a-hash;broken line' is not an MD5" in r.output
    validate_document(read_document(lst), file=lst.name)
    r = _run("review", str(_inventory(tmp_path)), "--list", str(lst), "--allow-unsigned",
             "--format", "json", "--no-eol")
    report = json.loads(r.output[r.output.index("{"):])
    [f] = report["findings"]
    assert f["path"] == "C:\\Users\\kv\\Downloads\\eicar.com" and f["name"] == "eicar.com"
    assert f["item_type"] == "file" and f["status"] == status
    assert f["subject_id"] == "hashes-eicar-test-file"
    assert f["finding_class"] == "confirmed-malicious"
    assert f"MD5 {MD5} of the file" in f["explanation"]
    assert f"SHA-1 {SHA1} of the file" in f["explanation"]
    matched = json.loads(f["matched"]) if isinstance(f["matched"], str) else f["matched"]
    assert {m["field"] for m in matched} == {"files.md5", "files.sha1"}


def test_hash_list_needs_an_authority(tmp_path: Path) -> None:
    src = tmp_path / "iocs.txt"
    src.write_text(LIST)
    r = _run("lists", "import", str(src), "-o", str(tmp_path / "x.yaml"))
    assert r.exit_code == 2 and "needs --authority" in r.output


def test_cyclonedx_component_hashes_are_matched(tmp_path: Path) -> None:
    src, lst = tmp_path / "iocs.txt", tmp_path / "iocs.yaml"
    src.write_text(LIST)
    assert _run("lists", "import", str(src), "-o", str(lst), "--authority", "CERT-KV",
                "--verified").exit_code == 0
    bom = tmp_path / "bom.json"
    bom.write_text(json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.5", "version": 1,
                               "components": [
        {"type": "file", "name": "/opt/kv/bin/dropper", "hashes": [
            {"alg": "SHA-256", "content": SHA256}, {"alg": "MD5", "content": "9" * 32}]},
        {"type": "file", "name": "/opt/kv/bin/ok", "hashes": [
            {"alg": "SHA-1", "content": "8" * 40}]}]}))
    r = _run("review", str(bom), "--list", str(lst), "--allow-unsigned", "--format", "json",
             "--no-eol")
    report = json.loads(r.output[r.output.index("{"):])
    assert {(f["path"], f["subject_id"], f["status"]) for f in report["findings"]} == {
        ("/opt/kv/bin/dropper", "hashes-dropper-of-campaign-kv-1", "ban")}


def test_misp_and_stix_carry_md5_and_sha1(tmp_path: Path) -> None:
    src, lst = tmp_path / "iocs.txt", tmp_path / "iocs.yaml"
    src.write_text(LIST)
    assert _run("lists", "import", str(src), "-o", str(lst), "--authority", "CERT-KV",
                "--verified").exit_code == 0
    for fmt in ("misp", "stix"):
        out, back = tmp_path / f"x.{fmt}.json", tmp_path / f"back-{fmt}.yaml"
        r = _run("lists", "export", "--format", fmt, "--list", str(lst), "--allow-unsigned",
                 "-o", str(out))
        assert r.exit_code == 0, r.output
        r = _run("lists", "import", str(out), "-o", str(back))
        assert r.exit_code == 0, r.output
        kinds = {(i["kind"], i["value"]) for s in read_document(back)["subjects"]
                 for i in s.get("identifiers", [])}
        assert {("md5", MD5), ("sha1", SHA1), ("sha256", SHA256)} <= kinds, fmt


def test_two_hash_lists_naming_the_same_file_stay_apart(tmp_path: Path) -> None:
    src = tmp_path / "iocs.txt"
    src.write_text(LIST)
    lists = []
    for name, extra in (("cert-a", ("--verified",)), ("cert-b", ())):
        lists += ["--list", str(tmp_path / f"{name}.yaml")]
        r = _run("lists", "import", str(src), "-o", lists[-1], "--name", name,
                 "--authority", name.upper(), "--date", "2026-12-01", *extra)
        assert r.exit_code == 0, r.output
    r = _run("review", str(_inventory(tmp_path)), *lists, "--allow-unsigned", "--format",
             "json", "--no-eol")
    report = json.loads(r.output[r.output.index("{"):])
    got = {(f["subject_id"], f["list_name"], f["status"]) for f in report["findings"]}
    # each list's own evidence and status: CERT-A vouched for its list, CERT-B did not
    assert got == {("cert-a-eicar-test-file", "cert-a", "ban"),
                   ("cert-b-eicar-test-file", "cert-b", "monitor")}


def test_macos_hashes_become_santa_binary_rules(tmp_path: Path) -> None:
    """A hash list of macOS files blocks them with Santa; of unknown platform it cannot."""
    src = tmp_path / "iocs.txt"
    src.write_text(LIST)
    for name, extra in (("mac-iocs", ("--platform", "macos")), ("any-iocs", ())):
        r = _run("lists", "import", str(src), "-o", str(tmp_path / f"{name}.yaml"), "--name",
                 name, "--authority", "CERT-KV", "--verified", "--date", "2026-12-01", *extra)
        assert r.exit_code == 0, r.output
        r = _run("enforce", "export", "-t", "santa", "--no-bundled", "--allow-unsigned",
                 "--list", str(tmp_path / f"{name}.yaml"), "--status", "ban", "--no-record")
        assert r.exit_code == 0, r.output
        rules = json.loads(r.stdout[r.stdout.index("{"):])["rules"]
        if extra:  # Santa has BINARY (SHA-256) rules only: MD5 and SHA-1 stay gaps
            assert [(x["rule_type"], x["identifier"]) for x in rules] == [("BINARY", SHA256)]
            assert "mac-iocs-dropper-of-campaign-kv-1" in rules[0]["comment"]
        else:
            assert rules == []
