"""The report model every output format renders: findings with their evidence and assertions.

Built once from a :class:`~kitvet.match.MatchResult`; reporters are small functions over it.
Fairness is part of the model: each finding carries every accusing assertion *and* every
exculpatory one (no evidence found, cleared) of its subject, each with authority, instrument,
date, source and whether kitvet's authors verified it.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from kitvet import __version__
from kitvet.model.finding import FINDING_CLASSES, finding_class
from kitvet.model.risk import STATUSES, Assertion, ListSet, Subject, status_rank

if TYPE_CHECKING:
    from kitvet.match import MatchResult

#: Version of the JSON report format (1.1.0: ``finding_class`` per finding, ``by_class``;
#: 1.2.0: ``due_date`` per assertion, the date by which its authority requires action).
REPORT_SCHEMA_VERSION = "1.2.0"

KIND_LABELS = {
    "prohibited-by-law": "prohibited by law",
    "removal-order": "removal order",
    "procurement-ban": "procurement ban",
    "high-risk-vendor": "listed as high-risk vendor",
    "warning": "warning",
    "named-in-resolution": "named in a resolution",
    "confirmed-malicious-version": "confirmed malicious version",
    "known-exploited-vulnerability": "known exploited vulnerability",
    "vulnerable-version": "vulnerable version",
    "end-of-life": "end of life",
    "no-evidence-found": "no evidence found",
    "cleared": "cleared",
}


def dated(a: dict[str, Any]) -> str:
    """An assertion's date as reports show it: ``2021-11-03, due 2021-11-17``."""
    when = a["date"] or "undated"
    return f"{when}, due {a['due_date']}" if a.get("due_date") else when


def assertion_dict(a: Assertion) -> dict[str, Any]:
    """An assertion as plain data, with a human label for its kind."""
    return {
        "authority": a.authority,
        "kind": a.kind,
        "label": KIND_LABELS.get(a.kind, a.kind),
        "instrument": a.instrument,
        "date": a.date,
        "date_note": a.date_note,
        "due_date": a.due_date,
        "scope": a.scope,
        "reference_url": a.reference_url,
        "source": a.source,
        "source_quality": a.source_quality,
        "verified": a.verified,
        "jurisdiction": a.jurisdiction,
    }


@dataclass
class ReportModel:
    """Everything a report shows."""

    generated_at: str
    policy: str
    lists: list[dict[str, Any]]
    hosts: int
    software_items: int
    devices: int
    findings: list[dict[str, Any]]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    title: str = "kitvet review"

    @property
    def by_status(self) -> dict[str, int]:
        c = Counter(f["status"] for f in self.findings)
        return {s: c.get(s, 0) for s in STATUSES}

    @property
    def by_class(self) -> dict[str, dict[str, int]]:
        """Findings per class, then per status; only classes with findings, in class order."""
        out: dict[str, Counter] = {}
        for f in self.findings:
            out.setdefault(f.get("finding_class") or "unclassified", Counter())[f["status"]] += 1
        order = [*FINDING_CLASSES, "unclassified"]
        return {c: {s: out[c].get(s, 0) for s in STATUSES} for c in order if c in out}

    @property
    def hosts_by_class(self) -> dict[str, int]:
        """Hosts with at least one finding of each class."""
        out: dict[str, set[str]] = {}
        for f in self.findings:
            out.setdefault(f.get("finding_class") or "unclassified", set()).add(f["host_id"])
        return {c: len(h) for c, h in out.items()}

    @property
    def by_institution_class(self) -> dict[str, dict[str, dict[str, int]]]:
        """institution -> class -> status -> findings (classes in class order)."""
        out: dict[str, dict[str, Counter]] = {}
        for f in self.findings:
            per = out.setdefault(f["institution"] or "(none)", {})
            per.setdefault(f.get("finding_class") or "unclassified", Counter())[f["status"]] += 1
        order = [*FINDING_CLASSES, "unclassified"]
        return {i: {c: dict(per[c]) for c in order if c in per} for i, per in sorted(out.items())}

    def sections(self) -> list[tuple[str, list[dict[str, Any]]]]:
        """(class, findings) in class order: each class is reported in its own section."""
        groups: dict[str, list[dict[str, Any]]] = {}
        for f in self.findings:
            groups.setdefault(f.get("finding_class") or "unclassified", []).append(f)
        return [(c, groups[c]) for c in (*FINDING_CLASSES, "unclassified") if c in groups]

    @property
    def by_institution(self) -> dict[str, dict[str, int]]:
        out: dict[str, Counter] = {}
        for f in self.findings:
            out.setdefault(f["institution"] or "(none)", Counter())[f["status"]] += 1
        return {k: dict(v) for k, v in sorted(out.items())}

    @property
    def hosts_with_findings(self) -> int:
        return len({f["host_id"] for f in self.findings})

    def worst(self) -> str | None:
        """The most severe status among the findings (None if there are none)."""
        if not self.findings:
            return None
        return max((f["status"] for f in self.findings), key=status_rank)


def finding_level(row: dict[str, Any]) -> int:
    """How far through the organisation graph a finding was reached (0: the listed
    organisation itself; see kitvet.model.risk.REACHES): the closest of its matches."""
    matched = row.get("matched") or []
    if isinstance(matched, str):
        matched = json.loads(matched) if matched else []
    return min((int(m.get("level") or 0) for m in matched), default=0)


def reaching_assertions(lists: ListSet, row: dict[str, Any]) -> list[Assertion]:
    """The assertions of a finding's subject that reach as far as the finding was reached: an
    affiliate is shown only what the instruments say of affiliates."""
    for _, s in lists.subjects():
        if s.id == row["subject_id"]:
            return list(s.reaching(finding_level(row)).assertions)
    return []


def build(result: MatchResult, *, title: str = "kitvet review") -> ReportModel:
    """The report model of a review result."""
    lists = result.lists or ListSet()
    subjects: dict[str, Subject] = {s.id: s for _, s in lists.subjects()}
    findings = []
    for row in result.findings.to_pylist():
        subject = subjects.get(row["subject_id"])
        level = finding_level(row)
        if subject is not None:
            subject = subject.reaching(level)
        accusing = [a for a in (subject.assertions if subject else ()) if not a.exculpatory]
        exculpatory = [a for a in (subject.assertions if subject else ()) if a.exculpatory]
        row = dict(row)
        row["reach_level"] = level
        row["name"] = row.get("name") or _unnamed(row)
        row["matched"] = json.loads(row["matched"]) if row.get("matched") else []
        row["assertions"] = [assertion_dict(a) for a in accusing]
        row["exculpatory"] = [assertion_dict(a) for a in exculpatory]
        if not row.get("finding_class") and subject is not None:
            row["finding_class"] = finding_class(a.kind for a in accusing)
        findings.append(row)
    findings.sort(key=lambda f: (-status_rank(f["status"]), f["institution"] or "",
                                 f["hostname"] or f["host_id"], f["subject_name"] or ""))
    return ReportModel(
        generated_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        policy=result.policy_name,
        lists=[{"name": rl.name, "version": rl.version, "date": rl.date, "publisher": rl.publisher,
                "signed_by": rl.signed_by} for rl in lists.lists],
        hosts=len(set(result.hosts.column("host_id").to_pylist())),
        software_items=result.software_count,
        devices=result.device_count,
        findings=findings,
        skipped=[{"host_id": h, **s.to_dict()} for h, s in result.skipped],
        title=title,
    )


def _unnamed(row: dict[str, Any]) -> str:
    """A label for an item no source named (a device known only by its ids)."""
    if row.get("item_type") == "device":
        ids = ":".join(x for x in (row.get("vendor_id"), row.get("product_id")) if x)
        return f"{(row.get('package_type') or 'unknown').upper()} device {ids or row.get('mac') or ''}".strip()
    return "(unnamed)"


def generator() -> str:
    return f"kitvet {__version__}"
