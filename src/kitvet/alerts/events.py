"""Which estate events deserve an alert: found by a review, or by a scan of the calendar.

:func:`from_review` reads what a review changed (new ``ban`` findings, findings that
reappeared, findings whose status a risk-list or policy update changed); :func:`scan` reads the
calendar (campaign deadlines soon or missed, exceptions expiring or lapsed, hosts and
institutions whose inventory stopped arriving). Each event has a key that makes it happen once:
the outbox (:mod:`kitvet.store.alertq`) refuses a key it has.

A review that finds thousands of new ``ban`` findings (a new list) raises one event per finding
for the first :data:`MAX_PER_KIND`, then one summary per institution; likewise the scan.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select

from kitvet.model.alert import Event
from kitvet.review import campaigns
from kitvet.store import tables as t

#: per-finding (per-host) events of one kind raised by one review or scan; the rest are summed
MAX_PER_KIND = 100
#: finding ids listed in a summary event
MAX_IDS = 1000

_FINDING_FIELDS = ("finding_id", "host_id", "hostname", "institution", "item_type", "name",
                   "version", "publisher", "subject_id", "subject_name", "list_name",
                   "finding_class", "status", "policy_status", "decision", "rule", "state",
                   "first_seen", "last_seen", "reappeared", "reappeared_at", "snapshot_id")


def finding_link(finding_id: str) -> str:
    """The server path of a finding."""
    return f"/findings/{finding_id}"


def _findings(conn: Connection, ids: Sequence[str]) -> list[Any]:
    f = t.findings
    rows: list[Any] = []
    for i in range(0, len(ids), 500):
        rows.extend(conn.execute(select(f).where(f.c.finding_id.in_(list(ids[i:i + 500])))))
    order = {fid: n for n, fid in enumerate(ids)}
    return sorted(rows, key=lambda r: order.get(r.finding_id, 0))


def _assertions(conn: Connection, subject_ids: set[str]) -> dict[str, dict[str, Any]]:
    s = t.subjects
    out: dict[str, dict[str, Any]] = {}
    if not subject_ids:
        return out
    for r in conn.execute(select(s.c.subject_id, s.c.assertions, s.c.exculpatory, s.c.rule,
                                 s.c.list_version).where(s.c.subject_id.in_(subject_ids))):
        out[r.subject_id] = {"assertions": _json(r.assertions, []),
                             "exculpatory": _json(r.exculpatory, []), "rule": r.rule,
                             "list_version": r.list_version}
    return out


def _json(text: str | None, default: Any) -> Any:
    if not text:
        return default
    try:
        return json.loads(text)
    except ValueError:
        return default


def finding_data(row: Any, subject: dict[str, Any] | None) -> dict[str, Any]:
    """``finding`` and ``evidence`` of an alert about one finding."""
    evidence = _json(row.evidence, {})
    if subject:
        evidence = dict(evidence, assertions=subject["assertions"],
                        exculpatory=subject["exculpatory"], policy_rule=subject["rule"])
    return {"finding": {k: getattr(row, k) for k in _FINDING_FIELDS}, "evidence": evidence}


def _about(row: Any) -> str:
    what = " ".join(str(x) for x in (row.name, row.version) if x) or row.item_type
    return f"{what} on {row.hostname or row.host_id}"


def _finding_events(conn: Connection, ids: Sequence[str], *, kind: str, key: str,
                    title: str) -> list[Event]:
    """One event per finding (the first MAX_PER_KIND), then one summary per institution."""
    rows = _findings(conn, ids[:MAX_PER_KIND])
    subjects = _assertions(conn, {r.subject_id for r in rows})
    out = []
    for r in rows:
        out.append(Event(
            kind=kind, key=key.format(fid=r.finding_id), institution=r.institution,
            status=r.status, subject_id=r.subject_id, finding_id=r.finding_id,
            link=finding_link(r.finding_id),
            title=f"{title}: {r.subject_name or r.subject_id} — {_about(r)}",
            text=(f"{_about(r)} ({r.institution or 'no institution'}) matches "
                  f"{r.subject_name or r.subject_id}: status {r.status}, class "
                  f"{r.finding_class or 'unclassified'}."),
            data=finding_data(r, subjects.get(r.subject_id))))
    rest = list(ids[MAX_PER_KIND:])
    if rest:
        f = t.findings
        per: dict[str | None, list[str]] = defaultdict(list)
        for i in range(0, len(rest), 500):
            for fid, inst in conn.execute(select(f.c.finding_id, f.c.institution).where(
                    f.c.finding_id.in_(rest[i:i + 500]))):
                per[inst].append(fid)
        for inst, fids in sorted(per.items(), key=lambda kv: kv[0] or ""):
            out.append(Event(
                kind=kind, key=key.format(fid=f"more:{inst}:{fids[0]}:{len(fids)}"),
                institution=inst, status=rows[0].status if rows and kind == "finding.ban"
                else None,
                title=f"{title}: {len(fids)} more in {inst or 'no institution'}",
                text=f"{len(fids)} more findings beyond the first {MAX_PER_KIND} alerted.",
                link="/findings", data={"finding_ids": fids[:MAX_IDS], "count": len(fids)}))
    return out


def from_review(conn: Connection, *, review_id: int, new_findings: Sequence[tuple[str, str]],
                reappeared_ids: Sequence[str],
                status_changes: Sequence[tuple[str, str, str]],
                lists_meta: Sequence[dict[str, Any]] | None = None) -> list[Event]:
    """The events one review raised (call in the review's transaction, after reconciling)."""
    out: list[Event] = []
    bans = [fid for fid, status in new_findings if status == "ban"]
    out += _finding_events(conn, bans, kind="finding.ban", key="finding.ban:{fid}",
                           title="New ban finding")
    out += _finding_events(conn, list(reappeared_ids), kind="finding.reappeared",
                           key=f"finding.reappeared:review{review_id}:{{fid}}",
                           title="Finding reappeared")
    if status_changes:
        out += _status_events(conn, review_id, status_changes, lists_meta or [])
    return out


def _status_events(conn: Connection, review_id: int,
                   changes: Sequence[tuple[str, str, str]],
                   lists_meta: Sequence[dict[str, Any]]) -> list[Event]:
    """One event per (institution, new status): which findings moved from which status."""
    f = t.findings
    ids = [c[0] for c in changes]
    where: dict[str, tuple[str | None, str | None, str | None]] = {}
    for i in range(0, len(ids), 500):
        for fid, inst, subj, host in conn.execute(
                select(f.c.finding_id, f.c.institution, f.c.subject_id, f.c.host_id)
                .where(f.c.finding_id.in_(ids[i:i + 500]))):
            where[fid] = (inst, subj, host)
    groups: dict[tuple[str | None, str], list[dict[str, Any]]] = defaultdict(list)
    for fid, before, after in changes:
        inst, subj, host = where.get(fid, (None, None, None))
        groups[(inst, after)].append({"finding_id": fid, "subject_id": subj, "host_id": host,
                                      "from": before, "to": after})
    lists_text = ", ".join(f"{m.get('name')} {m.get('version')}" for m in lists_meta)
    out = []
    for (inst, after), moved in sorted(groups.items(), key=lambda kv: (kv[0][0] or "", kv[0][1])):
        moves: dict[str, int] = defaultdict(int)
        for m in moved:
            moves[f"{m['from']} → {m['to']}"] += 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(moves.items()))
        out.append(Event(
            kind="finding.status-changed",
            key=f"finding.status-changed:review{review_id}:{inst}:{after}",
            institution=inst, status=after,
            title=f"Status changed to {after} for {len(moved)} finding(s) in "
                  f"{inst or 'no institution'}",
            text=f"Review {review_id} under {lists_text or 'the lists in force'}: {summary}.",
            link=f"/findings?status={after}",
            data={"review_id": review_id, "lists": list(lists_meta), "count": len(moved),
                  "changes": moved[:MAX_IDS]}))
    return out


# -- the calendar --------------------------------------------------------------------------------

def scan(conn: Connection, *, now: str, warn_days: int = 7, silent_after_days: int = 7
         ) -> list[Event]:
    """Events of the calendar at ``now`` (ISO UTC): deadlines, expiries, silent inventory."""
    return (_campaign_events(conn, now, warn_days) + _exception_events(conn, now, warn_days)
            + _silent_events(conn, now, silent_after_days))


def _days(a: str, b: str) -> int:
    return (date.fromisoformat(b[:10]) - date.fromisoformat(a[:10])).days


def _campaign_events(conn: Connection, now: str, warn_days: int) -> list[Event]:
    """Per open campaign and institution with hosts remaining: a deadline within ``warn_days``
    (identify, plan, remove) and the removal deadline missed. A deadline with no host remaining
    anywhere is announced once for the estate (identify, plan) or not at all (remove)."""
    c = t.campaigns
    out = []
    today = now[:10]
    for camp in conn.execute(select(c).where(c.c.closed_at.is_(None)).order_by(c.c.campaign_id)):
        name = camp.subject_name or camp.subject_id
        remaining: dict[str | None, int] | None = None
        for phase in ("identify", "plan", "remove"):
            due = getattr(camp, f"{phase}_due")
            left = _days(today, due)
            missed = left < 0
            if left > warn_days or (missed and phase != "remove"):
                continue
            if remaining is None:
                remaining = {p.institution or None: p.remaining
                             for p in campaigns.progress(conn, camp, now) if p.remaining}
            targets = dict(remaining) or ({} if phase == "remove" else {None: 0})
            for inst, n in sorted(targets.items(), key=lambda kv: kv[0] or ""):
                kind = "campaign.deadline-missed" if missed else "campaign.deadline-soon"
                where = inst or "the estate"
                title = (f"Campaign {name}: removal deadline {due} missed in {where}" if missed
                         else f"Campaign {name}: {phase} deadline {due} in {left} day(s) "
                              f"({where})")
                text = (f"{n} host(s) still have {name} {-left} day(s) after the removal "
                        f"deadline." if missed else
                        f"{n} host(s) still have {name}; the {phase} deadline is {due}.")
                out.append(Event(
                    kind=kind, key=f"{kind}:{camp.campaign_id}:{phase}:{due}:{inst}",
                    institution=inst, status="ban", subject_id=camp.subject_id,
                    link=f"/campaigns/{camp.campaign_id}", title=title, text=text,
                    data={"campaign": {"campaign_id": camp.campaign_id,
                                       "subject_id": camp.subject_id, "phase": phase,
                                       "due": due, "identify_due": camp.identify_due,
                                       "plan_due": camp.plan_due,
                                       "remove_due": camp.remove_due},
                          "institution": inst, "remaining_hosts": n}))
    return out


def _exception_events(conn: Connection, now: str, warn_days: int) -> list[Event]:
    e = t.exceptions
    today = now[:10]
    horizon = (date.fromisoformat(today) + timedelta(days=warn_days)).isoformat()
    out = []
    for ex in conn.execute(select(e).where(e.c.revoked_at.is_(None), e.c.expires <= horizon)
                           .order_by(e.c.exception_id)):
        inst = ex.scope_value if ex.scope_kind == "institution" else None
        if ex.scope_kind == "host":
            inst = conn.execute(select(t.hosts.c.institution).where(
                t.hosts.c.host_id == ex.scope_value)).scalar()
        scope = f"{ex.scope_kind}:{ex.scope_value}" if ex.scope_value else ex.scope_kind
        data = {"exception": {"exception_id": ex.exception_id, "subject_id": ex.subject_id,
                              "scope": scope, "reason": ex.reason, "approver": ex.approver,
                              "expires": ex.expires}}
        lapsed = ex.expires < today
        kind = "exception.lapsed" if lapsed else "exception.expiring"
        left = _days(today, ex.expires)
        out.append(Event(
            kind=kind, key=f"{kind}:{ex.exception_id}:{ex.expires}", institution=inst,
            subject_id=ex.subject_id, link="/exceptions", data=data,
            title=(f"Exception {ex.exception_id} for {ex.subject_id} ({scope}) "
                   + (f"lapsed on {ex.expires}" if lapsed else
                      f"expires {ex.expires} ({left} day(s))")),
            text=("Its findings re-open at the next review unless it is renewed."
                  if lapsed else "Renew it or plan the removal before it ends.")))
    return out


def _silent_events(conn: Connection, now: str, days: int) -> list[Event]:
    h = t.hosts
    cutoff = (datetime.fromisoformat(now.replace("Z", "+00:00")) - timedelta(days=days)
              ).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    out = []
    latest = {inst: (n, last) for inst, n, last in conn.execute(
        select(h.c.institution, func.count(), func.max(h.c.current_collected_at))
        .group_by(h.c.institution))}
    silent_insts = set()
    for inst, (n, last) in sorted(latest.items()):
        if last < cutoff:
            silent_insts.add(inst)
            out.append(Event(
                kind="inventory.institution-silent",
                key=f"inventory.institution-silent:{inst}:{last}", institution=inst,
                link="/hosts",
                title=f"No inventory from {inst} since {last[:10]}",
                text=f"None of its {n} host(s) sent inventory in the last {days} days.",
                data={"institution": inst, "hosts": n, "last_collected_at": last}))
    q = select(h.c.host_id, h.c.hostname, h.c.institution, h.c.current_snapshot_id,
               h.c.current_collected_at).where(h.c.current_collected_at < cutoff)
    if silent_insts:
        q = q.where(h.c.institution.not_in(silent_insts))
    rows = conn.execute(q.order_by(h.c.current_collected_at).limit(MAX_PER_KIND)).all()
    for r in rows:
        out.append(Event(
            kind="inventory.host-silent",
            key=f"inventory.host-silent:{r.host_id}:{r.current_snapshot_id}",
            institution=r.institution, link=f"/hosts/{r.host_id}",
            title=f"No inventory from {r.hostname or r.host_id} since "
                  f"{r.current_collected_at[:10]}",
            text=f"{r.hostname or r.host_id} ({r.institution}) sent no inventory in the last "
                 f"{days} days.",
            data={"host_id": r.host_id, "hostname": r.hostname, "institution": r.institution,
                  "last_collected_at": r.current_collected_at}))
    return out
