"""The assertions behind a finding: what authorities said of its subject, both sides.

The estate stores, at each review, what the lists and the policy said of every subject
(``FindingDetail.subject``: assertions with the policy's reading, and the exculpatory "no
evidence found" / "cleared" ones). The server shows that stored record; only for a finding
reviewed before the estate kept it does it fall back to the lists the server runs with.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kitvet.estate import FindingDetail
    from kitvet.model.risk import Assertion, RiskList, Subject
    from kitvet.server.context import ServerContext

EXCULPATORY = frozenset({"no-evidence-found", "cleared"})


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s), else None (never a ``javascript:`` link)."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def assertion_dict(a: Assertion) -> dict[str, Any]:
    """An assertion as a dict, with ``link`` set only for http(s) references."""
    d = asdict(a)
    d["link"] = safe_url(d.get("reference_url"))
    d["exculpatory"] = d.get("kind") in EXCULPATORY
    return d


def assertions_for(ctx: ServerContext, subject_id: str
                   ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accusing, exculpatory) assertions of a subject, newest first."""
    found = ctx.subject(subject_id)
    if found is None:
        return [], []
    items = sorted((assertion_dict(a) for a in found[1].assertions),
                   key=lambda d: d.get("date") or "", reverse=True)
    return ([d for d in items if not d["exculpatory"]], [d for d in items if d["exculpatory"]])


def _stored(d: dict[str, Any]) -> dict[str, Any]:
    out = dict(d)
    out["link"] = safe_url(out.get("reference_url"))
    out["exculpatory"] = out.get("kind") in EXCULPATORY
    return out


def assertions_of(ctx: ServerContext, detail: FindingDetail
                  ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accusing, exculpatory) assertions of a finding's subject as its last review saw them,
    only those that reach as far as the finding was reached through the organisation graph
    (an affiliate is shown what the instruments say of affiliates, not of the company)."""
    stored = getattr(detail, "subject", None)
    if isinstance(stored, dict) and (stored.get("assertions") or stored.get("exculpatory")):
        key = lambda d: d.get("date") or ""  # noqa: E731
        accusing = sorted((_stored(a) for a in stored.get("assertions") or ()), key=key,
                          reverse=True)
        exculpatory = sorted((_stored(a) for a in stored.get("exculpatory") or ()), key=key,
                             reverse=True)
    else:
        accusing, exculpatory = assertions_for(ctx, detail.finding.subject_id)
    level = _level(detail)
    if level:
        from kitvet.model.risk import reach_level

        accusing = [d for d in accusing if reach_level(d.get("reach")) >= level]
        exculpatory = [d for d in exculpatory if reach_level(d.get("reach")) >= level]
    return accusing, exculpatory


def _level(detail: FindingDetail) -> int:
    """How far through the organisation graph the finding was reached (0: the company)."""
    evidence = getattr(detail, "evidence", None) or {}
    matched = evidence.get("matched") if isinstance(evidence, dict) else None
    try:
        return min((int(m.get("level") or 0) for m in matched or ()), default=0)
    except (TypeError, ValueError, AttributeError):
        return 0


def subject_dict(rl: RiskList, s: Subject) -> dict[str, Any]:
    """A subject with its list, identifiers and assertions (API form)."""
    return {"id": s.id, "name": s.name, "kind": s.kind, "aliases": list(s.aliases),
            "description": s.description, "list": rl.name, "list_version": rl.version,
            "identifiers": [asdict(i) for i in s.identifiers],
            "assertions": [assertion_dict(a) for a in s.assertions]}
