"""USBGuard rules: ``block id 12d1:*`` (or ``reject``) per banned USB vendor / product id.

USBGuard evaluates rules top to bottom and the first match decides, so these rules must stand
*before* the allow rules of the policy they join (``/etc/usbguard/rules.conf``). Each rule carries
a ``label`` naming the subject and a comment line naming the subject and its sources.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from kitvet.enforce.header import (
    commented,
    header_lines,
    identifier_source,
    one_line,
    subject_sources,
)
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap
from kitvet.errors import EnforceError

_HEX4 = re.compile(r"^[0-9a-f]{4}$")
ACTIONS = ("block", "reject")


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
        gaps: list[Gap] = []
        rules = 0
        for b in bans.subjects:
            idents = b.identifiers("usb_vendor_id", "usb_product_id")
            if not idents:
                gaps.append(Gap(b.name, "no USB vendor or product id — not expressible as a "
                                        "USBGuard rule"))
                continue
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
                body.append(commented([one_line(
                    f"{b.name} [{b.id}]: USB id {dev} ({what}); asserted by: "
                    f"{subject_sources(b)}; identifier source: "
                    f"{identifier_source(ident.source)}")]))
                body.append(f'{action} id {dev} label "kitvet:{_label(b.id)}"\n')
                rules += 1
        notes = [("USBGuard applies the first matching rule: put these rules before the allow "
                  "rules of your rules.conf (e.g. include them at its top).")]
        head = commented(header_lines(bans, self.name, rules, gaps, notes))
        return Export(self.name, head + "\n" + "".join(body), rules, tuple(gaps))


def _label(subject_id: str) -> str:
    """A label value safe inside a USBGuard double-quoted string."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", subject_id)[:64]
