"""docs/enforce.md documents every target, format and option (it cannot drift silently)."""

from __future__ import annotations

from pathlib import Path

from kitvet.cli.enforce import enforce
from kitvet.enforce import EXPORTERS, exporter

DOC = Path(__file__).resolve().parents[2] / "docs" / "enforce.md"


def test_every_target_and_format_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for name in EXPORTERS:
        assert f"### `{name}`" in text or f"`{name}` —" in text, name
        for fmt in exporter(name).formats:
            assert f"`{fmt}`" in text, (name, fmt)


def test_every_option_is_documented():
    text = DOC.read_text(encoding="utf-8")
    for cmd in enforce.commands.values():
        for param in cmd.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert f"`{opt}" in text, (cmd.name, opt)
