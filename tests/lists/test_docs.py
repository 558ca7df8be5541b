"""The user docs cannot drift: every command, identifier kind and assertion kind is in them."""

from __future__ import annotations

from pathlib import Path

from kitvet.cli.lists import lists
from kitvet.cli.policy import policy
from kitvet.model.risk import ASSERTION_KINDS, IDENTIFIER_KINDS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_lists_command_is_documented() -> None:
    text = (DOCS / "risk-lists.md").read_text()
    for name in lists.commands:
        assert f"kitvet lists {name}" in text, name


def test_every_policy_command_is_documented() -> None:
    text = (DOCS / "policy.md").read_text()
    for name in policy.commands:
        assert f"kitvet policy {name}" in text, name


def test_every_kind_is_documented() -> None:
    text = (DOCS / "risk-lists.md").read_text()
    for kind in list(IDENTIFIER_KINDS) + list(ASSERTION_KINDS):
        assert f"`{kind}`" in text, kind
