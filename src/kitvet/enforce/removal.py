"""Removal plan: per institution and platform, the commands that remove each banned item found
in the inventory, with the hosts each applies to (Markdown or JSON).

Everything taken from inventory is hostile: package names must be valid names of their package
manager and are shell-quoted; macOS bundles must be ``.app`` folders under an Applications
folder; Windows uninstall strings become a command only for ``MsiExec /X{GUID}`` (rebuilt from
the GUID) or a plain executable path with plain arguments — anything else is a manual step.
"""

from __future__ import annotations

import json
import re
import shlex
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kitvet.enforce.header import header_dict, header_lines, one_line, xml_comment_text
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap

if TYPE_CHECKING:
    import pyarrow as pa

    from kitvet.model import Snapshot

_PKG = {
    "deb": (re.compile(r"^[a-z0-9][a-z0-9+.-]{0,200}$"), "apt-get purge --yes {}"),
    "rpm": (re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,200}$"), "dnf remove --assumeyes {}"),
    "apk": (re.compile(r"^[A-Za-z0-9_+][A-Za-z0-9._+-]{0,200}$"), "apk del {}"),
}
#: For packages banned only in some versions (xz-utils 5.6.0/5.6.1): move to the version the
#: distribution ships now (upgrade, or distro-sync, which also downgrades) instead of removing a
#: package the system may need (purging liblzma5 would take dpkg and apt with it).
_PKG_REPLACE = {
    "deb": "apt-get install --only-upgrade --yes {}",
    "rpm": "dnf distro-sync --assumeyes {}",
    "apk": "apk upgrade {}",
}
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


def removal_command(item_type: str, package_type: str, name: str, path: str | None,
                    uninstall: str | None, *,
                    versions_only: bool = False) -> tuple[str | None, str | None]:
    """(command, None) for a safe command, or (None, manual instruction).

    ``versions_only``: the ban names only some versions of the item, so a package is moved to
    the distribution's current version rather than removed."""
    pt = (package_type or "").lower()
    if item_type == "device":
        return None, "disconnect and replace the device"
    if pt in _PKG:
        pattern, template = _PKG[pt]
        if versions_only:
            template = _PKG_REPLACE[pt]
        if pattern.match(name or ""):
            return template.format(shlex.quote(name)), None
        return None, f"package name is not a valid {pt} name — remove by hand after review"
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


def plan_steps(findings: pa.Table, snapshots: list[Snapshot],
               versioned: frozenset[tuple[str, str, str]] = frozenset(),
               ) -> list[tuple[Step, list[str]]]:
    """Steps with their hosts (sorted), from findings of banned subjects and the inventory.

    ``versioned`` holds the (subject id, identifier kind, value) of identifiers that name only
    some versions; an item matched by nothing else gets a replace step, not a removal."""
    uninstall: dict[tuple[str, str], str] = {}
    for s in snapshots:
        for r in s.software:
            if r.get("uninstall"):
                uninstall[(s.host.host_id, _item_key(r))] = r["uninstall"]
                # a finding on a version carries the version in its item key
                uninstall[(s.host.host_id, f"{_item_key(r)}|{r.get('version') or ''}")] = \
                    r["uninstall"]
    hosts: dict[Step, set[str]] = defaultdict(set)
    for f in findings.to_pylist():
        matched = {(f["subject_id"], m.get("kind"), m.get("value"))
                   for m in json.loads(f.get("matched") or "[]")}
        cmd, manual = removal_command(f["item_type"], f.get("package_type") or "",
                                      f.get("name") or "", f.get("path"),
                                      uninstall.get((f["host_id"], f["item_key"])),
                                      versions_only=bool(matched) and matched <= versioned)
        item = " ".join(x for x in (f.get("name"), f.get("version")) if x)
        if f["item_type"] == "device" and f.get("vendor_id"):
            item += f" {f['vendor_id']}:{f.get('product_id') or '*'}"
        if f.get("package_type"):
            item += f" ({f['package_type']})"
        step = Step(one_line(f.get("institution") or "(no institution)", 200),
                    f.get("platform") or "unknown", f["subject_id"], f["subject_name"] or "",
                    one_line(item, 300), cmd, manual)
        hosts[step].add(one_line(f.get("hostname") or f["host_id"], 200))
    return sorted(((s, sorted(h)) for s, h in hosts.items()),
                  key=lambda sh: (sh[0].institution, sh[0].platform, sh[0].subject_id,
                                  sh[0].item, sh[0].command or ""))


def _item_key(row: dict[str, Any]) -> str:
    """The engine's software item key (kitvet.match.engine.SOFTWARE_ITEM_KEY)."""
    return "|".join(((row.get("package_type") or "").lower(), (row.get("name") or "").lower(),
                     (row.get("path") or "").lower()))


def _md(text: str) -> str:
    """Text safe in Markdown prose (no markup, no HTML)."""
    t = one_line(text, 400).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
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
        versioned = frozenset((b.id, i.kind, i.value) for b in bans.subjects
                              for i in b.subject.identifiers if i.versions or i.version_range)
        steps = plan_steps(banned_findings(snaps, bans), snaps, versioned)
        gaps = [Gap(s.subject_name, f"{s.item}: {s.manual}") for s, _ in steps if s.manual]
        notes = [f"{len(snaps)} host(s), each from its latest snapshot; {len(steps)} step(s).",
                 ("A package banned only in some versions is moved to the version the "
                  "distribution ships now (apt-get install --only-upgrade, dnf distro-sync, apk "
                  "upgrade), not removed; the next inventory shows whether that version is "
                  "clean.")]
        if (fmt or "markdown") == "json":
            doc = {"kitvet": header_dict(bans, self.name, len(steps), gaps, notes),
                   "steps": [{"institution": s.institution, "platform": s.platform,
                              "subject_id": s.subject_id, "subject_name": s.subject_name,
                              "item": s.item, "command": s.command, "manual": s.manual,
                              "hosts": h} for s, h in steps]}
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
                       f"  hosts ({len(h)}): {', '.join(_md(x) for x in h)}\n")
        if not steps:
            out.append("\nNothing banned was found in the inventory.\n")
        return Export(self.name, "".join(out), len(steps), tuple(gaps), "text/markdown")
