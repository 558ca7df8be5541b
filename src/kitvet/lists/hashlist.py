"""Plain hash lists as a kitvet list: one MD5, SHA-1 or SHA-256 per line with an optional
description, as LOKI's ``hash-iocs.txt`` and YARA-rule authors publish them::

    # comment
    44d88612fea8a8f36de82e1278abb02f;EICAR test file
    3395856ce81f2b7382dee72602f798b642f14140 EICAR (SHA-1)
    275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f

The description may follow a ``;``, a ``,``, a tab or spaces. Lines with the same description
become one subject (``file-hash``) with one identifier per hash, its kind told by its length;
a line without description is its own subject. Subject ids start with the list's name
(``cert-kv-eicar-test-file``), so that two lists never merge what each of them says. The
assertion is said by the authority the importer names (``--authority``),
``confirmed-malicious-version``, unverified unless the importer vouches for the list
(``--verified``). Lines that are not a hash are skipped with
their line number.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from kitvet.errors import ListError
from kitvet.lists.format import LIST_FORMAT_VERSION

#: Hash identifier kind by hex length.
HASH_KINDS: dict[int, str] = {32: "md5", 40: "sha1", 64: "sha256"}
_LINE = re.compile(r"^([0-9A-Fa-f]+)(?:\s*[;,\t]\s*|\s+|$)(.*)$")
_CTL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\x1b]")


@dataclass(frozen=True)
class HashSkip:
    """A line that is not a hash, with its number and why."""

    line: int
    reason: str


def hash_kind(value: str) -> str | None:
    """``md5``, ``sha1`` or ``sha256`` for a hex digest of that length, else None."""
    v = value.strip()
    return HASH_KINDS.get(len(v)) if re.fullmatch(r"[0-9A-Fa-f]+", v) else None


def looks_like_hashlist(data: bytes) -> bool:
    """Whether the first line that is not a comment starts with a hex digest."""
    for raw in data[:65536].decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "//")):
            m = _LINE.match(line)
            return bool(m and hash_kind(m.group(1)))
    return False


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "hash"


def hashlist_to_document(
    text: str | bytes, *, file: str, name: str, authority: str, date: str,
    authority_id: str | None = None, reference_url: str | None = None, verified: bool = False,
    platforms: tuple[str, ...] = (),
) -> tuple[dict[str, Any], list[HashSkip]]:
    """The hash list ``text`` as a list document, and the lines skipped with reasons.
    ``platforms``: what the files are for, where the importer knows (``macos``: Santa's
    BINARY rules block them; a hash of unknown platform is matched everywhere but never
    becomes a Santa rule)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ListError(f"not UTF-8 text: {e}", file=file) from e
    groups: dict[str, list[tuple[str, str]]] = {}
    skipped: list[HashSkip] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", "//")):
            continue
        m = _LINE.match(line)
        kind = hash_kind(m.group(1)) if m else None
        if m is None or kind is None:
            skipped.append(HashSkip(n, f"{_CTL.sub('?', line[:40])!r} is not an MD5, SHA-1 "
                                       "or SHA-256 hex digest"))
            continue
        desc = _CTL.sub(" ", m.group(2)).strip()[:300]
        key = desc or f"\0{m.group(1).lower()}"
        groups.setdefault(key, []).append((kind, m.group(1).lower()))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    subjects, seen = [], set()
    prefix = _slug(name)[:40]
    for key, hashes in groups.items():
        desc = "" if key.startswith("\0") else key
        # the list's name first: two lists (or a list and the bundled one, which names
        # eicar-test-file) never give the same subject id to what they each say
        sid = f"{prefix}-{_slug(desc) if desc else 'hash-' + hashes[0][1][:16]}"[:95].strip("-")
        base, k = sid, 2
        while sid in seen:
            sid, k = f"{base}-{k}", k + 1
        seen.add(sid)
        a: dict[str, Any] = {
            "authority": authority[:500], "kind": "confirmed-malicious-version",
            "instrument": f"hash list {file}" + (f": {desc}" if desc else ""),
            "date": date, "source": f"{file} (sha256 {digest}...)",
            "verified": verified}
        if authority_id:
            a["authority_id"] = authority_id
        if reference_url:
            a["reference_url"] = reference_url
        subjects.append({
            "id": sid, "name": desc or hashes[0][1], "kind": "file-hash",
            "identifiers": [{"kind": kind, "value": h, "source": f"{file}",
                             **({"platforms": list(platforms)} if platforms else {})}
                            for kind, h in dict.fromkeys(hashes)],
            "assertions": [a]})
    doc = {"kitvet_list": LIST_FORMAT_VERSION, "name": name, "publisher": authority[:300],
           "version": f"{date}-{digest}", "date": date,
           "description": f"{sum(len(s['identifiers']) for s in subjects)} hashes from {file}",
           "subjects": subjects}
    return doc, skipped
