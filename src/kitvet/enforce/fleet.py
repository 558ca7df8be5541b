"""Fleet policies (``fleetctl apply -f``) and a plain osquery pack for banned subjects.

One policy per (subject, platform): its query returns a row when the host is COMPLIANT — none
of the subject's programs, packages, processes or devices is present (Fleet's convention).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml

from kitvet.enforce.header import commented, header_dict, header_lines, one_line, subject_sources
from kitvet.enforce.interface import BannedSubject, BanSet, Export, Exporter, Gap
from kitvet.enforce.osquery_sql import Check, compliance_query, subject_checks


def _policies(bans: BanSet) -> tuple[list[dict[str, Any]], list[Gap]]:
    out: list[dict[str, Any]] = []
    gaps: list[Gap] = []
    for b in bans.subjects:
        by_platform, g = subject_checks(b)
        gaps.extend(g)
        for platform, checks in by_platform.items():
            out.append({"subject": b, "platform": platform, "checks": checks,
                        "query": compliance_query(checks)})
    return out, gaps


def _description(b: BannedSubject, checks: list[Check]) -> str:
    what = "; ".join(c.what for c in checks)
    speaks_for = "; ".join(f"{a.kind} by {a.authority} ({a.citation or a.instrument})"
                           for a in b.subject.assertions if a.exculpatory)
    beside = f" On record for it: {speaks_for}." if speaks_for else ""
    return one_line(f"{b.name} is under a {b.status} ({b.rule or 'selected'}). Asserted by: "
                    f"{subject_sources(b)}.{beside} Fails when the host has: {what}.", 2000)


def _resolution(b: BannedSubject) -> str:
    return one_line(f"Remove every program, package and device of {b.name} from this host "
                    "(see `kitvet enforce export --target removal-plan`), then let the next "
                    "inventory confirm it (`kitvet enforce verify`).", 1000)


def _key(b: BannedSubject, platform: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", f"kitvet_ban_{b.id}_{platform}".lower())


class FleetExporter(Exporter):
    """Fleet policy YAML."""

    name = "fleet"
    description = "Fleet policies (apiVersion v1, kind policy) for fleetctl apply -f"
    formats = ("yaml",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        critical = bool((options or {}).get("critical", True))
        pols, gaps = _policies(bans)
        docs = []
        for p in pols:
            b = p["subject"]
            spec = {
                "name": one_line(f"kitvet {b.status}: {b.name} ({p['platform']})", 200),
                "query": p["query"],
                "description": _description(b, p["checks"]),
                "resolution": _resolution(b),
                "platform": p["platform"],
                "critical": critical,
            }
            docs.append(yaml.safe_dump({"apiVersion": "v1", "kind": "policy", "spec": spec},
                                       sort_keys=False, allow_unicode=True, width=100000))
        notes = ["Each query returns a row when the host is compliant (Fleet's convention)."]
        head = commented(header_lines(bans, self.name, len(docs), gaps, notes))
        body = "---\n".join(docs) if docs else ""
        return Export(self.name, head + ("---\n" + body if body else ""), len(docs),
                      tuple(gaps), "application/yaml")


class OsqueryPackExporter(Exporter):
    """A plain osquery pack (JSON)."""

    name = "osquery"
    description = "osquery pack (JSON): one compliance query per subject and platform"
    formats = ("json",)

    def export(self, bans: BanSet, *, fmt: str | None = None,
               options: Mapping[str, Any] | None = None, inventory: Any = None) -> Export:
        interval = int((options or {}).get("interval", 3600))
        pols, gaps = _policies(bans)
        queries = {}
        for p in pols:
            b = p["subject"]
            queries[_key(b, p["platform"])] = {
                "query": p["query"],
                "interval": interval,
                "platform": p["platform"],
                "snapshot": True,
                "description": _description(b, p["checks"]),
            }
        notes = [("Each query returns a row when the host is compliant; no row means "
                  "something banned is present.")]
        doc = {"kitvet": header_dict(bans, self.name, len(queries), gaps, notes),
               "queries": queries}
        text = json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
        return Export(self.name, text, len(queries), tuple(gaps), "application/json")
