"""Network access control: MAC/OUI block lists (plain text, CSV) and an nftables ruleset.

Prefixes come from ``mac_prefix`` identifiers and from ``oui_org_name`` identifiers resolved
through the IEEE registry (:mod:`kitvet.enforce.ouis`).

The nftables file owns one table, ``<family> kitvet``: an interval set ``banned_ouis`` of
``ether_addr`` ranges and a chain ``ban`` on a hook that sees the source MAC of received frames
(``inet``: prerouting; ``bridge``: prerouting of the bridge ports; ``netdev``: ingress of named
devices). The file first declares, then deletes and re-creates the table in the same
transaction, so ``nft -f FILE`` both loads it the first time and *replaces* it on every update:
a prefix taken off the ban is no longer blocked after the reload.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kitvet.enforce.coverage import uncovered
from kitvet.enforce.header import commented, header_lines, identifier_source, one_line
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap
from kitvet.enforce.ledger import Artefact, sha256
from kitvet.enforce.ouis import MacPrefix, parse_mac_prefix, prefixes_for_org
from kitvet.errors import EnforceError

CSV_COLUMNS = ("prefix", "bits", "first_mac", "last_mac", "subject_id", "subject_name",
               "identifier_kind", "identifier_value", "registry_org", "source")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
#: nftables families kitvet writes, the hook of the ``ban`` chain, and why that hook.
NFT_FAMILIES: dict[str, tuple[str, str]] = {
    "inet": ("type filter hook prerouting priority raw; policy accept;",
             "inet prerouting (priority raw, before connection tracking) sees the source MAC of "
             "every IPv4/IPv6 packet this host receives or routes; it does not see ARP or other "
             "non-IP frames (use --nft-family netdev), and rules on output or postrouting "
             "never see a neighbour's source MAC: there they silently match nothing."),
    "bridge": ("type filter hook prerouting priority filter; policy accept;",
               "bridge prerouting sees every frame entering a port of a Linux bridge, IP or "
               "not, whether forwarded to another port or delivered to this host."),
    "netdev": ("type filter hook ingress devices = {{ {devices} }} priority filter; "
               "policy accept;",
               "netdev ingress sees every frame received on the named devices, before any "
               "other hook, ARP included; the devices must exist when the file is loaded."),
}
#: Said in the header when the export holds blocks of a banned organisation's corporate family.
_FAMILY_NOTE = (" The blocks of each organisation the graph reaches from a banned one (a "
                "subsidiary, an affiliate as far as the instruments reach) follow the subjects' "
                "own, under a comment naming the relation path and its sources.")
#: Linux interface names (IFNAMSIZ 16, no slash, space or quote).
_IFNAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,15}$")


@dataclass(frozen=True)
class PrefixRow:
    """One blocked prefix and why."""

    prefix: MacPrefix
    subject_id: str
    subject_name: str
    kind: str
    value: str
    source: str
    #: for a block of the subject's corporate family: the comment written above it (the
    #: organisation, the relation path and the instruments that reach it)
    family: str | None = None


def prefix_rows(bans: BanSet) -> tuple[list[PrefixRow], list[Gap]]:
    """Every blocked prefix of the BanSet (sorted, one row per prefix and subject): the
    subjects' own, then their corporate families' (:mod:`kitvet.enforce.family`)."""
    rows: dict[tuple[str, str], PrefixRow] = {}
    gaps: list[Gap] = []
    for b in bans.subjects:
        n = 0
        used = []
        own = b.identifiers("mac_prefix", "oui_org_name")
        family = b.family_identifiers("oui_org_name")
        for ident in own + family:
            found: tuple[MacPrefix, ...]
            note = None
            if ident.kind == "mac_prefix":
                p = parse_mac_prefix(ident.value)
                found = (p,) if p else ()
                if not p:
                    gaps.append(Gap(b.name, f"malformed MAC prefix {one_line(ident.value, 40)!r}"))
                source = identifier_source(ident.source)
            else:
                found = prefixes_for_org(ident.value)
                where = "corporate family's " if ident in family else ""
                if not found:
                    gaps.append(Gap(b.name, f"{where}OUI organisation "
                                            f"{one_line(ident.value, 80)!r}: no IEEE registry "
                                            "prefix normalises to it"))
                if ident in family:
                    source = one_line(ident.source, 1000)
                    note = one_line(f"{b.name} [{b.id}], blocks of {ident.label}: {source}",
                                    1000)
                else:
                    source = "identifier: " + identifier_source(ident.source)
            if found:
                used.append(ident)
            for p in found:
                n += 1
                src = f"{p.registry}; {source}" if p.registry else source
                rows.setdefault((p.hexdigits, b.id), PrefixRow(p, b.id, b.name, ident.kind,
                                                               ident.value, src, note))
        gaps.extend(uncovered(b, used, "MAC prefix or OUI organisation"))
        if n == 0 and not own and not family:
            gaps.append(Gap(b.name, "no MAC prefix or OUI organisation — not expressible as a "
                                    "MAC block"))
    return [rows[k] for k in sorted(rows)], gaps


def _collapse(prefixes: list[MacPrefix]) -> list[MacPrefix]:
    """Drop prefixes covered by a shorter one (nftables refuses overlapping intervals)."""
    out: list[MacPrefix] = []
    for p in sorted(set(prefixes), key=lambda p: (p.hexdigits.ljust(12, "0"), p.bits)):
        if out and p.hexdigits.startswith(out[-1].hexdigits):
            continue
        out.append(p)
    return out


def _ordered(rows: list[PrefixRow]) -> tuple[list[MacPrefix], dict[MacPrefix, str]]:
    """The prefixes to block (covered ones dropped), the subjects' own first, then one run per
    family organisation; and the comment above each run of a family's blocks."""
    notes: dict[str, str | None] = {}
    for r in rows:  # a prefix a subject lists itself is the subject's, whoever's family has it
        if r.family is None or r.prefix.hexdigits not in notes:
            notes[r.prefix.hexdigits] = r.family
    uniq = _collapse([r.prefix for r in rows])
    uniq.sort(key=lambda p: (notes[p.hexdigits] is not None, notes[p.hexdigits] or ""))
    return uniq, {p: n for p in uniq if (n := notes[p.hexdigits]) is not None}


def _with_notes(prefixes: list[MacPrefix], notes: dict[MacPrefix, str],
                line: Callable[[MacPrefix], str], indent: str = "") -> str:
    """One line per prefix, a comment line above each run of blocks of one family member."""
    out, last = [], None
    for p in prefixes:
        note = notes.get(p)
        if note is not None and note != last:
            out.append(f"{indent}# {note}\n")
        last = note
        out.append(line(p))
    return "".join(out)


def _cell(value: str) -> str:
    """A CSV cell safe to open in a spreadsheet (no formula injection)."""
    v = one_line(value, 1000)
    return "'" + v if v.startswith(_FORMULA) else v


class NacExporter(Exporter):
    """MAC/OUI block lists and nftables set."""

    name = "nac"
    description = ("MAC/OUI block list: text (one prefix a line), csv (with subject and "
                   "source), nftables (table with a set of ether_addr ranges and a drop chain; "
                   "inet, bridge or netdev)")
    formats = ("text", "csv", "nftables")

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        fmt = fmt or "text"
        rows, gaps = prefix_rows(bans)
        if fmt == "csv":
            return self._csv(bans, rows, gaps)
        if fmt == "nftables":
            return self._nft(bans, rows, gaps, options or {})
        uniq, notes = _ordered(rows)
        head = commented(header_lines(bans, f"{self.name} ({fmt})", len(uniq), gaps,
                                      ["One prefix a line: first MAC address / prefix bits."
                                       + _FAMILY_NOTE * bool(notes)]))
        return Export(self.name, head + _with_notes(uniq, notes, lambda p: p.cidr() + "\n"),
                      len(uniq), tuple(gaps))

    def _csv(self, bans: BanSet, rows: list[PrefixRow], gaps: list[Gap]) -> Export:
        buf = io.StringIO()
        buf.write(commented(header_lines(bans, f"{self.name} (csv)", len(rows), gaps,
                                         ["Header lines start with '#'; the CSV follows."])))
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in rows:
            w.writerow([r.prefix.cidr(), r.prefix.bits, r.prefix.first(), r.prefix.last(),
                        _cell(r.subject_id), _cell(r.subject_name), r.kind, _cell(r.value),
                        _cell(r.prefix.org or ""), _cell(r.source)])
        return Export(self.name, buf.getvalue(), len(rows), tuple(gaps), "text/csv")

    def _nft(self, bans: BanSet, rows: list[PrefixRow], gaps: list[Gap],
             options: Mapping[str, Any]) -> Export:
        family = str(options.get("nft_family") or "inet")
        devices = tuple(options.get("nft_devices") or ())
        uniq, family_notes = _ordered(rows)
        text = nft_ruleset(uniq, family, devices, family_notes)
        notes = [f"Owns table {family} kitvet (do not add rules of your own to it): load and "
                 "reload with `nft -f FILE` — the file deletes and re-creates the table in one "
                 "transaction, so an update replaces the set, never only adds to it.",
                 f"Hook: {NFT_FAMILIES[family][1]}",
                 ("Elements on a host: `nft list set " + family + " kitvet banned_ouis | "
                  "grep -oE '" + ELEMENT_RE + "' | LC_ALL=C sort`."
                  + _FAMILY_NOTE * bool(family_notes))]
        out = commented(header_lines(bans, f"{self.name} (nftables, {family})", len(uniq),
                                     gaps, notes)) + text
        elements = nft_elements(uniq)
        artefacts = [Artefact("nftables-file", "linux", "file", NFT_FILE, sha256(out)),
                     Artefact("nftables-set", "linux", "file", nft_state_file(family),
                              sha256(elements))]
        return Export(self.name, out, len(uniq), tuple(gaps), "text/plain",
                      {"nft_elements": elements, "artefacts": [a.to_dict() for a in artefacts]})


#: Where the ruleset goes on a host, and where the state command writes the set's elements.
NFT_FILE = "/etc/nftables.d/kitvet-ban.nft"


def nft_state_file(family: str) -> str:
    """The file the documented state command writes the set's elements to on a host."""
    return f"/var/lib/kitvet/nft-{family}-banned_ouis.state"


#: One set element as ``nft list set`` prints it (``first-last``), for the state check.
ELEMENT_RE = "([0-9a-f]{2}:){5}[0-9a-f]{2}-([0-9a-f]{2}:){5}[0-9a-f]{2}"


def nft_elements(prefixes: list[MacPrefix]) -> str:
    """The set's elements as the documented state command writes them on a host: one
    ``first-last`` a line, sorted as ``sort`` sorts them (C locale)."""
    return "".join(f"{e}\n" for e in sorted(f"{p.first()}-{p.last()}" for p in prefixes))


def nft_ruleset(prefixes: list[MacPrefix], family: str, devices: tuple[str, ...],
                notes: dict[MacPrefix, str] | None = None) -> str:
    """The nftables file body: declare, delete and re-create ``table <family> kitvet``
    (``notes``: the comment above each run of a corporate family's blocks)."""
    if family not in NFT_FAMILIES:
        raise EnforceError(f"nftables family must be one of {', '.join(NFT_FAMILIES)}, "
                           f"not {family!r}")
    bad = [d for d in devices if not _IFNAME.match(d)]
    if bad:
        raise EnforceError(f"not a network interface name: {bad[0]!r}")
    if family == "netdev" and not devices:
        raise EnforceError("the netdev family needs --nft-device IFACE (the ingress hook "
                           "belongs to devices)")
    if family != "netdev" and devices:
        raise EnforceError("--nft-device is for the netdev family only")
    hook = NFT_FAMILIES[family][0].format(devices=", ".join(f'"{d}"' for d in devices))
    out = [f"table {family} kitvet\n", f"delete table {family} kitvet\n",
           f"table {family} kitvet {{\n\tset banned_ouis {{\n\t\ttype ether_addr\n"
           "\t\tflags interval\n"]
    if prefixes:
        last = prefixes[-1]
        elems = _with_notes(prefixes, notes or {}, lambda p: f"\t\t\t{p.first()}-{p.last()}"
                            + (",\n" if p is not last else "\n"), "\t\t\t")
        out.append("\t\telements = {\n" + elems + "\t\t}\n")
    out.append("\t}\n\n\tchain ban {\n\t\t" + hook + "\n"
               "\t\tether saddr @banned_ouis counter drop\n\t}\n}\n")
    return "".join(out)
