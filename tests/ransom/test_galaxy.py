"""Importing the MISP galaxy's ransomware cluster: quirks handled, skips reported."""

from __future__ import annotations

from typing import Any

import pytest

from kitvet.errors import ListError
from kitvet.ransom.diff import diff_documents
from kitvet.ransom.galaxy import ImportReport, galaxy_to_document


def fam(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in doc["families"] if f["name"] == name)


def test_misspelled_keys_are_read_as_the_key_they_stand_for(imported) -> None:
    doc, report = imported
    tide = fam(doc, "Tidemark Locker")
    assert "!!restore_tidemark_[id].txt" not in tide.get("note_names", [])
    assert [p["text"] for p in tide["note_name_patterns"]] == ["!!RESTORE_TIDEMARK_[ID].txt"]
    assert tide["extensions"] == ["_tdm"]
    assert report.key_aliases["extension"] == 1
    assert report.key_aliases["ransomnotes-filesnames"] == 1
    assert fam(doc, "Orchid Ransomware")["note_texts"] == ["ORCHID has locked your files. Pay 0.5 BTC."]


def test_free_text_is_skipped_and_reported(imported) -> None:
    _, report = imported
    skipped = {(v, why) for _, v, why in report.skipped}
    assert ("RANDOM 3 LETTERS ARE ADDED", "free text, not a file name") in skipped
    assert any(place.startswith("values[6]") and "no family name" in why
               for place, _, why in report.skipped)
    assert any("skipped" in line and "RANDOM 3 LETTERS" in line for line in report.lines())


def test_contacts_come_from_links_notes_and_descriptions(imported) -> None:
    doc, _ = imported
    glass = {(c["kind"], c["value"]) for c in fam(doc, "Glasswing")["contacts"]}
    assert ("tox", "C66FE06DCAB7654AA5672543A6A9D5F3AB09FBFF6D8FC8C47FE2CBC2A22910B36BA0CEF42CD2") in glass
    assert len([k for k, _ in glass if k == "onion"]) == 2
    orchid = {(c["kind"], c["value"]) for c in fam(doc, "Orchid Ransomware")["contacts"]}
    assert ("btc", "19oPrpevEHX1yNqrmawM8eJvkaPD5sbHjk") in orchid
    assert ("email", "orchid.help@mailbox.example") in orchid


def test_names_that_differ_only_in_spacing_get_distinct_ids(imported) -> None:
    doc, _ = imported
    ids = sorted(f["id"] for f in doc["families"] if f["name"].lower().split() == ["red", "ember"])
    assert ids == ["red-ember", "red-ember-aa11bb22"]


def test_decryptors_are_read_from_refs_conservatively(imported) -> None:
    doc, _ = imported
    tide = fam(doc, "Tidemark Locker")["decryptors"]
    assert [(d["kind"], d["publisher"], d["tool"]) for d in tide] == [("tool", "Emsisoft", "tidemark")]
    assert tide[0]["verified"] is False and "entry 0a2c6b1e" in tide[0]["source"]
    orchid = fam(doc, "Orchid Ransomware")["decryptors"]
    assert [(d["kind"], d["publisher"], d["date"]) for d in orchid] == [("report", "ESET", "2021-03-09")]
    assert "decryptors" not in fam(doc, "Glasswing")


def test_not_a_galaxy_is_refused_with_the_file_name() -> None:
    with pytest.raises(ListError, match="x.json: not a MISP galaxy cluster"):
        galaxy_to_document(b'{"Event": {}}', file="x.json")
    with pytest.raises(ListError, match="x.json: not JSON"):
        galaxy_to_document(b"{", file="x.json")


def test_update_diff_names_added_removed_and_changed(imported) -> None:
    import copy
    import json

    from tests.ransom.conftest import GALAXY

    old, _ = imported
    raw = json.loads(GALAXY.read_text())
    raw["version"] = 8
    raw["values"] = [v for v in raw["values"] if v["value"] != "Plain Readme"]
    raw["values"][0]["meta"]["extensions"].append(".glasswing2")
    raw["values"].append({"value": "Newcomer", "uuid": "44445555-6666-4777-8888-999900001111",
                          "meta": {"extensions": [".newcomer"]}})
    new, _ = galaxy_to_document(json.dumps(raw).encode(), file="g.json", name="test-galaxy")
    lines = diff_documents(copy.deepcopy(old), new)
    assert "+ family newcomer (Newcomer)" in lines
    assert "- family plain-readme (Plain Readme)" in lines
    assert "    + extensions: .glasswing2" in lines
    assert lines[-1] == "1 families added, 1 removed, 1 changed"
    assert isinstance(ImportReport().lines(), list)
