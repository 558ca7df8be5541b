"""The header every export starts with, and safe one-line text for rule comments.

The header names the lists (name, version, date), the policy, the export date, every subject
included with the authorities behind it (exculpatory statements too: an allegation is shown
beside what speaks for the subject), and what could not be expressed for the target.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from kitvet.enforce.interface import BannedSubject, BanSet, Gap
from kitvet.model.risk import Assertion

#: Control characters, line separators and bidirectional controls (which would make a comment
#: display as something else in an editor or terminal).
_CTRL = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]+")
#: Longest text kept in one header or comment line.
MAX_LINE = 300


def one_line(text: object, limit: int = MAX_LINE) -> str:
    """``text`` on one line: control characters and line breaks folded to spaces, bounded."""
    s = _CTRL.sub(" ", str(text if text is not None else "")).strip()
    s = re.sub(r" {2,}", " ", s)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def assertion_line(a: Assertion) -> str:
    """``kind: authority — instrument (date) url`` for one assertion."""
    date = a.date or "date not given"
    parts = [f"{a.kind}: {a.authority} — {a.instrument} ({date})"]
    if a.reference_url:
        parts.append(a.reference_url)
    if not a.verified:
        parts.append("[unverified]")
    return one_line(" ".join(parts), 400)


def subject_sources(b: BannedSubject, limit: int = 3) -> str:
    """Short source note for a rule comment: the authorities asserting against the subject,
    those whose assertions set its status under the policy first (then by name)."""
    accusing = {a.authority for a in b.subject.assertions if not a.exculpatory}
    first = [n for n in b.deciding if n in accusing]
    names = first + sorted(accusing - set(first))
    text = "; ".join(names[:limit]) + (f"; +{len(names) - limit} more" if len(names) > limit else "")
    return one_line(text or "no assertion recorded", 200)


def identifier_source(source: str | None) -> str:
    """The source note of an identifier (or 'source not given')."""
    return one_line(source or "source not given", 200)


def header_lines(bans: BanSet, target: str, rules: int, gaps: Iterable[Gap],
                 notes: Iterable[str] = ()) -> list[str]:
    """The header as plain lines (the caller adds the target's comment syntax)."""
    lines = [f"kitvet enforce export — target: {target}"]
    for rl in bans.lists:
        lines.append(one_line(f"List: {rl.name} {rl.version} ({rl.date}), publisher {rl.publisher}"
                              + (f", signed by {rl.signed_by}" if rl.signed_by else ", unsigned")))
    selected = f"status {bans.status}" if bans.status else "subjects chosen by id"
    lines.append(one_line(f"Policy: {bans.policy} ({selected})"))
    lines.append(one_line(f"Date: {bans.date}"))
    lines.append(f"Rules: {rules}")
    lines.append(f"Subjects included ({len(bans.subjects)}):")
    for b in bans.subjects:
        rule = f", rule: {b.rule}" if b.rule else ""
        lines.append("  " + one_line(f"{b.name} [{b.id}] — {b.status}{rule}; "
                                     f"list {b.risk_list.name}"))
        for a in sorted(b.subject.assertions, key=_assertion_key):
            prefix = "    for: " if a.exculpatory else "    - "
            lines.append(prefix + assertion_line(a))
    gaps = sorted(set(gaps) | set(bans.withheld), key=lambda g: (g.subject.casefold(), g.reason))
    lines.append(f"Not expressible for {target} ({len(gaps)}):" if gaps
                 else f"Not expressible for {target}: nothing")
    for g in gaps:
        lines.append("  " + one_line(f"{g.subject}: {g.reason}", 400))
    for n in notes:
        lines.append(one_line(f"Note: {n}", 400))
    return lines


def _assertion_key(a: Assertion) -> tuple:
    return (a.exculpatory, a.date or "9999", a.authority, a.kind, a.instrument)


def commented(lines: Iterable[str], prefix: str = "# ") -> str:
    """Lines with a comment prefix, newline-terminated."""
    return "".join((prefix + line).rstrip() + "\n" for line in lines)


def xml_comment_text(lines: Iterable[str]) -> str:
    """Lines made safe inside an XML comment ("--" is not allowed there)."""
    text = "\n".join(lines)
    text = text.replace("--", "- -")
    return text + ("\n" if not text.endswith("-") else " \n")


def header_dict(bans: BanSet, target: str, rules: int, gaps: Iterable[Gap],
                notes: Iterable[str] = ()) -> dict:
    """The header as a JSON-ready object, for JSON targets (which have no comments)."""
    gaps = sorted(set(gaps) | set(bans.withheld), key=lambda g: (g.subject.casefold(), g.reason))
    return {
        "generator": "kitvet enforce export",
        "target": target,
        "lists": [{"name": rl.name, "version": rl.version, "date": rl.date,
                   "publisher": rl.publisher, "signed_by": rl.signed_by} for rl in bans.lists],
        "policy": bans.policy,
        "status": bans.status,
        "date": bans.date,
        "rules": rules,
        "subjects": [
            {"id": b.id, "name": b.name, "status": b.status, "rule": b.rule,
             "list": b.risk_list.name,
             "sources": [assertion_line(a) for a in sorted(b.subject.assertions,
                                                           key=_assertion_key)]}
            for b in bans.subjects
        ],
        "not_expressible": [{"subject": g.subject, "reason": g.reason} for g in gaps],
        "notes": [one_line(n, 400) for n in notes],
    }
