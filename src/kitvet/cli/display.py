"""Rich renderings of estate records for the terminal (the CLI prints them).

Every host-supplied string goes through :func:`cell` (a plain ``Text``, never markup, control
characters removed, length bounded): inventory is hostile input.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kitvet.estate import (
    CampaignStatus,
    EstateStatus,
    ExceptionRecord,
    FindingDetail,
    FindingRecord,
)
from kitvet.model.finding import CLASS_LABELS, FINDING_CLASSES
from kitvet.model.risk import FLAGGED_STATUSES

STATUS_STYLE = {"ban": "bold red", "review": "yellow", "monitor": "cyan", "allow": "green"}
STATE_STYLE = {"open": "bold", "in_review": "yellow", "confirmed": "red",
               "false_positive": "dim", "accepted": "magenta", "removed": "green"}
MAX_CELL = 120


def cell(value: Any, style: str = "", limit: int = MAX_CELL) -> Text:
    """A safe table cell: no markup, no control characters, at most ``limit`` characters."""
    s = "" if value is None else str(value)
    s = "".join(c if c.isprintable() else " " for c in s)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return Text(s, style=style)


def findings_table(items: Sequence[FindingRecord], total: int, offset: int) -> Group | Table:
    """One page of findings: one table per finding class (classes are never mixed)."""
    shown = f"{offset + 1}–{offset + len(items)} of {total}" if items else f"0 of {total}"
    by_class: dict[str, list[FindingRecord]] = {}
    for f in items:
        by_class.setdefault(f.finding_class or "unclassified", []).append(f)
    if not by_class:
        return _findings_rows([], f"Findings ({shown})")
    tables = [_findings_rows(rows, f"{CLASS_LABELS.get(cls, cls)}" + (
        f" — findings {shown}" if n == 0 else "")) for n, (cls, rows) in enumerate(by_class.items())]
    return tables[0] if len(tables) == 1 else Group(*tables)


def _findings_rows(items: Sequence[FindingRecord], title: str) -> Table:
    tbl = Table(title=title, title_justify="left", expand=False,
                box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True)
    # ids, states and dates never wrap: the id is what `findings show` takes, the subject id
    # what `decide`, `exception add` and `campaign start` take
    for col in ("id", "status", "state", "last seen"):
        tbl.add_column(col, no_wrap=True)
    for col in ("institution", "host", "item", "subject"):
        tbl.add_column(col, overflow="fold")
    for f in items:
        item = " ".join(x for x in (f.name, f.version) if x)
        state = f.state + (f" ↺{f.reappeared}" if f.reappeared else "")
        status = f.status + ("*" if f.decision else "")
        tbl.add_row(cell(f.finding_id[:12]), cell(status, STATUS_STYLE.get(f.status, "")),
                    cell(state, STATE_STYLE.get(f.state, "")), cell((f.last_seen or "")[:10]),
                    cell(f.institution), cell(f.hostname or f.host_id), cell(item, limit=60),
                    cell(f.subject_id))
    notes = (["* status set by a decision"] if any(f.decision for f in items) else []) + \
        (["↺ reappeared (times)"] if any(f.reappeared for f in items) else [])
    if notes:
        tbl.caption = "; ".join(notes)
    return tbl


def finding_detail(d: FindingDetail) -> Group:
    """A finding, its evidence and its history."""
    f = d.finding
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    rows = [("finding", f.finding_id), ("host", f"{f.hostname or ''} ({f.host_id})"),
            ("institution", f.institution), ("item", f"{f.item_type}: {f.name} {f.version or ''}"),
            ("publisher", f.publisher), ("subject", f"{f.subject_name} ({f.subject_id})"),
            ("list", f.list_name),
            ("class", CLASS_LABELS.get(f.finding_class or "", f.finding_class or "unclassified")),
            ("policy status", f"{f.policy_status} — {f.rule}"),
            ("decision", f.decision or "none"), ("status", f.status), ("state", f.state),
            ("live", "yes" if f.live else "no"), ("first seen", f.first_seen),
            ("last seen", f.last_seen), ("resolved", f.resolved_at or ""),
            ("reappeared", f"{f.reappeared}× (last {f.reappeared_at})" if f.reappeared else "no"),
            ("exception", str(f.exception_id) if f.exception_id else "none")]
    for k, v in rows:
        facts.add_row(k, cell(v, limit=300))
    ev = d.evidence
    evidence = Table.grid(padding=(0, 2))
    evidence.add_column(style="bold")
    evidence.add_column()
    evidence.add_row("why", cell(ev.get("explanation"), limit=500))
    for m in ev.get("matched") or []:
        if isinstance(m, dict):
            evidence.add_row(cell(m.get("kind")), cell(f"{m.get('field')} = {m.get('observed')}"
                                                      f" (identifier {m.get('value')})", limit=300))
            if m.get("via"):
                evidence.add_row("relation", cell(m.get("via"), limit=500))
    if ev.get("source") or ev.get("location"):
        where = " at ".join(str(x) for x in (ev.get("source"), ev.get("location")) if x)
        evidence.add_row("source", cell(where, limit=300))
    hist = Table(title="History", title_justify="left")
    for col in ("time", "actor", "event", "change", "reason"):
        hist.add_column(col, overflow="fold")
    for e in d.events:
        change = f"{e.from_state or ''} → {e.to_state or ''}" if e.from_state != e.to_state \
            else (e.to_state or "")
        hist.add_row(cell(e.at[:19]), cell(e.actor), cell(e.kind), cell(change),
                     cell(e.reason, limit=200))
    parts: list[Any] = [Panel(facts, title="Finding"), Panel(evidence, title="Evidence")]
    if d.subject:
        parts.append(authorities(d.subject, _level(ev)))
    parts.append(hist)
    return Group(*parts)


def _level(evidence: dict[str, Any]) -> int:
    """How far through the organisation graph the finding was reached (0: the company)."""
    levels = [int(m.get("level") or 0) for m in evidence.get("matched") or []
              if isinstance(m, dict)]
    return min(levels, default=0)


def authorities(subject: dict[str, Any], level: int = 0) -> Table:
    """Who said what of the subject, and what the policy made of it; exculpatory beside. For a
    finding reached through a relation (``level`` > 0) only the assertions that reach it."""
    from kitvet.model.risk import reach_level

    def reaches(a: dict[str, Any]) -> bool:
        return reach_level(a.get("reach")) >= level
    tbl = Table(title=f"What authorities said (list {subject.get('list_name')} "
                      f"{subject.get('list_version')}, profile {subject.get('profile')})",
                title_justify="left")
    for col in ("authority", "said", "instrument", "date", "reference", "policy"):
        tbl.add_column(col, overflow="fold")
    for a in filter(reaches, subject.get("assertions") or []):
        tbl.add_row(cell(a.get("authority")), cell(a.get("kind")), cell(a.get("instrument")),
                    cell(a.get("date") or a.get("date_note") or "undated"),
                    cell(a.get("reference_url")), cell(a.get("outcome"), limit=100))
    for a in filter(reaches, subject.get("exculpatory") or []):
        tbl.add_row(cell(a.get("authority")), cell(a.get("kind"), "green"),
                    cell(a.get("instrument")), cell(a.get("date") or "undated"),
                    cell(a.get("reference_url")), cell("shown beside, never hidden", "green"))
    return tbl


def bar(n: int, total: int, width: int = 30, style: str = "red") -> Text:
    """A horizontal bar of ``n`` out of ``total``."""
    filled = 0 if total <= 0 else max(1 if n else 0, round(width * n / total))
    return Text("█" * filled, style=style) + Text("░" * (width - filled), style="dim")


def share_bar(part: int, whole: int, most: int, width: int = 16) -> Text:
    """``whole`` as a bar scaled to ``most`` (so institutions compare), its first ``part``
    solid (still to handle) and the rest shaded (handled); blank beyond ``whole``."""
    whole_w = 0 if most <= 0 else max(1 if whole else 0, round(width * whole / most))
    part_w = 0 if whole <= 0 else max(1 if part else 0, round(whole_w * part / whole))
    return (Text("█" * part_w, style="red") + Text("░" * (whole_w - part_w), style="green")
            + Text(" " * (width - whole_w)))


def _when(at: str | None) -> str:
    """``2026-11-29T08:30:00.123456Z`` → ``2026-11-29 08:30:00Z``."""
    return f"{at[:10]} {at[11:19]}Z" if at and len(at) >= 19 else (at or "never")


def _ingest_line(ingest: dict[str, Any]) -> Text:
    jobs = ingest.get("jobs") or {}
    queue = ", ".join(f"{n} {s}" for s, n in sorted(jobs.items())) or "empty"
    line = f"ingest queue: {queue}"
    sw = ingest.get("last_sweep")
    if sw:
        line += (f"\nlast start-up sweep {_when(sw.get('at'))}: {sw.get('spool_files', 0)} spool "
                 f"file(s) and {sw.get('lake_files', 0)} lake batch file(s) of crashed ingests "
                 f"removed, {sw.get('jobs_requeued', 0)} upload(s) queued again")
    return Text(line)


def estate_status(st: EstateStatus) -> Group:
    """Per-institution counts with bars, freshness, open campaigns."""
    head = Text.assemble(("Estate ", "bold"), cell(st.path, limit=200), "\n",
                         f"database {st.database.split(':', 1)[0].split('+')[0]} · {st.hosts} "
                         f"hosts · {st.snapshots} snapshots · {st.audit_entries} audit entries"
                         f"\nlast import {_when(st.last_import)} · "
                         f"last review {_when(st.last_review)}")
    parts: list[Any] = [head]
    if st.ingest is not None:
        parts.append(_ingest_line(st.ingest))
    if st.review_is_stale:
        parts.append(Text("Inventory was imported after the last review: run "
                          "`kitvet estate review`.", style="yellow"))
    classes = [c for c in (*FINDING_CLASSES, "unclassified")
               if any(i.findings_by_class.get(c) for i in st.institutions)]
    overview = Table(title="Institutions: live findings per class", title_justify="left")
    overview.add_column("institution")
    overview.add_column("hosts", justify="right")
    for cls in classes:
        overview.add_column(CLASS_LABELS.get(cls, cls).lower(), justify="right")
    for i in st.institutions:
        overview.add_row(cell(i.institution), str(i.hosts),
                         *(str(sum(i.findings_by_class.get(c, {}).values())) for c in classes))
    parts.append(overview)
    if not classes:
        parts.append(Text("No live findings.", style="green"))
    for cls in classes:
        parts.append(_class_table(st, cls))
    for c in st.open_campaigns:
        parts.append(campaign_status(c))
    return Group(*parts)


def _class_table(st: EstateStatus, cls: str) -> Table:
    """Live findings of one class per institution: classes are never summed together."""
    tbl = Table(title=f"Live findings per institution — {CLASS_LABELS.get(cls, cls)}",
                title_justify="left",
                caption="unresolved: open, in review or confirmed (█); the rest (░) accepted, "
                        "false positive or removed", caption_justify="left")
    tbl.add_column("institution")
    tbl.add_column("hosts", justify="right")
    for s in FLAGGED_STATUSES:
        tbl.add_column(s, justify="right", style=STATUS_STYLE[s])
    tbl.add_column("unresolved / live", no_wrap=True)
    rows = [(i, i.findings_by_class.get(cls, {})) for i in st.institutions]
    most = max((sum(c.values()) for _i, c in rows), default=0)
    for i, counts in rows:
        live = sum(counts.values())
        unresolved = i.unresolved_by_class.get(cls, 0)
        tbl.add_row(cell(i.institution), str(i.hosts),
                    *(str(counts.get(s, 0)) for s in FLAGGED_STATUSES),
                    share_bar(unresolved, live, most) + Text(f" {unresolved}/{live}"))
    return tbl


def campaign_status(c: CampaignStatus) -> Panel:
    """Progress per institution and an ASCII burndown."""
    camp = c.campaign
    tbl = Table(title_justify="left")
    for col in ("institution", "affected", "removed", "excepted", "remaining", "overdue",
                "progress"):
        tbl.add_column(col, justify="right" if col not in ("institution", "progress") else "left")
    for p in c.institutions:
        tbl.add_row(cell(p.institution), str(p.affected), str(p.removed), str(p.excepted),
                    str(p.remaining), Text(str(p.overdue), style="bold red" if p.overdue else ""),
                    bar(p.removed, p.affected, 20, "green"))
    head = Text.assemble(
        (f"Campaign {camp.campaign_id}: ", "bold"), cell(camp.subject_name or camp.subject_id),
        f" · phase {c.phase} · identify by {camp.identify_due}, plan by {camp.plan_due}, "
        f"remove by {camp.remove_due}")
    body: list[Any] = [head, tbl]
    if c.burndown:
        body.append(burndown(c))
    return Panel(Group(*body), title=f"campaign {camp.campaign_id}", title_align="left")


def burndown(c: CampaignStatus, height: int = 6, width: int = 48) -> Text:
    """Hosts remaining per review as a small column chart."""
    pts = list(c.burndown)[-width:]
    top = max((p.affected for p in pts), default=0) or 1
    lines = []
    for level in range(height, 0, -1):
        row = "".join("█" if p.remaining * height / top >= level - 0.5 else " " for p in pts)
        label = f"{top:>5} ┤" if level == height else "      │"
        lines.append(label + row)
    lines.append("    0 └" + "─" * len(pts))
    lines.append(f"       {pts[0].at[:10]} → {pts[-1].at[:10]}: hosts remaining per review "
                 f"(now {pts[-1].remaining})")
    return Text("Burndown\n" + "\n".join(lines))


def exceptions_table(items: Iterable[ExceptionRecord]) -> Table:
    """Exceptions with their coverage."""
    tbl = Table(title="Exceptions", title_justify="left")
    for col in ("id", "subject", "scope", "expires", "approver", "covers", "state", "reason"):
        tbl.add_column(col, overflow="fold")
    for e in items:
        state = "active" if e.active else ("revoked" if e.revoked_at else "expired")
        tbl.add_row(str(e.exception_id), cell(e.subject_id), cell(e.scope), e.expires,
                    cell(e.approver), Text(str(e.matched), style="" if e.matched or not e.active
                                           else "yellow"), state, cell(e.reason, limit=60))
    return tbl


def audit_table(entries: Iterable[Any]) -> Table:
    """Audit entries, newest first as given."""
    import json

    tbl = Table(title="Audit log (newest first)", title_justify="left")
    for col in ("seq", "time", "actor", "action", "object", "details"):
        tbl.add_column(col, overflow="fold")
    for e in entries:
        tbl.add_row(str(e.seq), e.at[:19], cell(e.actor), e.action, cell(e.object),
                    cell(json.dumps(e.details, ensure_ascii=False), limit=100))
    return tbl
