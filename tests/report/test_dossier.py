"""``kitvet dossier SUBJECT``: one signed PDF + JSON for a decision; ``kitvet dossier verify``
checks it offline and finds a one-byte change; an allegation is never shown as a
confirmation; hostile names stay text."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(shutil.which("pdftotext") is None,
                                reason="poppler-utils not installed")


@pytest.fixture
def decided(history):
    history("decide", "kaspersky-lab", "--decision", "banned", "--rationale",
            "Board decision 2026-14", "--evidence", "https://example.org/board/2026-14")
    history("campaign", "start", "kaspersky-lab")
    return history


def _make(kv, tmp_path: Path, subject: str = "kaspersky-lab") -> tuple[Path, Path, dict]:
    pdf = tmp_path / "out" / f"{subject}.pdf"
    out = kv("dossier", subject, "-o", str(pdf))
    assert "signed" in out
    record = pdf.with_suffix(".json")
    return pdf, record, json.loads(record.read_text())


def _text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


def test_dossier_records_the_decision_and_both_sides(decided, tmp_path):
    pdf, _record, doc = _make(decided, tmp_path)
    assert pdf.read_bytes().startswith(b"%PDF-")
    d = doc["dossier"]
    assert d["subject_id"] == "kaspersky-lab" and d["issued_by"] == "ciso"
    dec = d["decision_in_force"]
    assert (dec["decision"], dec["actor"], dec["rationale"]) == (
        "banned", "ciso", "Board decision 2026-14")
    sides = {a["side"] for a in d["assertions"]}
    assert sides == {"against", "for"}
    # the European Commission's "no evidence found" stands on the subject's side
    ec = [a for a in d["assertions"] if a["kind"] == "no-evidence-found"]
    assert ec and all(a["side"] == "for" and a["nature"] == "no evidence found" for a in ec)
    # the policy's reasoning, assertion by assertion, with the deciding ones marked
    assert d["policy"]["status"] in ("review", "ban") and d["policy"]["rule"]
    assert any(a["deciding"] for a in d["assertions"])
    assert all(a["reason"] for a in d["assertions"])
    # exposure per institution; campaign with its burndown; exceptions; audit head
    expo = {e["institution"]: e for e in d["exposure"]}
    assert expo["Parliament"]["hosts"] == 1 and expo["+Ops <b>Unit</b>"]["hosts"] == 1
    assert expo["Agency"]["hosts"] == 1 and expo["Agency"]["removed"] == 0  # ag-silent, silent
    assert d["campaigns"][0]["subject_id"] == "kaspersky-lab"
    assert d["campaigns"][0]["burndown"]
    assert d["exceptions"][0]["reason"].startswith("@SUM")
    assert d["audit"]["intact"] and re.fullmatch(r"[0-9a-f]{64}", d["audit"]["hash"])
    # the issue is itself in the audit log, with the digest the PDF prints
    log = decided("audit", "list", "--format", "json")
    assert doc["content_sha256"] in log
    text = _text(pdf)
    assert "Against the subject" in text and "For the subject" in text
    assert "no evidence found" in text.lower() and "Board decision 2026-14" in text
    assert doc["content_sha256"][:32] in text.replace("\n", "")


def test_an_allegation_is_never_shown_as_a_confirmation(decided, tmp_path):
    _pdf, _record, doc = _make(decided, tmp_path)
    against = [a for a in doc["dossier"]["assertions"] if a["side"] == "against"]
    natures = {a["kind"]: a["nature"] for a in against}
    assert "confirmed malicious build" not in natures.values()
    assert natures.get("high-risk-vendor") == "allegation"
    assert natures.get("removal-order") == "legal measure"
    # the backdoored xz build is a confirmed malicious build — of that build only
    xz_pdf, _r, xz = _make(decided, tmp_path, "xz-utils-backdoor-2024")
    assert {a["nature"] for a in xz["dossier"]["assertions"] if a["side"] == "against"} == {
        "confirmed malicious build"}
    assert "CONFIRMED MALICIOUS BUILD" in _text(xz_pdf).upper()


def test_verify_offline_and_a_one_byte_change_is_detected(decided, tmp_path):
    pdf, record, doc = _make(decided, tmp_path)
    out = decided("dossier", "verify", str(pdf))
    assert "signature verifies" in out and "PDF" in out and "verifies (key" in out
    assert "verifies (key" in decided("dossier", "verify", str(record))
    # pinned to the estate's published key
    pub = tmp_path / "estate.pub"
    assert doc["signature"]["key_id"] in decided("dossier", "key", "-o", str(pub))
    assert "trusted key" in decided("dossier", "verify", str(pdf), "--key", str(pub))
    other = tmp_path / "other"
    decided("lists", "keygen", "--private-key", str(other / "k.pem"), "--public-dir", str(other))
    assert "not by the trusted key" in decided("dossier", "verify", str(pdf), "--key",
                                               str(next(other.glob("*.pub"))), code=1)

    # one byte of the PDF
    data = bytearray(pdf.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad_pdf = tmp_path / "out" / "changed.pdf"
    bad_pdf.write_bytes(bytes(data))
    out = decided("dossier", "verify", str(bad_pdf), "--signature", str(record), code=1)
    assert "not the one signed" in out
    # one byte of the record: the rationale
    text = record.read_text()
    changed = text.replace("Board decision 2026-14", "Board decision 2026-15", 1)
    assert changed != text
    record.write_text(changed)
    assert "signature does not verify" in decided("dossier", "verify", str(pdf), code=1)
    record.write_text(text)
    raw = bytearray(record.read_bytes())
    raw[raw.index(b'"hosts_total"') + 1] ^= 0x20  # one byte of a key name
    record.write_bytes(bytes(raw))
    assert "does not verify" in decided("dossier", "verify", str(pdf), code=1)


def test_hostile_names_stay_text(decided, tmp_path, hostile):
    pdf, _record, doc = _make(decided, tmp_path)
    items = [h["item"] for h in doc["dossier"]["hosts"]]
    # the inventory reader already drops control characters from package names
    assert any(i.startswith('=HYPERLINK("http://evil.example","x")') for i in items)
    flat = re.sub(r"\s+", "", _text(pdf))
    assert '=HYPERLINK("http://evil.example","x")' in flat
    assert "+Ops<b>Unit</b>" in flat
    # an exception's reason (typed by a person) keeps its escape character, shown as text
    assert "forensicimage\\x1b[2J" in flat


def test_unknown_subject_is_one_clear_error(decided, tmp_path):
    out = decided("dossier", "kaspersky-labb", "-o", str(tmp_path / "x.pdf"), code=2)
    assert "kaspersky-lab" in out  # the near id is suggested
    assert not (tmp_path / "x.pdf").exists()


def test_every_dossier_command_and_option_is_documented():
    import click

    from kitvet.cli.dossier import dossier

    docs = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text()
    for name, cmd in dossier.commands.items():
        assert f"kitvet dossier {name}" in docs or name == "make"
        for p in cmd.params:
            if isinstance(p, click.Option) and p.name != "estate_path":
                assert f"`{max(p.opts, key=len)}`" in docs, (name, p.name)
