"""The documentation cannot drift from the code (datasette's habit, STYLE.md).

Every command of the CLI (each group's subcommands too), every enforcement target, every
inventory source and every report format appears in the docs (``docs/*.md`` and the README);
every ``kitvet ...`` command line the docs show names commands that exist. The pages' own
tests (``tests/<package>/test_docs.py``) check options and formats of their commands.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from kitvet.cli import main
from kitvet.enforce import EXPORTERS
from kitvet.report import FORMATS
from kitvet.sources.registry import IMPORTERS

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted([*(ROOT / "docs").glob("*.md"), ROOT / "README.md"])

#: ``kitvet`` then words, as a command line starts (not "kitvet ban: X", a rule's name)
COMMAND_LINE = re.compile(r"\bkitvet((?: +[a-z][a-z0-9-]*)+)(?=\s|$|`)")
#: where a command line starts inside a code block: at the line's start (after a prompt) or
#: after a shell operator
LINE_START = re.compile(r"(?:^|\$ |[|;&(] *)(?=kitvet\b)", re.MULTILINE)


def _commands(cmd: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command path below ``cmd``, e.g. ("serve", "token", "revoke")."""
    if path:
        yield path
    if isinstance(cmd, click.Group):
        ctx = click.Context(cmd)
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is not None and not sub.hidden:
                yield from _commands(sub, (*path, name))


COMMANDS = sorted(_commands(main))


def _text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def _code(text: str) -> Iterator[str]:
    """The command lines of a page: fenced blocks (in ``console`` blocks only ``$`` lines; in a
    block of embedded ``--help`` output only its usage line) and inline code spans."""
    for lang, block in re.findall(r"^```(\w*)\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        lines = block.splitlines()
        if lines and lines[0].startswith("Usage: "):
            yield lines[0].removeprefix("Usage: ")
            continue
        for line in lines:
            if lang != "console" or line.startswith("$ "):
                yield from (line[m.end():] for m in LINE_START.finditer(line))
    prose = re.sub(r"^```.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
    yield from (span for span in re.findall(r"`([^`\n]+)`", prose) if span.startswith("kitvet "))


def documented_commands() -> set[tuple[str, tuple[str, ...]]]:
    """(page, the words after ``kitvet``) of every command line the docs show."""
    out: set[tuple[str, tuple[str, ...]]] = set()
    for page in PAGES:
        for line in _code(page.read_text(encoding="utf-8")):
            m = COMMAND_LINE.match(line)
            if m:
                out.add((page.name, tuple(m.group(1).split())))
    return out


@pytest.mark.parametrize("path", COMMANDS, ids=" ".join)
def test_every_command_is_documented(path: tuple[str, ...]) -> None:
    assert f"kitvet {' '.join(path)}" in _text(), (
        f"`kitvet {' '.join(path)}` appears in no page of docs/ nor the README")


def test_every_documented_command_exists() -> None:
    known = set(COMMANDS)
    groups = {p for p in known if isinstance(_resolve(p), click.Group)}
    wrong = []
    for page, words in sorted(documented_commands()):
        path: tuple[str, ...] = ()
        for w in words:  # the words that name commands: as far as groups go
            if path and path not in groups:
                break
            default = getattr(_resolve(path), "default_command", None) if path in groups else None
            if (*path, w) not in known and default and (*path, default) in known:
                break  # a group with a default command (kitvet dossier SUBJECT): the rest are its arguments
            if (*path, w) not in known:
                wrong.append(f"{page}: kitvet {' '.join(words)}")
                break
            path = (*path, w)
    assert not wrong, "commands shown in the docs that kitvet does not have:\n" + "\n".join(wrong)


def _resolve(path: tuple[str, ...]) -> click.Command:
    cmd: click.Command = main
    for name in path:
        assert isinstance(cmd, click.Group)
        sub = cmd.get_command(click.Context(cmd), name)
        assert sub is not None
        cmd = sub
    return cmd


def test_the_docs_show_command_lines() -> None:
    """The scan above sees the docs' command lines (a broken scan would pass anything)."""
    shown = {words for _page, words in documented_commands()}
    assert {("estate", "review"), ("enforce", "export"), ("serve",)} <= {w[:2] for w in shown}
    assert ("update-data",) in shown  # the usage line of embedded --help output
    assert len(shown) > 50


@pytest.mark.parametrize("kind, names", [
    ("enforcement target", EXPORTERS), ("inventory source", IMPORTERS), ("report format", FORMATS),
], ids=lambda v: v if isinstance(v, str) else "")
def test_every_plugin_is_documented(kind: str, names: list[str]) -> None:
    text = _text()
    missing = [n for n in names if f"`{n}`" not in text and not re.search(
        rf"--(?:format|target) [^\n`]*\b{re.escape(n)}\b", text)]
    assert not missing, f"{kind}s in no page of docs/ nor the README: {missing}"
