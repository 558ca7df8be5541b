"""Ransomware triage reports: identifications, decryptors and sweeps as table, JSON, HTML.

JSON carries a schema version (``kitvet_ransom_report: 1.0.0``); HTML is one self-contained
page with every string from a note or a host escaped; the table is for a terminal (control
characters in notes are shown escaped, never sent to the terminal).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from kitvet import __version__
from kitvet.lists.format import printable
from kitvet.model.ransom import Decryptor, Family, Identification

#: Version of the ransomware report JSON (MODEL.REVISION.ADDITION).
REPORT_VERSION = "1.0.0"
NO_DECRYPTOR_HINT = ("No More Ransom lists the decryptors of its partners at "
                     "https://www.nomoreransom.org/en/decryption-tools.html (a place to look, "
                     "not a claim that one exists)")


def _family(fam: Family) -> dict[str, Any]:
    return {"id": fam.id, "name": fam.name, "synonyms": list(fam.synonyms),
            "list": fam.list_name, "source": fam.source, "galaxy_uuid": fam.galaxy_uuid,
            "decryptors": len(fam.decryptors)}


def identification_dict(r: Identification) -> dict[str, Any]:
    """One identification as JSON-ready data."""
    return {
        "subject": r.subject, "name": r.name, "verdict": r.verdict,
        "confidence": r.confidence, "read_bytes": r.read_bytes, "truncated": r.truncated,
        "binary": r.binary, "notes": list(r.notes),
        "features": [asdict(f) for f in r.features],
        "candidates": [{
            "family": _family(c.family), "score": c.score, "confidence": c.confidence,
            "match": c.match,
            "evidence": [asdict(e) for e in c.evidence]} for c in r.candidates],
    }


def decryptor_dict(d: Decryptor) -> dict[str, Any]:
    """A decryptor as JSON-ready data."""
    return asdict(d)


def identify_json(results: Sequence[Identification], lists: Sequence[dict[str, Any]]) -> str:
    """Identifications as a schema-versioned JSON document."""
    return json.dumps({"kitvet_ransom_report": REPORT_VERSION, "kind": "identify",
                       "generator": f"kitvet {__version__}", "lists": list(lists),
                       "results": [identification_dict(r) for r in results]},
                      indent=2, ensure_ascii=False)


def decryptors_json(fam: Family, lists: Sequence[dict[str, Any]]) -> str:
    """A family's decryptors (or, when none is known, its references) as JSON."""
    return json.dumps({"kitvet_ransom_report": REPORT_VERSION, "kind": "decryptors",
                       "generator": f"kitvet {__version__}", "lists": list(lists),
                       "family": _family(fam),
                       "decryptors": [decryptor_dict(d) for d in fam.decryptors],
                       "known": bool(fam.decryptors),
                       "references": list(fam.refs),
                       "hint": None if fam.decryptors else NO_DECRYPTOR_HINT},
                      indent=2, ensure_ascii=False)


def identify_table(console: Any, results: Sequence[Identification]) -> None:
    """Identifications for a terminal (rich)."""
    from rich.table import Table
    from rich.text import Text

    for r in results:
        head = Text(f"{printable(r.subject)}: ", style="bold")
        style = {"high": "bold red", "medium": "yellow", "low": "cyan"}.get(r.confidence, "")
        head.append(f"{printable(r.verdict)}", style=style or "bold")
        head.append(f" (confidence {r.confidence})")
        console.print(head)
        for n in r.notes:
            console.print(Text(f"  {n}", style="dim"))
        if r.candidates:
            t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
            for col in ("#", "family", "confidence", "kind of match", "evidence"):
                t.add_column(col, overflow="fold")
            for i, c in enumerate(r.candidates, 1):
                ev = "\n".join(
                    f"{e.kind}: {printable(e.matched)}"
                    + (f" = {printable(e.recorded)}" if e.recorded not in e.matched else "")
                    + (f" (shared by {e.shared_by} families)" if e.shared_by > 1 else "")
                    for e in c.evidence[:4])
                t.add_row(str(i), Text(printable(c.family.name)), c.confidence,
                          c.match, Text(ev))
            console.print(t)
        shown = [f for f in r.features if f.kind != "file-name"]
        if shown:
            console.print(Text("  features: " + "; ".join(
                f"{f.kind} {printable(f.value)}" for f in shown[:20]), style="dim"))
        console.print()


def decryptors_table(console: Any, fam: Family) -> None:
    """A family's decryptors for a terminal; when none is known, says so and lists sources."""
    from rich.text import Text

    aka = f" (also {', '.join(fam.synonyms)})" if fam.synonyms else ""
    console.print(Text(f"{printable(fam.name)}{printable(aka)}", style="bold"))
    if not fam.decryptors:
        console.print("No free decryptor is known to the lists in force for this family.")
        if fam.refs:
            console.print("What the sources give:")
            for r in fam.refs:
                console.print(Text(f"  {printable(r)}"))
        console.print(Text(NO_DECRYPTOR_HINT, style="dim"))
        return
    for d in fam.decryptors:
        kind = {"tool": "decryptor", "tool-index": "publisher's list of decryptors",
                "report": "reported release"}[d.kind]
        console.print(Text(f"- {kind}: {printable(d.tool or '(tool not named)')} — "
                           f"{printable(d.publisher or 'publisher not named in the source')}",
                           style="bold" if d.kind == "tool" else ""))
        console.print(Text(f"    {printable(d.url)}"))
        console.print(Text(f"    date: {d.date or '—'}" + (f" ({d.date_note})" if d.date_note
                                                             else "")))
        if d.covers:
            console.print(Text(f"    covers: {printable(d.covers)}"))
        if d.note:
            console.print(Text(f"    note: {printable(d.note)}", style="dim"))
        console.print(Text(f"    source: {printable(d.source or '—')}"
                           + ("" if d.verified else " (not verified by visiting the page)"),
                           style="dim"))


def _env() -> Environment:
    return Environment(loader=PackageLoader("kitvet.report", "templates"),
                       autoescape=select_autoescape(["html", "j2"], default=True),
                       trim_blocks=True, lstrip_blocks=True,
                       finalize=lambda v: "" if v is None else v)


def identify_html(results: Sequence[Identification], lists: Sequence[dict[str, Any]]) -> str:
    """Identifications as one self-contained HTML page."""
    return _env().get_template("ransom.html.j2").render(
        title="kitvet ransomware triage", kind="identify", lists=lists,
        results=[identification_dict(r) for r in results], version=__version__)


def decryptors_html(fam: Family, lists: Sequence[dict[str, Any]]) -> str:
    """A family's decryptors as one self-contained HTML page."""
    return _env().get_template("ransom.html.j2").render(
        title=f"kitvet: decryptors for {fam.name}", kind="decryptors", lists=lists,
        family=_family(fam), decryptors=[decryptor_dict(d) for d in fam.decryptors],
        refs=list(fam.refs), hint=NO_DECRYPTOR_HINT, version=__version__)


def sweep_dict(hits: Sequence[dict[str, Any]], left_out: Sequence[str],
               lists: Sequence[dict[str, Any]], scope: str) -> dict[str, Any]:
    """A sweep as JSON-ready data: the hits, per-host counts and what was not swept."""
    hosts: dict[str, dict[str, Any]] = {}
    for h in hits:
        e = hosts.setdefault(h["host_id"], {"host_id": h["host_id"], "hostname": h["hostname"],
                                            "institution": h["institution"], "families": [],
                                            "files": 0})
        if h["family"] not in e["families"]:
            e["families"].append(h["family"])
        e["files"] += 1
    return {"kitvet_ransom_report": REPORT_VERSION, "kind": "sweep",
            "generator": f"kitvet {__version__}", "scope": scope, "lists": list(lists),
            "finding_class": "incident", "hosts": list(hosts.values()), "hits": list(hits),
            "not_swept": list(left_out)}


def sweep_summary(doc: dict[str, Any]) -> str:
    """One line: how many hosts and files show which families."""
    fams = sorted({f for h in doc["hosts"] for f in h["families"]})
    if not doc["hits"]:
        return f"no file in {doc['scope']} shows a ransom-note name or extension of the lists"
    return (f"INCIDENT: {len(doc['hosts'])} host(s), {len(doc['hits'])} file(s) show signs of "
            f"{', '.join(fams)}")


def sweep_table(console: Any, doc: dict[str, Any]) -> None:
    """A sweep for a terminal."""
    from rich.table import Table
    from rich.text import Text

    console.print(Text(sweep_summary(doc), style="bold red" if doc["hits"] else "bold"))
    if doc["hits"]:
        t = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        for col in ("host", "institution", "family", "indicator", "path"):
            t.add_column(col, overflow="fold")
        for h in doc["hits"]:
            shared = f" (shared by {h['shared_by']})" if str(h["shared_by"]) != "1" else ""
            t.add_row(Text(printable(h["hostname"] or h["host_id"])),
                      Text(printable(h["institution"] or "")), Text(printable(h["family"])),
                      Text(f"{h['indicator_kind']} {printable(h['indicator'])}{shared}"),
                      Text(printable(h["path"] or "")))
        console.print(t)
    console.print(Text(f"{len(doc['not_swept'])} indicators not swept (ordinary names and "
                       "file types, or patterns the engine cannot run; --format json lists "
                       "them)", style="dim"))


def sweep_html(doc: dict[str, Any]) -> str:
    """A sweep as one self-contained HTML page."""
    return _env().get_template("ransom.html.j2").render(
        title="kitvet ransomware sweep", kind="sweep", lists=doc["lists"], hits=doc["hits"],
        summary=sweep_summary(doc), version=__version__)


def sweep_csv(doc: dict[str, Any]) -> str:
    """A sweep as CSV (cells starting with = + - @ neutralised for spreadsheets)."""
    import csv
    import io

    from kitvet.match.ransom import HIT_FIELDS

    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(HIT_FIELDS)
    for h in doc["hits"]:
        w.writerow([_cell(h.get(f)) for f in HIT_FIELDS])
    return out.getvalue()


def _cell(v: Any) -> str:
    s = "" if v is None else str(v)
    return "'" + s if s[:1] in ("=", "+", "-", "@", "\t", "\r") else s
