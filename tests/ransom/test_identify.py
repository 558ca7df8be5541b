"""Identification: ranked families with evidence, and a confidence that says what matched."""

from __future__ import annotations

from pathlib import Path

from kitvet.ransom import identify_file, identify_name
from kitvet.ransom.features import MAX_NOTE_BYTES
from tests.ransom.conftest import FIXTURES


def test_note_with_a_recorded_onion_names_the_family_first(index) -> None:
    r = identify_file(FIXTURES / "glasswing-note.txt", index)
    assert (r.verdict, r.confidence) == ("Glasswing", "high")
    best = r.candidates[0]
    kinds = {e.kind for e in best.evidence}
    assert {"contact", "family-name", "note-text"} <= kinds
    onion = next(e for e in best.evidence if e.kind == "contact")
    assert "fm3j62jcla" in onion.matched and onion.shared_by == 1 and "line 5" in onion.matched


def test_html_note_is_read_as_text_not_run(index) -> None:
    r = identify_file(FIXTURES / "tidemark-note.html", index)
    assert r.verdict == "Tidemark Locker" and r.confidence == "high"
    assert any(e.kind == "family-name" and e.recorded == "Tidemark" for e in r.candidates[0].evidence)


def test_encrypted_file_name_with_a_known_extension_is_attributed(index) -> None:
    r = identify_name("Q3 budget.xlsx.glasswing", index)
    assert r.verdict == "Glasswing" and r.candidates[0].evidence[0].kind == "extension"
    pattern = identify_name("minutes.docx.id-77AB12.[pay@mail.example].tide", index)
    assert pattern.verdict == "Tidemark Locker"
    assert pattern.candidates[0].evidence[0].kind == "extension-pattern"
    assert pattern.candidates[0].confidence == "medium"


def test_shared_extension_is_evidence_for_each_family_that_uses_it(index) -> None:
    r = identify_name("photo.jpg.ember", index)
    assert sorted(c.family.id for c in r.candidates) == ["red-ember", "red-ember-aa11bb22"]
    assert all(c.evidence[0].shared_by == 2 for c in r.candidates)


def test_ordinary_names_and_types_are_weak(index) -> None:
    r = identify_name("readme.txt", index)
    assert r.verdict == "unknown" and r.candidates and r.candidates[0].confidence == "low"
    z = identify_name("backup.zip", index)
    assert z.verdict == "unknown" and z.candidates[0].family.name == "Orchid Ransomware"


def test_note_without_a_known_marker_is_unknown_with_its_features(index) -> None:
    r = identify_file(FIXTURES / "unknown-note.txt", index)
    assert r.verdict == "unknown" and r.confidence == "none"
    got = {(f.kind, f.value) for f in r.features}
    assert ("email", "recover.files@mailbox.example") in got
    assert ("btc", "159Gt41DBzYRsML1JiTNVqNySxVCAuNKWr") in got
    assert ("onion", "mcdtrzfmbbwea7ptafykshin7glzbljhobmlmtgy5yfsjszj36rsazyd.onion") in got
    assert ("id", "A1B2C3D4E5") in got
    assert "no known marker" in r.notes[0]


def test_a_huge_file_is_read_only_to_its_bound(index, tmp_path: Path) -> None:
    big = tmp_path / "big.glasswing"
    with open(big, "wb") as fh:
        fh.write(b"GLASSWING " * 10)
        fh.seek(MAX_NOTE_BYTES * 8)
        fh.write(b"end")
    r = identify_file(big, index)
    assert r.truncated and r.read_bytes == MAX_NOTE_BYTES
    assert r.verdict == "Glasswing"


def test_binary_content_uses_the_name_only(index, tmp_path: Path) -> None:
    import os

    enc = tmp_path / "ledger.xlsx.glasswing"
    enc.write_bytes(os.urandom(20000))
    r = identify_file(enc, index)
    assert r.binary and r.verdict == "Glasswing"
    assert any("not text" in n for n in r.notes)


def test_hostile_note_is_read_in_linear_time(index, tmp_path: Path) -> None:
    """One long run without spaces, unclosed script tags and stray @ signs: a reader with
    backtracking patterns would never finish this file."""
    note = tmp_path / "note.hta"
    note.write_bytes(b"<html>" + b"<script" * 20000 + b"a@" * 200000 + b"x" * 400000)
    r = identify_file(note, index)
    assert r.verdict == "unknown" and r.read_bytes < MAX_NOTE_BYTES + 1
