"""The last good copies of fetched lists (``kitvet lists update`` writes them, the loader reads
them): where they are kept and which copy of each list is current (``state.json``).

Apart from :mod:`kitvet.lists.update` so that loading lists needs none of the fetching.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from kitvet.lists.format import atomic_write

STATE_NAME = "state.json"


def lists_dir() -> Path:
    """Where fetched lists are stored (see :mod:`kitvet.lists.update`)."""
    env = os.environ.get("KITVET_LISTS_DIR")
    if env:
        return Path(env)
    data = os.environ.get("KITVET_DATA_DIR")
    if data:
        return Path(data) / "lists"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg) / "kitvet" / "data" / "lists"


def read_state(store: Path) -> dict[str, Any]:
    """``state.json`` of ``store`` (empty when missing or unreadable)."""
    try:
        state = json.loads((store / STATE_NAME).read_text("utf-8"))
        return state if isinstance(state, dict) and isinstance(state.get("lists"), dict) else {
            "lists": {}}
    except (OSError, ValueError):
        return {"lists": {}}


def write_state(store: Path, state: dict[str, Any]) -> None:
    """Replace ``state.json`` of ``store`` atomically."""
    atomic_write(store / STATE_NAME, json.dumps(state, indent=2, sort_keys=True).encode())


def cached_lists(store: Path | None = None) -> list[Path]:
    """The last good copy of every configured list that was ever fetched."""
    return [p for p, _ in cached_entries(store)]


def cached_entries(store: Path | None = None) -> list[tuple[Path, dict[str, Any]]]:
    """(last good copy, its ``state.json`` entry) of every list ever fetched; an entry of
    ``"kind": "osv"`` is a copy kitvet wrote from an OSV feed (unsigned)."""
    store = store or lists_dir()
    out = []
    for entry in read_state(store)["lists"].values():
        p = store / str(entry.get("file", ""))
        if entry.get("file") and p.is_file():
            out.append((p, entry))
    return out
