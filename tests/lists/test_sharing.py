"""Sharing lists: MISP events and STIX 2.1 bundles, validated with pymisp and stix2."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import stix2
from click.testing import CliRunner
from pymisp import MISPEvent, MISPObject

from kitvet.cli import main
from kitvet.errors import ListError
from kitvet.lists import bundled, load_list
from kitvet.lists.format import document_to_list, validate_document
from kitvet.lists.misp import export_misp, import_misp
from kitvet.lists.stix import export_stix, import_stix
from kitvet.policy import load_profile

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="module")
def core():
    return dataclasses.replace(bundled().lists[0], origin=None, signed_by=None)


@pytest.fixture(scope="module")
def misp_json(core) -> str:
    return export_misp(core, load_profile("default"))


@pytest.fixture(scope="module")
def stix_json(core) -> str:
    return export_stix(core)


def _back(doc: dict):
    validate_document(doc, file="imported")
    return document_to_list(doc)


def test_kitvet_misp_kitvet_round_trip_is_lossless(core, misp_json: str) -> None:
    assert _back(import_misp(misp_json)) == core


def test_kitvet_stix_kitvet_round_trip_is_lossless(core, stix_json: str) -> None:
    assert _back(import_stix(stix_json)) == core


def test_small_list_round_trips_both_ways() -> None:
    small = dataclasses.replace(load_list(FIXTURES / "small.yaml", allow_unsigned=True),
                                origin=None)
    assert _back(import_misp(export_misp(small))) == small
    assert _back(import_stix(export_stix(small))) == small


def test_misp_objects_follow_pymisp_templates(misp_json: str) -> None:
    ev = MISPEvent()
    ev.load(json.loads(misp_json))
    names = {o.name for o in ev.objects}
    assert {"organization", "software", "file", "device", "iot-device", "annotation"} <= names
    for obj in ev.objects:
        rebuilt = MISPObject(obj.name, strict=True)  # strict: unknown relations raise
        for a in obj.attributes:
            rebuilt.add_attribute(a.object_relation, value=a.value)
            expected = rebuilt._definition["attributes"][a.object_relation]["misp-attribute"]
            assert a.type == expected, (obj.name, a.object_relation, a.type)
        assert rebuilt._validate()


def test_misp_hashes_and_tags(misp_json: str) -> None:
    ev = MISPEvent()
    ev.load(json.loads(misp_json))
    hashes = {a.value for o in ev.objects if o.name == "file" for a in o.attributes
              if a.object_relation == "sha256"}
    assert "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f" in hashes
    tags = {t.name for o in ev.objects for a in o.attributes for t in a.tags}
    assert 'kitvet:status="ban"' in tags and 'kitvet:status="review"' in tags
    assert 'kitvet:authority="eu-parliament"' in tags
    assert 'kitvet:assertion-kind="no-evidence-found"' in tags
    assert 'kitvet:verified="false"' in tags
    kaspersky = next(o for o in ev.objects if o.name == "organization"
                     and o.get_attributes_by_relation("name")[0].value == "Kaspersky Lab")
    assert {t.name for t in kaspersky.get_attributes_by_relation("name")[0].tags} >= {
        'kitvet:status="review"', 'kitvet:subject="kaspersky-lab"'}
    refs = [o for o in ev.objects if o.name == "annotation"
            and any(r.referenced_uuid == kaspersky.uuid for r in o.references)]
    assert len(refs) == len(bundled().lists[0].subject("kaspersky-lab").assertions)


def test_stix_bundle_parses_with_stix2(stix_json: str) -> None:
    bundle = stix2.parse(stix_json, allow_custom=True)  # validates patterns and properties
    objs = bundle.objects
    authorities = {o.name for o in objs if o.type == "identity"}
    assert {"European Parliament", "German Federal Office for Information Security (BSI)",
            "kitvet project"} <= authorities
    rel_types = {o.relationship_type for o in objs if o.type == "relationship"}
    assert {"named-in-resolution", "no-evidence-found", "related-to"} <= rel_types
    xz = next(o for o in objs if o.type == "indicator" and o.x_kitvet_subject["id"]
              == "xz-utils-backdoor-2024")
    assert str(xz.valid_from).startswith("2024-03-29")
    assert "[software:name = 'liblzma5' AND software:version = '5.6.1']" in xz.pattern
    assert xz.indicator_types == ["malicious-activity"]
    software = {(o.name, o.get("version")) for o in objs if o.type == "software"}
    assert ("xz-utils", "5.6.0") in software


def test_export_is_reproducible(core) -> None:
    assert export_stix(core) == export_stix(core)
    assert export_misp(core) == export_misp(core)


def test_foreign_misp_event_is_imported_from_native_attributes() -> None:
    doc = import_misp((FIXTURES / "foreign-misp-event.json").read_text())
    rl = _back(doc)
    assert rl.publisher == "CERT-XX" and rl.date == "2024-05-02"
    tool = rl.subjects[0]
    assert tool.identifiers[0].value == "badtool" and tool.identifiers[0].versions == ("2.1.0",)
    [a] = tool.assertions
    assert a.kind == "confirmed-malicious-version" and a.authority == "CERT-XX"
    assert a.reference_url == "https://cert.example.org/advisories/2024-17" and not a.verified
    hashes = {i.value for s in rl.subjects for i in s.identifiers if i.kind == "sha256"}
    assert hashes == {"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                      "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}


def test_foreign_stix_bundle_is_imported_from_patterns() -> None:
    rl = _back(import_stix((FIXTURES / "foreign-stix-bundle.json").read_text()))
    libfoo, vendor = rl.subjects
    kinds = {i.kind: i for i in libfoo.identifiers}
    assert kinds["product_name"].versions == ("1.4.2", "1.4.3")
    assert kinds["mac_prefix"].value == "00:11:22"
    assert kinds["sha256"].value.startswith("aab0c442")
    assert libfoo.assertions[0].kind == "confirmed-malicious-version"
    assert libfoo.assertions[0].authority == "CERT-YY"
    assert vendor.identifiers[0].kind == "publisher" and vendor.assertions[0].kind == "warning"


@pytest.mark.parametrize(("text", "fn", "match"), [
    ("{not json", import_stix, "x.json: not a STIX 2.1 bundle"),
    ('{"type": "indicator"}', import_stix, "x.json: not a STIX"),
    ("[1, 2]", import_misp, "x.json: not a MISP event"),
])
def test_bad_sharing_input_is_a_clear_error(text: str, fn, match: str) -> None:
    with pytest.raises(ListError, match=match):
        fn(text, file="x.json")


def test_cli_export_import(tmp_path: Path) -> None:
    runner = CliRunner()
    for fmt in ("misp", "stix"):
        out, back = tmp_path / f"core.{fmt}.json", tmp_path / f"back-{fmt}.yaml"
        r = runner.invoke(main, ["lists", "export", "--format", fmt, "-o", str(out)])
        assert r.exit_code == 0, r.output
        r = runner.invoke(main, ["lists", "import", str(out), "-o", str(back), "--name",
                                 f"core-{fmt}"])
        assert r.exit_code == 0, r.output
        rl = load_list(back, allow_unsigned=True)
        assert rl.name == f"core-{fmt}" and len(rl.subjects) == len(bundled().lists[0].subjects)
    bad = tmp_path / "bad.json"
    bad.write_text('{"hello": 1}')
    r = runner.invoke(main, ["lists", "import", str(bad), "-o", str(tmp_path / "x.yaml")])
    assert r.exit_code == 2 and "neither a MISP event, a STIX bundle, a KEV catalogue nor an OSV" \
        in r.output
    assert not (tmp_path / "x.yaml").exists()


def test_import_refuses_tampered_kitvet_record(tmp_path: Path, stix_json: str) -> None:
    doc = json.loads(stix_json)
    ind = next(o for o in doc["objects"] if o["type"] == "indicator")
    ind["x_kitvet_identifiers"][0]["kind"] = "registry_key"
    src = tmp_path / "t.json"
    src.write_text(json.dumps(doc))
    r = CliRunner().invoke(main, ["lists", "import", str(src), "-o", str(tmp_path / "t.yaml")])
    assert r.exit_code == 2
    assert "subjects[0].identifiers[0].kind: 'registry_key' is not one of" in r.output
    assert not (tmp_path / "t.yaml").exists()


def test_malformed_kitvet_records_are_clear_errors(stix_json: str) -> None:
    doc = json.loads(stix_json)
    ind = next(o for o in doc["objects"] if o["type"] == "indicator")
    ind["x_kitvet_identifiers"] = ["not a mapping"]
    with pytest.raises(ListError, match="b.json: malformed STIX content"):
        import_stix(json.dumps(doc), file="b.json")
