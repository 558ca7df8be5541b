"""Where a product listed in KEV is seen whose version kitvet could not check.

Not findings: a KEV entry gives no versions, so "Apache HTTP Server is in KEV" says nothing of
the httpd a host runs. On request (``kitvet review --kev-unchecked``) this view lists the items
whose CPE falls under a KEV product none of whose CVEs has version data in the lists in force
(:func:`kitvet.lists.kev.unchecked_list`), for a person to check the patch level.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kitvet.lists.kev import unchecked_list
from kitvet.model.risk import ListSet

if TYPE_CHECKING:
    from kitvet.lists.kev import KevCatalog
    from kitvet.model import Snapshot


def unchecked_sightings(snapshots: list[Snapshot], lists: ListSet, cat: KevCatalog
                        ) -> list[dict[str, Any]]:
    """One row per (host, item, KEV product): host, name, version, product, cves, why."""
    from kitvet.match import review_snapshots
    from kitvet.policy import load_profile

    rl = unchecked_list(cat, lists)
    result = review_snapshots(snapshots, ListSet((rl,)), load_profile("default"))
    out = []
    for f in result.findings.to_pylist():
        s = rl.subject(f["subject_id"])
        cves = ", ".join(s.aliases[:5]) + (f" and {len(s.aliases) - 5} more"
                                           if s and len(s.aliases) > 5 else "") if s else ""
        out.append({"host": f["hostname"] or f["host_id"], "name": f["name"],
                    "version": f["version"], "product": f["subject_name"], "cves": cves,
                    "why": f["explanation"]})
    return out
