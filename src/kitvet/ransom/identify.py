"""Which ransomware family wrote this note, or encrypted this file?

:func:`identify_file` reads at most :data:`~kitvet.ransom.features.MAX_NOTE_BYTES` of a
file (never executes or renders it) and :func:`identify_name` looks at a file name alone;
both rank the families of the lists in force by their evidence. Each piece of evidence says
what matched, what the list records, and how many families the list records it for (a
note name eighteen families use is weak; a Tor address one family wrote is not). The
confidence of a candidate says which kind of match it rests on:

* **high** — a contact address (Tor onion, e-mail, TOX id, BTC/XMR address) the family is
  recorded with, or a note name or appended extension recorded for that family alone;
* **medium** — the note or the file name names the family, the text shares distinctive
  passages with a recorded note of the family, or a note name, extension or pattern shared
  by a few families;
* **low** — only weak signs (an ordinary file name, a contact domain, a pattern many
  families share).

The verdict is the best candidate when its confidence is at least medium, else
``unknown`` — with every feature the note showed, so a person can search for them.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kitvet.model.ransom import Candidate, Evidence, Family, Feature, Identification
from kitvet.ransom import features as feat
from kitvet.ransom.patterns import ORDINARY_EXTENSIONS, ORDINARY_NOTE_NAMES

#: Base weights of the kinds of evidence (divided by the number of families sharing it).
WEIGHTS = {"contact": 100.0, "note-name": 60.0, "extension": 60.0, "family-name": 45.0,
           "note-name-pattern": 35.0, "extension-pattern": 35.0, "note-text": 60.0,
           "contact-domain": 10.0}
_RANK = {"high": 3, "medium": 2, "low": 1, "none": 0}
#: Words that are family names in the data but too common to name a family when written.
COMMON_WORDS = frozenset([
    "alpha", "attention", "aware", "beast", "bitcoin", "blank", "blind", "brick", "chaos",
    "chip", "clay", "clock", "cloak", "company", "core", "crypt", "crypto", "cyber", "dale",
    "data", "decrypt", "decryptor", "delta", "demo", "done", "donut", "dusk", "encrypted",
    "encryption", "evil", "file", "files", "final", "first", "fog", "foxy", "frag", "frog",
    "fury", "ghost", "globe", "grep", "group", "hacked", "havoc", "hello", "help", "hog",
    "honor", "hunt", "iron", "judge", "karma", "key", "knot", "light", "lime", "locked",
    "locker", "lucky", "magic", "mars", "meow", "mimic", "mini", "money", "moth", "network",
    "nova", "one", "orca", "owl", "payment", "pear", "play", "police", "pump", "radar",
    "rapid", "razor", "red", "risen", "root", "rook", "ruby", "rush", "sage", "salsa",
    "satan", "security", "shark", "sigma", "skull", "slam", "slug", "snake", "solve",
    "sport", "steel", "storm", "sugar", "system", "team", "test", "thor", "titan", "toxic",
    "trojan", "vapor", "virus", "waiting", "wiki", "your"
])
_SHINGLE = 6
#: Distinctive passages a note must share with a recorded note to count as evidence.
MIN_SHARED_PASSAGES = 4
_NAME_STRIP = re.compile(r"\((?:[^()]*)\)|\b(?:ransom[es]?ware|ramsomware|ransomsware)\b", re.I)
_SPLIT_SUFFIX = re.compile(r"[._\-!#\[\]{}()$~@ +]")


@dataclass
class Index:
    """The lists' indicators, arranged for look-up (built once per process)."""

    families: dict[str, Family]
    contacts: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    domains: dict[str, list[str]] = field(default_factory=dict)
    note_names: dict[str, list[str]] = field(default_factory=dict)
    extensions: dict[str, list[str]] = field(default_factory=dict)
    note_patterns: list[tuple[re.Pattern[str], str, str]] = field(default_factory=list)
    ext_patterns: list[tuple[re.Pattern[str], str, str]] = field(default_factory=list)
    markers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    marker_words: dict[str, int] = field(default_factory=dict)
    shingles: dict[int, set[str]] = field(default_factory=dict)
    pattern_shared: dict[str, int] = field(default_factory=dict)


def _add(d: dict[str, list[str]], key: str, fid: str) -> None:
    ids = d.setdefault(key, [])
    if fid not in ids:
        ids.append(fid)


def name_forms(name: str) -> set[str]:
    """The compact forms a family name is written in: 'Black Suit' -> {'blacksuit'};
    'Fonix Ransomware (Fake)' -> {'fonix'}."""
    forms = {feat.compact(re.sub(r"\([^()]*\)", " ", name)), feat.compact(_NAME_STRIP.sub(" ", name))}
    return {f for f in forms if f}


def _shingles(tokens: Sequence[str]) -> set[int]:
    return {hash(tuple(tokens[i:i + _SHINGLE])) for i in range(len(tokens) - _SHINGLE + 1)}


def build_index(families: Iterable[Family]) -> Index:
    """Arrange the indicators of ``families`` for :func:`identify_text` and friends."""
    idx = Index(families={f.id: f for f in families})
    for fam in idx.families.values():
        for kind, value in fam.contacts:
            idx.contacts.setdefault((kind, value.lower()), []).append(fam.id)
            if kind == "email":
                _add(idx.domains, feat.email_domain(value.lower()), fam.id)
        for n in fam.note_names:
            _add(idx.note_names, n.lower(), fam.id)
        for e in fam.extensions:
            _add(idx.extensions, e.lower(), fam.id)
        for p in fam.note_name_patterns:
            idx.note_patterns.append((re.compile(p.regex, re.I), fam.id, p.text))
            idx.pattern_shared[p.regex] = idx.pattern_shared.get(p.regex, 0) + 1
        for p in fam.extension_patterns:
            idx.ext_patterns.append((re.compile(f"(?:{p.regex})$", re.I), fam.id, p.text))
            idx.pattern_shared[p.regex] = idx.pattern_shared.get(p.regex, 0) + 1
        for text in fam.note_texts:
            for s in _shingles(feat.words(text)):
                idx.shingles.setdefault(s, set()).add(fam.id)
    _markers(idx)
    return idx


def _markers(idx: Index) -> None:
    """Family names usable as markers: four letters or more, not a common word, and not
    written as an ordinary lower-case word in the notes or descriptions of two or more other
    families (then it is a word of the language, like 'waiting', not a name like 'Locky')."""
    candidates: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for fam in idx.families.values():
        for label in (fam.name, *fam.synonyms):
            for form in name_forms(label):
                if len(form) >= 4 and form not in COMMON_WORDS \
                        and (fam.id, label) not in candidates[form]:
                    candidates[form].append((fam.id, label))
    lower_in: dict[str, set[str]] = defaultdict(set)
    for fam in idx.families.values():
        for text in (*fam.note_texts, fam.description or ""):
            for word in _LOWER_WORD.findall(text):
                if word in candidates:
                    lower_in[word].add(fam.id)
    for form, owners in candidates.items():
        owner_ids = {fid for fid, _ in owners}
        if len(lower_in[form] - owner_ids) < _LOWER_LIMIT:
            idx.markers[form] = owners
            idx.marker_words[form] = max(_parts(label) for _, label in owners)


_LOWER_LIMIT = 1
_PART = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")


def _parts(label: str) -> int:
    """How many words a name is written as: 'BlackSuit' 2, 'black suit' 2, 'Mailto' 1."""
    return max(1, len(_PART.findall(_NAME_STRIP.sub(" ", label))))


_ADDRESSES = re.compile(r"[^\s@]{1,64}@[^\s@]{1,255}|\b(?:https?|ftp)://\S{1,2000}|"
                        r"[a-z2-7]{16,56}\.onion\S{0,300}", re.I)
_LOWER_WORD = re.compile(r"(?<![\w.@/:#-])([a-z][a-z0-9]{3,})(?![\w@/]|\.[a-z0-9])")


def _windows(tokens: Sequence[str], wanted: dict[str, list[tuple[str, str]]],
             words: dict[str, int]) -> set[str]:
    """Names in ``wanted`` written as one to three adjacent words of ``tokens`` (as many
    words as the name has: 'mail to' is not the name 'Mailto', 'Black Suit' is 'BlackSuit')."""
    found = set()
    for i in range(len(tokens)):
        joined = ""
        for j in range(i, min(i + 3, len(tokens))):
            joined += tokens[j]
            if joined in wanted and j - i < words.get(joined, 1):
                found.add(joined)
    return found


def read_head(path: str | os.PathLike[str]) -> tuple[bytes, bool]:
    """At most :data:`MAX_NOTE_BYTES` of a file, and whether there was more."""
    with open(path, "rb") as fh:
        data = fh.read(feat.MAX_NOTE_BYTES + 1)
    return data[:feat.MAX_NOTE_BYTES], len(data) > feat.MAX_NOTE_BYTES


def identify_file(path: str | os.PathLike[str], idx: Index) -> Identification:
    """Identify a ransom note or an encrypted file by its name and (text) content."""
    data, truncated = read_head(path)
    name = Path(path).name
    binary = feat.looks_binary(data)
    text = "" if binary else feat.plain_text(feat.decode(data), name)
    result = identify_text(text, name, idx, subject=str(path))
    notes = list(result.notes)
    if truncated:
        notes.append(f"only the first {feat.MAX_NOTE_BYTES} bytes were read")
    if binary:
        notes.append("the content is not text (an encrypted file?): only its name was used")
    return Identification(subject=result.subject, name=name, verdict=result.verdict,
                          confidence=result.confidence, candidates=result.candidates,
                          features=result.features, read_bytes=len(data), truncated=truncated,
                          binary=binary, notes=tuple(notes))


def identify_name(name: str, idx: Index) -> Identification:
    """Identify by a file name (or a bare extension such as ``.lockbit``) alone."""
    base = re.split(r"[\\/]", name.strip())[-1]
    return identify_text("", base, idx, subject=name)


def identify_text(text: str, name: str, idx: Index, *, subject: str) -> Identification:
    """Rank the families for a note's ``text`` and its file ``name``."""
    found = feat.features(text) if text else []
    evidence: dict[str, list[Evidence]] = defaultdict(list)
    _name_evidence(name, idx, evidence)
    _text_evidence(text, found, idx, evidence)
    name_feats = [Feature("file-name", name)] if name else []
    candidates = sorted((_candidate(idx.families[fid], ev) for fid, ev in evidence.items()),
                        key=lambda c: (-_RANK[c.confidence], -c.score, c.family.name.lower()))
    best = candidates[0] if candidates else None
    known = best is not None and _RANK[best.confidence] >= _RANK["medium"]
    return Identification(
        subject=subject, name=name, verdict=best.family.name if known and best else "unknown",
        confidence=best.confidence if known and best else "none",
        candidates=tuple(candidates[:10]), features=tuple(name_feats + found),
        notes=() if known else ("no known marker: the family is unknown to the lists in "
                                "force; the features below are what the file shows",))


def _name_evidence(name: str, idx: Index, ev: dict[str, list[Evidence]]) -> None:
    lower = name.lower()
    if not lower:
        return
    ids = idx.note_names.get(lower, [])
    ordinary = lower in ORDINARY_NOTE_NAMES
    for fid in ids:
        w = WEIGHTS["note-name"] / len(ids) * (0.25 if ordinary else 1.0)
        ev[fid].append(Evidence("note-name", name, _recorded(idx, fid, "note_names", lower),
                                len(ids), w, idx.families[fid].source))
    for rx, fid, text in idx.note_patterns:
        if rx.fullmatch(name) and not any(e.kind == "note-name" for e in ev[fid]):
            n = idx.pattern_shared.get(rx.pattern, 1)
            ev[fid].append(Evidence("note-name-pattern", name, text, n,
                                    WEIGHTS["note-name-pattern"] / n, idx.families[fid].source))
    seen_ext: set[str] = set()
    for i in [0] + [m.start() for m in _SPLIT_SUFFIX.finditer(lower)]:
        suffix = lower[i:]
        for fid in idx.extensions.get(suffix, []):
            if fid in seen_ext or (i == 0 and not suffix.startswith(".")):
                continue
            seen_ext.add(fid)
            n = len(idx.extensions[suffix])
            base = WEIGHTS["extension"] * (0.25 if suffix in ORDINARY_EXTENSIONS else 1.0)
            ev[fid].append(Evidence("extension", suffix, suffix, n, base / n,
                                    idx.families[fid].source))
    for rx, fid, text in idx.ext_patterns:
        if fid not in seen_ext and rx.search(name):
            n = idx.pattern_shared.get(rx.pattern[3:-2], 1)
            ev[fid].append(Evidence("extension-pattern", name, text, n,
                                    WEIGHTS["extension-pattern"] / n, idx.families[fid].source))
    for form in _windows(feat.words(name), idx.markers, idx.marker_words):
        owners = idx.markers[form]
        for fid, label in owners:
            ev[fid].append(Evidence("family-name", f"{name} (file name)", label, len(owners),
                                    WEIGHTS["family-name"] * 0.7 / len(owners),
                                    idx.families[fid].source))


def _recorded(idx: Index, fid: str, key: str, lower: str) -> str:
    values: tuple[str, ...] = getattr(idx.families[fid], key)
    return next((v for v in values if v.lower() == lower), lower)


def _text_evidence(text: str, found: list[Feature], idx: Index,
                   ev: dict[str, list[Evidence]]) -> None:
    if not text:
        return
    for f in found:
        if f.kind not in ("onion", "email", "tox", "btc", "xmr"):
            continue
        ids = idx.contacts.get((f.kind, f.value.lower()), [])
        for fid in dict.fromkeys(ids):
            ev[fid].append(Evidence("contact", f"{f.kind} {f.value} ({f.place})", f.value,
                                    len(set(ids)), WEIGHTS["contact"] / len(set(ids)),
                                    idx.families[fid].source))
        if f.kind == "email" and not ids:
            owners = idx.domains.get(feat.email_domain(f.value), [])
            if 0 < len(owners) <= 2:
                for fid in owners:
                    ev[fid].append(Evidence(
                        "contact-domain", f.value, feat.email_domain(f.value), len(owners),
                        WEIGHTS["contact-domain"] / len(owners), idx.families[fid].source))
    tokens = feat.words(text[:feat.MAX_NOTE_BYTES])
    prose = _ADDRESSES.sub(" ", text[:feat.MAX_NOTE_BYTES])  # a name inside an address is no mention
    for form in _windows(feat.words(prose), idx.markers, idx.marker_words):
        named = idx.markers[form]
        for fid, label in named:
            ev[fid].append(Evidence("family-name", _quote(text, form), label, len(named),
                                    WEIGHTS["family-name"] / len(named),
                                    idx.families[fid].source))
    _passages(tokens, idx, ev)


def _quote(text: str, form: str) -> str:
    """The words of ``text`` that spell ``form`` (for the evidence), else the form."""
    rx = r"[\W_]*".join(map(re.escape, form))
    m = re.search(rx, text, re.I)
    return m.group(0) if m else form


def _passages(tokens: list[str], idx: Index, ev: dict[str, list[Evidence]]) -> None:
    shared: dict[str, int] = defaultdict(int)
    first: dict[str, int] = {}
    for i in range(len(tokens) - _SHINGLE + 1):
        owners = idx.shingles.get(hash(tuple(tokens[i:i + _SHINGLE])))
        if owners and len(owners) <= 2:
            for fid in owners:
                shared[fid] += 1
                first.setdefault(fid, i)
    total = max(1, len(tokens) - _SHINGLE + 1)
    for fid, n in shared.items():
        if n < MIN_SHARED_PASSAGES:
            continue
        phrase = " ".join(tokens[first[fid]:first[fid] + _SHINGLE])
        share = min(1.0, n / max(10, total * 0.3))
        ev[fid].append(Evidence("note-text", f"{n} passages, e.g. \u201c{phrase}\u201d",
                                f"a recorded note of {idx.families[fid].name}", 1,
                                WEIGHTS["note-text"] * (0.25 + 0.75 * share),
                                idx.families[fid].source))


def _confidence(ev: Sequence[Evidence]) -> str:
    def strong(e: Evidence) -> bool:
        if e.kind == "contact":
            return e.shared_by <= 2
        if e.kind == "note-name":
            return e.shared_by == 1 and e.matched.lower() not in ORDINARY_NOTE_NAMES
        if e.kind == "extension":
            return e.shared_by == 1 and e.matched not in ORDINARY_EXTENSIONS
        return False

    def medium(e: Evidence) -> bool:
        if e.kind in ("family-name", "note-text", "contact"):
            return True
        if e.kind in ("note-name", "extension"):
            return e.shared_by <= 3 and e.weight >= WEIGHTS[e.kind] / 3 * 0.99
        if e.kind in ("note-name-pattern", "extension-pattern"):
            return e.shared_by <= 2
        return False

    if any(strong(e) for e in ev):
        return "high"
    return "medium" if any(medium(e) for e in ev) else "low"


_MATCH_WORDS = {
    "contact": "exact contact match", "note-name": "exact note-name match",
    "extension": "exact extension match", "family-name": "family named",
    "note-name-pattern": "note-name pattern", "extension-pattern": "extension pattern",
    "note-text": "shared note passages", "contact-domain": "contact domain only"}


def _candidate(fam: Family, ev: list[Evidence]) -> Candidate:
    by_kind: dict[str, list[float]] = defaultdict(list)
    for e in ev:
        by_kind[e.kind].append(e.weight)
    score = sum(sum(w / (2 ** i) for i, w in enumerate(sorted(ws, reverse=True)))
                for ws in by_kind.values())
    ordered = sorted(ev, key=lambda e: -e.weight)
    return Candidate(family=fam, score=round(score, 1), confidence=_confidence(ev),
                     match=", ".join(dict.fromkeys(_MATCH_WORDS[e.kind] for e in ordered)),
                     evidence=tuple(ordered))
