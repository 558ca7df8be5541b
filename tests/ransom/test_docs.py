"""The ransomware docs cannot drift: every command and evidence kind is documented."""

from __future__ import annotations

from pathlib import Path

from kitvet.cli.ransom import ransom
from kitvet.model.ransom import DECRYPTOR_KINDS, EVIDENCE_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_ransom_command_is_documented() -> None:
    text = (DOCS / "ransom.md").read_text()
    for name in ransom.commands:
        assert f"kitvet ransom {name}" in text, name
    assert "kitvet lists import --format misp-galaxy" in text


def test_every_evidence_and_decryptor_kind_is_documented() -> None:
    text = (DOCS / "ransom.md").read_text()
    for kind in [*EVIDENCE_KINDS, *DECRYPTOR_KINDS]:
        assert f"`{kind}`" in text, kind


def test_readme_links_the_ransom_docs() -> None:
    readme = (DOCS.parent / "README.md").read_text()
    assert "docs/ransom.md" in readme and "kitvet ransom identify" in readme
