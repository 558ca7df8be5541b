"""Verification: does the latest inventory of each host still hold anything banned?

Several snapshots of one host may be given (older and newer inventories); the newest one
(``collected_at``) decides what *remains*; all of them give each remaining item its first and
last sighting. Hosts without a banned item in their latest snapshot are clean — even if an
older snapshot had one (that is the proof the ban was carried out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kitvet.enforce.findings import findings_per_snapshot
from kitvet.enforce.interface import BanSet

if TYPE_CHECKING:
    from kitvet.model import Snapshot


@dataclass(frozen=True)
class Remaining:
    """One banned item still present on one host."""

    institution: str
    host_id: str
    hostname: str
    subject_id: str
    subject_name: str
    item_type: str
    item: str
    first_seen: str | None
    last_seen: str | None
    explanation: str


@dataclass
class Verification:
    """The outcome of ``kitvet enforce verify``."""

    hosts_checked: int
    remaining: list[Remaining] = field(default_factory=list)
    removed: int = 0  # items seen in an older snapshot and gone from the latest

    @property
    def clean(self) -> bool:
        """True when nothing banned remains."""
        return not self.remaining

    def hosts_with_remaining(self) -> set[str]:
        """Hosts that still hold something banned."""
        return {r.host_id for r in self.remaining}

    def by_institution(self) -> dict[str, dict[str, int]]:
        """Per institution: hosts still holding something banned, and how many items."""
        out: dict[str, dict[str, Any]] = {}
        for r in self.remaining:
            e = out.setdefault(r.institution, {"hosts": set(), "items": 0})
            e["hosts"].add(r.host_id)
            e["items"] += 1
        return {k: {"hosts_with_banned_items": len(v["hosts"]), "items": v["items"]}
                for k, v in sorted(out.items())}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"hosts_checked": self.hosts_checked,
                "hosts_with_banned_items": len(self.hosts_with_remaining()),
                "removed_since_earlier_snapshots": self.removed,
                "institutions": self.by_institution(),
                "remaining": [r.__dict__ for r in self.remaining]}


def _latest(snapshots: list[Snapshot]) -> dict[str, int]:
    """host_id → index of its newest snapshot (by collected_at; later argument wins ties)."""
    best: dict[str, int] = {}
    for i, s in enumerate(snapshots):
        hid = s.host.host_id
        cur = best.get(hid)
        if cur is None or (s.host.collected_at or "") >= (snapshots[cur].host.collected_at or ""):
            best[hid] = i
    return best


def latest_snapshots(snapshots: list[Snapshot]) -> list[Snapshot]:
    """The newest snapshot of each host, in the order given."""
    keep = set(_latest(snapshots).values())
    return [s for i, s in enumerate(snapshots) if i in keep]


def verify(snapshots: list[Snapshot], bans: BanSet) -> Verification:
    """What of the BanSet remains in the latest snapshot of each host."""
    latest = _latest(snapshots)
    if not snapshots or not bans.subjects:
        return Verification(hosts_checked=len(latest))
    table, collected = findings_per_snapshot(snapshots, bans)
    seen: dict[tuple[str, str, str, str], list[str]] = {}
    rows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for f in table.to_pylist():
        key = (f["host_id"], f["subject_id"], f["item_type"], f["item_key"])
        when = collected[f["snapshot"]]
        if when:
            seen.setdefault(key, []).append(when)
        if f["snapshot"] == latest[f["host_id"]]:
            rows[key] = f
        else:
            seen.setdefault(key, [])
    out = []
    for key, f in rows.items():
        times = sorted(seen.get(key, []))
        item = " ".join(x for x in (f.get("name"), f.get("version")) if x) or f["item_key"]
        if f["item_type"] == "device" and f.get("vendor_id"):
            item += f" ({f.get('package_type') or 'device'} {f['vendor_id']}:" \
                    f"{f.get('product_id') or '*'})"
        out.append(Remaining(
            institution=f.get("institution") or "(no institution)", host_id=f["host_id"],
            hostname=f.get("hostname") or f["host_id"], subject_id=f["subject_id"],
            subject_name=f.get("subject_name") or f["subject_id"], item_type=f["item_type"],
            item=item, first_seen=times[0] if times else None,
            last_seen=times[-1] if times else None, explanation=f.get("explanation") or ""))
    out.sort(key=lambda r: (r.institution, r.hostname, r.subject_id, r.item))
    removed = sum(1 for k in seen if k not in rows)
    return Verification(hosts_checked=len(latest), remaining=out, removed=removed)
