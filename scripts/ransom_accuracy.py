#!/usr/bin/env python3
"""How often ``kitvet ransom identify`` names the right family first.

Two measurements, printed as tables:

* ``notes DIR``: DIR holds one folder per family (``DIR/<family>/<note>``, the layout of
  ThreatLabz's ransomware_notes); a note counts as right when the verdict (or, for
  ``--top N``, one of the first N candidates) is the folder's family — compared by name or
  synonym without case, spaces and punctuation, so folder ``blacksuit`` = entry ``black suit``.
* ``names``: for every family of the bundled list with an exact extension (or note name) that
  no other family records, whether ``identify --name`` on a made-up encrypted file name
  (``report.docx<ext>``) or on the note name attributes it to that family first.

Run: python scripts/ransom_accuracy.py notes /work/shared/samples/ransomware/notes
     python scripts/ransom_accuracy.py names
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from kitvet.ransom import build_index, identify_file, identify_name, load_all, merged
from kitvet.ransom.features import compact


def _names(fam) -> set[str]:  # type: ignore[no-untyped-def]
    return {compact(n) for n in (fam.name, fam.id, *fam.synonyms)}


def notes(folder: Path, top: int) -> int:
    """Accuracy over DIR/<family>/<note>; returns the number of misses."""
    idx = build_index(merged(load_all()))
    rows, right = [], 0
    for note in sorted(p for p in folder.glob("*/*") if p.is_file()):
        want = compact(note.parent.name)
        r = identify_file(note, idx)
        ranked = list(r.candidates)[:top] if top > 1 else \
            ([r.candidates[0]] if r.verdict != "unknown" else [])
        ok = any(want in _names(c.family) or any(want in n or n in want for n in
                                                  _names(c.family) if len(n) >= 4)
                 for c in ranked)
        right += ok
        best = r.candidates[0] if r.candidates else None
        rows.append((note.parent.name, note.name, r.verdict, r.confidence,
                     best.match if best else "-", "yes" if ok else "NO"))
    head = ("folder", "note", "verdict", "confidence", "kind of match", "right")
    w = [max(len(str(x[i])) for x in [*rows, head]) for i in range(6)]
    for row in [head, *rows]:
        print("  ".join(str(v).ljust(w[i]) for i, v in enumerate(row)))
    print(f"\n{right} of {len(rows)} notes: the right family {'first' if top == 1 else f'in the top {top}'}")
    return len(rows) - right


def names() -> int:
    """Self-consistency over the bundled list's unique exact extensions and note names."""
    fams = merged(load_all())
    idx = build_index(fams)
    by_ext: Counter[str] = Counter(e for f in fams for e in set(f.extensions))
    by_note: Counter[str] = Counter(n for f in fams for n in set(f.note_names))
    result: Counter[str] = Counter()
    for f in fams:
        for e in f.extensions:
            if by_ext[e] == 1:
                r = identify_name(f"report.docx{e}", idx)
                result["extension", r.candidates[0].family.id == f.id
                       if r.candidates else False] += 1
        for n in f.note_names:
            if by_note[n] == 1:
                r = identify_name(n, idx)
                result["note name", bool(r.candidates) and r.candidates[0].family.id == f.id] += 1
    for kind in ("extension", "note name"):
        ok, bad = result[kind, True], result[kind, False]
        print(f"{kind}s recorded for one family only: {ok + bad}; attributed to it first: {ok} "
              f"({100 * ok / max(1, ok + bad):.1f}%)")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    n = sub.add_parser("notes")
    n.add_argument("folder", type=Path)
    n.add_argument("--top", type=int, default=1)
    sub.add_parser("names")
    args = ap.parse_args()
    return min(1, notes(args.folder, args.top)) if args.what == "notes" else names()


if __name__ == "__main__":
    raise SystemExit(main())
