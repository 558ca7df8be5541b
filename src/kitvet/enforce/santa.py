"""Santa (macOS) rules in the JSON form ``santactl rule --import`` and sync servers use:
``{"rules": [{"identifier", "policy": "BLOCKLIST", "rule_type", "custom_msg", "comment"}]}``.

Santa runs on macOS and decides on macOS code signatures and files, so only macOS-applicable
identifiers become rules: Apple Team IDs (TEAMID), signing IDs ``TEAMID:com.example.app`` or
``platform:com.apple.x`` (SIGNINGID), certificate SHA-256 (CERTIFICATE), code-directory hashes
(CDHASH, 40 hex digits, where a list carries them) and file SHA-256 (BINARY) — the last only for
files a list says are macOS files (``platforms: [macos]``): a hash of a Windows DLL never
matches on a Mac. Everything else (an organisation name as signer, a bundle-id prefix, a hash of
a file for another platform or of unknown platform) is listed as not expressible, per platform.
Every rule's ``comment`` names the subject, the identifier and its source.

A subject's corporate family (:mod:`kitvet.enforce.family`) adds the Team IDs and signing ids the
organisation graph records for the organisations it reaches (as far as the instruments reach,
relations held on the export's date); such a rule's ``comment`` carries the relation path, its
sources and the instruments, and each related organisation with no Team ID or signing id in the
graph is named in the header.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from kitvet.enforce.family import family_gaps, relative_of
from kitvet.enforce.header import header_dict, identifier_source, one_line, subject_sources
from kitvet.enforce.interface import BannedSubject, BanSet, Export, Exporter, Gap
from kitvet.enforce.ledger import Artefact, sha256
from kitvet.model.risk import Identifier

_TEAM = re.compile(r"^[A-Z0-9]{10}$")
_SIGNING = re.compile(r"^(?:[A-Z0-9]{10}|platform):[A-Za-z0-9._-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CDHASH = re.compile(r"^[0-9a-f]{40}$")
#: Identifier kinds Santa can take, and kinds it is worth saying why not.
SANTA_KINDS = ("team_id", "signer", "sha256", "cdhash", "bundle_id_prefix")
_MACOS = {"macos", "darwin", "mac", "osx"}
#: The imported rules file kept on each Mac (Santa's own database is not readable by osquery):
#: `enforce attest` hashes it.
SANTA_COPY = "/var/db/kitvet/santa-rules.json"


def santa_rule(kind: str, value: str) -> tuple[str, str] | None:
    """(rule_type, identifier) for an identifier Santa can enforce, else None (platforms are
    checked by :func:`macos_applicable`)."""
    v = value.strip()
    if kind == "team_id" and _TEAM.match(v.upper()):
        return "TEAMID", v.upper()
    if kind == "sha256" and _SHA256.match(v.lower()):
        return "BINARY", v.lower()
    if kind == "cdhash" and _CDHASH.match(v.lower()):
        return "CDHASH", v.lower()
    if kind == "signer":
        if _SHA256.match(v.lower()):
            return "CERTIFICATE", v.lower()
        if _SIGNING.match(v):
            return "SIGNINGID", v
    return None


def macos_applicable(ident: Identifier) -> str | None:
    """None when the identifier can match on macOS, else why not."""
    plats = {p.lower() for p in ident.platforms}
    if plats and not plats & _MACOS:
        return f"for {', '.join(sorted(plats))} only — Santa runs on macOS"
    if ident.kind == "sha256" and not plats & _MACOS:
        return ("a file hash the list does not mark as a macOS file (platforms: [macos]) — "
                "a BINARY rule for a Windows or Linux file never matches on a Mac")
    return None


def _message(b: BannedSubject, prefix: str | None) -> str:
    """The message Santa shows when it blocks: the subject, its status and who asserted it."""
    if prefix is None:  # an export of --status review/monitor is not a ban: do not call it one
        prefix = ("Blocked by your organisation's ban" if b.status in ("ban", "selected")
                  else f"Blocked by your organisation (status {b.status})")
    return one_line(f"{prefix}: {b.name} — {subject_sources(b, limit=2)}", 240)


class SantaExporter(Exporter):
    """Santa rules JSON."""

    name = "santa"
    description = "Santa rules JSON (santactl rule --import): TEAMID / SIGNINGID / CERTIFICATE / BINARY"
    formats = ("json",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        prefix = (options or {}).get("message_prefix") or None
        rules: dict[tuple[str, str], dict[str, str]] = {}
        gaps: list[Gap] = []
        for b in bans.subjects:
            n = 0
            # the family's Team IDs and signing ids; its organisation names and bundle-id
            # prefixes are what a signer or prefix of the subject's own would be: not rules
            family = [i for i in b.family_identifiers("team_id", "signer")
                      if santa_rule(i.kind, i.value) is not None]
            used = []
            for ident in b.identifiers(*SANTA_KINDS) + family:
                got = santa_rule(ident.kind, ident.value)
                if got is None:
                    gaps.append(Gap(b.name, _why(ident.kind, ident.value)))
                    continue
                elsewhere = macos_applicable(ident)
                if elsewhere:
                    gaps.append(Gap(b.name, f"{ident.kind} {one_line(ident.value, 80)}: "
                                            f"{elsewhere}"))
                    continue
                n += 1
                used.append(ident)
                rules.setdefault(got, {"identifier": got[1], "policy": "BLOCKLIST",
                                       "rule_type": got[0], "custom_msg": _message(b, prefix),
                                       "comment": _comment(b, ident)})
            if n == 0:
                gaps.append(Gap(b.name, "no macOS Team ID, signing ID, certificate, cdhash or "
                                        "macOS file hash — not expressible as a Santa rule"))
            gaps.extend(family_gaps(b, used, "Apple Team ID or signing ID"))
        ordered = [rules[k] for k in sorted(rules)]
        notes = [("Import with `santactl rule --import FILE` or serve the rules from a sync "
                  "server; BLOCKLIST rules apply in MONITOR and LOCKDOWN modes."),
                 ("macOS only: the subjects' Windows and Linux programs are for the wdac, "
                  "applocker and fleet targets.")]
        doc = {"kitvet": header_dict(bans, self.name, len(ordered), gaps, notes),
               "rules": ordered}
        text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
        copy = Artefact("santa-rules-file", "darwin", "file", SANTA_COPY, sha256(text))
        return Export(self.name, text, len(ordered), tuple(gaps), "application/json",
                      {"artefacts": [copy.to_dict()]})


def _comment(b: BannedSubject, ident: Identifier) -> str:
    """Where a rule comes from: subject, identifier and its source, the authorities (for an
    identifier of the corporate family, the relation path in full)."""
    if relative_of(b, ident) is not None:
        return one_line(f"kitvet: {b.name} [{b.id}] — {ident.kind} {ident.value} of "
                        f"{ident.label}; corporate family, {one_line(ident.source, 1000)}; "
                        f"asserted by: {subject_sources(b)}", 1400)
    return one_line(f"kitvet: {b.name} [{b.id}] — {ident.kind} {ident.value}; identifier "
                    f"source: {identifier_source(ident.source)}; asserted by: "
                    f"{subject_sources(b)}", 600)


def _why(kind: str, value: str) -> str:
    v = one_line(value, 80)
    if kind == "bundle_id_prefix":
        return (f"bundle id prefix {v} — Santa matches exact signing IDs (TEAMID:id), "
                "not prefixes")
    if kind == "signer":
        return (f"signer {v!r} is a name — Santa needs a Team ID, signing ID or certificate "
                "SHA-256")
    return f"{kind} {v!r} is malformed for Santa"
