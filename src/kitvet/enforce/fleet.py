"""Fleet policies (``fleetctl apply -f``, or a GitOps ``policies:`` file) and a plain osquery
pack for banned subjects.

Per subject, two kinds of policy, never mixed:

* **on this host** (one per platform, ``critical``): its query returns a row when the host is
  COMPLIANT — none of the subject's programs, packages, processes or devices is present
  (Fleet's convention). What a platform cannot check (osquery has no ``usb_devices`` table on
  Windows) is said in that policy's description and in the header.
* **on this host's network segment** (informational, not critical): a device of the subject
  answered in the host's ARP cache. The host is not at fault and has nothing to remove; the
  resolution tells the network team where to look.

The YAML follows Fleet's own reader (``pkg/spec``): the file is split on lines starting with
``---`` and every piece must carry ``apiVersion``, ``kind`` and ``spec``, so the header comments
sit inside the first document, never before a separator of their own.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from kitvet.enforce.header import commented, header_dict, header_lines, one_line, subject_sources
from kitvet.enforce.interface import BannedSubject, BanSet, Export, Exporter, Gap
from kitvet.enforce.osquery_sql import Check, CheckGroup, compliance_query, subject_checks

#: Keys of a policy spec kitvet writes (all fields of Fleet's ``PolicySpec``).
SPEC_KEYS = ("name", "query", "description", "resolution", "platform", "critical")
#: PyYAML folds long scalars at ``width``; a fold could start a line with "---", which Fleet's
#: reader would take for a document separator. Never fold.
_NO_FOLD = 2**31 - 1


@dataclass(frozen=True)
class Policy:
    """One compliance query of one subject: its scope, platforms and checks."""

    subject: BannedSubject
    scope: str  # "host" or "segment"
    platforms: tuple[str, ...]
    checks: tuple[Check, ...]
    missing: tuple[str, ...]

    @property
    def query(self) -> str:
        """Returns one row when the host is compliant."""
        return compliance_query(self.checks)

    @property
    def name(self) -> str:
        """Unique policy name."""
        b, plats = self.subject, ", ".join(self.platforms)
        if self.scope == "segment":
            return one_line(f"kitvet {b.status}, device nearby: {b.name} ({plats})", 200)
        return one_line(f"kitvet {b.status}: {b.name} ({plats})", 200)

    @property
    def key(self) -> str:
        """Query name in an osquery pack."""
        tail = "segment" if self.scope == "segment" else "_".join(self.platforms)
        return re.sub(r"[^a-z0-9_]", "_", f"kitvet_{self.subject.status}_{self.subject.id}_"
                                          f"{tail}".lower())

    @property
    def critical(self) -> bool:
        """Host policies of a ban are critical; a neighbour on the segment never is."""
        return self.scope == "host"


def policies(bans: BanSet) -> tuple[list[Policy], list[Gap]]:
    """The policies of every subject (host policies per platform; segment policies grouped
    over the platforms whose query is the same), and what could not be expressed."""
    out: list[Policy] = []
    gaps: list[Gap] = []
    for b in bans.subjects:
        groups, g = subject_checks(b)
        gaps.extend(g)
        out.extend(Policy(b, "host", (grp.platform,), grp.checks, grp.missing)
                   for grp in groups if grp.scope == "host")
        out.extend(_segment_policies(b, [grp for grp in groups if grp.scope == "segment"]))
    return out, gaps


def _segment_policies(b: BannedSubject, groups: list[CheckGroup]) -> list[Policy]:
    by_query: dict[str, list[CheckGroup]] = {}
    for grp in groups:
        by_query.setdefault(compliance_query(grp.checks), []).append(grp)
    return [Policy(b, "segment", tuple(sorted(g.platform for g in same)), same[0].checks, ())
            for same in by_query.values()]


def _description(p: Policy) -> str:
    b = p.subject
    what = "; ".join(c.what for c in p.checks)
    speaks_for = "; ".join(f"{a.kind} by {a.authority} ({a.citation or a.instrument})"
                           for a in b.subject.assertions if a.exculpatory)
    beside = f" On record for it: {speaks_for}." if speaks_for else ""
    head = (f"{b.name} is under a {b.status} ({b.rule or 'selected'}). Asserted by: "
            f"{subject_sources(b)}.{beside}")
    if p.scope == "segment":
        return one_line(f"Informational, not a fault of this host. {head} Fails when a device "
                        f"of {b.name} is on this host's network segment: {what}.{_family(p)}",
                        _LIMIT + 6000 * bool(_family(p)))
    unchecked = (f" Not checked on {p.platforms[0]}: {'; '.join(p.missing)}."
                 if p.missing else "")
    return one_line(f"{head} Fails when the host has: {what}.{unchecked}{_family(p)}",
                    _LIMIT + 6000 * bool(_family(p)))


#: Longest description of a policy (more when it names the corporate family's relations).
_LIMIT = 2000


def _family(p: Policy) -> str:
    """' Corporate family (organisation graph): <path, sources, instruments> | …' for the
    checks of organisations the graph reaches from the subject's."""
    vias = list(dict.fromkeys(v for c in p.checks for v in c.via))
    if not vias:
        return ""
    return (" Corporate family, relations as held on the export date: "
            + " | ".join(one_line(v, 1000) for v in vias) + ".")


def _resolution(p: Policy) -> str:
    b = p.subject
    if p.scope == "segment":
        return one_line(
            f"Nothing to remove on this host. A device of {b.name} is on its network segment: "
            "find it by the MAC address in this host's ARP cache (SELECT address, mac, "
            "interface FROM arp_cache), trace it to its switch port or DHCP lease, and remove "
            "or isolate it; block its prefixes at the network edge (`kitvet enforce export "
            "--target nac`).", 1000)
    return one_line(f"Remove every program, package and device of {b.name} from this host "
                    "(see `kitvet enforce export --target removal-plan`), then let the next "
                    "inventory confirm it (`kitvet enforce verify`).", 1000)


def policy_spec(p: Policy, *, critical: bool = True) -> dict[str, Any]:
    """The policy as a Fleet ``PolicySpec`` (keys :data:`SPEC_KEYS`)."""
    return {"name": p.name, "query": p.query, "description": _description(p),
            "resolution": _resolution(p), "platform": ",".join(p.platforms),
            "critical": critical and p.critical}


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=_NO_FOLD)


class FleetExporter(Exporter):
    """Fleet policy YAML: ``fleetctl apply -f`` documents, or a GitOps ``policies:`` file."""

    name = "fleet"
    description = ("Fleet policies: yaml (apiVersion v1, kind policy; fleetctl apply -f) or "
                   "gitops (a list for a GitOps policies: path)")
    formats = ("yaml", "gitops")

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        critical = bool((options or {}).get("critical", True))
        pols, gaps = policies(bans)
        specs = [policy_spec(p, critical=critical) for p in pols]
        notes = ["Each query returns a row when the host is compliant (Fleet's convention).",
                 ("Policies named 'device nearby' are informational (not critical): a device "
                  "on the host's network segment, not on the host.")]
        if (fmt or "yaml") == "gitops":
            notes.append("GitOps: reference this file from a team or default file as "
                         "`policies:` / `- path: ./kitvet-ban.policies.yml`.")
            head = commented(header_lines(bans, f"{self.name} (gitops)", len(specs), gaps,
                                          notes))
            return Export(self.name, head + (_dump(specs) if specs else "[]\n"), len(specs),
                          tuple(gaps), "application/yaml")
        notes.append("Apply with `fleetctl apply -f FILE`." if specs
                     else "No policy: nothing to apply.")
        head = commented(header_lines(bans, self.name, len(specs), gaps, notes))
        docs = [_dump({"apiVersion": "v1", "kind": "policy", "spec": s}) for s in specs]
        # Fleet splits on "---" lines and refuses a piece without kind/spec: the header goes
        # inside the first document; with no policy at all the file holds only comments.
        body = "---\n" + head + "---\n".join(docs) if docs else head
        return Export(self.name, body, len(docs), tuple(gaps), "application/yaml")


class OsqueryPackExporter(Exporter):
    """A plain osquery pack (JSON)."""

    name = "osquery"
    description = "osquery pack (JSON): one compliance query per subject and platform"
    formats = ("json",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        interval = int((options or {}).get("interval", 3600))
        pols, gaps = policies(bans)
        queries = {p.key: {"query": p.query, "interval": interval,
                           "platform": ",".join(p.platforms), "snapshot": True,
                           "description": _description(p)} for p in pols}
        notes = [("Each query returns a row when the host is compliant; no row means "
                  "something banned is present ('_segment' queries: a device of the subject "
                  "is on the host's network segment — informational).")]
        doc = {"kitvet": header_dict(bans, self.name, len(queries), gaps, notes),
               "queries": queries}
        text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        return Export(self.name, text, len(queries), tuple(gaps), "application/json")
