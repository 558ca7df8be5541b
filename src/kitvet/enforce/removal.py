"""Removal plan: per institution and platform, the commands that remove each banned item found
in the inventory, with the hosts each applies to (Markdown or JSON).

Everything taken from inventory is hostile: package names must be valid names of their package
manager and are shell-quoted; macOS bundles must be ``.app`` folders under an Applications
folder; a Windows program is removed by its MSI product code where one is known (the GUID of an
``MsiExec /X{GUID}`` uninstall string, or the ``Uninstall\\{GUID}`` registry key it was read
from), else by a plain executable path with plain arguments — anything else is a manual step.
A package banned only in some versions is replaced, not removed (:mod:`kitvet.enforce.replace`).
An item found through the subject's corporate family (:mod:`kitvet.enforce.family`: a program
published by a subsidiary) is in the plan as far as the exports reach, and its step names the
relation path, its sources and the instruments (``via``).
"""

from __future__ import annotations

import json
import re
import shlex
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kitvet.enforce.family import relative_of
from kitvet.enforce.header import header_dict, header_lines, one_line, xml_comment_text
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap
from kitvet.enforce.replace import (
    MANAGERS,
    Replacement,
    fixed_version,
    parse_pins,
    replacement_command,
)

if TYPE_CHECKING:
    import pyarrow as pa

    from kitvet.model import Snapshot

_PKG = {
    "deb": (re.compile(r"^[a-z0-9][a-z0-9+.-]{0,200}$"), "apt-get purge --yes {}"),
    "rpm": (re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,200}$"), "dnf remove --assumeyes {}"),
    "apk": (re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,200}$"), "apk del {}"),
}
_MSI_KEY = re.compile(r"[\\/]Uninstall[\\/](\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-"
                      r"[0-9A-Fa-f]{12}\})$", re.IGNORECASE)
_MSI = re.compile(r"^\s*msiexec(?:\.exe)?\s+/[xi]\s*(\{[0-9A-Fa-f-]{36}\})\s*$", re.IGNORECASE)
_EXE = re.compile(r'^\s*(?:"([A-Za-z]:\\[^"<>|&^%`$;\r\n]{1,400}\.exe)"|'
                  r"([A-Za-z]:\\[^\s\"<>|&^%`$;]{1,400}\.exe))((?:\s+[/-][\w:=./-]{1,60})*)\s*$",
                  re.IGNORECASE)
_APP = re.compile(r"^(/Applications|/Users/[^/]+/Applications)/[^/\x00]{1,255}\.app/?$")


@dataclass(frozen=True)
class Step:
    """One removal step: a command (None: manual) for one item, on some hosts."""

    institution: str
    platform: str
    subject_id: str
    subject_name: str
    item: str
    command: str | None
    manual: str | None  # why there is no command / what to do by hand
    #: for an item of the subject's corporate family: the relation path, its sources and the
    #: instruments that reach it
    via: str | None = None


def valid_package(package_type: str, name: str) -> bool:
    """True for a valid name of the package manager of ``package_type``."""
    pt = package_type.lower()
    return pt in _PKG and bool(_PKG[pt][0].match(name or ""))


def product_code(location: str | None) -> str | None:
    """The MSI product code of a program read from an ``Uninstall\\{GUID}`` registry key."""
    m = _MSI_KEY.search((location or "").strip())
    return m.group(1).upper() if m else None


def removal_command(item_type: str, package_type: str, name: str, path: str | None,
                    uninstall: str | None, *,
                    location: str | None = None) -> tuple[str | None, str | None]:
    """(command, None) for a safe command, or (None, manual instruction)."""
    pt = (package_type or "").lower()
    if item_type == "device":
        return None, "disconnect and replace the device"
    if pt in _PKG:
        if valid_package(pt, name):
            return _PKG[pt][1].format(shlex.quote(name)), None
        return None, f"package name is not a valid {pt} name — remove by hand after review"
    code = product_code(location)
    if code and not (uninstall and _MSI.match(uninstall)):
        return f"msiexec.exe /x {code} /qn /norestart", None
    if uninstall:
        m = _MSI.match(uninstall)
        if m:
            return f"msiexec.exe /x {m.group(1).upper()} /qn /norestart", None
        m = _EXE.match(uninstall)
        if m:
            exe = m.group(1) or m.group(2)
            return f'"{exe}"{m.group(3) or ""}', None
        return None, ("uninstall string has shell metacharacters or an unusual form — review "
                      "it in the inventory and run the vendor uninstaller by hand")
    if path and _APP.match(path):
        return f"rm -rf -- {shlex.quote(path.rstrip('/'))}", None
    if pt in ("macos", "app") and path:
        return None, "application path is not an .app under an Applications folder — review"
    return None, f"no removal command known for {pt or 'this item'} — remove by hand"


def plan_steps(findings: pa.Table, snapshots: list[Snapshot], bans: BanSet | None = None,
               pins: Mapping[str, str] | None = None) -> list[tuple[Step, list[str]]]:
    """Steps with their hosts (sorted), from findings of banned subjects and the inventory.

    An item matched only by identifiers that name some versions of it is a package to replace
    (with the fixed version from ``pins`` or the identifiers); the replacements of one host and
    subject become one command."""
    uninstall: dict[tuple[str, str], str] = {}
    for s in snapshots:
        for r in s.software:
            if r.get("uninstall"):
                uninstall[(s.host.host_id, _item_key(r))] = r["uninstall"]
                # a finding on a version carries the version in its item key
                uninstall[(s.host.host_id, f"{_item_key(r)}|{r.get('version') or ''}")] = \
                    r["uninstall"]
    idents = {(b.id, i.kind, i.value): i for b in (bans.subjects if bans else ())
              for i in b.subject.identifiers + b.family}
    family = {(b.id, i.kind, i.value): rel.source for b in (bans.subjects if bans else ())
              for i in b.family if (rel := relative_of(b, i)) is not None}
    hosts: dict[Step, set[str]] = defaultdict(set)
    replace: dict[tuple[str, str, str, str, str, str], list[tuple[str, Replacement, str]]] = \
        defaultdict(list)
    for f in findings.to_pylist():
        keys = [(f["subject_id"], m.get("kind"), m.get("value"))
                for m in json.loads(f.get("matched") or "[]")]
        matched = [idents.get(k) for k in keys]
        via = "; ".join(dict.fromkeys(family[k] for k in keys if k in family)) or None
        item = _item(f)
        inst = one_line(f.get("institution") or "(no institution)", 200)
        host = one_line(f.get("hostname") or f["host_id"], 200)
        pt, name = (f.get("package_type") or "").lower(), f.get("name") or ""
        if (matched and all(i is not None and (i.versions or i.version_range) for i in matched)
                and pt in MANAGERS and valid_package(pt, name)):
            fixed, why = fixed_version(name, [v for i in matched if i for v in i.fixed_versions],
                                       pins or {})
            replace[(inst, f.get("platform") or "unknown", f["subject_id"],
                     f["subject_name"] or "", host, pt)].append(
                (item, Replacement(pt, name, f.get("version"), fixed), why or ""))
            continue
        cmd, manual = removal_command(f["item_type"], pt, name, f.get("path"),
                                      uninstall.get((f["host_id"], f["item_key"])),
                                      location=f.get("location"))
        step = Step(inst, f.get("platform") or "unknown", f["subject_id"],
                    f["subject_name"] or "", one_line(item, 300), cmd, manual,
                    one_line(via, 2000) if via else None)
        hosts[step].add(host)
    for (inst, plat, sid, sname, host, _pt), reps in replace.items():
        reps.sort(key=lambda r: r[1].name)
        cmd, manual = replacement_command([r[1] for r in reps])
        why = "; ".join(dict.fromkeys(r[2] for r in reps if r[2]))
        step = Step(inst, plat, sid, sname, one_line(", ".join(r[0] for r in reps), 300), cmd,
                    "; ".join(x for x in (why, manual) if x) or None)
        hosts[step].add(host)
    return sorted(((s, sorted(h)) for s, h in hosts.items()),
                  key=lambda sh: (sh[0].institution, sh[0].platform, sh[0].subject_id,
                                  sh[0].item, sh[0].command or ""))


def _item(f: dict[str, Any]) -> str:
    item = " ".join(x for x in (f.get("name"), f.get("version")) if x)
    if f["item_type"] == "device" and f.get("vendor_id"):
        item += f" {f['vendor_id']}:{f.get('product_id') or '*'}"
    if f.get("package_type"):
        item += f" ({f['package_type']})"
    return item


def _item_key(row: dict[str, Any]) -> str:
    """The engine's software item key (kitvet.match.engine.SOFTWARE_ITEM_KEY)."""
    return "|".join(((row.get("package_type") or "").lower(), (row.get("name") or "").lower(),
                     (row.get("path") or "").lower()))


def _md(text: str, limit: int = 400) -> str:
    """Text safe in Markdown prose (no markup, no HTML)."""
    t = one_line(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_{}\[\]#|~])", r"\\\1", t)


def _code(text: str) -> str:
    """An inline code span that ``text`` cannot break out of."""
    runs = [len(m) for m in re.findall(r"`+", text)] or [0]
    fence = "`" * (max(runs) + 1)
    return f"{fence} {text} {fence}"


class RemovalPlanExporter(Exporter):
    """Removal plan from inventory."""

    name = "removal-plan"
    description = "removal plan from --inventory: commands per institution and platform (markdown/json)"
    formats = ("markdown", "json")
    needs_inventory = True

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None,
               inventory: list[Snapshot] | None = None) -> Export:
        from kitvet.enforce.findings import banned_findings
        from kitvet.enforce.verify import latest_snapshots

        snaps = latest_snapshots(inventory or [])
        pins = parse_pins((options or {}).get("pins") or ())
        steps = plan_steps(banned_findings(snaps, bans), snaps, bans, pins)
        gaps = [Gap(s.subject_name, f"{s.item}: {s.manual}") for s, _ in steps if s.manual]
        notes = [f"{len(snaps)} host(s), each from its latest snapshot; {len(steps)} step(s).",
                 ("A package banned only in some versions is replaced, not removed: pinned to "
                  "its fixed version (the pin option, else the list's fixed_versions), a "
                  "downgrade where that is lower; with none known, dnf and apk take the "
                  "repositories' version and apt is a manual step."),
                 "The next inventory (kitvet enforce verify) shows whether each host is clean."]
        if any(s.via for s, _ in steps):
            notes.append("Items of a banned subject's corporate family (a subsidiary's program, "
                         "as far as the instruments reach) name the relation path and its "
                         "sources.")
        if pins:
            notes.append("Pinned: " + ", ".join(f"{k}={v}" for k, v in sorted(pins.items())))
        if (fmt or "markdown") == "json":
            doc = {"kitvet": header_dict(bans, self.name, len(steps), gaps, notes),
                   "steps": [{"institution": s.institution, "platform": s.platform,
                              "subject_id": s.subject_id, "subject_name": s.subject_name,
                              "item": s.item, "command": s.command, "manual": s.manual,
                              "via": s.via, "hosts": h} for s, h in steps]}
            return Export(self.name, json.dumps(doc, indent=2, ensure_ascii=False) + "\n",
                          len(steps), tuple(gaps), "application/json")
        head = header_lines(bans, self.name, len(steps), gaps, notes)
        out = ["<!--\n" + xml_comment_text(head) + "-->\n", "# Removal plan\n"]
        last: tuple[str, str] | None = None
        for s, h in steps:
            if last is None or last[0] != s.institution:
                out.append(f"\n## {_md(s.institution)}\n")
            if last != (s.institution, s.platform):
                out.append(f"\n### {_md(s.platform)}\n\n")
            last = (s.institution, s.platform)
            action = _code(s.command) if s.command else f"by hand: {_md(s.manual or '')}"
            out.append(f"- **{_md(s.subject_name)}** — {_md(s.item)}: {action}  \n"
                       f"  hosts ({len(h)}): {', '.join(_md(x) for x in h)}"
                       + ("  \n" if s.via else "\n"))
            if s.via:  # a line of its own (a Markdown hard break above)
                out.append(f"  corporate family: {_md(s.via, 2000)}\n")
        if not steps:
            out.append("\nNothing banned was found in the inventory.\n")
        return Export(self.name, "".join(out), len(steps), tuple(gaps), "text/markdown")
