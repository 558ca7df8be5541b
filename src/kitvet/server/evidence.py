"""The assertions behind a finding, looked up in the risk lists the server runs under.

The engine's findings table names the subject; what authorities said of it (and the
exculpatory "no evidence found" / "cleared" assertions beside the accusations) comes from the
lists, so a reviewer sees both sides with authority, instrument, date and link.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

EXCULPATORY = frozenset({"no-evidence-found", "cleared"})


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s), else None (never a ``javascript:`` link)."""
    if url and url.strip().lower().startswith(("https://", "http://")):
        return url.strip()
    return None


def assertion_dict(a: Any) -> dict[str, Any]:
    """An assertion as a dict, with ``link`` set only for http(s) references."""
    d = asdict(a)
    d["link"] = safe_url(d.get("reference_url"))
    d["exculpatory"] = d.get("kind") in EXCULPATORY
    return d


def assertions_for(ctx: Any, subject_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accusing, exculpatory) assertions of a subject, newest first."""
    found = ctx.subject(subject_id)
    if found is None:
        return [], []
    items = sorted((assertion_dict(a) for a in found[1].assertions),
                   key=lambda d: d.get("date") or "", reverse=True)
    return ([d for d in items if not d["exculpatory"]], [d for d in items if d["exculpatory"]])


def subject_dict(rl: Any, s: Any) -> dict[str, Any]:
    """A subject with its list, identifiers and assertions (API form)."""
    return {"id": s.id, "name": s.name, "kind": s.kind, "aliases": list(s.aliases),
            "description": s.description, "list": rl.name, "list_version": rl.version,
            "identifiers": [asdict(i) for i in s.identifiers],
            "assertions": [assertion_dict(a) for a in s.assertions]}
