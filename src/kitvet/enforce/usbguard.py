"""USBGuard rules: ``block id 12d1:*`` (or ``reject``) per banned USB vendor / product id.

USBGuard applies the first rule that matches, and ``usbguard-daemon`` reads its ``RuleFile``
(``/etc/usbguard/rules.conf``) *before* the files of ``RuleFolder`` (``rules.d/``, in name order):
a block rule in ``rules.d`` comes after the host's allow rules and never applies. So the rule
lines of this export become the ``RuleFile``, and the host's own policy lives in ``rules.d``.
Each rule line is written exactly as USBGuard writes rules back when it saves the policy (a
permanent ``usbguard allow-device -p`` rewrites every rule file, without comments, and appends to
the last file of ``rules.d``), so the deployed ``rules.conf`` keeps the digest recorded at export
and ``kitvet enforce attest`` can prove it is in place. Each rule carries a ``label`` naming the
subject; the export's comment lines name the subject and its sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitvet.enforce.coverage import uncovered
from kitvet.enforce.header import (
    MAX_LINE,
    commented,
    header_lines,
    identifier_source,
    one_line,
    subject_sources,
)
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap
from kitvet.enforce.ledger import Artefact, sha256
from kitvet.errors import EnforceError

_HEX4 = re.compile(r"^[0-9a-f]{4}$")
ACTIONS = ("block", "reject")
#: Where the rule lines go on a host (the daemon's RuleFile).
RULE_FILE = "/etc/usbguard/rules.conf"


def usb_id(kind: str, value: str) -> str | None:
    """The USBGuard device id (``vvvv:*`` or ``vvvv:pppp``) of an identifier, None if malformed."""
    v = value.strip().lower().replace("0x", "")
    if kind == "usb_vendor_id":
        return f"{v}:*" if _HEX4.match(v) else None
    parts = v.split(":")
    if len(parts) == 2 and all(_HEX4.match(p) for p in parts):
        return f"{parts[0]}:{parts[1]}"
    return None


class UsbguardExporter(Exporter):
    """USBGuard rules file."""

    name = "usbguard"
    description = "USBGuard rules (block/reject id VVVV:* / VVVV:PPPP), for /etc/usbguard/rules.conf"
    formats = ("rules",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        action = (options or {}).get("usb_action") or "block"
        if action not in ACTIONS:
            raise EnforceError(f"USBGuard action must be one of {', '.join(ACTIONS)}")
        body: list[str] = []
        lines: list[str] = []
        gaps: list[Gap] = []
        for b in bans.subjects:
            family = b.family_identifiers("usb_vendor_id")
            idents = b.identifiers("usb_vendor_id", "usb_product_id") + family
            if not idents:
                gaps.append(Gap(b.name, "no USB vendor or product id — not expressible as a "
                                        "USBGuard rule"))
                continue
            gaps.extend(uncovered(b, [i for i in idents if usb_id(i.kind, i.value)],
                                  "USB vendor or product id"))
            seen: set[str] = set()
            for ident in idents:
                dev = usb_id(ident.kind, ident.value)
                if dev is None:
                    gaps.append(Gap(b.name, f"malformed USB id {one_line(ident.value, 40)!r} — "
                                            "skipped"))
                    continue
                if dev in seen:
                    continue
                seen.add(dev)
                what = ident.label or ident.value
                limit = MAX_LINE
                if ident in family:  # an organisation the graph reaches: the path, in full
                    source, limit = f"corporate family, {one_line(ident.source, 1000)}", 1200
                else:
                    source = f"identifier source: {identifier_source(ident.source)}"
                body.append(commented([one_line(
                    f"{b.name} [{b.id}]: USB id {dev} ({what}); asserted by: "
                    f"{subject_sources(b)}; {source}", limit)]))
                line = f'{action} id {dev} label "kitvet:{_label(b.id)}"\n'
                body.append(line)
                lines.append(line)
        ruleset = "".join(lines)
        notes = [("USBGuard applies the first matching rule and reads its RuleFile before "
                  "RuleFolder (rules.d/): the rule lines of this file are the RuleFile "
                  "(/etc/usbguard/rules.conf) and the host's own allow rules live in rules.d/ — "
                  "never the other way round, where these rules would come too late."),
                 ("Deploy: grep -Ev '^(#|$)' THIS_FILE | install -m 0600 /dev/stdin "
                  "/etc/usbguard/rules.conf && systemctl restart usbguard (once before: move "
                  "the host's rules.conf to /etc/usbguard/rules.d/50-host.conf)."),
                 ("Rule lines as deployed (and as usbguard writes them back): sha256 "
                  f"{sha256(ruleset)}")]
        head = commented(header_lines(bans, self.name, len(lines), gaps, notes))
        rulefile = Artefact("usbguard-rules", "linux", "file", RULE_FILE, sha256(ruleset))
        return Export(self.name, head + "\n" + "".join(body), len(lines), tuple(gaps),
                      extra={"usbguard_rules": ruleset, "artefacts": [rulefile.to_dict()]})


def _label(subject_id: str) -> str:
    """A label value safe inside a USBGuard double-quoted string."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", subject_id)[:64]
