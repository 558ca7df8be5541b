"""Regenerate ``osquery-columns.json`` from an osquery checkout (table and column names only).

    python tests/enforce/data/osquery_columns.py /path/to/osquery

The platform of a table is the folder of its spec (``specs/*.table``: every platform;
``posix``: darwin and linux; ``linwin``: linux and windows; ...); ``extended_schema(PLATFORM,
[...])`` adds columns on that platform only.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ALL = ["darwin", "linux", "windows"]
FOLDERS = {"posix": ["darwin", "linux"], "linux": ["linux"], "darwin": ["darwin"],
           "windows": ["windows"], "utility": ALL, "macwin": ["darwin", "windows"],
           "linwin": ["linux", "windows"], "sleuthkit": ["darwin", "linux"]}
BLOCK = re.compile(r"(schema|extended_schema)\s*\(\s*(?:([A-Z_| ]+?),\s*)?\[(.*?)\]\s*\)", re.S)
COLUMN = re.compile(r'Column\(\s*"([A-Za-z0-9_]+)"')


def extract(repo: Path) -> dict:
    git = ["git", "-C", str(repo)]
    commit = subprocess.check_output([*git, "rev-parse", "HEAD"], text=True).strip()
    files = subprocess.check_output([*git, "ls-tree", "-r", "--name-only", "HEAD", "specs"],
                                    text=True).split()
    tables: dict[str, dict] = {}
    for f in files:
        parts = f.split("/")
        if not f.endswith(".table"):
            continue
        plats = ALL if len(parts) == 2 else FOLDERS[parts[1]]
        src = subprocess.check_output([*git, "show", f"HEAD:{f}"], text=True)
        name = re.search(r'table_name\(\s*"([a-z0-9_]+)"', src)
        if not name:
            continue
        t = tables.setdefault(name.group(1), {"platforms": [], "columns": [], "required": [],
                                              "extended": {}})
        t["platforms"] = sorted(set(t["platforms"]) | set(plats))
        for kind, plat, body in BLOCK.findall(src):
            cols = COLUMN.findall(body)
            if kind == "schema":
                t["columns"] = list(dict.fromkeys(t["columns"] + cols))
                t["required"] = sorted(set(t["required"]) | {
                    c for c, line in zip(cols, [ln for ln in body.splitlines()
                                                if "Column(" in ln], strict=False)
                    if "required=True" in line})
                continue
            for p in (ALL if "POSIX" not in plat else ["darwin", "linux"]):
                if p.upper() in plat or "POSIX" in plat:
                    t["extended"].setdefault(p, [])
                    t["extended"][p] = list(dict.fromkeys(t["extended"][p] + cols))
        assert t["columns"], f"no columns read from {f}"
    for t in tables.values():
        for key in ("extended", "required"):
            if not t[key]:
                del t[key]
    return {"source": f"https://github.com/osquery/osquery/tree/{commit}/specs (table_name, "
                      "platform folder, Column names and required=True of every "
                      "specs/**/*.table)",
            "licence": "osquery is dual-licensed Apache-2.0 / GPL-2.0-only; this file holds "
                       "only table and column names read from its table specs",
            "commit": commit, "tables": dict(sorted(tables.items()))}


if __name__ == "__main__":
    out = Path(__file__).with_name("osquery-columns.json")
    out.write_text(json.dumps(extract(Path(sys.argv[1])), indent=1) + "\n", encoding="utf-8")
