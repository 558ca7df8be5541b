"""The inventory docs cannot drift: every option, import format and item kind is in them."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from kitvet.cli.collect import collect
from kitvet.cli.hwdata import update_data
from kitvet.cli.identify import identify
from kitvet.cli.importer import import_
from kitvet.identify.explain import ITEM_KINDS
from kitvet.sources.registry import IMPORTERS

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize("command, doc", [
    (collect, "collect.md"), (update_data, "collect.md"), (import_, "import.md"),
    (identify, "identify.md"),
])
def test_every_option_is_documented(command: click.Command, doc: str) -> None:
    text = (DOCS / doc).read_text(encoding="utf-8")
    assert f"kitvet {command.name}" in text
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert any(opt in text for opt in param.opts), (command.name, param.opts)


def test_every_import_format_is_documented() -> None:
    text = (DOCS / "import.md").read_text(encoding="utf-8") + (
        DOCS / "collect.md").read_text(encoding="utf-8")
    for name in IMPORTERS:
        assert f"`{name}`" in text or f"--format {name}" in text, name


def test_every_identify_item_kind_is_documented() -> None:
    text = (DOCS / "identify.md").read_text(encoding="utf-8")
    for kind in ITEM_KINDS:
        assert f"`{kind}:" in text, kind
