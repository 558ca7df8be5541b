"""What an update of a family list changes: families, indicators and decryptors.

Families are matched by their galaxy uuid when both entries carry one (a renamed family is
a change, not a removal and an addition), else by id.
"""

from __future__ import annotations

from typing import Any

_FIELDS = {
    "note_names": lambda v: v,
    "extensions": lambda v: v,
    "note_name_patterns": lambda v: f"{v['text']} = /{v['regex']}/",
    "extension_patterns": lambda v: f"{v['text']} = /{v['regex']}/",
    "contacts": lambda v: f"{v['kind']} {v['value']}",
    "decryptors": lambda v: f"{v['kind']} {v['url']}",
    "synonyms": lambda v: v,
}


def _key(fam: dict[str, Any]) -> str:
    return fam.get("galaxy_uuid") or fam["id"]


def diff_documents(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The changes from ``old`` to ``new`` as text lines (``+`` added, ``-`` removed,
    ``~`` changed), ending with a summary line."""
    before = {_key(f): f for f in old.get("families", [])}
    after = {_key(f): f for f in new.get("families", [])}
    lines = [f"{old.get('name')} {old.get('version')} → {new.get('name')} {new.get('version')}"]
    added = [k for k in after if k not in before]
    removed = [k for k in before if k not in after]
    changed = 0
    for k in added:
        lines.append(f"+ family {after[k]['id']} ({after[k]['name']})")
    for k in removed:
        lines.append(f"- family {before[k]['id']} ({before[k]['name']})")
    for k in after:
        if k not in before:
            continue
        a, b = before[k], after[k]
        edits = []
        if a["name"] != b["name"]:
            edits.append(f"    name: {a['name']!r} → {b['name']!r}")
        for field, show in _FIELDS.items():
            va = {show(v) for v in a.get(field, [])}
            vb = {show(v) for v in b.get(field, [])}
            edits += [f"    + {field}: {v}" for v in sorted(vb - va)]
            edits += [f"    - {field}: {v}" for v in sorted(va - vb)]
        if a.get("note_texts") != b.get("note_texts"):
            edits.append("    ~ note_texts")
        if edits:
            changed += 1
            lines.append(f"~ family {b['id']} ({b['name']})")
            lines += edits
    lines.append(f"{len(added)} families added, {len(removed)} removed, {changed} changed")
    return lines
