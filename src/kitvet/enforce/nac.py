"""Network access control: MAC/OUI block lists (plain text, CSV) and an nftables set file.

Prefixes come from ``mac_prefix`` identifiers and from ``oui_org_name`` identifiers resolved
through the IEEE registry (:mod:`kitvet.enforce.ouis`). The nftables file defines
``table inet kitvet`` with an interval set ``banned_ouis`` of ``ether_addr`` ranges, checked by
``nft -c -f FILE``; a commented rule shows how to use it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kitvet.enforce.header import commented, header_lines, identifier_source, one_line
from kitvet.enforce.interface import BanSet, Export, Exporter, Gap
from kitvet.enforce.ouis import MacPrefix, parse_mac_prefix, prefixes_for_org

CSV_COLUMNS = ("prefix", "bits", "first_mac", "last_mac", "subject_id", "subject_name",
               "identifier_kind", "identifier_value", "registry_org", "source")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PrefixRow:
    """One blocked prefix and why."""

    prefix: MacPrefix
    subject_id: str
    subject_name: str
    kind: str
    value: str
    source: str


def prefix_rows(bans: BanSet) -> tuple[list[PrefixRow], list[Gap]]:
    """Every blocked prefix of the BanSet (sorted, one row per prefix and subject)."""
    rows: dict[tuple[str, str], PrefixRow] = {}
    gaps: list[Gap] = []
    for b in bans.subjects:
        n = 0
        for ident in b.identifiers("mac_prefix", "oui_org_name"):
            found: tuple[MacPrefix, ...]
            if ident.kind == "mac_prefix":
                p = parse_mac_prefix(ident.value)
                found = (p,) if p else ()
                if not p:
                    gaps.append(Gap(b.name, f"malformed MAC prefix {one_line(ident.value, 40)!r}"))
                source = identifier_source(ident.source)
            else:
                found = prefixes_for_org(ident.value)
                if not found:
                    gaps.append(Gap(b.name, f"OUI organisation {one_line(ident.value, 80)!r}: "
                                            "no IEEE registry prefix normalises to it"))
                source = "identifier: " + identifier_source(ident.source)
            for p in found:
                n += 1
                src = f"{p.registry}; {source}" if p.registry else source
                rows.setdefault((p.hexdigits, b.id), PrefixRow(p, b.id, b.name, ident.kind,
                                                               ident.value, src))
        if n == 0 and not b.identifiers("mac_prefix", "oui_org_name"):
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


def _cell(value: str) -> str:
    """A CSV cell safe to open in a spreadsheet (no formula injection)."""
    v = one_line(value, 1000)
    return "'" + v if v.startswith(_FORMULA) else v


class NacExporter(Exporter):
    """MAC/OUI block lists and nftables set."""

    name = "nac"
    description = "MAC/OUI block list: text (one prefix a line), csv (with subject and source), " \
                  "nftables (inet set of ether_addr intervals)"
    formats = ("text", "csv", "nftables")

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        fmt = fmt or "text"
        rows, gaps = prefix_rows(bans)
        if fmt == "csv":
            return self._csv(bans, rows, gaps)
        if fmt == "nftables":
            return self._nft(bans, rows, gaps)
        uniq = _collapse([r.prefix for r in rows])
        head = commented(header_lines(bans, f"{self.name} ({fmt})", len(uniq), gaps,
                                      ["One prefix a line: first MAC address / prefix bits."]))
        return Export(self.name, head + "".join(p.cidr() + "\n" for p in uniq), len(uniq),
                      tuple(gaps))

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

    def _nft(self, bans: BanSet, rows: list[PrefixRow], gaps: list[Gap]) -> Export:
        uniq = _collapse([r.prefix for r in rows])
        notes = [("Load with `nft -f FILE`; use the set from your own chains, e.g. "
                  "`ether saddr @banned_ouis drop` in table inet kitvet.")]
        out = [commented(header_lines(bans, f"{self.name} (nftables)", len(uniq), gaps, notes))]
        out.append("table inet kitvet {\n\tset banned_ouis {\n\t\ttype ether_addr\n"
                   "\t\tflags interval\n")
        if uniq:
            elems = ",\n".join(f"\t\t\t{p.first()}-{p.last()}" for p in uniq)
            out.append("\t\telements = {\n" + elems + "\n\t\t}\n")
        out.append("\t}\n}\n")
        return Export(self.name, "".join(out), len(uniq), tuple(gaps), "text/plain")
