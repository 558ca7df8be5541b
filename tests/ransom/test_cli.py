"""``kitvet ransom`` and ``kitvet lists import --format misp-galaxy`` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from kitvet.cli import main
from kitvet.lists import signing
from tests.ransom.conftest import FIXTURES, GALAXY


def run(args: list[str], keys: Path, tmp: Path) -> object:
    env = {"KITVET_TRUSTED_KEYS": str(keys), "XDG_CONFIG_HOME": str(tmp)}
    return CliRunner().invoke(main, args, env=env)


def test_import_reports_what_it_skipped(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["lists", "import", str(GALAXY), "-o", str(tmp_path / "g.json")])
    assert r.exit_code == 0
    assert "skipped values[1] (Tidemark Locker) extensions[1]: 'RANDOM 3 LETTERS ARE ADDED'" \
        in r.output
    assert "read misspelled key 'ransomnotes-filesnames' as 'ransomnotes-filenames'" in r.output
    again = CliRunner().invoke(main, ["lists", "import", str(GALAXY), "-o",
                                      str(tmp_path / "g.json"), "--dry-run"])
    assert "0 families added, 0 removed, 0 changed" in again.output


def test_signed_family_list_verifies_and_a_change_is_refused(ours, tmp_path: Path) -> None:
    path, keys = ours
    ok = CliRunner().invoke(main, ["lists", "verify", str(path), "--key", str(keys)])
    assert ok.exit_code == 0 and "ours 7, 6 ransomware families" in ok.output
    bad = tmp_path / "ours.json"
    bad.write_text(path.read_text().replace(".glasswing", ".glassw1ng"))
    (tmp_path / "ours.json.sig").write_text((path.parent / "ours.json.sig").read_text())
    r = CliRunner().invoke(main, ["lists", "verify", str(bad), "--key", str(keys)])
    assert r.exit_code == 2 and "does not verify" in r.output


def test_identify_json_names_the_family_with_its_evidence(ours, tmp_path: Path) -> None:
    path, keys = ours
    r = run(["ransom", "identify", str(FIXTURES / "glasswing-note.txt"), "--name",
             "a.pdf.glasswing", "--list", str(path), "--format", "json"], keys, tmp_path)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["kitvet_ransom_report"] == "1.0.0"
    assert [x["verdict"] for x in doc["results"]] == ["Glasswing", "Glasswing"]
    assert {ls["name"] for ls in doc["lists"]} == {"kitvet-ransomware", "ours"}
    ev = doc["results"][0]["candidates"][0]["evidence"]
    assert any(e["kind"] == "contact" and e["source"].startswith("MISP galaxy") for e in ev)


def test_identify_unknown_note_in_table_and_html(ours, tmp_path: Path) -> None:
    path, keys = ours
    r = run(["ransom", "identify", str(FIXTURES / "unknown-note.txt"), "--list", str(path)],
            keys, tmp_path)
    assert r.exit_code == 0 and "unknown" in r.output and "recover.files@mailbox.example" in r.output
    out = tmp_path / "r.html"
    r = run(["ransom", "identify", str(FIXTURES / "tidemark-note.html"), "--list", str(path),
             "--format", "html", "-o", str(out)], keys, tmp_path)
    page = out.read_text()
    assert r.exit_code == 0 and "Tidemark Locker" in page and "<script" not in page


def test_identify_stix_bundle_has_malware_and_indicators(ours, tmp_path: Path) -> None:
    import stix2

    path, keys = ours
    r = run(["ransom", "identify", str(FIXTURES / "glasswing-note.txt"), "--list", str(path),
             "--format", "stix"], keys, tmp_path)
    bundle = stix2.parse(r.output, allow_custom=True)
    types = [o.type for o in bundle.objects]
    assert "malware" in types and types.count("indicator") >= 2
    mal = next(o for o in bundle.objects if o.type == "malware")
    assert mal.name == "Glasswing" and mal.is_family
    patterns = {o.pattern for o in bundle.objects if o.type == "indicator"}
    assert "[file:name = 'glasswing-note.txt']" in patterns
    assert any("fm3j62jcla" in p for p in patterns)


def test_decryptors_known_and_unknown(ours, tmp_path: Path) -> None:
    path, keys = ours
    r = run(["ransom", "decryptors", "tidemark", "--list", str(path), "--allow-unsigned"],
            keys, tmp_path)
    assert r.exit_code == 0 and "decrypter.emsisoft.com/tidemark" in r.output
    assert "Emsisoft" in r.output and "not verified" in r.output
    r = run(["ransom", "decryptors", "Glasswing", "--list", str(path), "--format", "json"],
            keys, tmp_path)
    doc = json.loads(r.output)
    assert r.exit_code == 1 and doc["known"] is False and doc["decryptors"] == []
    assert doc["references"] == ["https://example.org/research/glasswing-ransomware-analysis"]
    r = run(["ransom", "decryptors", "no-such-family", "--list", str(path)], keys, tmp_path)
    assert r.exit_code == 2 and "no family 'no-such-family'" in r.output


def test_an_organisation_adds_a_decryptor_in_its_own_signed_list(ours, tmp_path: Path) -> None:
    path, keys = ours
    folder = tmp_path / "kitvet" / "ransom"
    folder.mkdir(parents=True)
    own = folder / "cert-xx.yaml"
    own.write_text("""kitvet_ransom: "1.0"
name: cert-xx
publisher: CERT XX
version: "1"
date: "2026-12-01"
families:
  - id: glasswing
    name: Glasswing
    decryptors:
      - kind: tool
        url: https://cert.example/tools/glasswing-decryptor
        tool: GlasswingDecryptor 1.2
        publisher: CERT XX
        date: "2026-11-30"
        covers: Glasswing 1.x (files with the .glasswing extension)
        source: CERT XX advisory 2026-44
        source_quality: official
        verified: true
""")
    priv = tmp_path / "k.pem"
    signing.generate_keypair(priv, tmp_path / "keys2")
    assert CliRunner().invoke(main, ["lists", "sign", str(own), "--key", str(priv)]).exit_code == 0
    env = {"KITVET_TRUSTED_KEYS": f"{keys}:{tmp_path / 'keys2'}", "XDG_CONFIG_HOME": str(tmp_path)}
    r = CliRunner().invoke(main, ["ransom", "decryptors", "glasswing", "--list", str(path)],
                           env=env)
    assert r.exit_code == 0 and "GlasswingDecryptor 1.2" in r.output and "CERT XX" in r.output


def test_unsigned_list_is_refused_without_allow_unsigned(tmp_path: Path) -> None:
    out = tmp_path / "u.json"
    CliRunner().invoke(main, ["lists", "import", str(GALAXY), "-o", str(out), "--name", "u"])
    r = CliRunner().invoke(main, ["ransom", "identify", "--name", "x.glasswing", "--list", str(out)],
                           env={"XDG_CONFIG_HOME": str(tmp_path)})
    assert r.exit_code == 2 and "unsigned" in r.output
