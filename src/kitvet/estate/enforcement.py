"""``enforce verify`` with an estate store: import the fresh inventory, review the estate (which
records each open campaign's progress — the burndown), and read what remains, with first and
last seen, from the store's findings.

The review runs with the organisation's full lists and policy, never with the BanSet's subset:
a review with fewer lists would mark every other finding as removed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kitvet.enforce.interface import BanSet
from kitvet.enforce.verify import Remaining, Verification
from kitvet.store.records import CampaignStatus, FindingRecord

if TYPE_CHECKING:
    from kitvet.estate.estate import Estate
    from kitvet.model import Snapshot
    from kitvet.model.risk import ListSet
    from kitvet.policy import Policy

logger = logging.getLogger(__name__)

PAGE = 500


def verify_in_estate(est: Estate, snapshots: list[Snapshot], bans: BanSet, *,
                     lists: ListSet, policy: Policy, profile: str | None, actor: str
                     ) -> tuple[Verification, list[CampaignStatus]]:
    """The verification from the estate store, and the campaigns of the BanSet's subjects."""
    ids = bans.subject_ids()
    if snapshots:
        est.import_snapshots(snapshots, actor=actor)
    est.review(actor=actor, lists=lists, policy=policy, profile=profile)
    remaining: list[Remaining] = []
    for sid in sorted(ids):
        offset = 0
        while True:
            page = est.findings(subject=sid, live=True, limit=PAGE, offset=offset)
            remaining.extend(_remaining(r) for r in page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                break
    removed = 0
    for sid in sorted(ids):
        removed += est.findings(subject=sid, live=False, limit=1).total
    camps = [c for c in est.campaigns() if c.campaign.subject_id in ids]
    hosts = est.host_count()
    remaining.sort(key=lambda r: (r.institution, r.hostname, r.subject_id, r.item))
    return Verification(hosts_checked=hosts, remaining=remaining, removed=removed), camps


def _remaining(r: FindingRecord) -> Remaining:
    item = " ".join(x for x in (r.name, r.version) if x) or r.finding_id
    return Remaining(institution=r.institution or "(no institution)", host_id=r.host_id,
                     hostname=r.hostname or r.host_id, subject_id=r.subject_id,
                     subject_name=r.subject_name or r.subject_id, item_type=r.item_type,
                     item=item, first_seen=r.first_seen, last_seen=r.last_seen,
                     explanation=f"state {r.state}" + (f", exception {r.exception_id}"
                                                       if r.exception_id else ""))


def campaign_dicts(camps: list[CampaignStatus]) -> list[dict[str, Any]]:
    """Campaign statuses as JSON-ready dicts."""
    out = []
    for c in camps:
        rec = c.campaign
        out.append({"campaign_id": rec.campaign_id, "subject_id": rec.subject_id,
                    "phase": c.phase, "remove_due": rec.remove_due,
                    "remaining_hosts": c.remaining,
                    "institutions": [{"institution": i.institution, "affected": i.affected,
                                      "removed": i.removed, "remaining": i.remaining,
                                      "overdue": i.overdue} for i in c.institutions]})
    return out
